# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
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
# - explain what the batch size changes (steps per epoch, time, memory, noise)
#   and why the best learning rate grows with it;
# - say why random search beats a grid on the same budget, and run both with scikit-learn;
# - run a seeded Optuna study with pruning on a PyTorch model and read its
#   history and parameter importances;
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
import time

import matplotlib.pyplot as plt
import numpy as np
import optuna
import pandas as pd
import torch
from scipy.stats import loguniform
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    ParameterSampler,
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


EPOCHS = max(5, round(20 * BUDGET))  # per run in the learning-rate and batch-size sweeps
glue("epochs", EPOCHS)
glue("n_train", N_TRAIN)

# %% [markdown]
# The model's weights are its **parameters**: gradient descent sets them. The
# learning rate $\eta$, the batch size $B$, the width of the hidden layer, the
# number of epochs, the weight decay are **hyperparameters**: we set them,
# training does not. Every run below trains the same model from the same
# initial weights for {glue:text}`epochs` epochs on {glue:text}`n_train`
# training images, so that two runs differ only in the hyperparameter we vary.
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
# learning rate span a factor, not a difference.

# %%
LRS = [float(f"{v:.3g}") for v in 10.0 ** np.arange(-4, 1.01, 0.5)]  # 1e-4, 3.16e-4, ..., 10
start = time.perf_counter()
lr_table, lr_histories = tuning.lr_sweep(make_model, train, val, LRS, epochs=EPOCHS, batch_size=64, seed=SEED)
lr_seconds = time.perf_counter() - start
print(f"{len(LRS)} runs of {EPOCHS} epochs in {lr_seconds:.1f} s")

# %% tags=["nbval-check-output"]
# How a diverging run ends (its last epoch, its last accuracy) is chaotic: it changes with the
# number of CPU threads. We print "diverged" instead, so that this table reproduces exactly.
shown = lr_table[["val accuracy", "final train loss"]].astype(object)
shown.loc[lr_table["diverged"], :] = "diverged"
print(shown.rename(index="{:g}".format).to_string(
    formatters={"val accuracy": lambda v: v if isinstance(v, str) else f"{v:.3f}",
                "final train loss": lambda v: v if isinstance(v, str) else f"{v:.3g}"}))

# %%
accuracy_by_lr = lr_table["val accuracy"]
best_lr = float(accuracy_by_lr.idxmax())
smallest_lr, largest_lr = LRS[0], LRS[-1]
slow_lr = 1e-3
first_diverged_lr = float(lr_table.index[lr_table["diverged"]].min())
glue("best_lr", best_lr, fmt=".2g")
glue("best_lr_acc", accuracy_by_lr[best_lr], fmt=".1%")
glue("smallest_lr_acc", accuracy_by_lr[smallest_lr], fmt=".1%")
glue("slow_lr_acc", accuracy_by_lr[slow_lr], fmt=".1%")
glue("slow_lr_loss", lr_table.loc[slow_lr, "final train loss"], fmt=".2f")
glue("first_diverged_lr", first_diverged_lr, fmt=".2g")
glue("largest_lr_epochs", int(lr_table.loc[largest_lr, "epochs run"]))
glue("largest_lr_acc", accuracy_by_lr[largest_lr], fmt=".1%")

assert smallest_lr < best_lr < largest_lr, "the best learning rate should lie inside the swept range"
assert accuracy_by_lr[smallest_lr] < accuracy_by_lr[best_lr] - 0.5, "a tiny learning rate should learn far too slowly"
assert lr_table.loc[largest_lr, "diverged"], "the largest learning rate should make training diverge"
assert accuracy_by_lr[largest_lr] < accuracy_by_lr[best_lr] - 0.5, "a diverged run should be near chance"

# %% mystnb={"image": {"alt": "Left: validation accuracy against the learning rate on a log axis: near 10 percent at 1e-4, rising through 1e-2 to about 96 percent around 0.1 to 1, then collapsing for the two largest rates, which diverged. Right: training loss per epoch on a log axis for four learning rates: 1e-3 stays almost flat near 2.3, 0.1 and 1 fall steadily, 3.2 climbs by orders of magnitude each epoch until it is no longer finite."}}
fig, (ax_sweep, ax_curves) = plt.subplots(1, 2, figsize=(9.6, 3.4))
ok = ~lr_table["diverged"]
ax_sweep.semilogx(lr_table.index, lr_table["val accuracy"], color="grey", linewidth=0.8)
ax_sweep.scatter(lr_table.index[ok], lr_table["val accuracy"][ok], label="trained")
ax_sweep.scatter(lr_table.index[~ok], lr_table["val accuracy"][~ok], marker="x", color="#d62728", label="diverged")
ax_sweep.set_xlabel("learning rate (log scale)")
ax_sweep.set_ylabel(f"validation accuracy after {EPOCHS} epochs")
ax_sweep.legend()
for lr in [slow_lr, 0.1, 1.0, first_diverged_lr]:
    losses = np.array(lr_histories[lr].train_loss)
    ax_curves.semilogy(lr_histories[lr].epoch, np.where(np.isfinite(losses), losses, np.nan), marker=".", label=f"lr = {lr:.2g}")
ax_curves.set_xlabel("epoch")
ax_curves.set_ylabel("training loss (log scale)")
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
#   Nothing is wrong with these runs except that they need hundreds of times
#   more steps.
# - **Too large: overshooting.** From $\eta$ = {glue:text}`first_diverged_lr`
#   upwards the loss jumps over the valley and blows up; at $\eta = 10$ it was
#   no longer finite after {glue:text}`largest_lr_epochs` epochs, and the
#   accuracy is {glue:text}`largest_lr_acc`.
# - **In between**, a wide plateau: the best rate here is
#   {glue:text}`best_lr` with {glue:text}`best_lr_acc`, and rates within a
#   factor of ten of it do almost as well. The best value sits just below
#   the point of divergence, which is the practical rule: find where training
#   blows up, and back off by a factor of 3 to 10.
#
# ## 3. The batch size
#
# Each SGD step averages the gradient over a mini-batch of $B$ examples. The
# batch size changes four things at once:
#
# - **steps per epoch**: $\lceil n / B \rceil$. With a fixed number of epochs,
#   a larger batch takes fewer, bigger-picture steps;
# - **noise**: the mini-batch gradient is an average of $B$ per-example
#   gradients, so its variance shrinks like $1/B$. Some noise helps to escape
#   sharp minima {cite}`keskar2017large`;
# - **time per epoch**: one step costs more with a larger batch, but much less
#   than $B$ times more, because the hardware processes the batch in parallel;
#   so an epoch gets faster;
# - **memory**: the backward pass needs every layer's activations for every
#   example of the batch, so that memory grows linearly with $B$.
#
# ### The "Batch Size" table
#
# Same model, same learning rate $\eta = 0.1$, same {glue:text}`epochs`
# epochs, five batch sizes from 8 to the whole training set (full-batch
# gradient descent). The memory column counts the bytes autograd keeps for the
# backward pass of one batch (`tuning.activation_bytes`); on a GPU the table
# also shows the measured peak (`torch.cuda.max_memory_allocated`).

# %%
BATCH_SIZES = [8, 32, 128, 512, N_TRAIN]
start = time.perf_counter()
batch_table, batch_histories = tuning.batch_size_sweep(
    make_model, train, val, BATCH_SIZES, epochs=EPOCHS, lr=0.1, seed=SEED, device=DEVICE
)
print(f"{len(BATCH_SIZES)} runs in {time.perf_counter() - start:.1f} s")

# %% tags=["nbval-check-output"]
print(batch_table[["steps per epoch", "total steps", "val accuracy", "final train loss", "activation KiB"]].to_string(
    formatters={"val accuracy": "{:.3f}".format, "final train loss": "{:.3f}".format, "activation KiB": "{:.1f}".format}))

# %% [markdown]
# The time per epoch on this machine (the median over the epochs of each run;
# measured, so it varies from run to run and with whatever else the machine is doing):

# %%
timing_columns = ["seconds per epoch"] + (["peak MiB"] if "peak MiB" in batch_table else [])
timings = batch_table[timing_columns].copy()
timings["ms per step"] = 1000 * batch_table["seconds per epoch"] / batch_table["steps per epoch"]
print(timings.round(4).to_string())
glue("time_ratio", batch_table["seconds per epoch"].iloc[0] / batch_table["seconds per epoch"].iloc[-1], fmt=".0f")

# %%
acc_by_batch = batch_table["val accuracy"]
memory = batch_table["activation KiB"]
glue("small_batch_acc", acc_by_batch.iloc[0], fmt=".1%")
glue("full_batch_acc", acc_by_batch.iloc[-1], fmt=".1%")
glue("small_batch_steps", int(batch_table["total steps"].iloc[0]))
glue("full_batch_steps", int(batch_table["total steps"].iloc[-1]))
glue("memory_ratio", memory.iloc[-1] / memory.iloc[0], fmt=".0f")
glue("batch_ratio", BATCH_SIZES[-1] / BATCH_SIZES[0], fmt=".0f")

assert acc_by_batch.iloc[0] > acc_by_batch.iloc[-1] + 0.05, "at fixed lr and epochs, full batch should lag far behind"
assert batch_table["steps per epoch"].is_monotonic_decreasing
assert memory.is_monotonic_increasing and memory.iloc[-1] > 50 * memory.iloc[0], "activation memory should grow with B"

# %% [markdown]
# At the same learning rate and number of epochs, batches of 8 reach
# {glue:text}`small_batch_acc` in {glue:text}`small_batch_steps` steps, while
# full-batch gradient descent takes only {glue:text}`full_batch_steps` steps
# and reaches {glue:text}`full_batch_acc`. An epoch of batch 8 took about
# {glue:text}`time_ratio` times longer than a full-batch epoch in this run,
# and the activation memory grows {glue:text}`memory_ratio`-fold for a
# {glue:text}`batch_ratio`-fold larger batch. So "which batch size is best"
# has no answer on its own: at a fixed number of epochs, a larger batch is
# faster per epoch and takes more memory, but needs a **larger learning
# rate** to make the same progress with fewer steps.
#
# ### Learning rate and batch size interact
#
# One step with batch $B$ and learning rate $\eta$ moves the weights by
# $\eta$ times the average gradient of $B$ examples. $k$ steps of batch $B$
# with rate $\eta$ cover roughly the same ground as one step of batch $kB$
# with rate $k\eta$, as long as the gradient does not change much in between.
# Hence the **linear scaling rule** used to train ImageNet in an hour:
# multiply the batch size by $k$, multiply the learning rate by $k$
# {cite}`goyal2017accurate`. Smith et al. {cite}`smith2018dont` push the same
# equivalence the other way: the noise of SGD scales like $\eta n / B$, so
# instead of decaying the learning rate you can increase the batch size. Both
# break down when $\eta$ reaches the overshooting limit of Section 2. We
# measure the interaction with a grid of learning rates and batch sizes.

# %%
GRID_EPOCHS = max(4, round(10 * BUDGET))
GRID_LRS = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
GRID_BATCHES = [16, 64, 256, 1024]
start = time.perf_counter()
interaction = tuning.grid_sweep(make_model, train, val, GRID_LRS, GRID_BATCHES, epochs=GRID_EPOCHS, seed=SEED)
print(f"{len(interaction)} runs of {GRID_EPOCHS} epochs in {time.perf_counter() - start:.1f} s")
heat = interaction.pivot(index="lr", columns="batch size", values="val accuracy")
best_lr_by_batch = heat.idxmax()
glue("grid_epochs", GRID_EPOCHS)

# %%
# Not compared by nbval: runs near the divergence limit (top rows) end differently with the thread count.
print(heat.to_string(float_format=lambda v: f"{v:.3f}"))
print("best learning rate per batch size:", {int(b): float(lr) for b, lr in best_lr_by_batch.items()})

# %% mystnb={"image": {"alt": "Heat map of validation accuracy over learning rate (rows, 0.01 to 3) and batch size (columns, 16 to 1024). Small learning rates are dark for large batches but fine for small ones; the best cell of each column, outlined, moves up from learning rate 0.3 at batch 16 to 1 at larger batches. The top row, learning rate 3, is dark for small batches but still bright for the two largest."}}
fig, ax = plt.subplots(figsize=(5.6, 3.6))
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
ax.set_title(f"Validation accuracy after {GRID_EPOCHS} epochs")
plt.show()

# %%
small_b, large_b = GRID_BATCHES[0], GRID_BATCHES[-1]
glue("grid_small_b", small_b)
glue("grid_large_b", large_b)
glue("grid_small_b_best_lr", best_lr_by_batch[small_b], fmt="g")
glue("grid_large_b_best_lr", best_lr_by_batch[large_b], fmt="g")
glue("large_b_at_small_lr", heat.loc[best_lr_by_batch[small_b], large_b], fmt=".1%")
glue("large_b_at_best_lr", heat[large_b].max(), fmt=".1%")
glue("batch_growth", large_b / small_b, fmt=".0f")
glue("lr_growth", best_lr_by_batch[large_b] / best_lr_by_batch[small_b], fmt=".1f")
glue("top_grid_lr", max(GRID_LRS), fmt="g")
glue("top_lr_small_b_acc", heat.loc[max(GRID_LRS), small_b], fmt=".1%")
glue("top_lr_large_b_acc", heat.loc[max(GRID_LRS), large_b], fmt=".1%")
glue("linear_rule_lr", best_lr_by_batch[small_b] * large_b / small_b, fmt=".3g")
assert best_lr_by_batch[large_b] >= 3 * best_lr_by_batch[small_b], "the best learning rate should grow with the batch"
assert heat[large_b].max() > heat.loc[best_lr_by_batch[small_b], large_b] + 0.03, "a large batch needs a larger lr"
assert heat.loc[max(GRID_LRS), small_b] < heat[small_b].max() - 0.2, "the largest rate should overshoot at small batches"

# %% [markdown]
# After {glue:text}`grid_epochs` epochs per run, the bright band runs along
# the diagonal: with batches of
# {glue:text}`grid_small_b` the best learning rate is
# {glue:text}`grid_small_b_best_lr`, with batches of
# {glue:text}`grid_large_b` it is {glue:text}`grid_large_b_best_lr`. Given the
# small batch's favourite learning rate, the large batch reaches only
# {glue:text}`large_b_at_small_lr`; given its own, {glue:text}`large_b_at_best_lr`.
# The batch grew {glue:text}`batch_growth`-fold but the best learning rate
# only {glue:text}`lr_growth`-fold; the linear rule would have suggested
# {glue:text}`linear_rule_lr`. The rule holds while the steps stay below the
# overshooting limit of Section 2, and fails beyond it: at $\eta$ =
# {glue:text}`top_grid_lr`, batches of {glue:text}`grid_small_b` reach only
# {glue:text}`top_lr_small_b_acc`, and batches of {glue:text}`grid_large_b`,
# whose averaged gradients are less noisy, still train
# ({glue:text}`top_lr_large_b_acc`) but no better than at smaller rates.
# Goyal et al. needed a warm-up of small steps at the start to push their
# large-batch rates that far. Two lessons: **tune the learning rate again whenever you change
# the batch size** (the linear rule is a first guess, valid below the
# ceiling), and compare batch sizes at their own best learning rates, never
# at a shared one. On a
# GPU, choose the batch size for speed and memory first (the largest that
# keeps the device busy), then tune the learning rate for it. Very large
# batches can still generalise a little worse even when tuned
# {cite}`keskar2017large`.
#
# ## 4. Searching: a grid or random draws?
#
# With more than one hyperparameter the sweeps above turn into a search. The
# obvious method is a **grid**: a few values per hyperparameter, every
# combination. Bergstra and Bengio {cite}`bergstra2012random` showed that
# **random search**, drawing each combination at random, is better on the
# same budget, for a simple reason: usually only a few hyperparameters
# matter much. A $3 \times 3$ grid over (learning rate, width) spends 9 runs
# but tries only **3** learning rates: each is repeated with 3 widths that
# hardly change the result. Nine random draws try **9** different learning
# rates *and* 9 widths.
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

# %% [markdown]
# To land in the best 5% of the range with 95% probability takes
# {glue:text}`draws_for_5pct` random draws, however many unimportant
# hyperparameters there are; 9 draws hit the best 10% with probability
# {glue:text}`p_hit_9_of_10pct`. A grid's chance depends on whether one of
# its few values happens to fall there.
#
# We run both on the same budget of 9 runs, using scikit-learn's
# {cite}`pedregosa2011scikit` `ParameterGrid` and `ParameterSampler` to generate the settings (the same
# classes `GridSearchCV` and `RandomizedSearchCV` use inside), and train our
# PyTorch MLP for each. The ranges are the same for both: learning rate from
# $10^{-4}$ to $10$ and hidden width from 8 to 256, both on log scales.

# %%
SEARCH_EPOCHS = max(4, round(10 * BUDGET))
N_SEARCH = 9
grid_configs = list(ParameterGrid({"lr": np.logspace(-4, 1, 3).tolist(), "hidden": [8, 45, 256]}))
random_configs = [
    {"lr": c["lr"], "hidden": int(round(c["hidden"]))}
    for c in ParameterSampler({"lr": loguniform(1e-4, 10), "hidden": loguniform(8, 256)},
                              n_iter=N_SEARCH, random_state=SEED)
]
assert len(grid_configs) == len(random_configs) == N_SEARCH, "same budget for both"
start = time.perf_counter()
searches = {
    name: tuning.mlp_config_sweep(configs, train, val, n_inputs=digits.n_features, n_classes=digits.n_classes,
                                  epochs=SEARCH_EPOCHS, seed=SEED, device=DEVICE)
    for name, configs in (("grid", grid_configs), ("random", random_configs))
}
print(f"{2 * N_SEARCH} runs in {time.perf_counter() - start:.1f} s")
search_summary = pd.DataFrame.from_dict(
    {
        name: {
            "runs": len(table),
            "distinct learning rates": table["lr"].nunique(),
            "distinct widths": table["hidden"].nunique(),
            "best val accuracy": table["val accuracy"].max(),
            "best lr": table.loc[table["val accuracy"].idxmax(), "lr"],
            "best width": table.loc[table["val accuracy"].idxmax(), "hidden"],
        }
        for name, table in searches.items()
    },
    orient="index",
)

# %% tags=["nbval-check-output"]
print(search_summary.to_string(formatters={"best val accuracy": "{:.3f}".format, "best lr": "{:.3g}".format}))

# %%
grid_best = searches["grid"]["val accuracy"].max()
random_best = searches["random"]["val accuracy"].max()
glue("grid_best", grid_best, fmt=".1%")
glue("random_best", random_best, fmt=".1%")
glue("grid_lrs", ", ".join(f"{v:.2g}" for v in sorted(searches["grid"]["lr"].unique())))
assert searches["random"]["lr"].nunique() == N_SEARCH and searches["grid"]["lr"].nunique() == 3
assert random_best > grid_best + 0.01, "on the same budget, random search should find a better setting here"

# %% mystnb={"image": {"alt": "Left: the 9 grid settings form a 3 by 3 lattice in the plane of learning rate and width, the 9 random settings are scattered; colour shows validation accuracy. Right: validation accuracy against learning rate only: the grid's points stack on 3 learning rates, the random points spread over 9 and several fall on the high plateau between 0.03 and 1."}}
fig, (ax_plane, ax_proj) = plt.subplots(1, 2, figsize=(9.6, 3.4))
for (name, table), marker in zip(searches.items(), ["s", "o"]):
    points = ax_plane.scatter(table["lr"], table["hidden"], c=table["val accuracy"], cmap="viridis", vmin=0, vmax=1,
                              marker=marker, s=60, edgecolors="k", label=name)
    ax_proj.scatter(table["lr"], table["val accuracy"], marker=marker, s=40, label=name)
ax_plane.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="hidden width")
ax_plane.legend(loc="upper left", fontsize="small")
fig.colorbar(points, ax=ax_plane, label="validation accuracy")
ax_proj.set(xscale="log", xlabel="learning rate", ylabel="validation accuracy")
ax_proj.legend(fontsize="small")
ax_proj.set_title("projected on the hyperparameter that matters")
fig.tight_layout()
plt.show()

# %% [markdown]
# The grid tried the learning rates {glue:text}`grid_lrs`: one far too
# small, one too large, and one in between; its best run reached
# {glue:text}`grid_best`. Random search, on the same 9 runs, reached
# {glue:text}`random_best`, because several of its 9 learning rates fell on
# the plateau of Section 2. The width barely mattered, so the grid's
# repetitions along it were wasted. In practice: **draw at random, on log
# scales for anything that acts multiplicatively** (learning rates, weight
# decay, widths), and spend the saved runs on the hyperparameters that matter.
#
# ## 5. Optuna: a search that learns where to look, and stops bad runs early
#
# Random search ignores what earlier runs taught it. Model-based methods use
# it. Optuna {cite}`akiba2019optuna`, the library most practitioners use,
# does this with the **Tree-structured Parzen Estimator** (TPE)
# {cite}`bergstra2011algorithms`: after a few random trials it splits the
# finished ones into the best fraction and the rest, fits a density $\ell(x)$
# to the hyperparameters $x$ of the good ones and $g(x)$ to the others, and
# next tries the $x$ that maximises $\ell(x)/g(x)$: likely under the good
# runs, unlikely under the bad ones.
#
# Optuna also **prunes**: the objective reports the validation accuracy
# after every epoch (`trial.report`), and asks `trial.should_prune()`. With
# the median rule, a trial whose best accuracy so far is below the median of
# what earlier trials had reached at the same epoch is stopped there (after a
# few unpruned start-up trials and warm-up epochs). Hyperband
# {cite}`li2018hyperband` develops the same idea (give many settings a small
# budget, continue only the best) into an algorithm with guarantees; Optuna
# has it as `HyperbandPruner`.
#
# `tuning.mlp_objective` builds such an objective for our MLP: it reads the
# learning rate, the hidden width and the weight decay from the trial
# (`tuning.default_mlp_space`), trains with SGD and momentum 0.9, and reports
# each epoch through a `fit` callback. `tuning.create_study` makes the study
# reproducible with `TPESampler(seed=SEED)`: the same seed gives the same
# trials, because each trial's training is seeded too.

# %%
N_TRIALS = max(12, round(30 * BUDGET))
STUDY_EPOCHS = max(4, round(15 * BUDGET))
objective = tuning.mlp_objective(train, val, n_inputs=digits.n_features, n_classes=digits.n_classes,
                                 epochs=STUDY_EPOCHS, seed=SEED, device=DEVICE)
study = tuning.create_study(seed=SEED, pruner="median")
start = time.perf_counter()
study.optimize(objective, n_trials=N_TRIALS)
print(f"{N_TRIALS} trials in {time.perf_counter() - start:.1f} s")
trials = tuning.study_frame(study)

# %% tags=["nbval-check-output"]
print(trials.sort_values("value", ascending=False).head(8).to_string(
    formatters={"value": "{:.3f}".format, "lr": "{:.2e}".format, "weight_decay": "{:.1e}".format}))
print("trials by state:", trials["state"].value_counts().to_dict())

# %% mystnb={"image": {"alt": "Left: objective value per Optuna trial: completed trials as blue dots mostly above 0.9, pruned trials as grey crosses at their last reported accuracy, and a red step line for the best value so far that rises early and then stays flat near the top. Right: horizontal bars of fANOVA parameter importance, with the learning rate ahead of the hidden width and the weight decay."}}
fig, (ax_history, ax_importance) = plt.subplots(1, 2, figsize=(10.0, 3.4), gridspec_kw={"width_ratios": [3, 2]})
tuning.plot_study_history(study, ax=ax_history, title="Optuna TPE study with median pruning")
tuning.plot_param_importances(study, ax=ax_importance, seed=SEED, title="parameter importance")
importances = fig.importances
fig.tight_layout()
plt.show()

# %%
n_pruned = int((trials["state"] == "PRUNED").sum())
epochs_spent = int(trials["epochs"].sum())
epochs_without_pruning = N_TRIALS * STUDY_EPOCHS
glue("n_trials", N_TRIALS)
glue("study_epochs", STUDY_EPOCHS)
glue("n_pruned", n_pruned)
glue("epochs_saved", 1 - epochs_spent / epochs_without_pruning, fmt=".0%")
glue("study_best_val", study.best_value, fmt=".1%")
glue("lr_importance", importances["lr"], fmt=".0%")
glue("study_best_lr", study.best_params["lr"], fmt=".2g")
glue("study_best_hidden", study.best_params["hidden"])
assert n_pruned >= 1 and epochs_spent < epochs_without_pruning, "pruning should stop some bad trials early"
assert max(importances, key=importances.get) == "lr", "the learning rate should matter most"
assert study.best_value > 0.95

# %% [markdown]
# Of {glue:text}`n_trials` trials, {glue:text}`n_pruned` were pruned, which
# saved {glue:text}`epochs_saved` of the training epochs that a search
# without pruning ({glue:text}`study_epochs` epochs for every trial) would
# have spent. The best trial
# (learning rate {glue:text}`study_best_lr`, width
# {glue:text}`study_best_hidden`) reached {glue:text}`study_best_val` on the
# validation split. The importance plot (fANOVA: how much of the variance of
# the objective each hyperparameter explains, computed by
# `optuna.importance.get_param_importances`) gives the learning rate
# {glue:text}`lr_importance`: the search itself discovered what Sections 2
# and 4 assumed.
#
# Is the study reproducible? Run the first few trials again with a new study
# of the same seed: the sampler must propose the same settings, and training
# must give the same values.

# %%
n_again = 6
study_again = tuning.create_study(seed=SEED, pruner="median")
study_again.optimize(objective, n_trials=n_again)
same_params = all(a.params == b.params for a, b in zip(study.trials[:n_again], study_again.trials))
same_values = all(a.value == b.value for a, b in zip(study.trials[:n_again], study_again.trials))
print(f"first {n_again} trials: same settings {same_params}, same values {same_values}")
assert same_params and same_values, "a seeded sampler and seeded training should repeat exactly"

# %% [markdown]
# ### Tune on validation, report on test, once
#
# The best validation accuracy of a search is an **optimistic** number: we
# picked the maximum over {glue:text}`n_trials` noisy measurements, and part
# of what made the winner win is luck on those particular validation images.
# The honest estimate of how the chosen setting does on new data comes from
# data that played no part in choosing it: the test split, used **once**.
# We retrain the chosen setting exactly as in its trial (same seed, so the same
# weights) and measure it on the test split.

# %%
best = study.best_trial
chosen_model, _ = tuning.train_once(
    lambda: mlp(digits.n_features, [best.params["hidden"]], digits.n_classes), train, val,
    lr=best.params["lr"], weight_decay=best.params["weight_decay"], momentum=0.9,
    batch_size=64, epochs=STUDY_EPOCHS, seed=SEED + best.number, device=DEVICE,
)
val_again = evaluate(chosen_model, *val, loss_fn=torch.nn.CrossEntropyLoss())["accuracy"]
test_accuracy = evaluate(chosen_model, *test, loss_fn=torch.nn.CrossEntropyLoss())["accuracy"]
glue("test_accuracy", test_accuracy, fmt=".1%")
glue("val_minus_test", study.best_value - test_accuracy, fmt="+.1%")
assert abs(val_again - study.best_value) < 1e-9, "retraining the chosen setting should give its trial's model"
assert test_accuracy > 0.93

# %% tags=["nbval-check-output"]
print(f"chosen on validation: {study.best_value:.3f}; measured once on test: {test_accuracy:.3f}")

# %% [markdown]
# The chosen MLP scores {glue:text}`test_accuracy` on the test split
# (validation minus test: {glue:text}`val_minus_test`). With
# 360 images per split both numbers carry a standard error of about one
# point, so the gap itself is noise-sized here; what matters is that only the
# test number is free of the selection. If we went back now and tuned again
# because the test score disappointed us, the test split would become a second
# validation split and its number would be optimistic too.
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
glue("not_nested", means["not nested"], fmt=".1%")
glue("nested", means["nested"], fmt=".1%")
glue("on_the_rest", means.iloc[2], fmt=".1%")
glue("n_rest", len(y_all) - N_SMALL)
glue("n_samples", N_SAMPLES)
glue("nested_fits", 3 * (len(K_VALUES) * 3 + 1))
glue("not_nested_fits", len(K_VALUES) * 3 + 1)
assert means["nested"] < means["not nested"], "on average the search's own best score should be the optimistic one"
assert means["not nested"] > means.iloc[2], "the not-nested score should overestimate the accuracy on new patients"

# %% tags=["nbval-check-output"]
print(pd.concat([nested_table, means.to_frame("mean").T]).to_string(float_format=lambda v: f"{v:.3f}"))

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
# ```{exercise} Gradient descent on a bowl
# :label: ch07-ex1
# Write `descend_bowl(lr, curvature, w0, steps)`, which runs `steps` steps of
# gradient descent on $L(w) = \tfrac{a}{2} w^2$ (with $a$ = `curvature`)
# from `w0`, and returns a NumPy array of the `steps + 1` iterates
# $w_0, w_1, \dots, w_{\text{steps}}$. Then check with it that
# $\eta a = 1.9$ converges and $\eta a = 2.1$ does not.
# ```
#
# ```{solution-start} ch07-ex1
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch07-ex1-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def descend_bowl(lr, curvature, w0, steps):
    ### BEGIN SOLUTION
    w = [float(w0)]
    for _ in range(steps):
        gradient = curvature * w[-1]
        w.append(w[-1] - lr * gradient)
    return np.array(w)
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch07-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q1.check()

# %% [markdown]
# ```{exercise} Scaling the learning rate with the batch size
# :label: ch07-ex2
# Write `scaled_lr(base_lr, base_batch_size, batch_size, rule)` that returns
# the learning rate for `batch_size`, given one that works for
# `base_batch_size`. With `rule="linear"` the learning rate grows in
# proportion to the batch size (Goyal et al.); with `rule="sqrt"` in
# proportion to its square root (which keeps the variance of the update
# constant). Any other rule should raise a `ValueError`.
# ```
#
# ```{solution-start} ch07-ex2
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch07-ex2-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def scaled_lr(base_lr, base_batch_size, batch_size, rule="linear"):
    ### BEGIN SOLUTION
    ratio = batch_size / base_batch_size
    if rule == "linear":
        return base_lr * ratio
    if rule == "sqrt":
        return base_lr * math.sqrt(ratio)
    raise ValueError(f"rule must be 'linear' or 'sqrt', got {rule!r}")
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch07-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q2.check()

# %% [markdown]
# ```{exercise} Drawing learning rates on a log scale
# :label: ch07-ex3
# Write `log_uniform(low, high, size, rng)` that returns a NumPy array of
# `size` random numbers between `low` and `high` whose **logarithm** is
# uniformly distributed, using the NumPy generator `rng`
# (`np.random.default_rng(...)`). Between $10^{-4}$ and $1$, a quarter of the
# draws should then fall in each decade. (Uniform draws would put 90% of them
# in the top decade.)
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
# with the dict keys as parameter names.
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
# ```{exercise} Reporting the result of a search
# :label: ch07-ex5
# A search produced a DataFrame `results` with one row per configuration and
# the columns `"val accuracy"` and `"test accuracy"` (someone measured all of
# them on test, which you should not do, but here they are). Write
# `reported_accuracy(results)` that returns, as a float, the one number you
# may report: the test accuracy of the configuration chosen on validation.
# ```
#
# ```{solution-start} ch07-ex5
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch07-ex5-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def reported_accuracy(results):
    ### BEGIN SOLUTION
    chosen = results["val accuracy"].idxmax()
    return float(results.loc[chosen, "test accuracy"])
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
#   on the validation split, and report on the test split once.
# - **The learning rate** matters most. On a bowl of curvature $a$, gradient
#   descent converges only for $\eta < 2/a$; on a network, a log-scale sweep
#   shows slow convergence at small rates, a wide plateau, then divergence.
#   Good values sit a factor of 3 to 10 below the point of divergence.
# - **The batch size** sets the steps per epoch, the time per epoch, the
#   memory for activations (linear in $B$) and the gradient noise. Its best
#   learning rate grows with it (the linear scaling rule), so retune or
#   rescale the learning rate whenever you change it.
# - **Random search beats a grid** on the same budget when few
#   hyperparameters matter, which is the usual case; sample on log scales.
# - **Optuna** (TPE with pruning) learns where to look and stops poor trials
#   early; seed its sampler and the training to make a study reproducible,
#   and read its history and parameter importances.
# - The best validation score of a search is **optimistic**; a test split
#   used once, or nested cross-validation when data is small, gives the
#   number to report.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
