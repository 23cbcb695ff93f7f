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
# # Chapter 5: Optimization
#
# Training a network means walking downhill on a loss surface with millions of
# dimensions, using only the local slope. *How* we walk (the size of each step,
# whether we keep momentum, whether each parameter gets its own step size, how
# the step size changes over training) decides whether training takes minutes
# or hours, and whether it converges at all. This chapter writes the common
# optimizers out by hand on two-parameter surfaces we can draw, checks them
# number for number against `torch.optim`, and then measures what they, and
# learning-rate schedules, do for a real network.
#
# **After this chapter you will be able to**
#
# - write gradient descent, momentum, Nesterov, RMSProp, Adam and AdamW from their update equations, and show that they match `torch.optim`;
# - explain why the largest stable learning rate is set by the steepest direction, and what that costs in a narrow valley;
# - compare full-batch, mini-batch and stochastic gradient descent at equal cost;
# - use step, cosine, warm-up and one-cycle learning-rate schedules with `helpers.train.fit`, and measure their effect;
# - build a fair "time to target accuracy" comparison of optimizers, and recognise (and recover from) a diverging run.

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
import inspect
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.dummy import DummyClassifier
from torch import nn

from helpers import glue, setup
from helpers.data import load
from helpers.exercises import ch05_optimization as ex
from helpers.models import mlp
from helpers.optim import (
    OPTIMIZERS,
    Adam,
    RangeTest,
    ReachTarget,
    least_squares,
    lr_range_test,
    lr_curve,
    make_optimizer,
    make_scheduler,
    make_torch_optimizer,
    minibatch_gradient,
    optimizer_explorer,
    plot_losses,
    plot_trajectories,
    quadratic,
    rosenbrock,
    run_torch_trajectory,
    run_trajectory,
)
from helpers.plots import use_style
from helpers.train import evaluate, fit

DEVICE = setup(SEED)
torch.set_num_threads(1)  # the networks here are tiny: a second CPU thread only adds waiting
use_style()

# %% [markdown]
# ## 1. Gradient descent on a surface we can see
#
# A loss $f(\theta)$ of parameters $\theta$ is a landscape; its gradient
# $\nabla f(\theta)$ points uphill, so **gradient descent** {cite}`cauchy1847methode`
# steps the other way with a **learning rate** $\eta$:
#
# $$\theta_{t+1} = \theta_t - \eta\, \nabla f(\theta_t).$$
#
# With two parameters $\theta = (x, y)$ we can draw the landscape. Our first
# one is a bowl that is much steeper in one direction than the other,
#
# $$f(x, y) = \tfrac12\,(a x^2 + b y^2), \qquad a = 1,\; b = 20,$$
#
# a caricature of real loss surfaces, which are full of such long, narrow
# valleys. Along $x$ one step multiplies the distance to the minimum by
# $1 - \eta a$, along $y$ by $1 - \eta b$. Both factors must stay between
# $-1$ and $1$, so gradient descent is stable only for $\eta < 2/b$: **the
# steepest direction sets the largest usable learning rate**, and the flat
# direction then crawls, shrinking by only $1 - 2a/b$ per step at best.
# The ratio $\kappa = b/a$, the *condition number*, measures how hard the
# problem is. Here is gradient descent from scratch, in four lines:

# %%
bowl = quadratic(a=1.0, b=20.0)


def gradient_descent(grad, start, lr, steps):
    """Plain gradient descent from `start`; returns the path, one row (x, y) per step."""
    x = np.array(start, dtype=float)
    path = [x.copy()]
    for _ in range(steps):
        x = x - lr * grad(x)
        path.append(x.copy())
    return np.array(path)


lr_limit = 2 / 20.0  # 2 / b
runs = {lr: run_trajectory(bowl, make_optimizer("gd", lr), steps=400, label=f"lr = {lr:g}") for lr in (0.02, 0.09, 0.104)}
by_hand = gradient_descent(bowl.grad, bowl.start, lr=0.09, steps=400)
assert np.allclose(by_hand, runs[0.09].path), "the helper's GradientDescent is the same four lines"

target = 1e-6 * runs[0.09].losses[0]  # a millionth of the starting loss
steps_small, steps_good = runs[0.02].steps_to(target), runs[0.09].steps_to(target)
assert runs[0.104].diverged and not runs[0.09].diverged, "above 2/b gradient descent must blow up"
assert steps_small > 3 * steps_good, "a timid learning rate should be several times slower"
glue("lr_limit", lr_limit, fmt=".2f")
glue("steps_small_lr", steps_small)
glue("steps_good_lr", steps_good)
diverge_step = len(runs[0.104].losses) - 1
glue("diverge_step", diverge_step)
print(f"lr = 0.104 was stopped as diverged after {diverge_step} steps")
pd.DataFrame({
    "learning rate": list(runs),
    "steps to 1e-6 of the start loss": pd.array([r.steps_to(target) for r in runs.values()], dtype="Int64"),
    "diverged": [r.diverged for r in runs.values()],
}).set_index("learning rate")

# %% mystnb={"image": {"alt": "Three gradient-descent paths on a narrow elliptical bowl: a small learning rate creeps along the valley, a near-limit one zig-zags across it and converges, and one just above the limit zig-zags outwards and diverges; the right panel shows the loss per step on a log scale."}}
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [1.4, 1]})
first_25_steps = run_trajectory(bowl, make_optimizer("gd", 0.104), 25, label="lr = 0.104")
plot_trajectories(bowl, [runs[0.02], runs[0.09], first_25_steps], ax=left, title="gradient descent on the bowl (a=1, b=20)")
plot_losses(list(runs.values()), ax=right, title="loss per step")
right.axhline(target, color="grey", linestyle=":")
right.legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% [markdown]
# With $\eta$ = 0.02 the path creeps and needs {glue:text}`steps_small_lr`
# steps to cut the loss a million-fold; near the limit, $\eta$ = 0.09, it
# zig-zags across the valley but needs only {glue:text}`steps_good_lr`. Just
# above the limit of {glue:text}`lr_limit`, the zig-zag grows instead of
# shrinking, and the run is stopped as diverged after
# {glue:text}`diverge_step` steps (the figure draws its first 25).
#
# ## 2. Momentum: remember where you were going
#
# In the valley the gradient keeps pointing the same way along $x$ and flips
# sign along $y$. **Momentum** (the *heavy ball* of {cite}`polyak1964some`)
# accumulates a velocity $v$ so that consistent directions speed up and
# flip-flopping ones cancel:
#
# $$v_{t+1} = \mu\, v_t + \nabla f(\theta_t), \qquad \theta_{t+1} = \theta_t - \eta\, v_{t+1}.$$
#
# (This is how `torch.optim.SGD` writes it; some texts scale the gradient by
# $1-\mu$ or fold $\eta$ into $v$, which changes $\eta$'s meaning, not the
# method.) On a quadratic, theory gives the best settings: plain gradient
# descent at $\eta = 2/(a+b)$ shrinks the error by $(\kappa-1)/(\kappa+1)$ per
# step, and the heavy ball at $\eta = 4/(\sqrt a + \sqrt b)^2$,
# $\mu = \big((\sqrt\kappa - 1)/(\sqrt\kappa + 1)\big)^2$ by
# $(\sqrt\kappa-1)/(\sqrt\kappa+1)$: the condition number is replaced by its
# square root. Let us check, and also try the popular $\mu = 0.9$ at the same
# learning rate.

# %%
a, b = 1.0, 20.0
kappa = b / a
lr_gd_best = 2 / (a + b)
lr_hb_best = 4 / (np.sqrt(a) + np.sqrt(b)) ** 2
mu_best = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
heavy = {
    "gradient descent, best lr": run_trajectory(bowl, make_optimizer("gd", lr_gd_best), 300),
    "momentum, best lr and mu": run_trajectory(bowl, make_optimizer("momentum", lr_hb_best, mu_best), 300),
    "momentum, mu = 0.9": run_trajectory(bowl, make_optimizer("momentum", lr_hb_best, 0.9), 300),
}
heavy_steps = {name: t.steps_to(target) for name, t in heavy.items()}
assert 2 * heavy_steps["momentum, best lr and mu"] < heavy_steps["gradient descent, best lr"], "momentum should be much faster"
assert heavy_steps["momentum, mu = 0.9"] > heavy_steps["momentum, best lr and mu"], "too much momentum overshoots"
# The theory's factor is asymptotic: the ratio of steps at ever tighter targets.
long_gd = run_trajectory(bowl, make_optimizer("gd", lr_gd_best), 1500)
long_hb = run_trajectory(bowl, make_optimizer("momentum", lr_hb_best, mu_best), 1500)
speedups = {f"1e-{k}": long_gd.steps_to(10.0**-k * long_gd.losses[0]) / long_hb.steps_to(10.0**-k * long_hb.losses[0]) for k in (6, 12, 24, 48)}
theory_speedup = np.log((np.sqrt(kappa) + 1) / (np.sqrt(kappa) - 1)) / np.log((kappa + 1) / (kappa - 1))
speedup_measured = heavy_steps["gradient descent, best lr"] / heavy_steps["momentum, best lr and mu"]
assert speedup_measured < theory_speedup and list(speedups.values()) == sorted(speedups.values()), "the ratio climbs towards the theory"
glue("mu_best", mu_best, fmt=".2f")
glue("steps_gd_best", heavy_steps["gradient descent, best lr"])
glue("steps_hb_best", heavy_steps["momentum, best lr and mu"])
glue("steps_hb_09", heavy_steps["momentum, mu = 0.9"])
glue("sqrt_kappa", float(np.sqrt(kappa)), fmt=".1f")
glue("speedup_measured", float(speedup_measured), fmt=".1f")
glue("theory_speedup", float(theory_speedup), fmt=".1f")
glue("speedup_tightest", float(speedups["1e-48"]), fmt=".1f")
print(f"best momentum for the heavy ball: mu = {mu_best:.2f}")
print("steps to a millionth of the start loss:", heavy_steps)
print(f"measured speed-up of the heavy ball: {speedup_measured:.1f}; theory's asymptotic factor: {theory_speedup:.1f} (sqrt(kappa) = {np.sqrt(kappa):.1f})")
print("speed-up at tighter targets:", {k: round(v, 1) for k, v in speedups.items()})

# %% [markdown]
# Gradient descent at its best learning rate needs {glue:text}`steps_gd_best`
# steps; the heavy ball with $\mu$ = {glue:text}`mu_best` needs
# {glue:text}`steps_hb_best`: a measured speed-up of
# {glue:text}`speedup_measured`. The theory {cite}`polyak1964some` promises
# more, a factor $\ln\frac{\sqrt\kappa+1}{\sqrt\kappa-1} / \ln\frac{\kappa+1}{\kappa-1}$ =
# {glue:text}`theory_speedup` (about $\sqrt\kappa \approx$ {glue:text}`sqrt_kappa`),
# but that is a statement about the rate per step in the long run. At the
# best $\mu$ both directions share one repeated rate, and the error of a
# repeated rate $r$ shrinks like $t\,r^t$ rather than $r^t$ (theory again), so
# the heavy ball pays a slow start. Our runs show the ratio climbing towards
# the theory's factor as the target tightens, to
# {glue:text}`speedup_tightest` at $10^{-48}$ of the starting loss. But momentum is not free
# speed: with $\mu$ = 0.9 the ball overshoots and circles the minimum, taking
# {glue:text}`steps_hb_09` steps. Momentum and learning rate must be chosen
# together.
#
# ## 3. Full batch, mini-batch, one example at a time
#
# A real loss is an average over $n$ training examples,
# $f(\theta) = \frac1n \sum_i \ell_i(\theta)$, and its exact gradient costs a
# pass over all of them. **Stochastic gradient descent** replaces it with the
# gradient on a random **mini-batch** $B$: an unbiased but noisy estimate,
# $\frac{1}{|B|}\sum_{i\in B}\nabla\ell_i(\theta)$, that costs $|B|/n$ of a
# full pass {cite}`robbins1951stochastic`. At the same cost (one epoch = one
# pass over the data) a batch of 1 takes $n$ steps where full-batch descent
# takes one. We fit a line $y \approx w x + b$ to {glue:text}`n_line` noisy
# points, so the loss has two parameters, $(w, b)$, and we can draw it.

# %%
rng = np.random.default_rng(SEED)
n_line = 256
inputs = rng.normal(1.0, 1.0, n_line)  # not centred, so w and b are coupled: a tilted valley
targets = 2.0 * inputs - 1.0 + rng.normal(0.0, 0.5, n_line)
line_loss = least_squares(inputs, targets)
lowest = float(line_loss.f(np.array(line_loss.minimum)))
epochs_line = 10
BATCHES = {"full batch": n_line, "mini-batch of 32": 32, "stochastic (batch of 1)": 1}
LINE_SEEDS = [100 * SEED + i for i in range(5)]  # the order of the mini-batches; the data stay the same
line_lrs = np.geomspace(1e-3, 3.0, 10)  # a factor of about 2.4 apart, the same grid for every batch size


def excess_after_one_epoch(batch_size, lr, seed):
    """Loss above the minimum after one epoch, and the share of the epoch's updates that raised the loss."""
    grad_fn = minibatch_gradient(line_loss, n_line, batch_size, seed=seed)
    t = run_trajectory(line_loss, make_optimizer("gd", lr), steps=grad_fn.steps_per_epoch, grad_fn=grad_fn)
    if t.diverged:
        return np.inf, np.nan
    return t.losses[-1] - lowest, float(np.mean(np.diff(t.losses) > 0))


rows, line_best = [], {}
for label, batch_size in BATCHES.items():
    sweep = np.array([[excess_after_one_epoch(batch_size, lr, s) for s in LINE_SEEDS] for lr in line_lrs])  # (lr, seed, 2)
    mean_excess = sweep[:, :, 0].mean(axis=1)  # inf where any seed diverged
    best = int(np.argmin(mean_excess))
    assert 0 < best < len(line_lrs) - 1, f"{label}: the best learning rate must lie inside the grid"
    line_best[label] = line_lrs[best]
    rows.append({
        "batch": label,
        "steps per epoch": -(-n_line // batch_size),
        "tuned lr": line_lrs[best],
        "excess loss after 1 epoch, mean": sweep[best, :, 0].mean(),
        "sd": sweep[best, :, 0].std(ddof=1),
        "updates that raised the loss": sweep[best, :, 1].mean(),
    })
batch_table = pd.DataFrame(rows).set_index("batch")
full, mini, sgd = (batch_table.iloc[i] for i in range(3))
# Margins from the seed spread: each mean must beat the next by more than both sds together.
assert sgd["excess loss after 1 epoch, mean"] + sgd["sd"] < mini["excess loss after 1 epoch, mean"] - mini["sd"], "one example per step beats 32"
assert mini["excess loss after 1 epoch, mean"] + mini["sd"] < full["excess loss after 1 epoch, mean"] - full["sd"], "32 per step beats the full batch"
assert line_best["stochastic (batch of 1)"] < line_best["mini-batch of 32"] / 3, "single examples need a smaller rate"
assert full["updates that raised the loss"] == 0 and sgd["updates that raised the loss"] > mini["updates that raised the loss"] + 0.1, "smaller batches are noisier"

batch_runs = {}  # one seed, ten epochs at each batch size's tuned rate, for the figure
for label, batch_size in BATCHES.items():
    grad_fn = minibatch_gradient(line_loss, n_line, batch_size, seed=SEED)
    trajectory = run_trajectory(line_loss, make_optimizer("gd", line_best[label]), steps=epochs_line * grad_fn.steps_per_epoch,
                                grad_fn=grad_fn, label=f"{label}, lr {line_best[label]:.2g}")
    trajectory.steps_per_epoch = grad_fn.steps_per_epoch
    batch_runs[label] = trajectory
glue("n_line", n_line)
glue("n_line_seeds", len(LINE_SEEDS))
for key, row in (("full", full), ("mini", mini), ("sgd", sgd)):
    glue(f"excess_{key}_1", float(row["excess loss after 1 epoch, mean"]), fmt=".3f")
    glue(f"excess_{key}_1_sd", float(row["sd"]), fmt=".3f")
    glue(f"lr_{key}", float(row["tuned lr"]), fmt=".2g")
glue("uphill_mini", float(mini["updates that raised the loss"]), fmt=".0%")
glue("uphill_sgd", float(sgd["updates that raised the loss"]), fmt=".0%")
print(f"mean over {len(LINE_SEEDS)} orders of the mini-batches; lr tuned per batch size on {len(line_lrs)} rates from 0.001 to 3")
print(batch_table.round({"tuned lr": 3, "excess loss after 1 epoch, mean": 3, "sd": 3, "updates that raised the loss": 2}).to_string())

# %% mystnb={"image": {"alt": "Left: paths of full-batch, mini-batch and stochastic gradient descent on the tilted valley of a line fit; the full-batch path is smooth and short, the mini-batch path wobbles, the stochastic one jitters around the minimum. Right: excess loss per epoch on a log scale, where the stochastic curve drops fastest but stays noisy."}}
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [1.4, 1]})
plot_trajectories(line_loss, list(batch_runs.values()), ax=left, title=f"{epochs_line} epochs, each at its tuned lr")
left.set_xlabel("slope $w$")
left.set_ylabel("intercept $b$")
for label, t in batch_runs.items():
    right.plot(np.arange(len(t.losses)) / t.steps_per_epoch, np.maximum(t.losses - lowest, 1e-6), label=label, linewidth=1)
right.set_yscale("log")
right.set_xlabel("epoch (passes over the data)")
right.set_ylabel("loss above the minimum")
right.legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% [markdown]
# Each batch size got its own learning rate, the one with the lowest mean
# loss after one epoch on a grid from 0.001 to 3 (a single learning rate
# shared by all three would favour whichever it happens to suit). After one
# epoch, the same amount of arithmetic, full-batch descent (one step, at
# $\eta$ = {glue:text}`lr_full`) is still {glue:text}`excess_full_1` above the
# lowest loss; mini-batches of 32 ($\eta$ = {glue:text}`lr_mini`) are at
# {glue:text}`excess_mini_1` ± {glue:text}`excess_mini_1_sd` and single
# examples ($\eta$ = {glue:text}`lr_sgd`) at {glue:text}`excess_sgd_1` ±
# {glue:text}`excess_sgd_1_sd` (mean ± sd over {glue:text}`n_line_seeds`
# orders of the examples). The price is noise, and it shows in the tuned
# rates: single examples need a much smaller rate than the others, and even so {glue:text}`uphill_sgd` of their steps *raised* the
# loss, against {glue:text}`uphill_mini` of the mini-batch steps. With a
# constant learning rate the stochastic path never settles: it jitters in a
# cloud around the minimum, as the figure's ten epochs show. Robbins and
# Monro proved that a learning rate that shrinks over time (with
# $\sum_t \eta_t = \infty$, $\sum_t \eta_t^2 < \infty$) makes the cloud
# shrink to the point {cite}`robbins1951stochastic`; the schedules of
# Section 6 are the practical version. Mini-batches are the usual choice in
# practice because hardware that computes a whole batch at once makes them
# nearly as cheap per sample as single examples (we do not measure that
# here), and their steps are far less noisy.
#
# ## 4. Five optimizers, written out, checked against `torch.optim`
#
# `helpers/optim.py` writes each update rule as a small class with one method,
# `step(x, g)`, using exactly `torch.optim`'s conventions. With gradient
# $g_t = \nabla f(\theta_{t-1})$ at step $t = 1, 2, \dots$:
#
# | optimizer | update |
# |---|---|
# | momentum {cite}`polyak1964some` | $v_t = \mu v_{t-1} + g_t$; $\ \theta_t = \theta_{t-1} - \eta v_t$ |
# | Nesterov {cite}`nesterov1983method,sutskever2013importance` | $v_t = \mu v_{t-1} + g_t$; $\ \theta_t = \theta_{t-1} - \eta\,(g_t + \mu v_t)$ |
# | RMSProp {cite}`tieleman2012rmsprop` | $s_t = \alpha s_{t-1} + (1-\alpha) g_t^2$; $\ \theta_t = \theta_{t-1} - \eta\, g_t / (\sqrt{s_t} + \epsilon)$ |
# | Adam {cite}`kingma2015adam` | $m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t$; $\ s_t = \beta_2 s_{t-1} + (1-\beta_2) g_t^2$; $\ \theta_t = \theta_{t-1} - \eta\, \hat m_t / (\sqrt{\hat s_t} + \epsilon)$ with $\hat m_t = m_t/(1-\beta_1^t)$, $\hat s_t = s_t/(1-\beta_2^t)$ |
# | AdamW {cite}`loshchilov2019decoupled` | $\theta \leftarrow \theta\,(1 - \eta\lambda)$, then Adam's step with the plain gradient |
#
# Nesterov's version evaluates the step "one velocity ahead", which damps
# overshooting; RMSProp divides each coordinate by the recent size of its own
# gradient, so steep and flat directions move at similar speeds; Adam
# combines both and corrects the bias of $m$ and $s$, which start at zero.
# AdamW *decouples* weight decay $\lambda$ from the gradient: in Adam an L2
# penalty $\lambda\theta$ added to $g$ gets divided by $\sqrt{\hat s}$, so
# weights with large gradients are barely regularised; AdamW shrinks every
# weight at the same rate. Here is the whole of Adam's update in the helper:

# %%
print(inspect.getsource(Adam._adam_direction))

# %% [markdown]
# The claim "this is what `torch.optim` does" is checked, not trusted: we run
# each hand-written optimizer and its `torch.optim` twin (with autograd
# computing the gradient) for 200 steps from the same point on Rosenbrock's
# banana valley {cite}`rosenbrock1960automatic`,
# $f(x, y) = (1-x)^2 + 100\,(y - x^2)^2$, in double precision, and compare
# every point of the two paths.

# %% tags=["nbval-check-output"]
banana = rosenbrock()
check_lrs = {"gd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "rmsprop": 1e-2, "adam": 5e-2, "adamw": 5e-2}
largest_gap = {}
for name, lr in check_lrs.items():
    ours = run_trajectory(banana, make_optimizer(name, lr), steps=200)
    theirs = run_torch_trajectory(banana, name, lr, steps=200)
    largest_gap[name] = float(np.abs(ours.path - theirs.path).max())
worst_gap = max(largest_gap.values())
assert worst_gap < 1e-10, "the hand-written updates must equal torch.optim's"
glue("worst_gap", worst_gap, fmt=".0e")
print("optimizer   largest |ours - torch.optim| over 200 steps below 1e-10?")
for name, gap in largest_gap.items():
    print(f"{name:10s}  {gap < 1e-10}")

# %% [markdown]
# The largest difference over all six optimizers and 200 steps is
# {glue:text}`worst_gap`, rounding error in the last digits of a double. Now
# the comparison itself. A fair race gives every optimizer its best learning
# rate, so for each we try 16 learning rates from $10^{-4}$ to $10$ (each about
# 2.2 times the last) and keep the one with the lowest loss after 500 steps on
# the banana, checking that it lies inside the grid, with the default
# $\mu = 0.9$, $\beta = (0.9, 0.999)$ and, for AdamW, $\lambda = 0.01$.

# %%
lr_grid = np.geomspace(1e-4, 10.0, 16)
race, next_up = {}, {}
for name in OPTIMIZERS:
    candidates = [run_trajectory(banana, make_optimizer(name, lr), steps=500, label=f"{name} (lr {lr:.2g})") for lr in lr_grid]
    finite = [(t.final_loss if not t.diverged else np.inf, i) for i, t in enumerate(candidates)]
    best_index = min(finite)[1]
    assert 0 < best_index < len(lr_grid) - 1, f"{name}: the best learning rate must lie inside the grid"
    race[name] = (lr_grid[best_index], candidates[best_index])
    next_up[name] = "diverged" if candidates[best_index + 1].diverged else f"{candidates[best_index + 1].final_loss:.2g}"
race_table = pd.DataFrame({
    "best lr": [lr for lr, _ in race.values()],
    "loss after 500 steps": [t.final_loss for _, t in race.values()],
    "first step with loss < 0.01": pd.array([t.steps_to(0.01) for _, t in race.values()], dtype="Int64"),
    "loss at the next lr up": list(next_up.values()),
}, index=pd.Index(list(race), name="optimizer"))
final = race_table["loss after 500 steps"]
assert max(final["momentum"], final["nesterov"], final["adam"]) < final["gd"] / 10, "momentum-based methods should beat plain gradient descent on the banana"
assert final["adam"] < final["rmsprop"], "Adam's momentum should help RMSProp along the curved valley"
glue("banana_gd", float(final["gd"]), fmt=".2f")
glue("banana_rmsprop", float(final["rmsprop"]), fmt=".2f")
glue("banana_momentum", float(final["momentum"]), fmt=".1e")
glue("banana_adam", float(final["adam"]), fmt=".1e")
glue("banana_adamw", float(final["adamw"]), fmt=".1e")
print(race_table.to_string(formatters={"best lr": "{:.2g}".format, "loss after 500 steps": "{:.1e}".format}))
print(f"loss after 500 steps: gd {final['gd']:.2f}, rmsprop {final['rmsprop']:.2f}, momentum {final['momentum']:.1e}, "
      f"adam {final['adam']:.1e}, adamw {final['adamw']:.1e}")

# %% mystnb={"image": {"alt": "Paths of six optimizers on Rosenbrock's banana valley, each at its best learning rate: gradient descent and RMSProp stall partway along the curved valley floor, while momentum, Nesterov, Adam and AdamW follow it to near the minimum at (1, 1). The right panel shows their losses per step."}}
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1.4, 1]})
plot_trajectories(banana, [t for _, t in race.values()], ax=left, title="500 steps on Rosenbrock, best lr each")
plot_losses([t for _, t in race.values()], ax=right, title="loss per step")
fig.tight_layout()
plt.show()

# %% [markdown]
# Every best rate lies inside the grid. Where the last column says
# "diverged", the best rate is simply the largest that does not blow up: as
# on the bowl, the stability limit sets the pace. The banana is
# deterministic (same start, exact gradients), so one run per setting is
# the whole story here; seeds enter with data, in Section 3 and from
# Section 6 on. Each at its best learning rate, plain gradient descent ends at a loss of
# {glue:text}`banana_gd`, still crawling along the curved valley floor, while
# momentum reaches {glue:text}`banana_momentum` and Adam
# {glue:text}`banana_adam`. Following a curved valley is exactly what momentum
# is good at: the velocity carries the point along the floor while the
# zig-zag across it cancels. RMSProp travels fast but ends at
# {glue:text}`banana_rmsprop`: dividing by $\sqrt{s}$ makes its steps about
# as long as the learning rate even close to the minimum, so it bounces
# around the floor instead of settling (Adam's momentum averages the bounces
# out). AdamW
# ({glue:text}`banana_adamw`) pays for its weight decay here: decay pulls
# towards $(0, 0)$ while the minimum is at $(1, 1)$. On a network, that pull is
# a useful regulariser; on a toy surface, it is a bias.
#
# ## 5. Explore it yourself
#
# Run the next cell in Jupyter or Colab: choose the surface, the optimizer,
# the learning rate and the momentum (Adam's $\beta_1$), and the path and the
# loss curve redraw. Things to try: find the learning rate at which gradient
# descent starts to diverge on the bowl; raise momentum towards 0.99 and watch
# it circle; give Adam a learning rate of 1 on the banana.

# %% tags=["remove-output", "nbval-ignore-output"]
optimizer_explorer(surface="quadratic", optimizer="momentum", lr=0.02, momentum=0.9, steps=100)

# %% [markdown]
# On this static page the explorer cannot run, so here are representative
# settings on the bowl, one optimizer per row, 100 steps each: a learning rate
# that is too small, the best of three candidates, and a large one. Each
# panel's title reports what the run did, so the labels come from the
# numbers.

# %% mystnb={"image": {"alt": "A three by three grid of paths on the elliptical bowl after 100 steps. Rows: gradient descent, momentum 0.9, Adam. Columns: a small learning rate (the path stops far short of the minimum), the best of a few candidates (the path reaches the minimum), and a large one (gradient descent and momentum diverge; Adam does not diverge but takes wide swings around the minimum). Each title gives the final loss or says diverged."}}
grid_settings = {  # (small, candidates for the best, large)
    "gd": (0.01, (0.03, 0.06, 0.09), 0.104),
    "momentum": (0.001, (0.003, 0.01, 0.03), 0.2),
    "adam": (0.01, (0.03, 0.1, 0.3), 3.0),
}
fig, axes = plt.subplots(3, 3, figsize=(9, 5.6), sharex=True, sharey=True)
fallback_rows = []
for row, (name, (small, candidates, large)) in zip(axes, grid_settings.items()):
    tries = {lr: run_trajectory(bowl, make_optimizer(name, lr, momentum=0.9), steps=100) for lr in (small, *candidates, large)}
    best = min(candidates, key=lambda lr: tries[lr].final_loss)
    for ax, lr in zip(row, (small, best, large)):
        t = tries[lr]
        status = "diverged" if t.diverged else f"loss {t.final_loss:.1e}"
        plot_trajectories(bowl, t, ax=ax, legend=False, resolution=80, title=f"{name}, lr {lr:g}: {status}")
        ax.title.set_fontsize("small")
        fallback_rows.append({"optimizer": name, "lr": lr, "after 100 steps": status})
    assert tries[small].final_loss > 100 * tries[best].final_loss, "the small rate is far behind the best"
    assert tries[large].diverged == (name != "adam"), "gradient descent and momentum diverge at the large rate, Adam does not"
for ax in axes.flat:
    ax.label_outer()
fig.tight_layout()
plt.show()
print(pd.DataFrame(fallback_rows).set_index(["optimizer", "lr"]).to_string())

# %% [markdown]
# In every row the small rate leaves the path far from the minimum after
# 100 steps. At the large rate, gradient descent and momentum diverge. Adam
# does not, even at a rate of 3, and its loss after 100 steps is no worse
# than at the best of its three middle candidates: its steps are about as
# long as the learning rate whatever the size of the gradient, so a large
# rate makes it swing widely around the minimum (see its path) rather than
# blow up. "Too large" for Adam shows up as noise, not as divergence.
#
# ## 6. Learning-rate schedules
#
# A constant learning rate is a compromise: large enough to make progress
# early, small enough not to bounce around the minimum late (the noise cloud
# of Section 3). **Schedules** change $\eta$ during training. We use four,
# each stepped after every batch (`fit(..., scheduler=..., scheduler_step="batch")`):
#
# - **step**: divide by 10 at 50% and 75% of training, the classic recipe;
# - **cosine**: glide from $\eta$ to 0 along half a cosine {cite}`loshchilov2017sgdr`;
# - **warm-up**: start at 1% of $\eta$ and rise linearly over the first 10%
#   of steps, then cosine {cite}`goyal2017accurate`; large-batch and
#   transformer training rely on it, because the first steps, from random
#   weights with fresh optimizer statistics, are the most fragile;
# - **one-cycle**: rise from $\eta/25$ to $\eta$ over the first 30%, then
#   fall to almost 0 {cite}`smith2017cyclical,smith2019super`.

# %% mystnb={"image": {"alt": "Learning rate per step for five schedules over the same run: constant, step (two drops by ten), cosine (smooth decay to zero), warm-up (short linear rise, then cosine) and one-cycle (rise to the peak at 30 percent, then decay)."}}
SCHEDULE_NAMES = ["constant", "step", "cosine", "warmup", "one-cycle"]
fig, ax = plt.subplots(figsize=(6.4, 3.0))
for name in SCHEDULE_NAMES:
    ax.plot(lr_curve(name, 400, lr=1.0), label=name)
ax.set_xlabel("step")
ax.set_ylabel("learning rate / peak")
ax.legend(fontsize="small", ncol=2)
plt.show()

# %% [markdown]
# We measure their effect on a real network: a multi-layer perceptron with
# one hidden layer of 64 units on the 8×8 handwritten digits (standardised),
# trained with SGD, momentum 0.9 and mini-batches of 32, for the same number
# of epochs under each schedule. We try two peak learning rates, a moderate
# one and an aggressive one, and repeat every run with three seeds (initial
# weights and order of the mini-batches).

# %%
digits = load("digits", seed=SEED).standardized()
train, val = digits.tensors("train"), digits.tensors("val")
loss_fn = nn.CrossEntropyLoss()


def train_digits(optimizer_name, lr, epochs, seed=SEED, batch_size=64, schedule=None, callbacks=(), momentum=0.9, restore_best=False):
    """Train a fresh MLP (64 -> 64 -> 10) on the digits; return (model, history).

    ``seed`` sets the initial weights and the order of the mini-batches. By
    default the model keeps its last weights, because here we measure
    training itself, not the best epoch.
    """
    torch.manual_seed(seed)
    model = mlp(digits.n_features, [64], digits.n_classes)
    optimizer = make_torch_optimizer(optimizer_name, model.parameters(), lr=lr, momentum=momentum)
    steps = epochs * -(-len(train[0]) // batch_size)  # batches per epoch, rounded up
    scheduler = make_scheduler(schedule, optimizer, total_steps=steps) if schedule else None
    history = fit(model, train, val, loss_fn=loss_fn, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                  scheduler=scheduler, scheduler_step="batch", callbacks=callbacks, restore_best=restore_best, device=DEVICE)
    return model, history


def mean_sd(values, fmt="{:.3f}"):
    """'mean ± sd' of a list of numbers, as text for a table."""
    return (fmt + " ± " + fmt).format(np.mean(values), np.std(values, ddof=1))


SEEDS = [100 * SEED + i for i in range(max(3, round(3 * BUDGET)))]
epochs_schedule = max(4, round(10 * BUDGET))
schedule_runs, schedule_histories = {}, {}
for peak in (0.05, 0.2):
    for name in SCHEDULE_NAMES:
        for seed in SEEDS:
            model, history = train_digits("momentum", peak, epochs_schedule, seed=seed, batch_size=32, schedule=name)
            schedule_runs[peak, name, seed] = (evaluate(model, *train, loss_fn)["loss"], history.val_metric[-1])
            schedule_histories[peak, name, seed] = history


def schedule_values(peak, name, which):
    return [schedule_runs[peak, name, seed][which] for seed in SEEDS]


schedule_table = pd.DataFrame([
    {"peak lr": peak, "schedule": name,
     "final train loss": mean_sd(schedule_values(peak, name, 0)),
     "final val accuracy": mean_sd(schedule_values(peak, name, 1))}
    for peak in (0.05, 0.2) for name in SCHEDULE_NAMES
]).set_index(["peak lr", "schedule"])
train_mean = {(p, n): np.mean(schedule_values(p, n, 0)) for p in (0.05, 0.2) for n in SCHEDULE_NAMES}
acc_mean = {(p, n): np.mean(schedule_values(p, n, 1)) for p in (0.05, 0.2) for n in SCHEDULE_NAMES}
acc_sd = {(p, n): np.std(schedule_values(p, n, 1), ddof=1) for p in (0.05, 0.2) for n in SCHEDULE_NAMES}
DECAYING = SCHEDULE_NAMES[1:]
const_loss, const_acc = train_mean[0.2, "constant"], acc_mean[0.2, "constant"]
worst_decay_acc = min(acc_mean[0.2, n] for n in DECAYING)
# Margins from the seed spread: the gap must exceed the largest sd of the runs compared.
largest_sd = max(acc_sd[0.2, n] for n in SCHEDULE_NAMES)
assert max(train_mean[0.2, n] for n in DECAYING) < const_loss / 10, "decay should rescue a too-high peak"
assert worst_decay_acc > const_acc + max(0.01, largest_sd), "decay should help accuracy at the high peak"
moderate = [acc_mean[0.05, n] for n in SCHEDULE_NAMES]
glue("n_seeds", len(SEEDS))
glue("epochs_schedule", epochs_schedule)
glue("const_high_acc", float(const_acc), fmt=".3f")
glue("const_high_train_loss", float(const_loss), fmt=".3f")
glue("decay_high_acc_min", float(worst_decay_acc), fmt=".3f")
glue("decay_high_train_loss_max", float(max(train_mean[0.2, n] for n in DECAYING)), fmt=".3f")
glue("moderate_spread", float(max(moderate) - min(moderate)), fmt=".3f")
glue("moderate_sd_max", float(max(acc_sd[0.05, n] for n in SCHEDULE_NAMES)), fmt=".3f")
print(f"mean ± sd over {len(SEEDS)} seeds, after {epochs_schedule} epochs")
print(schedule_table.to_string())
print(f"at peak 0.05, the schedules' mean accuracies span {max(moderate) - min(moderate):.3f}; "
      f"their largest sd is {max(acc_sd[0.05, n] for n in SCHEDULE_NAMES):.3f}")

# %% mystnb={"image": {"alt": "Validation accuracy per epoch for the five schedules at the moderate peak learning rate (left), where the curves overlap, and at the aggressive peak (right), where the constant schedule stays lower and erratic while the decaying schedules climb to the top by the end."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
for ax, peak in zip(axes, (0.05, 0.2)):
    for name in SCHEDULE_NAMES:
        h = schedule_histories[peak, name, SEEDS[0]]
        ax.plot(h.epoch, h.val_metric, label=name, marker=".")
    ax.set_title(f"peak learning rate {peak} (seed {SEEDS[0]})")
    ax.set_xlabel("epoch")
axes[0].set_ylabel("validation accuracy")
axes[0].set_ylim(0.8, 1.0)
axes[1].legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% [markdown]
# At the moderate peak, the schedule barely matters on this small problem:
# the mean final validation accuracies of the five schedules lie within
# {glue:text}`moderate_spread` of each other, while single runs vary by up to
# {glue:text}`moderate_sd_max` (sd over {glue:text}`n_seeds` seeds), so we
# cannot rank them. At the aggressive peak the schedule matters. Kept
# constant, that learning rate is too high: training never settles, the
# mean final training loss is {glue:text}`const_high_train_loss` and the
# validation accuracy {glue:text}`const_high_acc`. Every schedule that lowers
# the rate late in training turns the same peak into a good run, with a mean
# training loss of at most {glue:text}`decay_high_train_loss_max` and a mean
# validation accuracy of at least {glue:text}`decay_high_acc_min` after
# {glue:text}`epochs_schedule` epochs. On this network, then, a decaying
# schedule makes training much less sensitive to the peak learning rate:
# large early steps make fast progress and small late steps settle into the
# minimum. Warm-up shows no extra benefit here; its benefits are reported
# for large batches and deep networks {cite}`goyal2017accurate`, which we do
# not test.
#
# ## 7. The Training Convergence table
#
# Which optimizer trains this network fastest? A fair answer needs a
# definition of "fast" and a fair learning rate for each. We count the
# **epochs until validation accuracy first reaches 95%**, with
# a small callback that `fit` calls after every epoch:

# %%
print(inspect.getsource(ReachTarget))

# %% [markdown]
# Each optimizer gets its own grid of five learning rates, a factor of about
# 3 apart and centred where that optimizer works (their gradients'
# scales differ, so one shared grid would not do), the same network, the same
# data and mini-batches of 64. Every setting is trained with
# {glue:text}`n_seeds` seeds (the same seeds, hence the same initial weights,
# for every optimizer). For each optimizer we keep the rate with the fewest
# mean epochs to the target (a run that never reaches it counts as one epoch
# more than the budget; ties go to the smaller rate) and check that it is not
# at an end of its grid.

# %%
TARGET = 0.95
epochs_race = max(6, round(12 * BUDGET))
lr_options = {
    "gd": (0.1, 0.3, 1.0, 3.0, 10.0),
    "momentum": (0.01, 0.03, 0.1, 0.3, 1.0),
    "nesterov": (0.01, 0.03, 0.1, 0.3, 1.0),
    "rmsprop": (0.0003, 0.001, 0.003, 0.01, 0.03),
    "adam": (0.001, 0.003, 0.01, 0.03, 0.1),
    "adamw": (0.001, 0.003, 0.01, 0.03, 0.1),
}
race_epochs = {}  # (optimizer, lr) -> epochs to the target for each seed (epochs_race + 1 if never)
for name, lrs in lr_options.items():
    for lr in lrs:
        for seed in SEEDS:
            reach = ReachTarget(TARGET, stop=True)
            with warnings.catch_warnings():  # the largest rates may diverge: that run then never reaches the target
                warnings.simplefilter("ignore", RuntimeWarning)
                train_digits(name, lr, epochs_race, seed=seed, callbacks=[reach])
            race_epochs.setdefault((name, lr), []).append(reach.epoch if reach.epoch is not None else epochs_race + 1)
tuned_lr, convergence_rows = {}, []
for name, lrs in lr_options.items():
    means = [np.mean(race_epochs[name, lr]) for lr in lrs]
    best = int(np.argmin(means))  # argmin takes the first, so ties go to the smaller rate
    assert 0 < best < len(lrs) - 1, f"{name}: the chosen learning rate must lie inside its grid"
    tuned_lr[name] = lrs[best]
    best_epochs = race_epochs[name, lrs[best]]
    convergence_rows.append({
        "optimizer": name,
        "tuned lr": f"{lrs[best]:g}",
        f"epochs to {TARGET:.0%}": mean_sd(best_epochs, "{:.1f}"),
        "mean epochs at each lr of the grid": " / ".join(f"{lr:g}: {m:.1f}" for lr, m in zip(lrs, means)),
    })
convergence = pd.DataFrame(convergence_rows).set_index("optimizer")
best_means = pd.Series({name: np.mean(race_epochs[name, lr]) for name, lr in tuned_lr.items()})
best_sds = pd.Series({name: np.std(race_epochs[name, lr], ddof=1) for name, lr in tuned_lr.items()})
neighbour_cost = pd.Series({  # extra mean epochs one grid step (a factor of 3) away from the tuned rate, the cheaper side
    name: min(np.mean(race_epochs[name, lrs[i]]) for i in (lrs.index(tuned_lr[name]) - 1, lrs.index(tuned_lr[name]) + 1)) - best_means[name]
    for name, lrs in lr_options.items()
})
dummy_acc = DummyClassifier(strategy="most_frequent").fit(digits.train.X, digits.train.y).score(digits.val.X, digits.val.y)
assert best_means.max() <= epochs_race, "every optimizer reaches the target at its tuned learning rate"
assert dummy_acc < 0.2, "the majority class is far below the target"
glue("target_acc", TARGET, fmt=".0%")
glue("epochs_race", epochs_race)
glue("race_best_low", float(best_means.min()), fmt=".1f")
glue("race_best_high", float(best_means.max()), fmt=".1f")
glue("race_sd_max", float(best_sds.max()), fmt=".1f")
glue("neighbour_cost_min", float(neighbour_cost.min()), fmt=".1f")
glue("neighbour_cost_max", float(neighbour_cost.max()), fmt=".1f")
glue("dummy_acc", float(dummy_acc), fmt=".3f")
print(f"epochs to {TARGET:.0%} validation accuracy (at most {epochs_race} epochs), mean ± sd over {len(SEEDS)} seeds")
print(convergence.to_string())
print(f"tuned optimizers: {best_means.min():.1f} to {best_means.max():.1f} mean epochs; largest sd {best_sds.max():.1f}")
print(f"one grid step from the tuned rate costs {neighbour_cost.min():.1f} to {neighbour_cost.max():.1f} extra mean epochs")
print(f"dummy (most frequent class) validation accuracy: {dummy_acc:.3f}")

# %% [markdown]
# Every tuned optimizer reaches {glue:text}`target_acc` within
# {glue:text}`epochs_race` epochs, far above the {glue:text}`dummy_acc` of
# always guessing the most frequent class. Their mean epochs to the target
# range from {glue:text}`race_best_low` to {glue:text}`race_best_high`, while
# single runs of one setting vary with a standard deviation of up to
# {glue:text}`race_sd_max` epochs: on this network the six tuned optimizers
# are not distinguishable, and we do not rank them. The learning rate, in
# contrast, matters: one grid step (a factor of 3) away from each
# optimizer's tuned rate, on the cheaper side, costs from
# {glue:text}`neighbour_cost_min` to {glue:text}`neighbour_cost_max` extra
# epochs on average, and two steps away most runs are slower still or miss
# the target (last column). Large benchmarks report the same pattern
# {cite}`schmidt2021descending`: no optimizer wins everywhere, and tuning the
# learning rate (and its schedule) of a reasonable optimizer matters more
# than the choice among them. Adam with a learning rate near $10^{-3}$ is a
# popular default because it is forgiving, not because it is always fastest.
#
# ## 8. A learning-rate range test
#
# The grids above cost {glue:text}`race_runs` training runs. Smith's
# **learning-rate range test** {cite}`smith2017cyclical` looks for a good
# rate in a single short run: start at a tiny rate, multiply it by a constant
# factor after every mini-batch, and watch the (smoothed) training loss. It
# first barely moves, then falls faster and faster, and finally blows up.
# A common rule of thumb (a heuristic, not a theorem) takes one tenth of the
# rate at which the smoothed loss was lowest. `helpers.optim.lr_range_test`
# runs the test for 100 mini-batches, from $10^{-5}$ to $10$; we run it for
# each optimizer with the same {glue:text}`n_seeds` seeds and ask whether its
# suggestion lands near the rate the grid search chose.

# %%
print(inspect.getsource(RangeTest))

# %%
range_tests = {}
for name in lr_options:
    for seed in SEEDS:
        torch.manual_seed(seed)
        model = mlp(digits.n_features, [64], digits.n_classes)
        optimizer = make_torch_optimizer(name, model.parameters(), lr=1e-3)
        range_tests[name, seed] = lr_range_test(model, optimizer, train, loss_fn, lr_min=1e-5, lr_max=10.0, steps=100, seed=seed)
suggested = pd.Series({name: float(np.exp(np.mean([np.log(range_tests[name, s].suggested_lr) for s in SEEDS]))) for name in lr_options})
range_table = pd.DataFrame({
    "suggested lr (geometric mean)": suggested.map("{:.3g}".format),
    "suggestions per seed": [" / ".join(f"{range_tests[n, s].suggested_lr:.2g}" for s in SEEDS) for n in lr_options],
    "tuned lr (grid search)": pd.Series(tuned_lr).map("{:g}".format),
    "suggested / tuned": (suggested / pd.Series(tuned_lr)).round(2),
})
ratio = suggested / pd.Series(tuned_lr)
near = int(((ratio > 1 / 3) & (ratio < 3)).sum())
assert (ratio < 3).all(), "where the suggestion misses, it is too small (cautious), never more than 3 times too large"
glue("race_runs", len(race_epochs) * len(SEEDS))
glue("range_near", near)
glue("range_n_opt", len(lr_options))
glue("range_ratio_gd", float(ratio["gd"]), fmt=".2f")
print(range_table.to_string())
print(f"suggestion within a factor of 3 of the tuned rate for {near} of {len(lr_options)} optimizers "
      f"({len(race_epochs) * len(SEEDS)} training runs for the grid search, {len(range_tests)} range tests of 100 steps)")

# %% mystnb={"image": {"alt": "Smoothed training loss against the learning rate on a log axis during range tests for SGD with momentum and for Adam: the loss is flat at tiny rates, falls steeply over about two decades, reaches a minimum and then shoots up. Dashed lines mark the suggested rate, dotted lines the rate tuned by grid search."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
for ax, name in zip(axes, ("momentum", "adam")):
    for seed in SEEDS:
        r = range_tests[name, seed]
        ax.plot(r.lrs, r.losses, linewidth=1, label=f"seed {seed}")
    ax.axvline(suggested[name], color="black", linestyle="--", label="suggested (lowest / 10)")
    ax.axvline(tuned_lr[name], color="grey", linestyle=":", label="tuned by grid search")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_title(f"range test, {name}")
axes[0].set_ylabel("smoothed training loss")
axes[1].legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% [markdown]
# The curves have the shape Smith describes: flat, then a steep fall, then
# an explosion once the rate is too large. The suggestion lands within a
# factor of 3 (one step of our grids) of the tuned rate for
# {glue:text}`range_near` of the {glue:text}`range_n_opt` optimizers. Where
# it misses, as for plain SGD (suggested / tuned = {glue:text}`range_ratio_gd`
# here), it errs on the cautious side: the rule of thumb "a tenth of the
# lowest point" is a safety margin, and the range test sees only the first
# 100 mini-batches of training, not the epochs that the race measures. On
# this network, then, one cheap test gives a rate near the tuned one, and a
# short grid around it (as in Section 7) settles the rest.
#
# ## 9. When the learning rate is far too high
#
# Section 1 showed divergence on the bowl: above $2/b$ every step
# overshoots by more than it corrects. On a network the same happens, only
# faster: the loss overflows to infinity or NaN (*not a number*) within an
# epoch, and every later step is garbage. `helpers.train.fit` checks the loss
# after every epoch; when it is no longer finite, it stops, warns, and, with
# its default `restore_best=True`, puts back the weights of the epoch with
# the lowest validation loss (the starting weights if no epoch finished with
# a finite loss), and says why in `History.stop_reason`. Here is SGD with a
# learning rate of 10, with `restore_best=True`:

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    kept, blown = train_digits("gd", 10.0, epochs=max(4, round(10 * BUDGET)), restore_best=True)
divergence_warnings = [w for w in caught if issubclass(w.category, RuntimeWarning) and "training stopped" in str(w.message)]
assert blown.stopped_early and divergence_warnings, "fit should stop with a warning when the loss blows up"
kept_val = evaluate(kept, *val, loss_fn)
torch.manual_seed(SEED)
untrained_val = evaluate(mlp(digits.n_features, [64], digits.n_classes), *val, loss_fn)
assert np.isfinite(kept_val["loss"]), "the kept weights are usable, not NaN"
if blown.best_epoch is None:  # no epoch had a finite loss: fit kept the starting weights
    assert kept_val["loss"] == untrained_val["loss"]
else:  # the best of the epochs that overshot: finite, but no good
    assert kept_val["loss"] > untrained_val["loss"], "the kept epoch had already overshot"
glue("diverged_epochs", len(blown))
print("warning:", divergence_warnings[0].message)
print("History.stop_reason:", blown.stop_reason)
print("training losses per epoch:", [f"{v:.3g}" for v in blown.train_loss])
print(f"best epoch: {blown.best_epoch}; validation loss of the weights kept: {kept_val['loss']:.3g} "
      f"(accuracy {kept_val['accuracy']:.3f}); of the untrained network: {untrained_val['loss']:.3f}")

# %% [markdown]
# The run stopped after {glue:text}`diverged_epochs` epochs instead of
# running on with meaningless numbers, and the message names the usual
# causes. The last line shows what `restore_best` kept: the weights of the
# epoch with the lowest finite validation loss (or the starting weights if
# there was none). That guarantees usable numbers, not a good model: when
# the first epoch has already overshot, the "best" weights can be far worse
# than the untrained network's, as the two validation losses in the last
# line show for this run. The fix is the one the message suggests: a
# learning rate 10 to 100 times smaller (or a warm-up, so the first steps
# are small), and standardised inputs. The range test of Section 8 finds
# that scale in one short run.
#
# ## Exercises
#
# **[Do these exercises on Colab](https://colab.research.google.com/github/ai-training-course/ai-training-course/blob/main/notebooks/exercises/05_optimization.ipynb)**: the student version, with stubs instead of solutions.
#
# Each exercise has a check: run it after your answer. `ex.q1.hint()` gives a
# hint (`ex.q1.hint(2)` a stronger one) and `ex.q1.solution()` shows a
# solution.
#
# ```{exercise} Predict, then run: where does momentum blow up?
# :label: ch05-ex1
# On the bowl of Section 1 ($a = 1$, $b = 20$), gradient descent diverges
# above $2/b$ = {glue:text}`lr_limit`. Heavy-ball momentum with $\mu = 0.9$
# (in `torch.optim.SGD`'s convention) overshoots more. Is its largest stable
# learning rate `"smaller"` than $2/b$, the `"same"`, or `"larger"`? Set
# `momentum_limit_guess`, *then* run the check and the experiment after it.
# ```
#
# ```{solution-start} ch05-ex1
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch05-ex1-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
momentum_limit_guess = "larger"
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch05-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q1.check()

# %%
low, high = 0.01, 1.0  # bisection: momentum converges at low, diverges at high
for _ in range(12):
    middle = (low + high) / 2
    if run_trajectory(bowl, make_optimizer("momentum", middle, momentum=0.9), steps=1000).diverged:
        high = middle
    else:
        low = middle
print(f"gradient descent diverges above {2 / 20:.3f}; momentum 0.9 above {low:.3f} "
      f"(theory for the heavy ball on a quadratic: 2 (1 + mu) / b = {2 * 1.9 / 20:.3f})")
assert abs(low - 2 * 1.9 / 20) < 0.01

# %% [markdown]
# ```{exercise} Momentum, one step
# :label: ch05-ex2
# Write `momentum_step(x, velocity, grad, lr, momentum)`, which performs one
# step of heavy-ball momentum in `torch.optim.SGD`'s convention and returns the
# pair `(new_x, new_velocity)`. The arguments `x`, `velocity` and `grad` are
# NumPy arrays of the same shape; the velocity starts at zeros.
# ```
#
# ```{solution-start} ch05-ex2
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch05-ex2-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def momentum_step(x, velocity, grad, lr, momentum):
    ### BEGIN SOLUTION
    new_velocity = momentum * velocity + grad
    return x - lr * new_velocity, new_velocity
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch05-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q2.check()

# %% [markdown]
# ```{exercise} Diagnose: a learning-rate sweep
# :label: ch05-ex3
# A colleague tunes Adam on the banana with the sweep below (loss after 500
# steps at each rate) and reports "Adam's best learning rate is 0.1". What
# is wrong with the conclusion? Set `diagnosis` to one letter:
#
# - `"A"`: Adam suits this surface badly; the sweep should use momentum;
# - `"B"`: the best rate is the largest one tried, so the true best may be larger: the grid must be extended upwards;
# - `"C"`: 500 steps are too few; the same sweep run longer would settle it;
# - `"D"`: the rate was chosen on the data it is evaluated on.
# ```

# %%
colleague_grid = np.geomspace(1e-4, 0.1, 7)
colleague_sweep = pd.Series({f"{lr:.2g}": run_trajectory(banana, make_optimizer("adam", lr), steps=500).final_loss for lr in colleague_grid},
                            name="loss after 500 steps")
colleague_sweep.index.name = "Adam learning rate"
print(colleague_sweep.map("{:.3g}".format).to_string())

# %% [markdown]
# ```{solution-start} ch05-ex3
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch05-ex3-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
diagnosis = "B"
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch05-ex3-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q3.check()

# %% [markdown]
# ```{exercise} Implement: warm-up, then cosine
# :label: ch05-ex4
# Write `warmup_cosine_lr(step, total_steps, warmup_steps, peak_lr)`, the
# learning rate at step `step` (0, 1, ..., `total_steps - 1`): during the first
# `warmup_steps` steps it rises linearly, `peak_lr * (step + 1) / warmup_steps`;
# afterwards it follows half a cosine from `peak_lr` down towards 0,
# `peak_lr * (1 + cos(pi * k / (total_steps - warmup_steps))) / 2` with
# `k = step - warmup_steps`. Return a float.
# ```
#
# ```{solution-start} ch05-ex4
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch05-ex4-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def warmup_cosine_lr(step, total_steps, warmup_steps, peak_lr):
    ### BEGIN SOLUTION
    if step < warmup_steps:
        return peak_lr * (step + 1) / warmup_steps
    k = step - warmup_steps
    return peak_lr * (1 + np.cos(np.pi * k / (total_steps - warmup_steps))) / 2
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch05-ex4-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q4.check()

# %% [markdown]
# ## Summary
#
# - Gradient descent steps against the gradient. Its largest stable learning
#   rate is set by the steepest direction ($\eta < 2/L$ for curvature $L$),
#   so in a narrow valley the flat direction crawls: the condition number
#   sets the speed.
# - Momentum accumulates a velocity that speeds up consistent directions and
#   cancels oscillations; on a quadratic it turns $\kappa$ into $\sqrt\kappa$,
#   but only with a momentum matched to the learning rate. Nesterov looks one
#   step ahead.
# - Mini-batch gradients are noisy but cheap: per epoch they make far more
#   progress than full-batch descent, and the noise is tamed by shrinking the
#   learning rate over time.
# - RMSProp gives each parameter its own step size; Adam adds momentum and
#   bias correction; AdamW decouples weight decay from the adaptive step. Each
#   is a few lines, and ours match `torch.optim` to rounding error.
# - Schedules (step, cosine, warm-up, one-cycle) make training much less
#   sensitive to the peak learning rate.
# - Compared fairly (each with its own tuned learning rate, epochs to a
#   target accuracy over several seeds), the optimizers could not be told
#   apart on our small network, while moving one or two factors of 3 away
#   from the tuned learning rate cost more epochs than that.
# - A learning-rate range test {cite}`smith2017cyclical` (one short run with
#   a growing rate) suggests a rate; on our network it landed near the tuned
#   rate for most optimizers (see Section 8 for which).
# - A far-too-high learning rate makes the loss infinite; `fit` stops, warns
#   and reports it in `History.stop_reason`.
#
# For the theory of optimization for machine learning, see
# {cite}`goodfellow2016deep`, chapter 8.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
