# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 7: Hyperparameters
#
# Training learns the weights, but not the settings of training itself: how
# big a step to take, how many examples to average per step, how wide a
# layer to use, how strongly to penalise large weights. These
# **hyperparameters** can make the same model on the same data land anywhere
# between chance and its best, so choosing them is part of training. This
# chapter measures what the two most important ones, the learning rate and
# the batch size, do; compares the ways of searching for good values (a grid,
# random draws, and Optuna's model-based search with pruning); and shows how
# to choose on validation data and still report an honest number.
#
# **After this chapter you will be able to**
#
# - predict from a one-line calculation when gradient descent overshoots, and
#   read a learning-rate sweep for slow convergence and divergence;
# - explain what the batch size changes (steps per epoch, time, memory, noise),
#   and compare batch sizes each at its own tuned learning rate;
# - compare search methods (grid, random, TPE, pruning) fairly: same budget,
#   several seeds, best-so-far curves with their spread;
# - run seeded Optuna studies with pruning on a PyTorch model, keep them in a
#   storage, and read them with Optuna's own table and plots;
# - keep the test set for one final measurement, and use nested cross-validation when data is small.

# %% tags=["remove-cell"]
# On Colab, install the course's helpers from the book's repository (same branch as this notebook).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q",
         "git+https://github.com/ai-training-course/ai-training-course@main"],
        check=True,
    )

# %% tags=["parameters"]
SEED = 0  # change to check that the conclusions do not depend on luck
BUDGET = 1.0  # 1.0 runs in about a minute on a 2-core CPU; try 4 or more on a GPU

# %%
import math
import os
import tempfile
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import optuna
import pandas as pd
import torch
from optuna.storages.journal import JournalFileBackend
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers import glue, setup
from helpers import tuning
from helpers.data import load
from helpers.exercises import ch07_hyperparameters as ex
from helpers.models import mlp
from helpers.plots import use_style
from helpers.train import evaluate

DEVICE = setup(SEED)
if DEVICE.type == "cpu":
    torch.set_num_threads(1)  # models this small train as fast on one thread, for half the CPU time
use_style()
optuna.logging.set_verbosity(optuna.logging.WARNING)  # no log line per trial

# %% [markdown]
# ## 1. Parameters and hyperparameters
#
# We use the 8x8 handwritten digits again, standardised with
# statistics of the training split, and a small MLP with one hidden layer.
# Everything in this chapter follows one rule from Chapter 1: **the
# validation split chooses, the test split reports.** Each candidate setting
# is trained on the training split and judged on the validation split; the
# test split is used once, at the very end of Section 5.

# %%
digits = load("digits", seed=SEED).standardized()
train = digits.tensors("train", DEVICE)
val = digits.tensors("val", DEVICE)
test = digits.tensors("test", DEVICE)
N_TRAIN = len(digits.train)
print(digits.summary())


def make_model():
    """The chapter's model: 64 pixels -> 64 hidden units -> 10 class scores."""
    return mlp(digits.n_features, [64], digits.n_classes)


EPOCHS = max(5, round(20 * BUDGET))  # per run in the learning-rate sweep
N_SEEDS = max(3, round(3 * BUDGET))  # every setting is trained with this many seeds
SEEDS = [100 * SEED + i for i in range(N_SEEDS)]
glue("epochs", EPOCHS)
glue("n_train", N_TRAIN)
print(f"{EPOCHS} epochs per run in the learning-rate sweep; every setting trained with {N_SEEDS} seeds: {SEEDS}")

# %% [markdown]
# The model's weights are its **parameters**: gradient descent sets them. The
# learning rate $\eta$, the batch size $B$, the width of the hidden layer, the
# number of epochs, the weight decay are **hyperparameters**: we set them,
# training does not. In each sweep below, every setting is trained from the
# same initial weights, so that two runs differ only in the hyperparameter
# we vary; and every setting is repeated with a few seeds (other initial
# weights, another batch order), so that we can tell a real difference from
# luck. We train on {glue:text}`n_train` training images.
#
# ## 2. The learning rate
#
# ### Why a step can be too big: one parameter, by hand
#
# Near a minimum, any smooth loss looks like a bowl,
# $L(w) \approx \tfrac{a}{2} w^2$, where the curvature $a$ says how steep the
# walls are. Gradient descent with learning rate $\eta$ then does
#
# $$
# w_{t+1} = w_t - \eta\, L'(w_t) = w_t - \eta a\, w_t = (1 - \eta a)\, w_t
# \quad\Longrightarrow\quad w_t = (1 - \eta a)^t\, w_0 .
# $$
#
# Everything depends on the factor $1 - \eta a$. For $\eta a < 1$ the steps
# shrink towards the minimum (slowly when $\eta a$ is tiny); for
# $1 < \eta a < 2$ each step jumps **over** the minimum and lands on the other
# side, closer; for $\eta a > 2$ it lands farther away each time and the
# iterates **diverge**. So the largest stable learning rate is $2/a$: the
# steeper the loss, the smaller the step must be. A network has many
# directions with different curvatures; the steepest one sets the limit.

# %%
def gradient_descent_on_bowl(lr, curvature=4.0, w0=1.0, steps=20):
    """Iterates w_0..w_steps of gradient descent on L(w) = curvature / 2 * w**2."""
    w = [w0]
    for _ in range(steps):
        w.append(w[-1] - lr * curvature * w[-1])
    return np.array(w)


CURVATURE = 4.0
bowl_lrs = [0.02, 0.2, 0.45, 0.55]  # eta * a = 0.08, 0.8, 1.8, 2.2
bowl_paths = {lr: gradient_descent_on_bowl(lr, CURVATURE) for lr in bowl_lrs}
bowl_table = pd.DataFrame(
    {
        "eta * a": [lr * CURVATURE for lr in bowl_lrs],
        "factor 1 - eta * a": [1 - lr * CURVATURE for lr in bowl_lrs],
        "|w| after 20 steps": [abs(path[-1]) for path in bowl_paths.values()],
    },
    index=pd.Index(bowl_lrs, name="learning rate"),
)
glue("bowl_max_lr", 2 / CURVATURE, fmt=".2f")
glue("bowl_curvature", CURVATURE, fmt=".0f")
print(f"curvature a = {CURVATURE:.0f}: gradient descent is stable for learning rates below 2 / a = {2 / CURVATURE:.2f}")
assert abs(bowl_paths[0.02][-1]) > 0.1, "a tiny step should still be far from the minimum after 20 steps"
assert abs(bowl_paths[0.2][-1]) < 1e-6 and abs(bowl_paths[0.45][-1]) < 0.05, "0 < eta * a < 2 should converge"
assert abs(bowl_paths[0.55][-1]) > 1, "eta * a > 2 should diverge"

# %% tags=["nbval-check-output"]
print(bowl_table.to_string(float_format=lambda v: f"{v:.3g}"))

# %% mystnb={"image": {"alt": "Four paths of w over 20 steps of gradient descent on a bowl with curvature 4: learning rate 0.02 creeps down slowly, 0.2 drops to zero in a few steps, 0.45 zig-zags across zero while shrinking, 0.55 zig-zags with growing amplitude."}}
fig, ax = plt.subplots(figsize=(7.6, 3.0))
for lr, path in bowl_paths.items():
    ax.plot(path, marker=".", label=f"$\\eta$ = {lr} ($\\eta a$ = {lr * CURVATURE:.2f})")
ax.axhline(0, color="grey", linewidth=0.8)
ax.set_ylim(-2.5, 2.5)
ax.set_xlabel("step $t$")
ax.set_ylabel("$w_t$")
ax.set_title(f"Gradient descent on $L(w) = {CURVATURE:.0f}\\,w^2/2$: stable only for $\\eta < 2/a$")
ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
fig.tight_layout()
plt.show()

# %% [markdown]
# With curvature $a$ = {glue:text}`bowl_curvature`, every learning rate below
# $2/a$ = {glue:text}`bowl_max_lr` converges, and every one above diverges;
# the closer to the limit, the more it oscillates on the way.
#
# ### The "Learning Rate" table: a sweep over five orders of magnitude
#
# We cannot compute the curvature of a network's loss this easily, so we
# measure: train the MLP with plain SGD at learning rates from $10^{-4}$ to
# $10$, half a decade apart, and record the validation accuracy after the
# last epoch. Sweeping on a **log scale** matters: the good values of a
# learning rate span a factor, not a difference. Each learning rate is run
# with {glue:text}`n_seeds` seeds (initial weights and batch order), and the
# table shows the mean and the standard deviation over them.

# %%
LRS = [float(f"{v:.3g}") for v in 10.0 ** np.arange(-4, 1.01, 0.5)]  # 1e-4, 3.16e-4, ..., 10
start = time.perf_counter()
lr_runs = []
for seed in SEEDS:
    table, histories = tuning.lr_sweep(make_model, train, val, LRS, epochs=EPOCHS, batch_size=64, seed=seed)
    lr_runs.append(table.assign(seed=seed))
    if seed == SEEDS[0]:
        lr_histories = histories  # the curves of one seed, for the plot below
lr_runs = pd.concat(lr_runs)
lr_table = lr_runs.groupby(level="lr").agg(
    **{"val accuracy": ("val accuracy", "mean"), "sd": ("val accuracy", "std"),
       "final train loss": ("final train loss", "mean"), "diverged runs": ("diverged", "sum")}
)
print(f"{len(lr_runs)} runs ({len(LRS)} learning rates x {N_SEEDS} seeds) of {EPOCHS} epochs "
      f"in {time.perf_counter() - start:.1f} s")

# %% tags=["nbval-check-output"]
# A diverged run's last accuracy is chaotic (it changes with the number of CPU threads): we print "diverged".
shown = lr_table[["val accuracy", "sd", "final train loss"]].astype(object)
shown.loc[lr_table["diverged runs"] > 0, :] = "diverged"
shown["diverged runs"] = lr_table["diverged runs"].astype(int).map(f"{{}} of {N_SEEDS}".format)
print(shown.rename(index="{:g}".format).to_string(
    formatters={"val accuracy": lambda v: v if isinstance(v, str) else f"{v:.3f}",
                "sd": lambda v: v if isinstance(v, str) else f"{v:.3f}",
                "final train loss": lambda v: v if isinstance(v, str) else f"{v:.3g}"}))

# %%
accuracy_by_lr = lr_table["val accuracy"]
best_lr = float(accuracy_by_lr.idxmax())
smallest_lr, largest_lr = LRS[0], LRS[-1]
slow_lr = 1e-3
first_diverged_lr = float(lr_table.index[lr_table["diverged runs"] == N_SEEDS].min())
plateau = lr_table.index[accuracy_by_lr >= accuracy_by_lr.max() - 0.01]  # within one point of the best
glue("n_seeds", N_SEEDS)
glue("best_lr", best_lr, fmt=".2g")
glue("best_lr_acc", float(accuracy_by_lr[best_lr]), fmt=".1%")
glue("best_lr_sd", float(lr_table.loc[best_lr, "sd"]), fmt=".1%")
glue("smallest_lr_acc", float(accuracy_by_lr[smallest_lr]), fmt=".1%")
glue("slow_lr_acc", float(accuracy_by_lr[slow_lr]), fmt=".1%")
glue("slow_lr_loss", float(lr_table.loc[slow_lr, "final train loss"]), fmt=".2f")
glue("first_diverged_lr", first_diverged_lr, fmt=".2g")
glue("backoff", first_diverged_lr / best_lr, fmt=".1f")
glue("plateau_low", float(plateau.min()), fmt=".2g")
glue("plateau_high", float(plateau.max()), fmt=".2g")
glue("largest_lr_epochs", int(lr_runs.loc[largest_lr, "epochs run"].max()))
glue("largest_lr_acc", float(accuracy_by_lr[largest_lr]), fmt=".1%")
print(f"best learning rate {best_lr:g}: {accuracy_by_lr[best_lr]:.1%} ± {lr_table.loc[best_lr, 'sd']:.1%}; "
      f"within one point of it: {plateau.min():g} to {plateau.max():g}")
print(f"lr {smallest_lr:g}: {accuracy_by_lr[smallest_lr]:.1%}; lr {slow_lr:g}: {accuracy_by_lr[slow_lr]:.1%} "
      f"(train loss {lr_table.loc[slow_lr, 'final train loss']:.2f})")
print(f"diverged in every seed from lr {first_diverged_lr:.2g} (a factor {first_diverged_lr / best_lr:.1f} above the best); "
      f"lr {largest_lr:g} stopped after at most {int(lr_runs.loc[largest_lr, 'epochs run'].max())} epochs "
      f"at {accuracy_by_lr[largest_lr]:.1%}")

assert smallest_lr < best_lr < largest_lr, "the best learning rate should lie inside the swept range"
# The seed sd is at most a few points (table above); these gaps are tens of points.
assert accuracy_by_lr[smallest_lr] < accuracy_by_lr[best_lr] - 0.5, "a tiny learning rate should learn far too slowly"
assert lr_table.loc[largest_lr, "diverged runs"] == N_SEEDS, "the largest learning rate should diverge in every seed"
assert accuracy_by_lr[largest_lr] < accuracy_by_lr[best_lr] - 0.5, "a diverged run should be near chance"

# %% mystnb={"image": {"alt": "Left: mean validation accuracy against the learning rate on a log axis, with error bars: near 10 percent at 1e-4, rising through 1e-2 to about 97 percent around 0.3 to 1, then collapsing for the two largest rates, which diverged. Right: training loss per epoch on a log axis for four learning rates of one seed: 1e-3 stays almost flat near 2.2, 0.1 and 1 fall steadily, 3.2 climbs until it is no longer finite."}}
fig, (ax_sweep, ax_curves) = plt.subplots(1, 2, figsize=(9.6, 3.4))
ok = lr_table["diverged runs"] == 0
ax_sweep.set_xscale("log")
ax_sweep.plot(lr_table.index, lr_table["val accuracy"], color="grey", linewidth=0.8)
ax_sweep.errorbar(lr_table.index[ok], lr_table["val accuracy"][ok], yerr=lr_table["sd"][ok], fmt="o",
                  capsize=3, label=f"trained (mean ± sd, {N_SEEDS} seeds)")
ax_sweep.scatter(lr_table.index[~ok], lr_table["val accuracy"][~ok], marker="x", color="#d62728", label="diverged")
ax_sweep.set_xlabel("learning rate (log scale)")
ax_sweep.set_ylabel(f"validation accuracy after {EPOCHS} epochs")
ax_sweep.legend(fontsize="small")
for lr in [slow_lr, 0.1, 1.0, first_diverged_lr]:
    losses = np.array(lr_histories[lr].train_loss)
    ax_curves.semilogy(lr_histories[lr].epoch, np.where(np.isfinite(losses), losses, np.nan), marker=".", label=f"lr = {lr:.2g}")
ax_curves.set_xlabel("epoch")
ax_curves.set_ylabel("training loss (log scale)")
ax_curves.set_title("one seed", fontsize="small")
ax_curves.legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% [markdown]
# The table shows both failure modes of the bowl:
#
# - **Too small: slow convergence.** At $\eta = 10^{-4}$ the accuracy after
#   {glue:text}`epochs` epochs is {glue:text}`smallest_lr_acc`, no better than
#   guessing; at $10^{-3}$ it is {glue:text}`slow_lr_acc` with a training loss
#   still at {glue:text}`slow_lr_loss` (a random guess gives $\ln 10 \approx 2.30$).
#   Nothing is wrong with these runs except that they would need many
#   more steps (the right panel: the loss at $10^{-3}$ barely moves).
# - **Too large: overshooting.** From $\eta$ = {glue:text}`first_diverged_lr`
#   upwards the loss jumps over the valley and blows up in every seed; at
#   $\eta = 10$ it was no longer finite after {glue:text}`largest_lr_epochs`
#   epochs, and the accuracy is {glue:text}`largest_lr_acc`.
# - **In between**, a plateau: the best rate here is {glue:text}`best_lr`
#   with {glue:text}`best_lr_acc` (± {glue:text}`best_lr_sd` over seeds), and
#   every rate from {glue:text}`plateau_low` to {glue:text}`plateau_high` is
#   within one point of it. The best value sits a factor
#   {glue:text}`backoff` below the first rate that diverged in every seed.
#   That suggests a rule of thumb (one sweep on one data set, not a law):
#   find where training blows up, and back off by a small factor.
#
# ## 3. The batch size
#
# Each SGD step averages the gradient over a mini-batch of $B$ examples. The
# batch size changes four things at once:
#
# - **steps per epoch**: $\lceil n / B \rceil$. With a fixed number of epochs,
#   a larger batch takes fewer, bigger-picture steps;
# - **noise**: the mini-batch gradient is an average of $B$ per-example
#   gradients, so its variance shrinks like $1/B$. Some noise may help to
#   escape sharp minima {cite}`keskar2017large`;
# - **time per epoch**: one step costs more with a larger batch, but much less
#   than $B$ times more, because the hardware processes the batch in parallel;
#   so an epoch gets faster;
# - **memory**: the backward pass needs every layer's activations for every
#   example of the batch, so that memory grows linearly with $B$.
#
# Because a larger batch takes fewer steps, it also wants a different
# learning rate: $k$ steps of batch $B$ with rate $\eta$ cover roughly the
# same ground as one step of batch $kB$ with rate $k\eta$, as long as the
# gradient does not change much in between. Hence the **linear scaling
# rule** used to train ImageNet in an hour: multiply the batch size by $k$,
# multiply the learning rate by $k$ {cite}`goyal2017accurate`. Smith et al.
# {cite}`smith2018dont` push the same equivalence the other way: the noise of
# SGD scales like $\eta n / B$, so instead of decaying the learning rate you
# can increase the batch size. Both break down when $\eta$ reaches the
# overshooting limit of Section 2.
#
# So comparing batch sizes at one shared learning rate would compare one
# tuned contender with untuned ones. We tune the learning rate **for each
# batch size**: a grid of seven learning rates from 0.01 to 10 times four
# batch sizes from 32 to the whole training set (full-batch gradient
# descent), {glue:text}`grid_epochs` epochs per run, {glue:text}`n_seeds`
# seeds per cell.

# %%
GRID_EPOCHS = max(4, round(10 * BUDGET))
GRID_LRS = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
BATCH_SIZES = [32, 128, 512, N_TRAIN]
start = time.perf_counter()
interaction = pd.concat([
    tuning.grid_sweep(make_model, train, val, GRID_LRS, BATCH_SIZES, epochs=GRID_EPOCHS, seed=seed).assign(seed=seed)
    for seed in SEEDS
])
glue("grid_epochs", GRID_EPOCHS)
heat = interaction.pivot_table(index="lr", columns="batch size", values="val accuracy", aggfunc="mean")
heat_sd = interaction.pivot_table(index="lr", columns="batch size", values="val accuracy", aggfunc="std")
best_lr_by_batch = heat.idxmax()
print(f"{len(interaction)} runs of {GRID_EPOCHS} epochs in {time.perf_counter() - start:.1f} s")

# %% [markdown]
# ### The "Batch Size" table
#
# One row per batch size, each at **its own** best learning rate (chosen by
# the mean validation accuracy over seeds), and, for contrast, the accuracy
# the same batch size gets at the learning rate 0.1 that suits small batches.
# The memory column counts the bytes autograd keeps for the backward pass of
# one batch (`tuning.activation_bytes`).

# %% tags=["nbval-check-output"]
SHARED_LR = 0.1
batch_rows = []
for batch_size in BATCH_SIZES:
    tuned = best_lr_by_batch[batch_size]
    steps = tuning.steps_per_epoch(N_TRAIN, batch_size)
    batch_rows.append({
        "batch size": batch_size, "steps per epoch": steps, "total steps": steps * GRID_EPOCHS, "tuned lr": tuned,
        "val accuracy": heat.loc[tuned, batch_size], "sd": heat_sd.loc[tuned, batch_size],
        f"at lr {SHARED_LR:g}": heat.loc[SHARED_LR, batch_size],
        "activation KiB": tuning.activation_bytes(make_model(), train[0][:batch_size], train[1][:batch_size]) / 1024,
    })
batch_table = pd.DataFrame(batch_rows).set_index("batch size")
print(batch_table.to_string(formatters={"tuned lr": "{:g}".format, "val accuracy": "{:.3f}".format,
                                        "sd": "{:.3f}".format, f"at lr {SHARED_LR:g}": "{:.3f}".format,
                                        "activation KiB": "{:.1f}".format}))

# %% [markdown]
# The time per epoch on this machine (the median over all the runs of each
# batch size; measured, so it varies from run to run and with whatever else
# the machine is doing):

# %%
seconds = interaction.groupby("batch size")["seconds per epoch"].median()
timings = pd.DataFrame({"seconds per epoch": seconds,
                        "ms per step": 1000 * seconds / batch_table["steps per epoch"]})
print(timings.round(4).to_string())
time_ratio = seconds.iloc[0] / seconds.iloc[-1]
glue("time_ratio", float(time_ratio), fmt=".0f")
print(f"an epoch of batch {BATCH_SIZES[0]} took {time_ratio:.0f} times as long as a full-batch epoch")

# %%
acc_by_batch = batch_table["val accuracy"]
sd_by_batch = batch_table["sd"]
memory = batch_table["activation KiB"]
small_b, large_b = BATCH_SIZES[0], BATCH_SIZES[-1]
glue("small_b", small_b)
glue("large_b", large_b)
glue("small_batch_lr", float(best_lr_by_batch[small_b]), fmt="g")
glue("full_batch_lr", float(best_lr_by_batch[large_b]), fmt="g")
glue("small_batch_acc", float(acc_by_batch[small_b]), fmt=".1%")
glue("small_batch_sd", float(sd_by_batch[small_b]), fmt=".1%")
glue("full_batch_acc", float(acc_by_batch[large_b]), fmt=".1%")
glue("full_batch_sd", float(sd_by_batch[large_b]), fmt=".1%")
glue("full_batch_shared", float(heat.loc[SHARED_LR, large_b]), fmt=".1%")
glue("small_batch_steps", int(batch_table.loc[small_b, "total steps"]))
glue("full_batch_steps", int(batch_table.loc[large_b, "total steps"]))
glue("memory_ratio", float(memory[large_b] / memory[small_b]), fmt=".0f")
glue("batch_ratio", large_b / small_b, fmt=".0f")
print(f"tuned: batch {small_b} {acc_by_batch[small_b]:.1%} ± {sd_by_batch[small_b]:.1%} "
      f"({batch_table.loc[small_b, 'total steps']} steps), full batch {acc_by_batch[large_b]:.1%} ± "
      f"{sd_by_batch[large_b]:.1%} ({batch_table.loc[large_b, 'total steps']} steps); full batch at lr {SHARED_LR:g}: "
      f"{heat.loc[SHARED_LR, large_b]:.1%}")
print(f"activation memory grows {memory[large_b] / memory[small_b]:.0f}-fold for a {large_b / small_b:.0f}-fold batch")

assert all(GRID_LRS[0] < lr < GRID_LRS[-1] for lr in best_lr_by_batch), "each best lr should be inside the grid"
# Margins from the seed spread: the gap must exceed the two sds together.
assert acc_by_batch[small_b] - acc_by_batch[large_b] > sd_by_batch[small_b] + sd_by_batch[large_b], \
    "at a fixed number of epochs, full batch (fewer steps) should lag even when tuned"
assert heat.loc[SHARED_LR, large_b] < acc_by_batch[large_b] - 0.15, "a shared small-batch lr should badly hurt full batch"
assert batch_table["steps per epoch"].is_monotonic_decreasing
assert memory.is_monotonic_increasing and memory[large_b] > 20 * memory[small_b], "activation memory should grow with B"

# %% [markdown]
# Each batch size at its own learning rate: batches of {glue:text}`small_b`
# reach {glue:text}`small_batch_acc` (± {glue:text}`small_batch_sd`) in
# {glue:text}`small_batch_steps` steps with $\eta$ =
# {glue:text}`small_batch_lr`; full-batch gradient descent takes
# {glue:text}`full_batch_steps` steps and reaches {glue:text}`full_batch_acc`
# (± {glue:text}`full_batch_sd`) with $\eta$ = {glue:text}`full_batch_lr`.
# At a fixed budget of {glue:text}`grid_epochs` epochs the small batch wins
# by more than the seed spread, because it takes many more steps; at the
# shared rate 0.1 the full batch would have looked far worse
# ({glue:text}`full_batch_shared`), which is the unfair comparison to avoid.
# An epoch of batch {glue:text}`small_b` took about {glue:text}`time_ratio`
# times longer than a full-batch epoch in this run, and the activation memory
# grows {glue:text}`memory_ratio`-fold for a {glue:text}`batch_ratio`-fold
# larger batch. So "which batch size is best" has no answer on its own: it
# trades steps, time and memory, and each choice needs its own learning rate.
#
# ### Learning rate and batch size interact
#
# The whole grid shows how the good learning rates move with the batch size.

# %%
# Not compared by nbval: runs near the divergence limit end differently with the thread count.
print("mean validation accuracy over seeds:")
print(heat.to_string(float_format=lambda v: f"{v:.3f}"))
print("sd over seeds:")
print(heat_sd.to_string(float_format=lambda v: f"{v:.3f}"))
good_lr = {b: float(heat.index[heat[b] >= heat[b].max() - 0.02].min()) for b in BATCH_SIZES}
print("smallest learning rate within 2 points of the best, per batch size:", good_lr)

# %% mystnb={"image": {"alt": "Heat map of mean validation accuracy over learning rate (rows, 0.01 to 10) and batch size (columns, 32 to the full training set). Small learning rates are dark for large batches but fine for small ones; the bright band moves to larger learning rates as the batch grows, and the best cell of each column is outlined. The rate 3 is dark for batch 32 but bright for larger batches, and 10 is dark everywhere."}}
fig, ax = plt.subplots(figsize=(5.6, 3.8))
image = ax.imshow(heat.to_numpy(), cmap="viridis", vmin=0, vmax=1, aspect="auto", origin="lower")
ax.set_xticks(range(len(heat.columns)), heat.columns)
ax.set_yticks(range(len(heat.index)), [f"{lr:g}" for lr in heat.index])
ax.set_xlabel("batch size")
ax.set_ylabel("learning rate")
ax.grid(False)
for j, batch in enumerate(heat.columns):
    for i, lr in enumerate(heat.index):
        value = heat.loc[lr, batch]
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8, color="black" if value > 0.6 else "white")
    i_best = list(heat.index).index(best_lr_by_batch[batch])
    ax.add_patch(plt.Rectangle((j - 0.5, i_best - 0.5), 1, 1, fill=False, edgecolor="#d62728", linewidth=2))
fig.colorbar(image, ax=ax, label="validation accuracy")
ax.set_title(f"Mean over {N_SEEDS} seeds, {GRID_EPOCHS} epochs per run")
plt.show()

# %%
glue("good_lr_small", good_lr[small_b], fmt="g")
glue("good_lr_large", good_lr[large_b], fmt="g")
glue("lr_growth", good_lr[large_b] / good_lr[small_b], fmt=".0f")
glue("top_lr_small_b_acc", float(heat.loc[3.0, small_b]), fmt=".1%")
glue("top_lr_large_b_acc", float(heat.loc[3.0, large_b]), fmt=".1%")
print(f"smallest good lr: {good_lr[small_b]:g} at batch {small_b}, {good_lr[large_b]:g} at batch {large_b} "
      f"({good_lr[large_b] / good_lr[small_b]:.0f}-fold for a {large_b / small_b:.0f}-fold batch)")
print(f"at lr 3: batch {small_b} {heat.loc[3.0, small_b]:.1%}, batch {large_b} {heat.loc[3.0, large_b]:.1%}")
assert good_lr[large_b] >= 3 * good_lr[small_b], "the good learning rates should move up with the batch"
# lr 3 diverges at batch 32 in every seed (sd 0); the full batch trains (sd under 0.1).
assert heat.loc[3.0, small_b] < 0.5 and heat.loc[3.0, large_b] > heat.loc[3.0, small_b] + 0.3

# %% [markdown]
# The bright band runs along the diagonal. The smallest learning rate that
# gets within 2 points of the column's best grows from
# {glue:text}`good_lr_small` at batch {glue:text}`small_b` to
# {glue:text}`good_lr_large` for the full batch: {glue:text}`lr_growth`-fold
# for a {glue:text}`batch_ratio`-fold larger batch, so the linear rule
# overshoots here. At the top the ceiling of Section 2 caps the band: at
# $\eta = 3$ batches of {glue:text}`small_b` diverge
# ({glue:text}`top_lr_small_b_acc`), while the full batch, whose averaged
# gradient is less noisy, still trains ({glue:text}`top_lr_large_b_acc`);
# at $\eta = 10$ everything diverges. Goyal et al. needed a warm-up of small
# steps at the start to push their large-batch rates that far. Two lessons:
# **tune the learning rate again whenever you change the batch size** (the
# linear rule is a first guess, valid below the ceiling), and compare batch
# sizes at their own best learning rates, never at a shared one. On a GPU,
# choose the batch size for speed and memory first (the largest that keeps
# the device busy), then tune the learning rate for it. Very large batches
# can still generalise a little worse even when tuned {cite}`keskar2017large`;
# this small experiment cannot separate that from the smaller number of steps.
#
# ## 4. Searching: a grid, random draws, or a model of the results?
#
# With more than one hyperparameter the sweeps above turn into a search. The
# obvious method is a **grid**: a few values per hyperparameter, every
# combination. Bergstra and Bengio {cite}`bergstra2012random` argued that
# **random search**, drawing each combination at random, is better on the
# same budget when only a few hyperparameters matter much: a
# $3 \times 3 \times 3$ grid over (learning rate, width, weight decay) spends
# 27 runs but tries only **3** learning rates; 27 random draws try **27**.
#
# How many random draws are enough? If the good region covers a fraction $q$
# of the range of the one hyperparameter that matters, each random draw lands
# in it with probability $q$, and $n$ independent draws miss it with
# probability $(1-q)^n$.

# %%
def draws_needed(q, confidence=0.95):
    """Smallest n with 1 - (1 - q)**n >= confidence."""
    return math.ceil(math.log(1 - confidence) / math.log(1 - q))


glue("draws_for_5pct", draws_needed(0.05))
glue("p_hit_9_of_10pct", 1 - 0.9**9, fmt=".0%")
print("random draws needed for a 95% chance to hit the best q of the range:",
      {q: draws_needed(q) for q in (0.2, 0.1, 0.05, 0.01)})
print(f"9 draws hit the best 10% with probability {1 - 0.9**9:.0%}")

# %% [markdown]
# To land in the best 5% of the range with 95% probability takes
# {glue:text}`draws_for_5pct` random draws, however many unimportant
# hyperparameters there are; 9 draws hit the best 10% with probability
# {glue:text}`p_hit_9_of_10pct`.
#
# Random search ignores what earlier runs taught it. Model-based methods use
# it. Optuna {cite}`akiba2019optuna`, the library most practitioners use,
# does this by default with the **Tree-structured Parzen Estimator** (TPE)
# {cite}`bergstra2011algorithms`: after 10 random trials it splits the
# finished ones into the best fraction and the rest, fits a density $\ell(x)$
# to the hyperparameters $x$ of the good ones and $g(x)$ to the others, and
# next tries the $x$ that maximises $\ell(x)/g(x)$: likely under the good
# runs, unlikely under the bad ones.
#
# Optuna can also **prune**: the objective reports the validation accuracy
# after every epoch (`trial.report`) and asks `trial.should_prune()`. With
# the median rule, a trial whose value is below the median of what earlier
# trials had reached at the same epoch is stopped there (after 5 unpruned
# start-up trials and 2 warm-up epochs). Hyperband {cite}`li2018hyperband`
# develops the same idea (give many settings a small budget, continue only
# the best) into an algorithm with guarantees; Optuna has it as
# `HyperbandPruner`.
#
# ### Grid, random, TPE and pruning on the same budget
#
# A fair comparison gives every method the same problem, the same budget and
# several seeds. The problem: our MLP, trained with SGD (momentum 0.9,
# batches of 256) for {glue:text}`search_epochs` epochs, with three
# hyperparameters on log scales, the learning rate from $10^{-5}$ to 10, the
# hidden width from 4 to 256 and the weight decay from $10^{-6}$ to 1. Most
# of this box is bad (too slow, divergent, or over-regularised), so where
# the trials go matters. The budget: {glue:text}`n_search_trials` trials.
# The contenders, all Optuna samplers on the same objective
# (`tuning.mlp_objective`):
#
# - **grid**: $3 \times 3 \times 3$ values at the centres of three equal
#   log-intervals of each range (learning rates $10^{-4}$, $10^{-2}$, 1),
#   visited in a seeded random order (`GridSampler`);
# - **random**: `RandomSampler`;
# - **TPE**: `TPESampler` (10 random start-up trials, then the model);
# - **TPE + pruning**: the same, with the median pruner.
#
# Each runs with {glue:text}`n_search_seeds` seeds (the sampler's seed and
# the training seeds). Every study is kept in one Optuna **storage**, here a
# journal file (`JournalStorage`): each finished trial is appended to it, so
# a long study survives a crash and can be reloaded, continued, or read by
# another process. `tuning.compare_searches` runs the studies and stacks
# their `study.trials_dataframe()` tables into one.

# %%
SEARCH_EPOCHS = max(4, round(8 * BUDGET))
N_SEARCH_TRIALS = 27
SEARCH_SEEDS = SEEDS + [100 * SEED + N_SEEDS]  # one more seed than the sweeps: a study is cheap
SEARCH_GRID = {"lr": [1e-4, 1e-2, 1.0], "hidden": [8, 32, 128], "weight_decay": [1e-5, 1e-3, 1e-1]}


def search_space(trial):
    return {"lr": trial.suggest_float("lr", 1e-5, 10.0, log=True),
            "hidden": trial.suggest_int("hidden", 4, 256, log=True),
            "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1.0, log=True),
            "batch_size": 256}


def objective_for_seed(seed):
    return tuning.mlp_objective(train, val, n_inputs=digits.n_features, n_classes=digits.n_classes,
                                epochs=SEARCH_EPOCHS, space=search_space, seed=1000 * seed, device=DEVICE)


SEARCHES = {"grid": {"sampler": SEARCH_GRID, "pruner": None}, "random": {"sampler": "random", "pruner": None},
            "TPE": {"sampler": "tpe", "pruner": None}, "TPE + pruning": {"sampler": "tpe", "pruner": "median"}}
workdir = tempfile.TemporaryDirectory()
storage = optuna.storages.JournalStorage(JournalFileBackend(os.path.join(workdir.name, "studies.log")))
start = time.perf_counter()
search_runs = tuning.compare_searches(objective_for_seed, SEARCHES, SEARCH_SEEDS, N_SEARCH_TRIALS, storage=storage)
print(f"{len(SEARCHES)} searches x {len(SEARCH_SEEDS)} seeds x {N_SEARCH_TRIALS} trials in "
      f"{time.perf_counter() - start:.1f} s; studies in the storage: {len(optuna.get_all_study_names(storage))}")
glue("search_epochs", SEARCH_EPOCHS)
glue("n_search_trials", N_SEARCH_TRIALS)
glue("n_search_seeds", len(SEARCH_SEEDS))
print(search_runs.head(3).round(4).to_string())

# %% [markdown]
# From this long table (one row per trial of every study), the best value
# found so far after each trial, as mean ± sd over seeds, and what each
# search spent:

# %% tags=["nbval-check-output"]
curves = search_runs.pivot_table(index="number", columns=["search", "seed"], values="best so far")
checkpoints = [9, 18, N_SEARCH_TRIALS]
dummy_val = DummyClassifier().fit(digits.train.X, digits.train.y).score(digits.val.X, digits.val.y)
search_summary = pd.DataFrame({
    name: {
        **{f"best after {n}": f"{curves[name].loc[n - 1].mean():.3f} ± {curves[name].loc[n - 1].std():.3f}"
           for n in checkpoints},
        "trials >= 0.9": f"{(runs['value'] >= 0.9).mean():.0%}",
        "epochs trained": f"{runs.groupby('seed')['epochs'].sum().mean():.0f}",
    }
    for name, runs in search_runs.groupby("search", sort=False)
}).T
print(search_summary.to_string())
print(f"dummy baseline (most frequent class) on validation: {dummy_val:.3f}")

# %% mystnb={"image": {"alt": "Left: best validation accuracy so far against the trial number for grid, random, TPE and TPE with pruning, mean over seeds with a shaded band of one standard deviation; all rise quickly within the first ten trials and end between about 0.94 and 0.97. Right: the same best-so-far curves for TPE with and without pruning, against the number of training epochs spent: the pruned search reaches the same level after fewer epochs."}}
fig, (ax_trials, ax_epochs) = plt.subplots(1, 2, figsize=(10.0, 3.6))
trial_axis = np.arange(1, N_SEARCH_TRIALS + 1)
for name in SEARCHES:
    mean, sd = curves[name].mean(axis=1), curves[name].std(axis=1)
    ax_trials.plot(trial_axis, mean, label=name)
    ax_trials.fill_between(trial_axis, mean - sd, mean + sd, alpha=0.15)
ax_trials.axhline(dummy_val, color="grey", linestyle=":", label="dummy")
ax_trials.set(xlabel="trial", ylabel="best validation accuracy so far", ylim=(0.8, 1.0))
ax_trials.set_title(f"mean ± sd over {len(SEARCH_SEEDS)} seeds", fontsize="small")
ax_trials.legend(fontsize="small", loc="lower right")
for name in ["TPE", "TPE + pruning"]:
    for i, (seed, runs) in enumerate(search_runs[search_runs["search"] == name].groupby("seed")):
        ax_epochs.step(runs["epochs"].cumsum(), runs["best so far"], where="post", alpha=0.7,
                       color="#2ca02c" if name == "TPE" else "#d62728", label=name if i == 0 else None)
ax_epochs.set(xlabel="training epochs spent", ylabel="best validation accuracy so far", ylim=(0.8, 1.0))
ax_epochs.set_title("one line per seed", fontsize="small")
ax_epochs.legend(fontsize="small", loc="lower right")
fig.tight_layout()
plt.show()

# %%
final = curves.loc[N_SEARCH_TRIALS - 1]
final_mean, final_sd = final.groupby(level="search").mean(), final.groupby(level="search").std()
share_good = search_runs.groupby("search")["value"].apply(lambda v: float((v >= 0.9).mean()))
share_by_seed = search_runs.groupby(["search", "seed"])["value"].apply(lambda v: float((v >= 0.9).mean()))
share_gain = share_by_seed["TPE"] - share_by_seed["random"]  # paired by seed
epochs_spent = search_runs.groupby(["search", "seed"])["epochs"].sum().groupby(level="search").mean()
tpe_minus_random = final["TPE"] - final["random"]  # paired by seed
first_ten = search_runs[search_runs["number"] < 10].set_index(["search", "seed", "number"])["params_lr"]
same_start = bool(np.allclose(first_ten["TPE"], first_ten["random"]))
print(f"TPE's 10 start-up trials are random search's first 10 (same seed): {same_start}")
for name, key in [("grid", "grid"), ("random", "random"), ("TPE", "tpe"), ("TPE + pruning", "pruned")]:
    glue(f"{key}_final", float(final_mean[name]), fmt=".1%")
    glue(f"{key}_final_sd", float(final_sd[name]), fmt=".1%")
glue("tpe_minus_random", float(tpe_minus_random.mean()), fmt="+.1%")
glue("tpe_minus_random_sd", float(tpe_minus_random.std()), fmt=".1%")
verdict = "larger than" if abs(tpe_minus_random.mean()) > tpe_minus_random.std() else "within"
glue("tpe_vs_random_verdict", verdict)
glue("share_gain", float(share_gain.mean()), fmt=".0%")
glue("share_gain_sd", float(share_gain.std()), fmt=".0%")
glue("share_good_random", share_good["random"], fmt=".0%")
glue("share_good_tpe", share_good["TPE"], fmt=".0%")
glue("share_good_grid", share_good["grid"], fmt=".0%")
glue("epochs_saved", float(1 - epochs_spent["TPE + pruning"] / epochs_spent["TPE"]), fmt=".0%")
glue("dummy_val", float(dummy_val), fmt=".1%")
print(f"after {N_SEARCH_TRIALS} trials: " + ", ".join(f"{n} {final_mean[n]:.1%} ± {final_sd[n]:.1%}" for n in SEARCHES)
      + f"; dummy {dummy_val:.1%}")
print(f"TPE minus random, paired by seed: {tpe_minus_random.mean():+.1%} ± {tpe_minus_random.std():.1%} "
      f"({verdict} its spread)")
print("share of trials at 90% or more: " + ", ".join(f"{n} {share_good[n]:.0%}" for n in SEARCHES))
print(f"TPE minus random in that share, paired by seed: {share_gain.mean():+.0%} ± {share_gain.std():.0%}")
print(f"pruning saved {1 - epochs_spent['TPE + pruning'] / epochs_spent['TPE']:.0%} of TPE's training epochs")
assert (final_mean > dummy_val + 0.5).all(), "every search should find a model far better than the dummy"
# TPE's trials concentrate where the model is good: the paired gain in the share of good trials
# must exceed its own seed spread (the best values themselves differ by about one sd, no claim made).
assert share_gain.mean() > share_gain.std(), "TPE should spend more of its trials in the good region"
# Pruning must save epochs without losing more than the seed spread of the final best value.
assert epochs_spent["TPE + pruning"] < 0.85 * epochs_spent["TPE"], "pruning should save a good share of the epochs"
assert final_mean["TPE + pruning"] > final_mean["TPE"] - (final_sd["TPE"] + final_sd["TPE + pruning"]), \
    "pruning should not cost more than the seed spread (the two sds together) in final quality"

# %% [markdown]
# After {glue:text}`n_search_trials` trials the best validation accuracy is
# {glue:text}`grid_final` ± {glue:text}`grid_final_sd` for the grid,
# {glue:text}`random_final` ± {glue:text}`random_final_sd` for random search,
# {glue:text}`tpe_final` ± {glue:text}`tpe_final_sd` for TPE and
# {glue:text}`pruned_final` ± {glue:text}`pruned_final_sd` for TPE with
# pruning (the dummy classifier: {glue:text}`dummy_val`). TPE minus random,
# paired by seed: {glue:text}`tpe_minus_random` ±
# {glue:text}`tpe_minus_random_sd`, {glue:text}`tpe_vs_random_verdict` its
# spread (with the same seed, TPE's 10 start-up trials are random search's
# first 10, so the two differ only in the last 17). On this problem and
# budget the best values are close. The grid ends lowest on average, by
# about one or two of its own seed standard deviations: of its three
# learning rates only one (1.0) lies on the plateau of Section 2, so its
# best is whatever that one value gives with the widths and weight decays
# it is paired with; with four seeds that gap is suggestive, not a result.
# What differs clearly is where the trials go:
# {glue:text}`share_good_tpe` of TPE's trials reach 90% validation accuracy,
# against {glue:text}`share_good_random` of random search's and
# {glue:text}`share_good_grid` of the grid's (TPE minus random, paired by
# seed: {glue:text}`share_gain` ± {glue:text}`share_gain_sd`). That matters when each trial
# is expensive, or when you want many good settings (to check that the
# optimum is not a fluke, or for an ensemble), not just one.
#
# **Pruning** is where the budget is saved: with the same number of trials,
# TPE with the median pruner trained {glue:text}`epochs_saved` fewer epochs
# than TPE without it, and ended at a best value within the two searches'
# seed spreads (right panel: the red lines reach the top after fewer epochs). The
# trials it stopped were behind the median after a few epochs; the risk is
# a slow starter that would have won, and here that cost at most the seed
# spread.
#
# ## 5. Reading a study with Optuna's own tools
#
# Every study of the comparison is in the storage. We load one back by name,
# the TPE study with pruning of the first seed, and read it with Optuna's
# tools: `study.trials_dataframe()` for the table, and
# `optuna.visualization.matplotlib` for the plots (the default
# `optuna.visualization` draws with plotly; the `matplotlib` variants work
# offline with nothing more than matplotlib).

# %%
study = optuna.load_study(study_name=f"TPE + pruning, seed {SEARCH_SEEDS[0]}", storage=storage)
trials = study.trials_dataframe(attrs=("number", "value", "state", "params"))
print(f"loaded {study.study_name!r}: {len(study.trials)} trials, best value {study.best_value:.3f}")

# %% tags=["nbval-check-output"]
print(trials.sort_values("value", ascending=False).head(6).to_string(
    index=False, formatters={"value": "{:.3f}".format, "params_lr": "{:.2g}".format,
                             "params_weight_decay": "{:.1e}".format}))
print("trials by state:", trials["state"].astype(str).str.replace("TrialState.", "").value_counts().to_dict())

# %% mystnb={"image": {"alt": "Two Optuna plots. Left: objective value per trial with the best value so far as a line, rising within the first trials. Right: validation accuracy per epoch for every trial; pruned trials end after two or three epochs, at low values."}}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # the matplotlib plots are 'experimental'
    ax_history = optuna.visualization.matplotlib.plot_optimization_history(study)
    ax_history.figure.set_size_inches(6.4, 3.2)
    ax_curves = optuna.visualization.matplotlib.plot_intermediate_values(study)
    ax_curves.figure.set_size_inches(5.2, 3.2)
    ax_curves.get_legend().remove() if ax_curves.get_legend() else None  # one entry per trial: too many
plt.show()

# %% [markdown]
# The optimization history shows each completed trial's value and the best
# so far; the intermediate values show every trial's validation accuracy per
# epoch: the pruned ones stop after a few epochs, each below the median of
# the earlier trials at the epoch where it was stopped.
#
# Which hyperparameter mattered? `optuna.importance.get_param_importances`
# estimates how much of the variation of the objective each hyperparameter
# explains (by default with PED-ANOVA). The estimate describes the trials
# the study ran: TPE's trials crowd into the good region, so its
# importances describe that region, not the whole box. Random search covers
# the box evenly, so we ask the random studies, one per seed, and average.

# %%
importance_table = pd.DataFrame([
    optuna.importance.get_param_importances(optuna.load_study(study_name=f"random, seed {seed}", storage=storage))
    for seed in SEARCH_SEEDS
], index=pd.Index(SEARCH_SEEDS, name="seed"))
importance_table.loc["mean"] = importance_table.mean()
print(importance_table.round(2).to_string())
importances = importance_table.loc["mean"]
glue("lr_importance", float(importances["lr"]), fmt=".0%")
assert importances.idxmax() == "lr", "the learning rate should matter most"

# %% mystnb={"image": {"alt": "Optuna's bar chart of hyperparameter importances for the random search of the first seed: the learning rate has by far the longest bar, the hidden width and the weight decay short ones."}}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    ax_importance = optuna.visualization.matplotlib.plot_param_importances(
        optuna.load_study(study_name=f"random, seed {SEARCH_SEEDS[0]}", storage=storage))
    ax_importance.figure.set_size_inches(5.6, 2.6)
plt.show()

# %% [markdown]
# Averaged over the random studies, the learning rate explains
# {glue:text}`lr_importance` of the variation: the search itself confirms
# what Sections 2 and 3 assumed.
#
# Is a study reproducible? Run the first few trials again in a new study with
# the same seed: the sampler must propose the same settings, and training
# must give the same values.

# %%
n_again = 6
study_again = tuning.create_study(seed=SEARCH_SEEDS[0], pruner="median")
study_again.optimize(objective_for_seed(SEARCH_SEEDS[0]), n_trials=n_again)
same_params = all(a.params == b.params for a, b in zip(study.trials[:n_again], study_again.trials))
same_values = all(a.value == b.value for a, b in zip(study.trials[:n_again], study_again.trials))
print(f"first {n_again} trials: same settings {same_params}, same values {same_values}")
assert same_params and same_values, "a seeded sampler and seeded training should repeat exactly"

# %% [markdown]
# ### Tune on validation, report on test, once
#
# The best validation accuracy of a search is an **optimistic** number: we
# picked the maximum over many noisy measurements, and part of what made the
# winner win is luck on those particular validation images. The honest
# estimate of how the chosen setting does on new data comes from data that
# played no part in choosing it: the test split, used **once**, here and
# nowhere else in the chapter. We retrain the setting chosen by the loaded
# study exactly as in its trial (same seed, so the same weights), measure it
# on the test split, and put the dummy classifier beside it.

# %%
best = study.best_trial
chosen_model, _ = tuning.train_once(
    lambda: mlp(digits.n_features, [best.params["hidden"]], digits.n_classes), train, val,
    lr=best.params["lr"], weight_decay=best.params["weight_decay"], momentum=0.9,
    batch_size=256, epochs=SEARCH_EPOCHS, seed=1000 * SEARCH_SEEDS[0] + best.number, device=DEVICE,
)
val_again = evaluate(chosen_model, *val, loss_fn=torch.nn.CrossEntropyLoss())["accuracy"]
test_accuracy = evaluate(chosen_model, *test, loss_fn=torch.nn.CrossEntropyLoss())["accuracy"]
dummy_test = DummyClassifier().fit(digits.train.X, digits.train.y).score(digits.test.X, digits.test.y)
glue("chosen_val", study.best_value, fmt=".1%")
glue("test_accuracy", float(test_accuracy), fmt=".1%")
glue("dummy_test", float(dummy_test), fmt=".1%")
glue("val_minus_test", float(study.best_value - test_accuracy), fmt="+.1%")
glue("chosen_lr", best.params["lr"], fmt=".2g")
glue("chosen_hidden", int(best.params["hidden"]))
print(f"validation minus test: {study.best_value - test_accuracy:+.1%}")
assert abs(val_again - study.best_value) < 1e-9, "retraining the chosen setting should give its trial's model"
assert test_accuracy > dummy_test + 0.5

# %% tags=["nbval-check-output"]
print(f"chosen: lr {best.params['lr']:.2g}, width {best.params['hidden']}, weight decay "
      f"{best.params['weight_decay']:.1e}; validation {study.best_value:.3f}; "
      f"measured once on test: {test_accuracy:.3f} (val - test {study.best_value - test_accuracy:+.3f}); "
      f"dummy on test: {dummy_test:.3f}")

# %% [markdown]
# The chosen MLP (learning rate {glue:text}`chosen_lr`, width
# {glue:text}`chosen_hidden`) scored {glue:text}`chosen_val` on validation
# and scores {glue:text}`test_accuracy` on the test split (validation minus
# test: {glue:text}`val_minus_test`; the dummy classifier:
# {glue:text}`dummy_test`). With 360 images per split both numbers carry a
# standard error of about one point, so the gap itself is noise-sized here;
# what matters is that only the test number is free of the selection. If we
# went back now and tuned again because the test score disappointed us, the
# test split would become a second validation split and its number would be
# optimistic too.
#
# ### When data is small: nested cross-validation
#
# With a few hundred examples, a fixed validation split is too noisy to
# choose with, and a test split too small to report with. Cross-validation
# reuses every example, but the score of the *best* configuration in a
# cross-validated search is still optimistic, and the bias grows with the
# number of configurations compared and shrinks with the size of the data
# {cite}`cawley2010overfitting,varma2006bias`. **Nested cross-validation**
# puts the whole search inside an outer loop: each outer fold runs the search
# on the other folds and measures the chosen model on itself, so no outer
# score was used to choose anything. In scikit-learn it is one line: pass the
# search object (`GridSearchCV`) to `cross_val_score`.
#
# We take small samples of the breast-cancer data set (80 patients each),
# tune the number of neighbours $k$ of a $k$-nearest-neighbours classifier
# over 15 values with 3-fold cross-validation, and compare three numbers: the
# search's own best cross-validated score (not nested), the nested estimate,
# and the accuracy of the tuned model on the few hundred patients outside the
# sample, which approximates the truth. One sample of 80 is too noisy to show
# a bias of a few points, so we repeat the whole comparison on several samples.

# %%
cancer = load("breast_cancer", seed=SEED)
X_all = np.concatenate([cancer.train.X, cancer.val.X, cancer.test.X])
y_all = np.concatenate([cancer.train.y, cancer.val.y, cancer.test.y])
N_SMALL, N_SAMPLES, K_VALUES = 80, max(4, round(5 * BUDGET)), list(range(1, 30, 2))


def nested_vs_not(sample_seed):
    """Not-nested score, nested estimate, and accuracy on the rest, for one sample of N_SMALL patients."""
    X_small, X_rest, y_small, y_rest = train_test_split(
        X_all, y_all, train_size=N_SMALL, stratify=y_all, random_state=sample_seed
    )
    search = GridSearchCV(
        make_pipeline(StandardScaler(), KNeighborsClassifier()),
        {"kneighborsclassifier__n_neighbors": K_VALUES},
        cv=StratifiedKFold(3, shuffle=True, random_state=sample_seed),
    )
    not_nested = search.fit(X_small, y_small).best_score_  # the search chose k with these very scores
    outer = StratifiedKFold(3, shuffle=True, random_state=sample_seed + 1)
    nested = cross_val_score(search, X_small, y_small, cv=outer).mean()  # a whole search per outer fold
    return {"not nested": not_nested, "nested": nested, f"tuned model on the other {len(y_rest)}": search.score(X_rest, y_rest)}


start = time.perf_counter()
nested_table = pd.DataFrame([nested_vs_not(1000 * SEED + i) for i in range(N_SAMPLES)])
nested_table.index.name = "sample"
print(f"{N_SAMPLES} samples in {time.perf_counter() - start:.1f} s")
means = nested_table.mean()
glue("not_nested", float(means["not nested"]), fmt=".1%")
glue("nested", float(means["nested"]), fmt=".1%")
glue("on_the_rest", float(means.iloc[2]), fmt=".1%")
glue("n_rest", len(y_all) - N_SMALL)
glue("n_samples", N_SAMPLES)
glue("nested_fits", 3 * (len(K_VALUES) * 3 + 1))
glue("not_nested_fits", len(K_VALUES) * 3 + 1)
print(f"fits: nested {3 * (len(K_VALUES) * 3 + 1)}, not nested {len(K_VALUES) * 3 + 1}; "
      f"{len(y_all) - N_SMALL} patients outside each sample of {N_SMALL}")
assert means["nested"] < means["not nested"], "on average the search's own best score should be the optimistic one"
assert means["not nested"] > means.iloc[2], "the not-nested score should overestimate the accuracy on new patients"

# %% tags=["nbval-check-output"]
print(pd.concat([nested_table, means.to_frame("mean").T, nested_table.std().to_frame("sd").T]).to_string(float_format=lambda v: f"{v:.3f}"))

# %% [markdown]
# Averaged over {glue:text}`n_samples` samples, the search's own best score is
# {glue:text}`not_nested`, while the tuned models score
# {glue:text}`on_the_rest` on the {glue:text}`n_rest` patients they never saw:
# the not-nested number is the maximum of 15 noisy estimates, so it is
# optimistic. The nested estimate, {glue:text}`nested`, is not biased by the
# choice; if anything it is slightly pessimistic, because each outer fold
# tunes and trains on only two thirds of the 80 patients. It is also noisy
# from one sample to the next, which is the price of small data. Nested
# cross-validation costs a search per outer fold, here
# {glue:text}`nested_fits` fits instead of {glue:text}`not_nested_fits`; with
# small data and cheap models that is a small price. Note what it estimates:
# the accuracy of *the tuning procedure*, not of one particular setting, which
# is what you want to report when the final model will be tuned the same way
# on all the data.
#
# ## Exercises
#
# **[Do these exercises on Colab](https://colab.research.google.com/github/ai-training-course/ai-training-course/blob/main/notebooks/exercises/07_hyperparameters.ipynb)**: the student version, with stubs instead of solutions.
#
# Each exercise has a check: run it after your answer. `ex.q1.hint()` gives a
# hint (`ex.q1.hint(2)` a stronger one) and `ex.q1.solution()` shows a
# solution.
#
# ```{exercise} Predict, then run: the learning rate for raw pixels
# :label: ch07-ex1
# Every run in this chapter used standardised pixels (mean 0, standard
# deviation 1 per pixel). The raw digits have pixel values from 0 to 16.
# Train the same MLP, with the same SGD and batch size, on the raw pixels:
# will its best learning rate be `"larger"`, `"about the same"` or
# `"smaller"` than the best one on standardised pixels? Think of the bowl of
# Section 2: what does scaling the inputs up do to the curvature? Set
# `prediction_raw` to one of the three, *then* run the check and the
# experiment after it.
# ```
#
# ```{solution-start} ch07-ex1
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch07-ex1-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
prediction_raw = "smaller"
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch07-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q1.check()

# %%
raw_digits = load("digits", seed=SEED)  # the same split, not standardised
raw_lrs = LRS[:9]  # 1e-4 to 1
raw_table, _ = tuning.lr_sweep(make_model, raw_digits.tensors("train", DEVICE), raw_digits.tensors("val", DEVICE),
                               raw_lrs, epochs=EPOCHS, batch_size=64, seed=SEEDS[0])
raw_best_lr = float(raw_table["val accuracy"].idxmax())
std_one_seed = lr_runs[lr_runs["seed"] == SEEDS[0]]["val accuracy"]
print(pd.DataFrame({"raw pixels": raw_table["val accuracy"], "standardised": std_one_seed.loc[raw_lrs]})
      .rename(index="{:g}".format).round(3).to_string())
print(f"best learning rate (seed {SEEDS[0]}): raw pixels {raw_best_lr:g}, standardised {std_one_seed.idxmax():g}")
# one seed here; the gap is a factor of about 30, while seeds move the best lr by at most one grid step
assert raw_best_lr <= std_one_seed.idxmax() / 3, "larger inputs mean a steeper loss and a smaller best learning rate"

# %% [markdown]
# ```{exercise} Diagnose: "large batches generalise worse"
# :label: ch07-ex2
# A colleague ran the grid of Section 3 and reports the line printed below:
# batch 512 is clearly worse than batch 32, so large batches generalise
# worse. Which single cause explains what the run shows? Set `diagnosis` to
# one letter:
#
# - `"A"`: large batches settle in sharp minima that generalise worse;
# - `"B"`: both batch sizes ran at the learning rate that suits batches of
#   32, and the larger batch needs a larger one;
# - `"C"`: the validation split is too small to tell the two apart;
# - `"D"`: the configuration was chosen on the test set.
# ```

# %%
print(f"colleague's report, lr {SHARED_LR:g}, {GRID_EPOCHS} epochs, mean of {N_SEEDS} seeds: "
      f"batch 32 {heat.loc[SHARED_LR, 32]:.3f} (sd {heat_sd.loc[SHARED_LR, 32]:.3f}), "
      f"batch 512 {heat.loc[SHARED_LR, 512]:.3f} (sd {heat_sd.loc[SHARED_LR, 512]:.3f}) on the validation split")

# %% [markdown]
# ```{solution-start} ch07-ex2
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch07-ex2-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
diagnosis = "B"
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch07-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q2.check()

# %%
print(f"each at its own best lr: batch 32 {heat[32].max():.3f} (lr {best_lr_by_batch[32]:g}), "
      f"batch 512 {heat[512].max():.3f} (lr {best_lr_by_batch[512]:g})")

# %% [markdown]
# ```{exercise} Drawing learning rates on a log scale
# :label: ch07-ex3
# Write `log_uniform(low, high, size, rng)` that returns a NumPy array of
# `size` random numbers between `low` and `high` whose **logarithm** is
# uniformly distributed, using the NumPy generator `rng`
# (`np.random.default_rng(...)`), without scipy. Between $10^{-4}$ and $1$,
# a quarter of the draws should then fall in each decade. (Uniform draws
# would put 90% of them in the top decade.)
# ```
#
# ```{solution-start} ch07-ex3
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch07-ex3-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def log_uniform(low, high, size, rng):
    ### BEGIN SOLUTION
    return np.exp(rng.uniform(np.log(low), np.log(high), size))
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch07-ex3-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q3.check()

# %% [markdown]
# ```{exercise} An Optuna search space
# :label: ch07-ex4
# Write `my_space(trial)` for Optuna, returning a dict with three entries:
# `"lr"`, a float between $10^{-4}$ and $1$ on a log scale; `"batch_size"`, one
# of the categories 32, 64 and 128; and `"dropout"`, a float between 0 and 0.5
# on a linear scale. Use the trial's `suggest_float` and `suggest_categorical`,
# with the dict keys as parameter names. (`tuning.mlp_objective(...,
# space=my_space)` would then tune these three.)
# ```
#
# ```{solution-start} ch07-ex4
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch07-ex4-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def my_space(trial):
    ### BEGIN SOLUTION
    return {
        "lr": trial.suggest_float("lr", 1e-4, 1.0, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
    }
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch07-ex4-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q4.check()

# %% [markdown]
# ```{exercise} Experiment: tune full-batch gradient descent
# :label: ch07-ex5
# Full-batch gradient descent (one step per epoch over all
# {glue:text}`n_train` training images, plain SGD, no momentum) trained for
# 20 epochs reached only {glue:text}`full_batch_shared` at $\eta = 0.1$ in
# Section 3 (after 10 epochs). Find a learning rate `full_batch_lr` with which
# the chapter's MLP reaches a mean validation accuracy of at least 96% after
# 20 full-batch steps. The check trains it itself with three seeds on the
# standardised digits and tells you what happened. Use what Sections 2 and 3
# showed about where the ceiling is for large batches.
# ```
#
# ```{solution-start} ch07-ex5
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch07-ex5-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
full_batch_lr = 3.0
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch07-ex5-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q5.check()

# %% [markdown]
# ## Summary
#
# - **Hyperparameters** are the settings training does not learn. Choose them
#   on the validation split, over several seeds, and report on the test split once.
# - **The learning rate** matters most (it explained most of the variation
#   in this chapter's searches). On a bowl of curvature $a$, gradient descent
#   converges only for $\eta < 2/a$; on a network, a log-scale sweep shows
#   slow convergence at small rates, a plateau, then divergence.
# - **The batch size** sets the steps per epoch, the time per epoch, the
#   memory for activations (linear in $B$) and the gradient noise. Its good
#   learning rates move up with it (the linear scaling rule is a first guess,
#   capped by the divergence limit), so compare batch sizes each at its own
#   tuned learning rate.
# - **Grid, random search and TPE**, on the same budget and several seeds,
#   found equally good settings here within the seed spread; TPE put many
#   more of its trials in the good region. **Pruning** saved a good share of
#   the training epochs at the same final quality.
# - **Optuna** keeps studies in a storage, gives them back as a table
#   (`trials_dataframe`) and plots them offline
#   (`optuna.visualization.matplotlib`); seed the sampler and the training to
#   make a study reproducible.
# - The best validation score of a search is **optimistic**; a test split
#   used once, or nested cross-validation when data is small, gives the
#   number to report.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
