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
# # Chapter 12: What training costs, and training on more than one process
#
# Every chapter so far trained a model in a second or two. That is a
# property of the chapters' models, not of training: the time to train grows
# with the data, the model and the number of steps, and for the models in the
# news it is measured in hundreds of GPU-years {cite}`patterson2021carbon`. This chapter measures
# how the cost grows on the machine in front of you, counts the arithmetic a
# training run needs, finds where the time of one step goes, and then spreads
# training over more than one process with PyTorch's real tool for it,
# `torch.distributed`, and a hyperparameter search over several workers with
# Optuna. Along the way it tests the belief that **training is quick and easy**.
#
# **After this chapter you will be able to**
#
# - measure the time to a target validation accuracy and per epoch, and fit a
#   power law to how it grows with the data, the model and the batch size;
# - count a model's parameters and training FLOPs ($\approx 6 \times$
#   parameters $\times$ examples), turn a measured time into achieved FLOP/s,
#   and estimate the cost of training a published large model;
# - profile a training step, and say when threads, data loading or mixed
#   precision make it faster or slower;
# - launch data-parallel training with `torchrun`, show that it computes the
#   same weights as one process, and measure when it pays;
# - run one Optuna study with several worker processes that share a storage,
#   and resume it after a worker dies.

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
import signal
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import optuna
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from helpers import glue, setup
from helpers import distributed, parallel_search, scaling
from helpers.data import load
from helpers.exercises import ch12_training_at_scale as ex
from helpers.models import count_parameters, mlp
from helpers.plots import use_style

DEVICE = setup(SEED, device="cpu")  # this chapter measures the CPU; the GPU has its own script
use_style()
optuna.logging.set_verbosity(optuna.logging.WARNING)
THREADS = 1  # every timing below runs with one thread unless it says otherwise (see Section 3)
torch.set_num_threads(THREADS)
print(f"{os.cpu_count()} CPU cores; torch uses {torch.get_num_threads()} thread(s) for the timings")

# %% [markdown]
# ## 1. The "Training Time" table, measured
#
# We train the chapter's usual MLP on the 8x8 digits (standardised with the
# training split's statistics) with Adam, and stop each run at the end of the
# first epoch whose **validation** accuracy reaches a target. Two numbers
# come out of each run: the **seconds to the target** (what a practitioner
# waits for) and the **seconds per epoch** (the median over the run's
# epochs; the cost of one pass over the data). We then grow one thing at a
# time: the number of training examples, the width and the depth of the
# model, and the batch size.
#
# Timings are noisy, the more so on a shared machine. Three rules keep them
# honest: one thread (`torch.set_num_threads(1)`, so that two timings do not
# fight over the cores), several repeats with different seeds (the table shows
# the median), and no claim that depends on an absolute number of seconds,
# which depends on the machine. The numbers in the book come from one run on
# an otherwise idle 2-core machine; yours will differ.

# %%
digits = load("digits", seed=SEED).standardized()
train = digits.tensors("train")
val = digits.tensors("val")
N_TRAIN, N_VAL = len(train[0]), len(val[0])
TARGET = 0.92
MAX_EPOCHS = 60
REPEATS = [SEED + r for r in range(max(3, round(3 * BUDGET)))]
glue("n_train", N_TRAIN)
glue("target", TARGET, fmt=".0%")
glue("max_epochs", MAX_EPOCHS)
glue("n_repeats", len(REPEATS))
print(digits.summary())
print(f"target: {TARGET:.0%} validation accuracy within {MAX_EPOCHS} epochs; {len(REPEATS)} repeats")


def run_with(hidden=(64,), n=N_TRAIN, batch_size=64, lr=3e-3, patience=None):
    """A function (value, seed) -> time_to_target result, for training_time_sweep."""
    def run(_, seed):
        return scaling.time_to_target(lambda: mlp(digits.n_features, list(hidden), digits.n_classes),
                                      (train[0][:n], train[1][:n]), val, target=TARGET,
                                      max_epochs=MAX_EPOCHS, lr=lr, batch_size=batch_size, seed=seed,
                                      patience=patience)
    return run


SIZES = [N_TRAIN // 8, N_TRAIN // 4, N_TRAIN // 2, N_TRAIN]
WIDTHS = [32, 128, 512, 2048]
DEPTHS = [1, 2, 4, 8]
BATCHES = [16, 64, 256, 1024]
# Each batch size gets its own grid of learning rates, shifted up for larger batches.
BATCH_LRS = {16: [3e-4, 1e-3, 3e-3, 1e-2, 3e-2], 64: [1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
             256: [3e-3, 1e-2, 3e-2, 1e-1, 3e-1], 1024: [3e-3, 1e-2, 3e-2, 1e-1, 3e-1]}

start = time.perf_counter()
sweeps = [
    scaling.training_time_sweep("training examples", SIZES, lambda n, s: run_with(n=n)(n, s), REPEATS),
    scaling.training_time_sweep("width", WIDTHS, lambda w, s: run_with(hidden=(w,))(w, s), REPEATS),
    scaling.training_time_sweep("depth", DEPTHS, lambda d, s: run_with(hidden=(128,) * d)(d, s), REPEATS),
]
# The batch size changes the gradient's noise, so each batch size gets its own learning rate:
# the one that reaches the target in the fewest epochs (then seconds) in the first repeat, chosen
# on validation accuracy. Runs that stop improving for 3 epochs give up early.
lr_choice = scaling.training_time_sweep(
    "lr", [(b, lr) for b in BATCHES for lr in BATCH_LRS[b]],
    lambda v, s: run_with(batch_size=v[0], lr=v[1], patience=3)(v, s), REPEATS[:1])
lr_choice[["batch size", "lr"]] = pd.DataFrame(lr_choice["value"].tolist(), index=lr_choice.index)
best_lr = (lr_choice.fillna({"epochs to target": np.inf, "seconds to target": np.inf})
           .sort_values(["epochs to target", "seconds to target"]).groupby("batch size")["lr"].first())
sweeps.append(scaling.training_time_sweep(
    "batch size", BATCHES, lambda b, s: run_with(batch_size=b, lr=best_lr[b])(b, s), REPEATS))
runs = pd.concat(sweeps, ignore_index=True)
sweep_seconds = time.perf_counter() - start
print(f"{len(runs) + len(lr_choice)} training runs in {sweep_seconds:.1f} s")
print("learning rate chosen per batch size:", {int(b): float(lr) for b, lr in best_lr.items()})
assert all(BATCH_LRS[b][0] < lr < BATCH_LRS[b][-1] for b, lr in best_lr.items()), "a chosen lr is on its grid's edge"

# %% [markdown]
# The table (medians over the repeats; "reached" counts the repeats that
# reached the target within the epoch limit):

# %%
def n_parameters(setting, value):
    hidden = {"width": [value], "depth": [128] * value}.get(setting, [64])
    return scaling.mlp_parameters([digits.n_features, *hidden, digits.n_classes])


runs["parameters"] = [n_parameters(s, v) for s, v in zip(runs["setting"], runs["value"])]
time_table = runs.groupby(["setting", "value"], sort=False).agg(
    parameters=("parameters", "first"),
    seconds_per_epoch=("seconds per epoch", "median"),
    seconds_to_target=("seconds to target", "median"),
    epochs_to_target=("epochs to target", "median"),
    reached=("reached", "sum"),
)
print(time_table.rename(columns=lambda c: c.replace("_", " ")).to_string(
    formatters={"seconds per epoch": "{:.4f}".format, "seconds to target": "{:.3f}".format,
                "epochs to target": "{:.0f}".format}))

# %% [markdown]
# A power law $t = a\,x^k$ is a straight line on log-log axes with slope
# $k$: $k = 1$ means "twice the $x$, twice the time", $k = 0$ means "no
# effect", $k < 0$ means "faster". We fit $k$ separately in each repeat and
# report its mean and standard deviation over the repeats, for the time per
# epoch against the number of examples, the number of parameters (width and
# depth sweeps) and the batch size, and for the time to the target where the
# target was reached.

# %%
fits = []
for setting, x in [("training examples", "value"), ("width", "parameters"), ("depth", "parameters"),
                   ("batch size", "value")]:
    part = runs[runs["setting"] == setting]
    for y in ["seconds per epoch", "seconds to target"]:
        usable = part.dropna(subset=[y]).groupby("repeat").filter(lambda g: len(g) >= 2)
        if usable["repeat"].nunique() < 2:
            continue
        law = scaling.power_law_over_repeats(usable, x, y)
        fits.append({"setting": setting, "against": "parameters" if x == "parameters" else setting,
                     "time": y, "exponent k": law["exponent"], "sd": law["sd"]})
fits = pd.DataFrame(fits).set_index(["setting", "time"])
print(fits.to_string(float_format=lambda v: f"{v:.2f}"))
k = fits["exponent k"]
glue("k_examples_epoch", k[("training examples", "seconds per epoch")], fmt=".2f")
glue("k_examples_epoch_sd", fits["sd"][("training examples", "seconds per epoch")], fmt=".2f")
glue("k_width_epoch", k[("width", "seconds per epoch")], fmt=".2f")
glue("k_width_epoch_sd", fits["sd"][("width", "seconds per epoch")], fmt=".2f")
glue("k_depth_epoch", k[("depth", "seconds per epoch")], fmt=".2f")
glue("k_batch_epoch", k[("batch size", "seconds per epoch")], fmt=".2f")
glue("k_batch_epoch_sd", fits["sd"][("batch size", "seconds per epoch")], fmt=".2f")
glue("smallest_n", SIZES[0])
glue("smallest_n_reached", int(time_table.loc[("training examples", SIZES[0]), "reached"]))
glue("second_n_epochs", float(time_table.loc[("training examples", SIZES[1]), "epochs_to_target"]), fmt=".0f")
glue("full_n_epochs", float(time_table.loc[("training examples", N_TRAIN), "epochs_to_target"]), fmt=".0f")
glue("second_n", SIZES[1])
print(f"data sweep: with {SIZES[0]} examples the target was reached in "
      f"{int(time_table.loc[('training examples', SIZES[0]), 'reached'])} of {len(REPEATS)} repeats; "
      f"median epochs to target with {SIZES[1]}: "
      f"{time_table.loc[('training examples', SIZES[1]), 'epochs_to_target']:.0f}, with {N_TRAIN}: "
      f"{time_table.loc[('training examples', N_TRAIN), 'epochs_to_target']:.0f}")
# Robust relations only (signs of exponents over 8x ranges); never absolute times.
assert k[("training examples", "seconds per epoch")] > 0, "an epoch over more data should take longer"
assert k[("width", "seconds per epoch")] > 0, "an epoch of a wider model should take longer"
assert k[("batch size", "seconds per epoch")] < 0, "larger batches should make an epoch faster on this CPU"

# %% mystnb={"image": {"alt": "Four log-log panels of the median seconds per epoch (dots) and seconds to the target accuracy (crosses): against the number of training examples, against the parameters of wider and of deeper models, and against the batch size. Time per epoch grows with the examples and the parameters and falls with the batch size; the time to the target moves much less."}}
fig, axes = plt.subplots(1, 4, figsize=(11, 2.9), sharey=True)
for ax, (setting, x) in zip(axes, [("training examples", "value"), ("width", "parameters"),
                                   ("depth", "parameters"), ("batch size", "value")]):
    part = time_table.loc[setting]
    xs = part.index if x == "value" else part["parameters"]
    ax.loglog(xs, part["seconds_per_epoch"], "o-", label="per epoch")
    ax.loglog(xs, part["seconds_to_target"], "x--", label="to target")
    ax.set_xlabel(setting if x == "value" else f"parameters ({setting} sweep)")
axes[0].set_ylabel("seconds (median)")
axes[0].legend(fontsize="small")
fig.suptitle(f"Training time of an MLP on digits, 1 thread, target {TARGET:.0%} validation accuracy")
fig.tight_layout()
plt.show()

# %% [markdown]
# What the table shows, on this machine and at these sizes:
#
# - **Data.** The time per epoch grows with the number of training examples
#   with exponent {glue:text}`k_examples_epoch` ± {glue:text}`k_examples_epoch_sd`:
#   an epoch is one pass, so its cost is at most linear in the data, and
#   below 1 because part of it (validation, per-step overhead) does not grow
#   with the training set. The time to the target does *not* grow the same
#   way: with more data each epoch is longer but fewer epochs are needed
#   ({glue:text}`full_n_epochs` epochs with all {glue:text}`n_train` images,
#   {glue:text}`second_n_epochs` with {glue:text}`second_n`), and with
#   {glue:text}`smallest_n` images the target was reached in
#   {glue:text}`smallest_n_reached` of {glue:text}`n_repeats` repeats.
# - **Model size.** The time per epoch grows with the parameters of wider
#   models with exponent {glue:text}`k_width_epoch` ± {glue:text}`k_width_epoch_sd`
#   and of deeper ones with {glue:text}`k_depth_epoch`: well below 1, because
#   a small model's step is dominated by fixed costs that do not depend on its
#   size (Section 3). Only large models approach "twice the parameters, twice
#   the time".
# - **Batch size.** Larger batches make an epoch faster (exponent
#   {glue:text}`k_batch_epoch` ± {glue:text}`k_batch_epoch_sd`): fewer steps,
#   each using the hardware better. The time to the target depends on the
#   learning rate as much as on the batch, which is why each batch size got
#   its own.
#
# Measured exponents are local: they hold over the range measured and change
# outside it. The scaling laws of large language models
# {cite}`kaplan2020scaling,hoffmann2022training` are the same kind of fit,
# made over many orders of magnitude of compute.
#
# ## 2. Counting compute
#
# A dense layer with $n_\text{in}$ inputs and $n_\text{out}$ outputs
# multiplies each example by its weight matrix: $n_\text{in} n_\text{out}$
# multiply-adds, or $2\,n_\text{in} n_\text{out}$ floating-point operations
# (FLOPs). Summed over the layers, the forward pass costs about $2N$ FLOPs
# per example for a model with $N$ parameters. The backward pass costs about
# twice that: one matrix product for the gradient with respect to the weights
# and one for the gradient with respect to the layer's input. Hence the rule
# used throughout the literature on scale {cite}`kaplan2020scaling`:
#
# $$\text{training FLOPs} \approx 6 \times N \times D,$$
#
# with $D$ the number of training examples (tokens, for a language model)
# processed. PyTorch can count the FLOPs of the matrix products exactly
# (`torch.utils.flop_counter.FlopCounterMode`); here is the rule against the
# count for the chapter's widths, one batch of 64:

# %% tags=["nbval-check-output"]
flop_rows = []
for width in WIDTHS:
    model = mlp(digits.n_features, [width], digits.n_classes)
    counted = scaling.counted_flops(model, train[0][:64], train[1][:64])
    rule = scaling.training_flops(count_parameters(model), 64)
    flop_rows.append({"width": width, "parameters": count_parameters(model), "6 N D": rule,
                      "counted": counted, "counted / 6ND": counted / rule})
flop_table = pd.DataFrame(flop_rows).set_index("width")
print(flop_table.to_string(formatters={"6 N D": "{:.3g}".format, "counted": "{:.3g}".format,
                                       "counted / 6ND": "{:.2f}".format}))
glue("flop_ratio", flop_table["counted / 6ND"].mean(), fmt=".2f")
assert (flop_table["parameters"] == [scaling.mlp_parameters([64, w, 10]) for w in WIDTHS]).all()
assert flop_table["counted / 6ND"].between(0.5, 1.0).all(), "the rule of thumb should be right within 2x"

# %% [markdown]
# The counted FLOPs are about {glue:text}`flop_ratio` of $6ND$ at every
# width: the rule overcounts a little, because
# autograd never computes the gradient with respect to the network's input
# (nothing needs it) and the biases cost almost nothing. Exercise 4 asks you
# for the exact count.
#
# ### Achieved FLOP/s against the machine's peak
#
# Dividing the FLOPs of an epoch (training: $6ND$; validation: a forward pass,
# $2N$ per example) by its measured time gives the **achieved FLOP/s**. The
# practical peak of one core is what a large matrix product reaches:

# %%
peak = scaling.matmul_flops_per_second(1024)
achieved = time_table.loc["width"].copy()
achieved["FLOPs per epoch"] = [scaling.training_flops(p, N_TRAIN) + 2 * p * N_VAL for p in achieved["parameters"]]
achieved["achieved GFLOP/s"] = achieved["FLOPs per epoch"] / achieved["seconds_per_epoch"] / 1e9
achieved["share of peak"] = achieved["achieved GFLOP/s"] * 1e9 / peak
print(f"matrix-product peak, 1 thread: {peak / 1e9:.1f} GFLOP/s")
print(achieved[["parameters", "seconds_per_epoch", "achieved GFLOP/s", "share of peak"]].rename(
    columns={"seconds_per_epoch": "seconds per epoch"}).rename_axis("width").to_string(
    formatters={"seconds per epoch": "{:.4f}".format, "achieved GFLOP/s": "{:.2f}".format,
                "share of peak": "{:.1%}".format}))
glue("peak_gflops", peak / 1e9, fmt=".0f")
glue("small_share", achieved["share of peak"].iloc[0], fmt=".1%")
glue("large_share", achieved["share of peak"].iloc[-1], fmt=".1%")
glue("small_width", WIDTHS[0])
glue("large_width", WIDTHS[-1])
assert achieved["share of peak"].iloc[-1] > achieved["share of peak"].iloc[0], \
    "a larger model should use the hardware better"

# %% [markdown]
# The width-{glue:text}`small_width` model uses {glue:text}`small_share` of
# the {glue:text}`peak_gflops` GFLOP/s that one core can do; the
# width-{glue:text}`large_width` model {glue:text}`large_share`. Small models
# waste the hardware on overhead; large ones keep it busy, which is why the
# time per epoch grows more slowly than the parameters at small sizes.
#
# ### The same arithmetic for a large model, on paper
#
# GPT-3 has 175 billion parameters and was trained on 300 billion tokens
# {cite}`brown2020language`; Chinchilla, 70 billion parameters on 1.4 trillion
# tokens, trained at about the same compute, showed that such a budget is
# better spent on a smaller model and more data {cite}`hoffmann2022training`.
# GPT-3 was trained on a cluster of 10,000 V100 GPUs for 14.8 days
# {cite}`patterson2021carbon`; a V100's peak for the matrix products of
# training in half precision is 125 TFLOP/s {cite}`nvidia2017v100`.

# %%
papers = pd.DataFrame(
    {"parameters": [175e9, 70e9], "tokens": [300e9, 1.4e12]}, index=pd.Index(["GPT-3", "Chinchilla"], name="model")
)
papers["training FLOPs (6ND)"] = [scaling.training_flops(n, d) for n, d in zip(papers["parameters"], papers["tokens"])]
best_cpu = float(achieved["achieved GFLOP/s"].max()) * 1e9
SECONDS_PER_YEAR = 365.25 * 24 * 3600
papers["years on this CPU core"] = papers["training FLOPs (6ND)"] / best_cpu / SECONDS_PER_YEAR
gpt3_flops = papers.loc["GPT-3", "training FLOPs (6ND)"]
gpus, days, v100_peak = 10_000, 14.8, 125e12
per_gpu = gpt3_flops / (gpus * days * 24 * 3600)
glue("gpt3_flops", gpt3_flops, fmt=".3g")
glue("gpt3_cpu_years", papers.loc["GPT-3", "years on this CPU core"], fmt=",.0f")
glue("chinchilla_flops", papers.loc["Chinchilla", "training FLOPs (6ND)"], fmt=".3g")
glue("gpt3_tflops_per_gpu", per_gpu / 1e12, fmt=".1f")
glue("gpt3_share_of_peak", per_gpu / v100_peak, fmt=".0%")
glue("best_cpu_gflops", best_cpu / 1e9, fmt=".1f")
print(papers.to_string(formatters={"parameters": "{:.3g}".format, "tokens": "{:.3g}".format,
                                   "training FLOPs (6ND)": "{:.3g}".format,
                                   "years on this CPU core": "{:,.0f}".format}))
print(f"best achieved on this CPU core: {best_cpu / 1e9:.1f} GFLOP/s")
print(f"GPT-3 on {gpus:,} V100s in {days} days: {per_gpu / 1e12:.1f} TFLOP/s per GPU, "
      f"{per_gpu / v100_peak:.0%} of its peak")

# %% [markdown]
# $6ND$ gives {glue:text}`gpt3_flops` FLOPs for GPT-3 (the paper reports
# $3.14 \times 10^{23}$) and {glue:text}`chinchilla_flops` for Chinchilla. At
# the {glue:text}`best_cpu_gflops` GFLOP/s our best MLP achieved on one core,
# GPT-3 would take {glue:text}`gpt3_cpu_years` years. The cluster did it in
# two weeks by running {glue:text}`gpt3_tflops_per_gpu` TFLOP/s on each of
# 10,000 GPUs, {glue:text}`gpt3_share_of_peak` of their peak: a share of
# peak within the range of our table, at a scale where every point of it
# costs a fortune. So training is quick and easy only for small models; for large
# ones it is a project of months, a budget of millions and an engineering
# effort in keeping thousands of devices busy, and the arithmetic above is how
# such projects are planned.
#
# ## 3. Where the time of a step goes
#
# ### A profile of one training step
#
# `torch.profiler` records every operator a step runs, with its time. For a
# width-512 MLP and a batch of 256 (one thread), the operators with the most
# time of their own:

# %%
torch.manual_seed(SEED)
profiled = scaling.profile_step(mlp(64, [512], 10), train[0][:256], train[1][:256], top=8)
top_op = profiled.iloc[0]
glue("top_op", str(top_op["operator"]))
glue("top_op_share", float(top_op["share"]), fmt=".0%")
glue("profile_top_share", float(profiled["share"].head(3).sum()), fmt=".0%")
print(profiled.to_string(index=False, formatters={"self CPU ms per step": "{:.3f}".format,
                                                  "share": "{:.0%}".format}))
print(f"top three operators: {profiled['share'].head(3).sum():.0%} of the profiled time")

# %% [markdown]
# The largest entry is {glue:text}`top_op` with {glue:text}`top_op_share`
# of the profiled time, and the top three take {glue:text}`profile_top_share`.
# The matrix products of the forward pass (`addmm`: a product plus the bias)
# and of the backward pass (`mm`), and the optimizer's update, are where a
# step of this size spends its time; the rest are many small operators
# (activations, the loss, transposes), each cheap but each paying the
# fixed cost of a call. The profile is where to start when a step is slow; the
# [PyTorch profiler recipe](https://pytorch.org/tutorials/recipes/recipes/profiler_recipe.html)
# shows its other views (memory, GPU kernels, a timeline).
#
# ### Data loading, compute and Python overhead
#
# The same step can be fed two ways: by slicing tensors that already hold the
# data with a shuffled index (what `helpers.train.fit` does), or by a
# `DataLoader` over a `TensorDataset`, which fetches every example separately
# and stacks them. And a step of a model with one hidden unit does almost no
# arithmetic, so its time is the fixed overhead of a step (Python, the
# framework's dispatch, the optimizer's loop over the parameters):

# %%
def fetch_seconds(batches, n_batches=30):
    """Median seconds to get one batch from an iterator of (X, y) batches."""
    times, iterator = [], iter(batches)
    for _ in range(n_batches):
        start = time.perf_counter()
        next(iterator)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def sliced_batches(X, y, batch_size):
    while True:
        idx = torch.randperm(len(X))[:batch_size]
        yield X[idx], y[idx]


loader = DataLoader(TensorDataset(*train), batch_size=64, shuffle=True)
parts = pd.Series({
    "fetch a batch: DataLoader": fetch_seconds(iter(loader), 15),
    "fetch a batch: index slicing": fetch_seconds(sliced_batches(*train, 64)),
    "whole step, 1 hidden unit (overhead)": scaling.seconds_per_step(mlp(64, [1], 10), *train, batch_size=64),
    "whole step, 64 hidden units": scaling.seconds_per_step(mlp(64, [64], 10), *train, batch_size=64),
    "whole step, 2048 hidden units": scaling.seconds_per_step(mlp(64, [2048], 10), *train, batch_size=64),
}, name="ms")
print((1000 * parts).to_frame().to_string(float_format=lambda v: f"{v:.3f}"))
glue("loader_ms", 1000 * parts.iloc[0], fmt=".2f")
glue("slice_ms", 1000 * parts.iloc[1], fmt=".3f")
glue("overhead_ms", 1000 * parts.iloc[2], fmt=".2f")
glue("step64_ms", 1000 * parts.iloc[3], fmt=".2f")
glue("step2048_ms", 1000 * parts.iloc[4], fmt=".2f")
assert parts.iloc[0] > parts.iloc[1], "a per-example DataLoader should be slower than slicing"

# %% [markdown]
# A `DataLoader` batch took {glue:text}`loader_ms` ms, a sliced one
# {glue:text}`slice_ms` ms. A whole step of the width-64 model took
# {glue:text}`step64_ms` ms, hardly more than the {glue:text}`overhead_ms` ms
# of a model that does no arithmetic; the width-2048 model, with 30 times
# the parameters, {glue:text}`step2048_ms` ms. For small models the overhead
# *is* the cost, and the data pipeline can be slower than the step it feeds.
#
# ### Threads, and why two are not always faster than one
#
# PyTorch splits a large operator over `torch.get_num_threads()` threads
# (by default one per core). That speeds up large matrix products, but every
# operator then waits for its slowest thread; on a machine whose cores are
# also busy with other processes, a descheduled thread stalls every step.
# The same two measurements with one and with two threads:

# %%
thread_rows = {}
for n_threads in (1, 2):
    with scaling.threads(n_threads):
        thread_rows[n_threads] = {
            "matmul 1024 GFLOP/s": scaling.matmul_flops_per_second(1024) / 1e9,
            "step ms, width 64, batch 64": 1000 * scaling.seconds_per_step(mlp(64, [64], 10), *train, batch_size=64),
            "step ms, width 1024, batch 256": 1000 * scaling.seconds_per_step(
                mlp(64, [1024], 10), *train, batch_size=256, steps=10),
        }
threads_table = pd.DataFrame(thread_rows).rename_axis(columns="threads")
glue("matmul_thread_gain", threads_table.iloc[0, 1] / threads_table.iloc[0, 0], fmt=".2f")
glue("small_step_thread_gain", threads_table.iloc[1, 0] / threads_table.iloc[1, 1], fmt=".2f")
glue("large_step_thread_gain", threads_table.iloc[2, 0] / threads_table.iloc[2, 1], fmt=".2f")
print(threads_table.to_string(float_format=lambda v: f"{v:.2f}"))
print("2 threads vs 1, speed ratio (above 1 is faster):",
      ", ".join(f"{v:.2f}" for v in [threads_table.iloc[0, 1] / threads_table.iloc[0, 0],
                                     threads_table.iloc[1, 0] / threads_table.iloc[1, 1],
                                     threads_table.iloc[2, 0] / threads_table.iloc[2, 1]]))

# %% [markdown]
# With two threads instead of one, the large matrix product ran
# {glue:text}`matmul_thread_gain` times as fast, the small step
# {glue:text}`small_step_thread_gain` times and the large step
# {glue:text}`large_step_thread_gain` times as fast (above 1 is faster,
# below 1 slower). A second thread can only help an operator large enough
# to split, and only while a second core is free: when other processes
# occupy the cores, every parallel operator waits for its slowest thread, and
# a second thread becomes a loss. Oversubscription, more busy threads than
# cores, is what happens when two training processes each start one thread
# per core; we measure it in Section 4 with two processes. The rule for
# several processes on one machine: give each `cores / processes` threads
# (`OMP_NUM_THREADS=1` here).
#
# ### Mixed precision on the CPU
#
# On a GPU, bfloat16 autocast (`helpers.train.fit` uses it by default there)
# halves the memory traffic and uses the tensor cores. Recent CPUs have
# bfloat16 instructions too; whether they pay depends on the chip and the
# sizes, so we measure one step of the width-1024 model in float32 and in
# bfloat16 autocast:

# %%
torch.manual_seed(SEED)
wide = mlp(64, [1024, 1024], 10)
precision = pd.Series({
    "float32": scaling.seconds_per_step(wide, *train, batch_size=256, steps=10),
    "bfloat16 autocast": scaling.seconds_per_step(wide, *train, batch_size=256, steps=10,
                                                  autocast_dtype=torch.bfloat16),
}, name="ms per step") * 1000
bf16_peak = scaling.matmul_flops_per_second(1024, dtype=torch.bfloat16)
bf16_speedup = precision["float32"] / precision["bfloat16 autocast"]
glue("bf16_speedup", bf16_speedup, fmt=".2f")
glue("bf16_matmul_ratio", bf16_peak / peak, fmt=".2f")
glue("bf16_verdict", "paid off" if bf16_speedup > 1.1 else "did not pay")
glue("cpu_capability", torch.backends.cpu.get_cpu_capability())
print(precision.to_frame().to_string(float_format=lambda v: f"{v:.2f}"))
print(f"matmul 1024: float32 {peak / 1e9:.1f} GFLOP/s, bfloat16 {bf16_peak / 1e9:.1f} GFLOP/s")
print(f"bfloat16 / float32 speed: step {bf16_speedup:.2f}, matmul {bf16_peak / peak:.2f}; "
      f"CPU capability {torch.backends.cpu.get_cpu_capability()}; bfloat16 autocast "
      f"{'paid off' if bf16_speedup > 1.1 else 'did not pay'}")

# %% [markdown]
# Here bfloat16 autocast ran a step {glue:text}`bf16_speedup` times as fast
# as float32 (above 1 is faster), and a bare bfloat16 matrix product
# {glue:text}`bf16_matmul_ratio` times as fast: on this CPU (PyTorch reports
# its vector instructions as {glue:text}`cpu_capability`) it
# {glue:text}`bf16_verdict`. Whether it pays depends on the chip: processors
# with bfloat16 instructions (AVX-512 BF16, AMX) run bfloat16 products
# faster, others emulate them and run slower; and autocast converts the
# weights on every step, a cost a small model does not win back. bfloat16
# keeps float32's range but only 8 bits of precision, so check the accuracy
# too before keeping it. The GPU script (end of the chapter) measures the same
# on a GPU.
#
# ## 4. More than one process: data-parallel training
#
# **Data parallelism** runs a copy of the model in each of $W$ processes
# (the *world*; each has a *rank* $0, \dots, W-1$). Every step, each
# process takes a different slice of the batch, computes the gradient of its
# slice, and then all processes **average their gradients** before each
# applies the same update. Since they start from the same weights and apply
# the same updates, they stay identical, and together they have taken one
# step with a batch $W$ times as large. PyTorch's
# `DistributedDataParallel` (DDP) does this with one collective operation,
# **all-reduce**, overlapped with the backward pass {cite}`li2020pytorch`.
#
# ### all_reduce from scratch
#
# `dist.all_reduce(t)` takes a tensor `t` on every rank and leaves on every
# rank the sum over the ranks. Dividing by $W$ gives the mean: that is the
# whole gradient averaging. The worker script, `helpers/distributed.py`,
# starts with this on a tensor of two numbers, then does the gradient
# averaging by hand and compares it with what DDP leaves in `.grad`.
#
# The script must be a file: `torchrun` starts new Python processes, which
# import the module and run its `main()` (behind
# `if __name__ == "__main__":`); a function typed into a notebook cannot be
# sent to them. The data goes the way it would on a cluster, through storage
# that every process can read (here a temporary file):

# %%
work = Path(tempfile.mkdtemp(prefix="ch12_"))
n_even = N_TRAIN - N_TRAIN % 2  # a multiple of the 2 processes, so DistributedSampler adds no padding
torch.save({"X": train[0][:n_even].clone(), "y": train[1][:n_even].clone()}, work / "data.pt")
DDP_BATCH, DDP_LR, DDP_EPOCHS, DDP_WIDTH = 32, 0.1, 3, 64
SPEED_WIDTHS = [16, 256, 1024, 4096] + ([8192] if BUDGET >= 2 else [])
SPEED_BATCH, SPEED_STEPS = 64, 20
script_args = ["--data", str(work / "data.pt"), "--out", str(work / "out"), "--batch-size", str(DDP_BATCH),
               "--lr", str(DDP_LR), "--epochs", str(DDP_EPOCHS), "--width", str(DDP_WIDTH),
               "--widths", *map(str, SPEED_WIDTHS), "--speed-batch-size", str(SPEED_BATCH),
               "--speed-steps", str(SPEED_STEPS), "--seed", str(SEED)]
print("OMP_NUM_THREADS=1 torchrun --standalone --nproc_per_node=2 -m helpers.distributed \\\n   ",
      " ".join(script_args[:4]), "...")
job_seconds, job_log = distributed.launch(2, script_args)
results, ddp_weights, unsharded_weights = distributed.read_results(work / "out")
print(f"the job took {job_seconds:.1f} s; backend {results['backend']}, world size {results['world size']}")

# %% tags=["nbval-check-output"]
demo = results["all_reduce demo"]
for rank, before in enumerate(demo["before"]):
    print(f"rank {rank}: before {before}  after all_reduce(SUM) {demo['after_sum']}  / world size = {demo['mean']}")
print(f"gradient averaged by hand vs DDP's .grad: max difference {results['gradient by hand max difference']:.1e}")
assert demo["after_sum"] == [sum(t[i] for t in demo["before"]) for i in range(2)]
assert results["gradient by hand max difference"] < 1e-6

# %% [markdown]
# Both ranks end with the sum, and all-reducing each rank's gradient and
# dividing by two gives DDP's gradient to the last bit. DDP is that, done for
# all the parameters at once in buckets while the backward pass is still
# running, so that the communication overlaps the computation.
#
# ### The same weights as one process
#
# The claim to check: **2 processes with batch $b$ each compute the same
# training as 1 process with batch $2b$ and the same learning rate.** For the
# comparison to be exact, the two must see the same examples at each step.
# `DistributedSampler` shuffles with a generator seeded by `seed + epoch` and
# gives rank $r$ the positions $r, r + W, r + 2W, \dots$ of the shuffled
# order; so the first $b$ indices of both ranks together are the first $2b$ of
# that order. The one-process reference (`distributed.train_single`) cuts
# the same permutation into batches of $2b$. Then the only difference left is
# the order in which floating-point numbers are added.

# %%
data = torch.load(work / "data.pt")
start = time.perf_counter()
single_model, single_losses = distributed.train_single(data["X"], data["y"], width=DDP_WIDTH,
                                                       batch_size=2 * DDP_BATCH, epochs=DDP_EPOCHS,
                                                       lr=DDP_LR, seed=SEED)
single_seconds = time.perf_counter() - start
small_batch_model, _ = distributed.train_single(data["X"], data["y"], width=DDP_WIDTH, batch_size=DDP_BATCH,
                                                epochs=DDP_EPOCHS, lr=DDP_LR, seed=SEED)
start_weights = distributed.make_model(DDP_WIDTH, seed=SEED).state_dict()
diff_same = distributed.max_weight_difference(ddp_weights, single_model.state_dict())
diff_moved = distributed.max_weight_difference(start_weights, single_model.state_dict())
diff_half = distributed.max_weight_difference(ddp_weights, small_batch_model.state_dict())
TOLERANCE = 1e-5  # float32 sums in another order differ by ~1e-7 per step; 3 epochs stay far below this
print(f"max |w_DDP - w_1 process, batch {2 * DDP_BATCH}| = {diff_same:.1e} (tolerance {TOLERANCE:g})")
print(f"max |w_DDP - w_1 process, batch {DDP_BATCH}|  = {diff_half:.3f}")
print(f"max |w_start - w_trained|            = {diff_moved:.3f} (how far training moved the weights)")
glue("ddp_diff", diff_same, fmt=".0e")
glue("ddp_tolerance", TOLERANCE, fmt=".0e")
glue("ddp_moved", diff_moved, fmt=".2f")
glue("ddp_diff_half", diff_half, fmt=".2f")
glue("ddp_epochs", DDP_EPOCHS)
glue("ddp_batch", DDP_BATCH)
glue("ddp_batch2", 2 * DDP_BATCH)
assert diff_same < TOLERANCE, "DDP with 2 x b should match one process with 2b"
assert diff_half > 100 * TOLERANCE, "a different batch size gives different weights"

# %% [markdown]
# After {glue:text}`ddp_epochs` epochs, the weights of the two-process run
# differ from those of one process with batch {glue:text}`ddp_batch2` by at
# most {glue:text}`ddp_diff` (we set the tolerance at
# {glue:text}`ddp_tolerance`), while training moved them by up to
# {glue:text}`ddp_moved` and one process with batch {glue:text}`ddp_batch`
# ends {glue:text}`ddp_diff_half` away. The practical consequence: moving
# from one process to $W$ multiplies the effective batch by $W$, and the
# learning rate must be the one that suits *that* batch (Chapter 7's linear
# scaling rule is the usual starting point {cite}`goyal2017accurate`).
#
# ### When does it pay?
#
# Inside the same job each process also timed training steps with batch
# {glue:text}`speed_batch` for several widths (the median of
# {glue:text}`speed_steps` steps), and the all-reduce of a tensor as large
# as the model. The reference is one process with batch
# 2 x {glue:text}`speed_batch`, in this notebook, also on one thread:

# %%
speed = pd.DataFrame(results["speed"]).set_index("width")
speed["1 process ms"] = [1000 * distributed.step_seconds(distributed.make_model(w, seed=SEED), data["X"], data["y"],
                                                          2 * SPEED_BATCH, steps=SPEED_STEPS, seed=SEED)
                         for w in speed.index]
speed["2 processes ms"] = 1000 * speed["step seconds"]
speed["all_reduce ms"] = 1000 * speed["all_reduce seconds"]
speed["speed-up"] = speed["1 process ms"] / speed["2 processes ms"]
speed["efficiency"] = speed["speed-up"] / results["world size"]
print(speed[["parameters", "1 process ms", "2 processes ms", "all_reduce ms", "speed-up", "efficiency"]].to_string(
    formatters={"1 process ms": "{:.2f}".format, "2 processes ms": "{:.2f}".format,
                "all_reduce ms": "{:.3f}".format, "speed-up": "{:.2f}".format, "efficiency": "{:.0%}".format}))
paying = speed.index[speed["speed-up"] > 1]
startup = job_seconds - results["seconds in worker"] + results["seconds to first collective"]
tiny_total = startup + results["sharded"]["seconds"]
print(f"start-up of the job (processes, imports, rendezvous): {startup:.1f} s")
print(f"median of {SPEED_STEPS} steps per width; two processes faster per step",
      f"from width {int(paying[0])} on" if len(paying) else "at none of the widths of this run")
print(f"training the width-{DDP_WIDTH} model for {DDP_EPOCHS} epochs: 1 process {single_seconds:.2f} s, "
      f"2 processes {results['sharded']['seconds']:.2f} s + {startup:.1f} s start-up")
glue("speed_batch", SPEED_BATCH)
glue("speed_steps", SPEED_STEPS)
glue("startup_seconds", startup, fmt=".1f")
glue("single_seconds", single_seconds, fmt=".2f")
glue("tiny_speedup_total", single_seconds / tiny_total, fmt=".2g")
print(f"two processes, start-up included, run {single_seconds / tiny_total:.2g} times as fast as one")
glue("crossover_text", f"from width {int(paying[0])} on" if len(paying) else
     "at none of the widths of this run")
glue("speedup_smallest", speed["speed-up"].iloc[0], fmt=".2f")
glue("speedup_largest", speed["speed-up"].iloc[-1], fmt=".2f")
glue("efficiency_largest", speed["efficiency"].iloc[-1], fmt=".0%")
glue("width_smallest", int(speed.index[0]))
glue("width_largest", int(speed.index[-1]))
assert tiny_total > single_seconds, "for a tiny model, starting processes costs more than training"

# %% [markdown]
# The start-up of the job alone took {glue:text}`startup_seconds` s, while
# one process trained the small model in {glue:text}`single_seconds` s: for a
# model this small, two processes are {glue:text}`tiny_speedup_total` times
# as fast as one, that is, much slower. Per step, with start-up left out,
# the width-{glue:text}`width_smallest` model ran at a speed-up of
# {glue:text}`speedup_smallest` and the width-{glue:text}`width_largest`
# model at {glue:text}`speedup_largest` (efficiency
# {glue:text}`efficiency_largest`; 100% would be perfect scaling): two
# processes were faster per step {glue:text}`crossover_text`. A step of
# a small model is mostly fixed overhead, which every process pays in full,
# plus an all-reduce that a single process does not need; only when the
# arithmetic dominates does splitting it pay. On a machine whose two cores
# are shared with other work, the measured speed-ups swing from run to run;
# the crossover, not its exact place, is the result.
#
# The same job ran a matrix product on both processes at once, with one and
# then two threads each: two processes with two threads each put four busy
# threads on two cores.

# %%
per_process = {int(k): v for k, v in results["matmul seconds by threads"].items()}
flops_512 = 2 * 512**3
oversub = pd.Series({f"2 processes x {t} thread(s)": results["world size"] * flops_512 / s / 1e9
                     for t, s in per_process.items()}, name="total GFLOP/s")
glue("oversub_ratio", oversub.iloc[1] / oversub.iloc[0], fmt=".2f")
print(oversub.to_frame().to_string(float_format=lambda v: f"{v:.1f}"))
print(f"2 threads each / 1 thread each: {oversub.iloc[1] / oversub.iloc[0]:.2f}")

# %% [markdown]
# With four threads on two cores the two processes together did
# {glue:text}`oversub_ratio` times the work per second of one thread each:
# more busy threads than cores do not add compute, they add waiting. This is why `torchrun`
# jobs set `OMP_NUM_THREADS` (it defaults to 1 per process and warns).
#
# ### Across machines
#
# Nothing in the worker script knows how many machines there are. On a
# cluster, the same script is started on every node with the number of
# nodes and one rendezvous address that all can reach (a recipe this
# chapter cannot run on one machine):
#
# ```bash
# # on each of 2 nodes, 8 GPUs each (16 processes): same command, same rendezvous id
# torchrun --nnodes=2 --nproc_per_node=8 \
#     --rdzv-id=job42 --rdzv-backend=c10d --rdzv-endpoint=node0.cluster:29500 \
#     -m helpers.distributed --device cuda --data /shared/data.pt --out /shared/run42
# ```
#
# - `--rdzv-endpoint` is a host and port on one node that all nodes can reach;
#   the processes meet there, get their ranks and open `nccl` connections to
#   each other (on GPUs, over NVLink inside a node and InfiniBand or Ethernet
#   between nodes). A scheduler such as Slurm usually starts the command on
#   every node (`srun torchrun ...`).
# - Data and checkpoints must live on storage every node sees: a shared file
#   system (NFS, Lustre) or an object store (S3, GCS). Rank 0 writes the
#   checkpoint; every rank can resume from it, so a job that dies restarts
#   from the last checkpoint instead of from scratch (`torchrun --max-restarts`).
# - Per-node batch $b$, world size $W$: the effective batch is $Wb$, so the
#   learning rate is chosen for $Wb$.
#
# DDP keeps a full copy of the model, its gradients and the optimizer's state
# in every process. When that no longer fits in one device's memory, the
# state is split instead: **FSDP** (fully sharded data parallel) shards
# parameters, gradients and optimizer state across the processes and gathers
# each layer only while it is computed {cite}`zhao2023pytorch`, and **model
# (tensor and pipeline) parallelism** splits the layers themselves across
# devices {cite}`shoeybi2019megatron`. Large language models combine all
# three.
#
# ## 5. A hyperparameter search on several workers
#
# Chapter 7 ran an Optuna study in one process. The trials of a search are
# independent, so several processes, on one machine or on many, can run
# them at once if they share the study's **storage**: each worker asks the
# storage for the next trial, runs it, and writes the result back. Here the
# storage is a `JournalStorage` on one append-only file (an RDB such as
# SQLite or PostgreSQL plays the same part on a cluster), and the workers are
# `helpers/parallel_search.py` started as separate processes.
#
# So that one worker and two can be compared exactly, the search is a grid
# (16 points: 8 ridge penalties x 2 feature sets) and every worker runs until
# each point has a finished trial. The objective is a stand-in whose result
# is real and whose cost is fixed: the validation error of ridge regression
# solved in closed form (a millisecond), plus a sleep of
# {glue:text}`trial_seconds` s that plays the part of training. A sleeping
# worker does not use the CPU, so the comparison measures how the workers
# share the work, and stays valid on a busy machine.

# %%
TRIAL_SECONDS = 0.3
glue("trial_seconds", TRIAL_SECONDS, fmt=".2f")
print(f"each trial waits {TRIAL_SECONDS:.2f} s, standing in for training")
journal = work / "search.log"
wall = {n: parallel_search.run_workers(journal, f"grid-{n}-workers", n, TRIAL_SECONDS) for n in (1, 2)}
tables = {n: parallel_search.trials_table(journal, f"grid-{n}-workers") for n in (1, 2)}
search = pd.DataFrame({
    "wall seconds": wall,
    "first start to last end": {n: parallel_search.search_seconds(t) for n, t in tables.items()},
    "trials": {n: len(t) for n, t in tables.items()},
    "best validation error": {n: t["value"].min() for n, t in tables.items()},
}).rename_axis("workers")
print(search.to_string(formatters={"wall seconds": "{:.1f}".format, "first start to last end": "{:.1f}".format,
                                   "best validation error": "{:.4f}".format}))
print("trials per worker with 2 workers:", tables[2]["worker"].value_counts().sort_index().to_dict())
exact_best = parallel_search.best_on_grid()
glue("search_ratio", wall[2] / wall[1], fmt=".2f")
glue("search_wall_1", wall[1], fmt=".1f")
glue("search_wall_2", wall[2], fmt=".1f")
span_ratio = search["first start to last end"][2] / search["first start to last end"][1]
glue("search_span_ratio", span_ratio, fmt=".2f")
print(f"two workers took {wall[2] / wall[1]:.2f} of one worker's wall time "
      f"({span_ratio:.2f} from first trial start to last trial end)")
assert all(math.isclose(t["value"].min(), exact_best, rel_tol=1e-9) for t in tables.values()), \
    "one and two workers should find the grid's best point"
# The trials sleep, so the spans hardly depend on the machine's load; margins from runs at load 2 to 8.
assert span_ratio < 0.7, "two workers should run the grid in about half the time of one"
assert wall[2] < wall[1], "two workers should finish sooner than one, start-up included"

# %% [markdown]
# Both runs found the same best point (the best on the grid, computed
# directly). From the first trial's start to the last one's end, two
# workers took {glue:text}`search_span_ratio` of the time of one; counting
# the start of the processes, {glue:text}`search_wall_2` s against
# {glue:text}`search_wall_1` s ({glue:text}`search_ratio`). What keeps it
# from one half is that start-up, and a trial that both workers may pick
# at the same moment (the grid sampler allows that rather than lock the
# storage).
#
# ### A worker dies
#
# Now two workers start a new study, and once four trials are finished one of
# them is killed (`SIGKILL`: no clean-up, as when a node of a cluster fails). A
# replacement is started with the same command, as a job scheduler would.

# %%
crash_study = "grid-with-a-crash"
victim = parallel_search.start_worker(journal, crash_study, "A (killed)", TRIAL_SECONDS)
survivor = parallel_search.start_worker(journal, crash_study, "B", TRIAL_SECONDS)
deadline = time.perf_counter() + 60
finished = 0
while finished < 4 and time.perf_counter() < deadline:
    time.sleep(0.1)
    try:
        finished = int((parallel_search.trials_table(journal, crash_study)["state"] == "COMPLETE").sum())
    except (KeyError, ValueError):  # the study does not exist yet
        finished = 0
victim.send_signal(signal.SIGKILL)
victim.wait()
replacement = parallel_search.start_worker(journal, crash_study, "C (replacement)", TRIAL_SECONDS)
for process in (survivor, replacement):
    process.communicate(timeout=120)
crashed = parallel_search.trials_table(journal, crash_study)
print(f"killed worker A after {finished} finished trials in the study")
print(pd.crosstab(crashed["worker"], crashed["state"]).to_string())
complete = crashed[crashed["state"] == "COMPLETE"]
points_done = complete.drop_duplicates(["alpha", "features"])
print(f"grid points with a finished trial: {len(points_done)} of 16; "
      f"best validation error {complete['value'].min():.4f}")
glue("crash_running", int((crashed["state"] == "RUNNING").sum()))
assert len(points_done) == 16 and math.isclose(complete["value"].min(), exact_best, rel_tol=1e-9)

# %% [markdown]
# The study survived: its state is in the journal file, not in any worker,
# so the other workers carried on and every grid point got a finished trial
# with the same best value. The killed worker's last trial stays `RUNNING`
# ({glue:text}`crash_running` here) because nobody told the storage it died;
# the grid sampler hands its point to another worker once every point has
# been started. With an RDB storage, Optuna can detect such trials itself
# (`heartbeat_interval`, and `RetryFailedTrialCallback` to re-queue them).
# Resuming after *all* workers died is the same command again: a new worker
# opens the journal and continues where the study stopped.
#
# ## 6. On a GPU
#
# The script `bench/gpu_check.sh` runs this chapter's measurements on a CUDA
# machine: the matrix-product peak in float32 and bfloat16, the achieved
# FLOP/s of training steps as the model grows, bfloat16 autocast against
# float32, and the DDP job with `nccl` when there are two GPUs. It writes
# `bench/results/scaling_gpu.md`, shown here when it exists:

# %%
gpu_results = Path("..") / "bench" / "results" / "scaling_gpu.md"
print(gpu_results.read_text() if gpu_results.exists() else
      "no GPU results yet: run `bash bench/gpu_check.sh` on a CUDA machine")

# %% [markdown]
# ## Exercises
#
# **[Do these exercises on Colab](https://colab.research.google.com/github/ai-training-course/ai-training-course/blob/main/notebooks/exercises/12_training_at_scale.ipynb)**: the student version, with stubs instead of solutions.
#
# Each exercise has a check: run it after your answer. `ex.q1.hint()` gives a
# hint (`ex.q1.hint(2)` a stronger one) and `ex.q1.solution()` shows a
# solution.
#
# ```{exercise} Predict: two processes for a tiny model
# :label: ch12-ex1
# Before looking at Section 4's numbers again: a 2-process DDP job trains the
# width-64 MLP for 3 epochs on 1,076 digits. Counting the whole job (starting
# the processes included), how many times as fast as one process in the
# notebook is it? Set `predicted_speedup` to your guess (a number; 2 would be
# perfect scaling). The check tells you whether you are on the right side;
# the cell after it shows the measurement.
# ```
#
# ```{solution-start} ch12-ex1
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch12-ex1-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
predicted_speedup = 0.1  # start-up takes seconds, training the tiny model a fraction of one
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch12-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q1.check()

# %%
print(f"measured: 1 process {single_seconds:.2f} s; 2 processes {results['sharded']['seconds']:.2f} s of training "
      f"+ {startup:.1f} s of start-up; speed-up {single_seconds / tiny_total:.2g}")

# %% [markdown]
# ```{exercise} Diagnose: a DDP run that learns no faster
# :label: ch12-ex2
# A colleague's 2-process DDP run, per-process batch 32, printed the lines
# below: the first losses of each rank, the steps per epoch, and how far its
# final weights are from two one-process runs. Which one thing is wrong?
# Set `diagnosis` to one letter:
# **a** the learning rate was not scaled for the larger effective batch;
# **b** each process saw the same data (it was not sharded);
# **c** the gradients were summed over the processes instead of averaged;
# **d** the processes started from different initial weights.
# ```

# %% tags=["nbval-check-output"]
mistake = results["unsharded"]
for rank, losses in enumerate(mistake["first losses per rank"]):
    print(f"rank {rank}: first losses {np.round(losses, 4).tolist()}")
print(f"steps per epoch: {mistake['steps per epoch']} (the correct run: {results['sharded']['steps per epoch']})")
print(f"max |w - w_1 process, batch {DDP_BATCH}| = "
      f"{distributed.max_weight_difference(unsharded_weights, small_batch_model.state_dict()):.1e}")
print(f"max |w - w_1 process, batch {2 * DDP_BATCH}| = "
      f"{distributed.max_weight_difference(unsharded_weights, single_model.state_dict()):.2f}")

# %% [markdown]
# ```{solution-start} ch12-ex2
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch12-ex2-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
diagnosis = "b"  # identical losses on both ranks, twice the steps, weights of a batch-32 run
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch12-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q2.check()

# %% [markdown]
# ```{exercise} Experiment: the batch size with the most examples per second
# :label: ch12-ex3
# For a width-256 MLP on the digits (one thread), measure the training
# throughput (examples per second: batch size / seconds per step, with
# `scaling.seconds_per_step`) for batch sizes 8, 16, ..., 1024, and set
# `best_throughput` to a dict `{"batch_size": b, "examples_per_second": v}`
# for the batch size with the highest throughput. The check re-measures a
# few batch sizes itself, loosely, since timings vary.
# ```
#
# ```{solution-start} ch12-ex3
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch12-ex3-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
X, y = load("digits").standardized().tensors("train")
throughput = {}
with scaling.threads(1):
    for b in [8, 16, 32, 64, 128, 256, 512, 1024]:
        model = mlp(64, [256], 10)
        seconds = scaling.seconds_per_step(model, X, y, batch_size=b, steps=8)
        throughput[b] = b / seconds
best_b = max(throughput, key=throughput.get)
best_throughput = {"batch_size": best_b, "examples_per_second": throughput[best_b]}
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch12-ex3-check", "locked": true, "points": 1, "schema_version": 3, "solution": false}
ex.q3.check()

# %% [markdown]
# ```{exercise} Implement: the exact FLOPs of an MLP's training step
# :label: ch12-ex4
# Write `mlp_training_flops(sizes, batch_size)` that returns the FLOPs of
# the matrix products of one forward and one backward pass of an MLP with
# layer widths `sizes` (e.g. `[64, 128, 10]`) on a batch of `batch_size`
# examples, exactly as `FlopCounterMode` counts them (a multiply-add is 2
# FLOPs; bias additions and activations are not counted). Section 2 says where
# the rule $6ND$ overcounts.
# ```
#
# ```{solution-start} ch12-ex4
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch12-ex4-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def mlp_training_flops(sizes, batch_size):
    ### BEGIN SOLUTION
    total = 0
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        products = 2 if layer == 0 else 3  # forward, weight gradient (, input gradient)
        total += products * 2 * batch_size * n_in * n_out
    return total
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch12-ex4-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q4.check()

# %% [markdown]
# ## Summary
#
# - The time **per epoch** grows with the data, the parameters and falls with
#   the batch size, with exponents below 1 for small models, because fixed
#   per-step costs dominate them. The time **to a target** depends on the
#   number of epochs needed as much as on the cost of one.
# - Training costs about $6ND$ FLOPs. Divided by the measured time it gives
#   the achieved FLOP/s, a small share of the peak for small models. The same
#   arithmetic puts GPT-3 at {glue:text}`gpt3_flops` FLOPs:
#   {glue:text}`gpt3_cpu_years` years on one CPU core, two weeks on 10,000 GPUs. Training is
#   quick and easy only for small models.
# - Profile before optimising: for small models the overhead and the data
#   pipeline can cost more than the arithmetic; threads and bfloat16 pay only
#   when the operators are large enough, and oversubscribed cores slow
#   everything down.
# - **DDP** averages gradients with all-reduce, so $W$ processes with batch
#   $b$ compute what one process computes with batch $Wb$ (shown here to
#   within float rounding). It is launched with `torchrun`, the same way on
#   one machine or many; it pays only when a step is large enough to hide the
#   start-up and the communication. FSDP and model parallelism take over when
#   a model does not fit in one device.
# - A hyperparameter search scales out by sharing the study's **storage**:
#   workers come and go, the study lives in the storage.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
