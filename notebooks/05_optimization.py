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
from torch import nn

from helpers import glue, setup
from helpers.data import load
from helpers.exercises import ch05_optimization as ex
from helpers.models import mlp
from helpers.optim import (
    OPTIMIZERS,
    Adam,
    ReachTarget,
    least_squares,
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
glue("diverge_step", len(runs[0.104].losses) - 1)
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
glue("mu_best", mu_best, fmt=".2f")
glue("steps_gd_best", heavy_steps["gradient descent, best lr"])
glue("steps_hb_best", heavy_steps["momentum, best lr and mu"])
glue("steps_hb_09", heavy_steps["momentum, mu = 0.9"])
glue("sqrt_kappa", float(np.sqrt(kappa)), fmt=".1f")
print({name: steps for name, steps in heavy_steps.items()})

# %% [markdown]
# Gradient descent at its best learning rate needs {glue:text}`steps_gd_best`
# steps; the heavy ball with $\mu$ = {glue:text}`mu_best` needs
# {glue:text}`steps_hb_best`, close to the factor $\sqrt\kappa \approx$
# {glue:text}`sqrt_kappa` the theory promises. But momentum is not free
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
batch_runs = {}
for batch_size, label in [(n_line, "full batch"), (32, "mini-batch of 32"), (1, "stochastic (batch of 1)")]:
    grad_fn = minibatch_gradient(line_loss, n_line, batch_size, seed=SEED)
    trajectory = run_trajectory(line_loss, make_optimizer("gd", 0.05), steps=epochs_line * grad_fn.steps_per_epoch, grad_fn=grad_fn, label=label)
    trajectory.steps_per_epoch = grad_fn.steps_per_epoch
    batch_runs[label] = trajectory

rows = []
for label, t in batch_runs.items():
    excess = t.losses - lowest  # how far above the best possible loss
    rows.append({
        "batch": label,
        "steps per epoch": t.steps_per_epoch,
        "excess loss after 1 epoch": excess[t.steps_per_epoch],
        f"excess loss after {epochs_line} epochs": excess[-1],
        "updates that raised the loss": float(np.mean(np.diff(t.losses) > 0)),
    })
batch_table = pd.DataFrame(rows).set_index("batch")
full, mini, sgd = (batch_table.iloc[i] for i in range(3))
assert sgd["excess loss after 1 epoch"] < mini["excess loss after 1 epoch"] < full["excess loss after 1 epoch"], "more steps per epoch, more progress per epoch"
assert full["updates that raised the loss"] == 0 and sgd["updates that raised the loss"] > mini["updates that raised the loss"] + 0.1, "smaller batches are noisier"
glue("n_line", n_line)
glue("excess_full_1", float(full["excess loss after 1 epoch"]), fmt=".3f")
glue("excess_mini_1", float(mini["excess loss after 1 epoch"]), fmt=".3f")
glue("excess_sgd_1", float(sgd["excess loss after 1 epoch"]), fmt=".3f")
glue("uphill_mini", float(mini["updates that raised the loss"]), fmt=".0%")
glue("uphill_sgd", float(sgd["updates that raised the loss"]), fmt=".0%")
batch_table.style.format({"updates that raised the loss": "{:.0%}", "excess loss after 1 epoch": "{:.4f}", f"excess loss after {epochs_line} epochs": "{:.4f}"})

# %% mystnb={"image": {"alt": "Left: paths of full-batch, mini-batch and stochastic gradient descent on the tilted valley of a line fit; the full-batch path is smooth and short, the mini-batch path wobbles, the stochastic one jitters around the minimum. Right: excess loss per epoch on a log scale, where the stochastic curve drops fastest but stays noisy."}}
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [1.4, 1]})
plot_trajectories(line_loss, list(batch_runs.values()), ax=left, title=f"{epochs_line} epochs at lr 0.05")
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
# After one epoch, the same amount of arithmetic, full-batch descent is still
# {glue:text}`excess_full_1` above the lowest loss, mini-batches of 32 are at
# {glue:text}`excess_mini_1` and single examples at {glue:text}`excess_sgd_1`.
# The price is noise. Every full-batch step went downhill; so did all but
# {glue:text}`uphill_mini` of the mini-batch steps, whose gradients still
# agree while the point is far from the minimum; but {glue:text}`uphill_sgd`
# of the single-example steps *raised* the loss. With a constant learning
# rate the stochastic path never settles: it jitters in a cloud around the
# minimum whose size grows with $\eta$. Robbins and Monro showed that a
# learning rate that shrinks over time (with $\sum_t \eta_t = \infty$,
# $\sum_t \eta_t^2 < \infty$) makes the cloud shrink to the point; the
# schedules of Section 6 are the practical version. In practice mini-batches
# win: they are nearly as cheap per sample as single examples on hardware
# that computes a whole batch at once, and far less noisy.
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
# rate, so for each we try 13 learning rates from $10^{-4}$ to $1$ and keep
# the one with the lowest loss after 500 steps on the banana, with the default
# $\mu = 0.9$, $\beta = (0.9, 0.999)$ and, for AdamW, $\lambda = 0.01$.

# %%
lr_grid = np.geomspace(1e-4, 1.0, 13)
race = {}
for name in OPTIMIZERS:
    candidates = [run_trajectory(banana, make_optimizer(name, lr), steps=500, label=f"{name} (lr {lr:.2g})") for lr in lr_grid]
    finite = [(t.final_loss if not t.diverged else np.inf, i) for i, t in enumerate(candidates)]
    best_index = min(finite)[1]
    race[name] = (lr_grid[best_index], candidates[best_index])
race_table = pd.DataFrame({
    "best lr": [lr for lr, _ in race.values()],
    "loss after 500 steps": [t.final_loss for _, t in race.values()],
    "first step with loss < 0.01": pd.array([t.steps_to(0.01) for _, t in race.values()], dtype="Int64"),
}, index=pd.Index(list(race), name="optimizer"))
final = race_table["loss after 500 steps"]
assert max(final["momentum"], final["nesterov"], final["adam"]) < final["gd"] / 10, "momentum-based methods should beat plain gradient descent on the banana"
assert final["adam"] < final["rmsprop"], "Adam's momentum should help RMSProp along the curved valley"
glue("banana_gd", float(final["gd"]), fmt=".2f")
glue("banana_rmsprop", float(final["rmsprop"]), fmt=".2f")
glue("banana_momentum", float(final["momentum"]), fmt=".1e")
glue("banana_adam", float(final["adam"]), fmt=".1e")
glue("banana_adamw", float(final["adamw"]), fmt=".1e")
race_table.style.format({"best lr": "{:.2g}", "loss after 500 steps": "{:.2e}"})

# %% mystnb={"image": {"alt": "Paths of six optimizers on Rosenbrock's banana valley, each at its best learning rate: gradient descent and RMSProp stall partway along the curved valley floor, while momentum, Nesterov, Adam and AdamW follow it to near the minimum at (1, 1). The right panel shows their losses per step."}}
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1.4, 1]})
plot_trajectories(banana, [t for _, t in race.values()], ax=left, title="500 steps on Rosenbrock, best lr each")
plot_losses([t for _, t in race.values()], ax=right, title="loss per step")
fig.tight_layout()
plt.show()

# %% [markdown]
# Each at its best learning rate, plain gradient descent ends at a loss of
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
# settings on the bowl, one optimizer per row, and for each a learning rate
# that is too small, one that works well, and one that is too large.

# %% mystnb={"image": {"alt": "A three by three grid of paths on the elliptical bowl. Rows: gradient descent, momentum 0.9, Adam. Columns: a learning rate that is too small (the path stops short of the minimum), a good one (the path reaches the minimum), and a too-large one (gradient descent diverges, momentum spirals wildly, Adam oscillates around the minimum)."}}
grid_settings = {"gd": (0.01, 0.09, 0.104), "momentum": (0.001, 0.02, 0.15), "adam": (0.01, 0.2, 2.0)}
fig, axes = plt.subplots(3, 3, figsize=(9, 5.6), sharex=True, sharey=True)
for row, (name, lrs) in zip(axes, grid_settings.items()):
    for ax, lr, verdict in zip(row, lrs, ("too small", "good", "too large")):
        t = run_trajectory(bowl, make_optimizer(name, lr, momentum=0.9), steps=100)
        status = "diverged" if t.diverged else f"loss {t.final_loss:.1e}"
        plot_trajectories(bowl, t, ax=ax, legend=False, resolution=80, title=f"{name}, lr {lr:g} ({verdict}): {status}")
        ax.title.set_fontsize("small")
for ax in axes.flat:
    ax.label_outer()
fig.tight_layout()
plt.show()

# %% [markdown]
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
# of epochs under each schedule. We try two peak learning rates: a moderate
# one and an aggressive one.

# %%
digits = load("digits", seed=SEED).standardized()
train, val = digits.tensors("train"), digits.tensors("val")
loss_fn = nn.CrossEntropyLoss()


def train_digits(optimizer_name, lr, epochs, batch_size=64, schedule=None, callbacks=(), momentum=0.9):
    """Train a fresh MLP (64 -> 64 -> 10) on the digits; return (model, history)."""
    torch.manual_seed(SEED)
    model = mlp(digits.n_features, [64], digits.n_classes)
    optimizer = make_torch_optimizer(optimizer_name, model.parameters(), lr=lr, momentum=momentum)
    steps = epochs * -(-len(train[0]) // batch_size)  # batches per epoch, rounded up
    scheduler = make_scheduler(schedule, optimizer, total_steps=steps) if schedule else None
    history = fit(model, train, val, loss_fn=loss_fn, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                  scheduler=scheduler, scheduler_step="batch", callbacks=callbacks, restore_best=False, device=DEVICE)
    return model, history


epochs_schedule = max(4, round(12 * BUDGET))
schedule_rows, schedule_histories = [], {}
for peak in (0.05, 0.2):
    for name in SCHEDULE_NAMES:
        model, history = train_digits("momentum", peak, epochs_schedule, batch_size=32, schedule=name)
        schedule_histories[(peak, name)] = history
        schedule_rows.append({
            "peak lr": peak,
            "schedule": name,
            "final train loss": evaluate(model, *train, loss_fn)["loss"],
            "final val loss": history.val_loss[-1],
            "final val accuracy": history.val_metric[-1],
        })
schedule_table = pd.DataFrame(schedule_rows).set_index(["peak lr", "schedule"])
aggressive = schedule_table.loc[0.2]
decaying = aggressive.drop(index="constant")
assert (decaying["final train loss"] < aggressive.loc["constant", "final train loss"] / 10).all(), "decay should rescue a too-high peak"
assert decaying["final val accuracy"].min() > aggressive.loc["constant", "final val accuracy"] + 0.01, "decay should help accuracy at the high peak"
moderate = schedule_table.loc[0.05, "final val accuracy"]
glue("epochs_schedule", epochs_schedule)
glue("const_high_acc", float(aggressive.loc["constant", "final val accuracy"]), fmt=".1%")
glue("const_high_train_loss", float(aggressive.loc["constant", "final train loss"]), fmt=".2f")
glue("decay_high_acc_min", float(decaying["final val accuracy"].min()), fmt=".1%")
glue("decay_high_train_loss_max", float(decaying["final train loss"].max()), fmt=".3f")
glue("moderate_spread", float(moderate.max() - moderate.min()), fmt=".1%")
glue("cosine_high_acc", float(aggressive.loc["cosine", "final val accuracy"]), fmt=".1%")
schedule_table.style.format({"final train loss": "{:.4f}", "final val loss": "{:.3f}", "final val accuracy": "{:.1%}"})

# %% mystnb={"image": {"alt": "Validation accuracy per epoch for the five schedules at the moderate peak learning rate (left), where the curves overlap, and at the aggressive peak (right), where the constant schedule stays lower and erratic while the decaying schedules climb to the top by the end."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
for ax, peak in zip(axes, (0.05, 0.2)):
    for name in SCHEDULE_NAMES:
        h = schedule_histories[(peak, name)]
        ax.plot(h.epoch, h.val_metric, label=name, marker=".")
    ax.set_title(f"peak learning rate {peak}")
    ax.set_xlabel("epoch")
axes[0].set_ylabel("validation accuracy")
axes[0].set_ylim(0.8, 1.0)
axes[1].legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% [markdown]
# At the moderate peak, the schedule barely matters on this small problem:
# the final validation accuracies lie within {glue:text}`moderate_spread` of
# each other. At the aggressive peak it matters a lot. Kept constant, that
# learning rate is too high: training never settles, the final training loss
# is {glue:text}`const_high_train_loss` and validation accuracy
# {glue:text}`const_high_acc`. Every schedule that lowers the rate late in
# training turns the same peak into a good run, with a training loss of at
# most {glue:text}`decay_high_train_loss_max` and a validation accuracy of at
# least {glue:text}`decay_high_acc_min` after {glue:text}`epochs_schedule`
# epochs. That is the practical value of a schedule: it makes training far
# less sensitive to the peak learning rate, because large early steps make
# fast progress and small late steps settle into the minimum. (Warm-up shows
# no extra benefit on a network this small; its benefits appear with large
# batches and deep networks {cite}`goyal2017accurate`.)
#
# ## 7. The Training Convergence table
#
# Which optimizer trains this network fastest? A fair answer needs a
# definition of "fast" and a fair learning rate for each. We count the
# **epochs (and seconds) until validation accuracy first reaches 95%**, with
# a small callback that `fit` calls after every epoch:

# %%
print(inspect.getsource(ReachTarget))

# %% [markdown]
# Each optimizer gets the best of three learning rates about a factor of 3
# apart (fewest epochs to the target, then highest final accuracy), the same network, the same data, the same initial weights and
# mini-batches of 64.

# %%
TARGET = 0.95
epochs_race = max(6, round(12 * BUDGET))
lr_options = {
    "gd": (0.1, 0.3, 1.0),
    "momentum": (0.01, 0.03, 0.1),
    "nesterov": (0.01, 0.03, 0.1),
    "rmsprop": (0.001, 0.003, 0.01),
    "adam": (0.003, 0.01, 0.03),
    "adamw": (0.003, 0.01, 0.03),
}
convergence_rows = []
for name, lrs in lr_options.items():
    tries = []
    for lr in lrs:
        reach = ReachTarget(TARGET)
        _, history = train_digits(name, lr, epochs_race, callbacks=[reach])
        tries.append((reach.epoch if reach.epoch is not None else np.inf, -history.val_metric[-1], lr, reach, history))
    epochs_to, _, best_lr, reach, history = min(tries, key=lambda item: item[:3])
    convergence_rows.append({
        "optimizer": name,
        "learning rate": best_lr,
        f"epochs to {TARGET:.0%}": reach.epoch,
        f"seconds to {TARGET:.0%}": reach.seconds,
        "final val accuracy": history.val_metric[-1],
        "epochs to target at the 3 rates": " / ".join("-" if np.isinf(t[0]) else str(t[0]) for t in tries),
    })
convergence = pd.DataFrame(convergence_rows).set_index("optimizer")
epochs_col = convergence[f"epochs to {TARGET:.0%}"]
assert epochs_col.notna().all(), "every optimizer should reach the target at its best learning rate"
assert (convergence["final val accuracy"] > 0.93).all()
fastest = epochs_col.astype(float).idxmin()
glue("target_acc", TARGET, fmt=".0%")
glue("epochs_race", epochs_race)
glue("race_fastest_epochs", int(epochs_col[fastest]))
glue("race_gd_epochs", int(epochs_col["gd"]))
glue("race_adam_epochs", int(epochs_col["adam"]))
glue("race_best_acc", float(convergence["final val accuracy"].max()), fmt=".1%")
glue("race_worst_acc", float(convergence["final val accuracy"].min()), fmt=".1%")
convergence.style.format({"learning rate": "{:g}", f"seconds to {TARGET:.0%}": "{:.2f}", "final val accuracy": "{:.1%}"})

# %% [markdown]
# All six optimizers reach {glue:text}`target_acc` within
# {glue:text}`epochs_race` epochs once each has a suitable learning rate: the
# fastest need {glue:text}`race_fastest_epochs` epochs, plain SGD
# {glue:text}`race_gd_epochs` and Adam
# {glue:text}`race_adam_epochs`, and final accuracies span only
# {glue:text}`race_worst_acc` to {glue:text}`race_best_acc`. The last column
# (epochs to the target at each of the three learning rates; "-" when it was
# not reached in {glue:text}`epochs_race` epochs) tells the bigger story:
# within each optimizer, a factor of 3 in learning rate changes the epochs to
# the target as much as switching optimizers does, or more.
# Large benchmarks find the same thing {cite}`schmidt2021descending`: no
# optimizer wins everywhere, and tuning the learning rate (and its schedule)
# of a reasonable optimizer matters more than the choice among them. Adam
# with a learning rate near $10^{-3}$ is a popular default because it is
# forgiving, not because it is always fastest. (Seconds are wall-clock time
# on this machine and vary from run to run; epochs do not.)
#
# ## 8. When the learning rate is far too high
#
# Section 1 showed divergence on the bowl: above $2/b$ every step
# overshoots by more than it corrects. On a network the same happens, only
# faster: the loss overflows to infinity or NaN (*not a number*) within an
# epoch, and every later step is garbage. `helpers.train.fit` checks the loss
# after every epoch; when it is no longer finite, it stops, warns, keeps the
# weights of the best epoch and says why in `History.stop_reason`. Here is
# SGD with a learning rate of 10:

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    _, blown = train_digits("gd", 10.0, epochs=max(4, round(10 * BUDGET)))
divergence_warnings = [w for w in caught if issubclass(w.category, RuntimeWarning) and "training stopped" in str(w.message)]
assert blown.stopped_early and divergence_warnings, "fit should stop with a warning when the loss blows up"
glue("diverged_epochs", len(blown))
print("warning:", divergence_warnings[0].message)
print("History.stop_reason:", blown.stop_reason)
print("training losses per epoch:", [f"{v:.3g}" for v in blown.train_loss])

# %% [markdown]
# The run stopped after {glue:text}`diverged_epochs` epochs instead of
# running on with meaningless numbers, and the message names the usual
# causes. The fix is the one the message suggests: a learning rate 10 to 100
# times smaller (or a warm-up, so the first steps are small), and
# standardised inputs.
#
# ## Exercises
#
# **[Do these exercises on Colab](https://colab.research.google.com/github/ai-training-course/ai-training-course/blob/main/notebooks/exercises/05_optimization.ipynb)**: the student version, with stubs instead of solutions.
#
# Each exercise has a check: run it after your answer. `ex.q1.hint()` gives a
# hint (`ex.q1.hint(2)` a stronger one) and `ex.q1.solution()` shows a
# solution.
#
# ```{exercise} Momentum, one step
# :label: ch05-ex1
# Write `momentum_step(x, velocity, grad, lr, momentum)`, which performs one
# step of heavy-ball momentum in `torch.optim.SGD`'s convention and returns the
# pair `(new_x, new_velocity)`. The arguments `x`, `velocity` and `grad` are
# NumPy arrays of the same shape; the velocity starts at zeros.
# ```
#
# ```{solution-start} ch05-ex1
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch05-ex1-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def momentum_step(x, velocity, grad, lr, momentum):
    ### BEGIN SOLUTION
    new_velocity = momentum * velocity + grad
    return x - lr * new_velocity, new_velocity
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch05-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q1.check()

# %% [markdown]
# ```{exercise} Adam, one step
# :label: ch05-ex2
# Write `adam_step(x, m, s, grad, t, lr, beta1=0.9, beta2=0.999, eps=1e-8)`,
# one step of Adam, returning `(new_x, new_m, new_s)`. `t` is the number of
# the step, starting at 1; `m` and `s` start at zeros. The check compares your
# steps with `torch.optim.Adam`'s.
# ```
#
# ```{solution-start} ch05-ex2
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch05-ex2-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def adam_step(x, m, s, grad, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    ### BEGIN SOLUTION
    m = beta1 * m + (1 - beta1) * grad
    s = beta2 * s + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    s_hat = s / (1 - beta2**t)
    return x - lr * m_hat / (np.sqrt(s_hat) + eps), m, s
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch05-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q2.check()

# %% [markdown]
# ```{exercise} The largest stable learning rate
# :label: ch05-ex3
# For a quadratic loss $f(\theta) = \frac12 \sum_i c_i \theta_i^2$ with
# curvatures $c_i > 0$, write `max_stable_lr(curvatures)`: the learning rate
# below which gradient descent converges from any starting point, and at or
# above which it does not. `curvatures` is a list of positive numbers.
# ```
#
# ```{solution-start} ch05-ex3
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch05-ex3-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def max_stable_lr(curvatures):
    ### BEGIN SOLUTION
    return 2.0 / max(curvatures)
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch05-ex3-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q3.check()

# %% [markdown]
# ```{exercise} Warm-up, then cosine
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
# - Compared fairly (each with a tuned learning rate, time to a target
#   accuracy), the optimizers are close on a small network; the learning rate
#   matters more than the optimizer.
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
