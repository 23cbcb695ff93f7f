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
# # Chapter 4: Loss functions
#
# The training loop of Chapter 1 never sees "accuracy" or "a good fit": it
# sees one number, the **loss**, and its gradient. Whatever the loss rewards
# is what the model learns. Choose mean squared error and a handful of broken
# measurements can tilt a regression line; choose squared error on
# probabilities and a classifier that starts out confidently wrong may never
# recover; train on data where one class is rare and the plain loss is
# happiest ignoring it. This chapter writes the common losses from scratch,
# checks each against PyTorch, and runs experiments that show *why* the
# choice changes what training does.
#
# **After this chapter you will be able to**
#
# - write MSE, MAE, Huber, cross-entropy, binary cross-entropy, hinge, focal
#   and label-smoothed losses in a few lines, and check them against `torch.nn.functional`;
# - explain, from its gradient, how much each training example pulls on the model under each loss;
# - choose a robust regression loss when the data has outliers;
# - say why cross-entropy learns faster than squared error on probabilities and gives calibrated probabilities;
# - handle class imbalance with class weights (and know what focal loss does and does not do);
# - use label smoothing and predict its effect on the model's confidence.

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
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from helpers import glue, losses, setup
from helpers.data import load, make_imbalanced, make_outlier_regression
from helpers.metrics import expected_calibration_error, reliability_table, top_label_confidence
from helpers.exercises import ch04_loss_functions as ex
from helpers.models import mlp
from helpers.plots import plot_decision_boundary, use_style
from helpers.train import fit, predict

DEVICE = setup(SEED)
use_style()

# %% [markdown]
# ## 1. Regression: mean squared, absolute, and Huber error
#
# For a prediction $\hat y$ of a number $y$, call $r = \hat y - y$ the
# **residual**. The three classic regression losses average a penalty
# $\ell(r)$ over the $n$ examples:
#
# $$
# \text{MSE} = \frac1n \sum_i r_i^2, \qquad
# \text{MAE} = \frac1n \sum_i |r_i|, \qquad
# \text{Huber}_\delta = \frac1n \sum_i
# \begin{cases} \tfrac12 r_i^2 & |r_i| \le \delta \\ \delta\,(|r_i| - \tfrac12\delta) & |r_i| > \delta \end{cases}
# $$
#
# MSE is the negative log-likelihood of Gaussian noise, and its minimiser
# for a constant prediction is the **mean** of the targets; MAE belongs to
# Laplace noise and its minimiser is the **median**
# {cite}`goodfellow2016deep`. The Huber loss {cite}`huber1964robust` is
# quadratic for small residuals and linear for large ones: it behaves like MSE
# on clean data and like MAE on outliers. Each is a line of PyTorch; we check
# them, value and gradient, against `torch.nn.functional` {cite}`pytorch2024lossfunctions`.

# %%
def mse(predictions, targets):
    return ((predictions - targets) ** 2).mean()


def mae(predictions, targets):
    return (predictions - targets).abs().mean()


def huber(predictions, targets, delta=1.0):
    r = (predictions - targets).abs()
    return torch.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta)).mean()


def compare_with_torch(ours, theirs, *inputs):
    """Largest difference in value and in gradient between two losses on the same inputs."""
    first, *rest = inputs
    a, b = first.clone().requires_grad_(), first.clone().requires_grad_()
    value_ours, value_theirs = ours(a, *rest), theirs(b, *rest)
    value_ours.backward()
    value_theirs.backward()
    return {"value": value_ours.item(), "|value difference|": abs(value_ours.item() - value_theirs.item()),
            "max |gradient difference|": (a.grad - b.grad).abs().max().item()}


generator = torch.Generator().manual_seed(SEED)
p_example, y_example = torch.randn(100, generator=generator) * 2, torch.randn(100, generator=generator) * 2
regression_check = pd.DataFrame({
    "MSE vs F.mse_loss": compare_with_torch(mse, F.mse_loss, p_example, y_example),
    "MAE vs F.l1_loss": compare_with_torch(mae, F.l1_loss, p_example, y_example),
    "Huber vs F.huber_loss": compare_with_torch(huber, F.huber_loss, p_example, y_example),
}).T
assert (regression_check.iloc[:, 1:] < 1e-5).all().all(), "each hand-written loss should match PyTorch's"
regression_check.style.format("{:.2e}", subset=["|value difference|", "max |gradient difference|"]).format(
    "{:.3f}", subset=["value"])

# %% [markdown]
# The same functions, with input checks that fail with a clear message (wrong
# shapes, integer labels where floats are needed, NaN), live in
# `helpers.losses`; from here on we use those.
#
# ### Data with outliers
#
# We draw points from the line $y = 1.5x + 0.5$ with a little Gaussian noise
# and then corrupt a tenth of them: among the points with the largest $x$, some
# read about 6 too low, like a sensor that fails when the signal is high.
# Outliers at the edge of the data have **leverage**: they can tilt the line,
# not just shift it.

# %%
TRUE_SLOPE, TRUE_INTERCEPT, HUBER_DELTA = 1.5, 0.5, 1.0
x, y, is_outlier = make_outlier_regression(
    n_samples=200, outlier_fraction=0.1, slope=TRUE_SLOPE, intercept=TRUE_INTERCEPT, seed=SEED
)
x_t, y_t = torch.tensor(x)[:, None], torch.tensor(y)
print(f"{len(x)} points, {is_outlier.sum()} of them outliers")

REGRESSION_LOSSES = {
    "MSE": losses.mse,
    "MAE": losses.mae,
    "Huber": partial(losses.huber, delta=HUBER_DELTA),
}
REGRESSION_EPOCHS = max(60, round(150 * BUDGET))
lines = {}
for name, loss_fn in REGRESSION_LOSSES.items():
    torch.manual_seed(SEED)
    line = nn.Linear(1, 1)
    fit(line, (x_t, y_t), loss_fn=loss_fn, lr=0.1, epochs=REGRESSION_EPOCHS, batch_size=len(x),
        metric=None, restore_best=False)
    lines[name] = (line.weight.item(), line.bias.item())

clean = ~is_outlier
regression_results = pd.DataFrame(
    {
        "slope": [w for w, b in lines.values()],
        "intercept": [b for w, b in lines.values()],
        "|slope error|": [abs(w - TRUE_SLOPE) for w, b in lines.values()],
        "MAE on the clean points": [np.abs(w * x[clean] + b - y[clean]).mean() for w, b in lines.values()],
    },
    index=pd.Index(list(lines), name="loss"),
)
regression_results.round(3)

# %% mystnb={"image": {"alt": "Left: the data with the outliers in red at the right edge, and the three fitted lines; the MSE line is visibly tilted down towards the outliers while the MAE and Huber lines follow the clean points. Right three panels: residuals against x for each loss; for MSE the clean points show a trend, for MAE and Huber they scatter around zero and only the outliers stand out."}}
colours = {"MSE": "tab:blue", "MAE": "tab:green", "Huber": "tab:purple"}
fig, axes = plt.subplots(1, 4, figsize=(14, 3.3), sharex=True)
axes[0].scatter(x[clean], y[clean], s=8, color="grey", alpha=0.6, label="clean")
axes[0].scatter(x[is_outlier], y[is_outlier], s=12, color="tab:red", label="outliers")
grid = np.linspace(-2, 2, 50)
axes[0].plot(grid, TRUE_SLOPE * grid + TRUE_INTERCEPT, "k--", lw=1, label="true line")
for name, (w, b) in lines.items():
    axes[0].plot(grid, w * grid + b, color=colours[name], label=name)
axes[0].set(xlabel="x", ylabel="y", title="fitted lines")
axes[0].legend(fontsize=7)
for ax, (name, (w, b)) in zip(axes[1:], lines.items()):
    residual = w * x + b - y
    ax.scatter(x[clean], residual[clean], s=6, color=colours[name], alpha=0.6)
    ax.scatter(x[is_outlier], residual[is_outlier], s=10, color="tab:red")
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xlabel="x", ylim=(-2, 8), title=f"residuals, {name}")
axes[1].set_ylabel("prediction - target")
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
slope = regression_results["slope"]
slope_error = regression_results["|slope error|"]
for name in lines:
    glue(f"slope_{name.lower()}", slope[name], fmt=".2f")
    glue(f"clean_mae_{name.lower()}", regression_results.loc[name, "MAE on the clean points"], fmt=".2f")
glue("true_slope", TRUE_SLOPE, fmt=".1f")
glue("n_outliers", int(is_outlier.sum()))
print("slopes:", ", ".join(f"{name} {slope[name]:.2f}" for name in lines), f"(true {TRUE_SLOPE})")
assert slope_error["MSE"] > 2.5 * max(slope_error["MAE"], slope_error["Huber"]), "outliers should tilt the MSE line"
assert slope_error["MAE"] < 0.3 and slope_error["Huber"] < 0.3, "robust losses should stay near the true slope"

# %% [markdown]
# Just {glue:text}`n_outliers` bad points pull the MSE line's slope down to
# {glue:text}`slope_mse` (true: {glue:text}`true_slope`); MAE finds
# {glue:text}`slope_mae` and Huber {glue:text}`slope_huber`. The residual
# panels show the cost: under MSE even the *clean* points are mispredicted, by
# {glue:text}`clean_mae_mse` on average, against {glue:text}`clean_mae_mae`
# for MAE and {glue:text}`clean_mae_huber` for Huber. MSE has traded accuracy
# on the many good points for a smaller error on the few bad ones, because
# one squared error of 6 costs as much as 400 squared errors of 0.3 (the
# noise level).
#
# ### Why: the gradient each point contributes
#
# Training moves the line along the gradient of the loss, which is a sum of
# one term per point: $\partial \ell / \partial \hat y_i$ times how $\hat y_i$
# depends on the parameters. That first factor is the **pull** of point $i$:
#
# $$
# \frac{\partial \ell}{\partial r} = 2r \;\;(\text{MSE}), \qquad
# \operatorname{sign}(r) \;\;(\text{MAE}), \qquad
# \operatorname{clip}(r, -\delta, \delta) \;\;(\text{Huber}).
# $$
#
# Under MSE a point's pull grows without limit with its residual; under MAE
# every point pulls equally hard; Huber lets small residuals pull in
# proportion and caps the rest at $\delta$. We measure each loss's pull with
# autograd, and how much of the total comes from the outliers when the line
# is the true one.

# %%
def penalty_and_pull(loss_fn, points):
    """Each point's loss alone, and its derivative, for a loss that averages over points."""
    points = points.clone().requires_grad_()
    per_point = torch.stack([loss_fn(point.reshape(1)) for point in points])
    (pull,) = torch.autograd.grad(per_point.sum(), points)
    return per_point.detach(), pull


residual_grid = torch.linspace(-4, 4, 201)
curves = {name: penalty_and_pull(lambda r, f=loss_fn: f(r, torch.zeros_like(r)), residual_grid)
          for name, loss_fn in REGRESSION_LOSSES.items()}

# How much of the gradient comes from the outliers, at the true line?
true_predictions = torch.tensor(TRUE_SLOPE * x + TRUE_INTERCEPT)
outlier_share = {}
for name, loss_fn in REGRESSION_LOSSES.items():
    p = true_predictions.clone().requires_grad_()
    (pull,) = torch.autograd.grad(len(p) * loss_fn(p, y_t), p)
    outlier_share[name] = (pull.abs()[torch.tensor(is_outlier)].sum() / pull.abs().sum()).item()

# %% mystnb={"image": {"alt": "Left: the three losses against the residual; MSE is a parabola, MAE a V, Huber a parabola near zero that turns into straight lines beyond plus and minus one. Right: their derivatives; MSE's is a straight line growing without limit, MAE's a step between minus one and one, Huber's a ramp capped at plus and minus one."}}
fig, (ax_loss, ax_pull) = plt.subplots(1, 2, figsize=(9, 3.2))
for name, (values, pull) in curves.items():
    ax_loss.plot(residual_grid, values, color=colours[name], label=name)
    ax_pull.plot(residual_grid, pull, color=colours[name], label=name)
ax_loss.set(xlabel="residual r", ylabel="loss of one point", ylim=(0, 8), title="penalty")
ax_pull.set(xlabel="residual r", ylabel="d loss / d r", ylim=(-4, 4), title="pull on the prediction")
ax_loss.legend()
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
for name, share in outlier_share.items():
    glue(f"outlier_share_{name.lower()}", share, fmt=".0%")
glue("outlier_fraction", is_outlier.mean(), fmt=".0%")
print("share of the gradient from the outliers:", ", ".join(f"{k} {v:.2f}" for k, v in outlier_share.items()))
assert outlier_share["MSE"] > 0.5, "under MSE the few outliers should dominate the gradient"
assert outlier_share["MAE"] < outlier_share["Huber"] < outlier_share["MSE"] - 0.2

# %% [markdown]
# At the true line, the outliers are {glue:text}`outlier_fraction` of the
# points but supply {glue:text}`outlier_share_mse` of MSE's gradient, so
# gradient descent walks away from the true line towards them. Under Huber
# their share is {glue:text}`outlier_share_huber`, under MAE
# {glue:text}`outlier_share_mae` (exactly their share of the points: every
# point pulls with force 1).
#
# ### The loss surface
#
# The same story over the whole parameter space: below, each panel colours
# the loss of the line $\hat y = wx + b$ for every slope $w$ and intercept
# $b$. Training rolls downhill on this surface; where its lowest point lies is
# where training ends. MSE's bowl is smooth, but centred on the wrong line.
# MAE's surface is built from flat pieces joined at creases (its gradient
# jumps whenever a residual changes sign; with 200 points the creases are too
# small to see), and its lowest point sits near the true line. Huber's is
# smooth near the bottom *and* centred near the truth.

# %%
slopes, intercepts = np.meshgrid(np.linspace(0.3, 2.3, 81), np.linspace(-0.8, 1.3, 81))
residuals = slopes[..., None] * x + intercepts[..., None] - y  # (81, 81, n)
absolute = np.abs(residuals)
surfaces = {
    "MSE": (residuals**2).mean(-1),
    "MAE": absolute.mean(-1),
    "Huber": np.where(absolute <= HUBER_DELTA, 0.5 * residuals**2, HUBER_DELTA * (absolute - 0.5 * HUBER_DELTA)).mean(-1),
}
surface_minima = {name: np.unravel_index(s.argmin(), s.shape) for name, s in surfaces.items()}

# %% mystnb={"image": {"alt": "Three contour maps of the loss over slope and intercept. The MSE map has elliptical contours centred around slope 0.9 and intercept 0, far from the true parameters marked with a star; the MAE and Huber maps have their lowest points close to the star."}}
fig, axes = plt.subplots(1, 3, figsize=(12, 3.3), sharey=True)
for ax, (name, surface) in zip(axes, surfaces.items()):
    levels = np.quantile(surface, np.linspace(0, 0.6, 14))
    ax.contourf(slopes, intercepts, surface, levels=levels, cmap="viridis_r", extend="max")
    i, j = surface_minima[name]
    ax.plot(slopes[i, j], intercepts[i, j], "o", color="white", mec="k", label="lowest point")
    ax.plot(TRUE_SLOPE, TRUE_INTERCEPT, "*", color="tab:red", ms=11, label="true line")
    ax.set(xlabel="slope w", title=name)
    ax.grid(False)
axes[0].set_ylabel("intercept b")
axes[0].legend(fontsize=7, loc="lower left")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Classification: cross-entropy, hinge, and squared error on probabilities
#
# A classifier outputs **logits** $z$ (one score per class, any real number).
# Cross-entropy turns them into probabilities with the softmax and charges
# $-\log p_y$ for the true class $y$ (Chapter 1). For two classes a single
# logit $z$ suffices, $p = \sigma(z) = 1/(1 + e^{-z})$, and the loss is
# **binary cross-entropy**. Two other choices are common enough to compare:
#
# - the **hinge loss** of support vector machines {cite}`cortes1995support`
#   asks the true class's score to beat the others by a margin of 1 and is
#   zero beyond: with labels $t = \pm 1$, $\max(0, 1 - t z)$;
# - **squared error on probabilities** (the Brier score {cite}`brier1950verification`),
#   $\sum_k (p_k - [k = y])^2$, treats classification as regression on the one-hot label.
#
# With $t = \pm1$ and the **margin** $m = t z$ (positive when the model is
# right, large when it is confidently right), all binary losses become
# functions of $m$ alone:
#
# $$
# \underbrace{\log(1 + e^{-m})}_{\text{cross-entropy}}, \qquad
# \underbrace{\max(0, 1 - m)}_{\text{hinge}}, \qquad
# \underbrace{(1 - \sigma(m))^2}_{\text{squared error on } p}.
# $$
#
# Their derivatives tell us how hard a wrong example pushes the model.

# %%
margins = torch.linspace(-6, 6, 241)
margin_losses = {
    "cross-entropy": lambda m: losses.binary_cross_entropy(m, torch.ones_like(m)),
    "hinge": lambda m: losses.hinge(m, torch.ones_like(m)),
    "squared error on p": lambda m: ((torch.sigmoid(m) - 1) ** 2).mean(),
}
margin_curves = {name: penalty_and_pull(loss_fn, margins) for name, loss_fn in margin_losses.items()}

at_minus_5 = int((margins + 5).abs().argmin())
pull_ce = margin_curves["cross-entropy"][1][at_minus_5].abs().item()
pull_sq = margin_curves["squared error on p"][1][at_minus_5].abs().item()
glue("pull_ce_at_minus5", pull_ce, fmt=".2f")
glue("pull_sq_at_minus5", pull_sq, fmt=".3f")
glue("pull_ratio_at_minus5", pull_ce / pull_sq, fmt=".0f")
assert pull_ce > 30 * pull_sq, "squared error on probabilities should barely push a confidently wrong example"

# %% mystnb={"image": {"alt": "Left: loss against the margin for cross-entropy, hinge, squared error on the probability and the zero-one loss; cross-entropy and hinge grow linearly for negative margins while squared error on p levels off at one. Right: the derivatives; cross-entropy's and hinge's stay near minus one for very wrong examples, while squared error on p's derivative goes back to zero on the far left."}}
margin_colours = {"cross-entropy": "tab:blue", "hinge": "tab:orange", "squared error on p": "tab:green"}
fig, (ax_loss, ax_pull) = plt.subplots(1, 2, figsize=(9, 3.2))
ax_loss.step(margins, (margins <= 0).float(), color="black", lw=1.5, ls=":", where="mid", label="0-1 loss (error)")
for name, (values, pull) in margin_curves.items():
    ax_loss.plot(margins, values, color=margin_colours[name], label=name)
    ax_pull.plot(margins, pull, color=margin_colours[name], label=name)
ax_loss.set(xlabel="margin m = t z  (wrong <- 0 -> right)", ylabel="loss", ylim=(0, 5), title="loss")
ax_pull.set(xlabel="margin m", ylabel="d loss / d m", title="push on the logit")
ax_loss.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# For an example the model gets confidently wrong (margin $-5$),
# cross-entropy pushes the logit with force {glue:text}`pull_ce_at_minus5` and
# squared error on the probability with {glue:text}`pull_sq_at_minus5`,
# {glue:text}`pull_ratio_at_minus5` times less: the sigmoid is flat there, and
# the chain rule multiplies by its slope $\sigma(m)(1 - \sigma(m)) \approx 0$.
# Cross-entropy's $\log$ undoes the sigmoid's flatness, which is why it is
# the default loss for classifiers {cite}`goodfellow2016deep`. Hinge also
# pushes hard on wrong examples, but stops at margin 1: beyond it, a correct
# example no longer matters.
#
# ### Checked against PyTorch
#
# The multi-class versions, written from scratch. Cross-entropy subtracts
# the log-sum-exp of the logits (computed without overflow); the multi-class
# hinge sums the margin violations of the wrong classes (PyTorch divides by
# the number of classes $C$); squared error on probabilities compares the
# softmax with the one-hot label.

# %%
def cross_entropy(logits, labels):
    return (torch.logsumexp(logits, dim=1) - logits.gather(1, labels[:, None]).squeeze(1)).mean()


def multiclass_hinge(logits, labels, margin=1.0):
    violations = (margin - logits.gather(1, labels[:, None]) + logits).clamp(min=0)  # the true class adds `margin`
    return (violations.sum(dim=1) - margin).mean() / logits.shape[1]


def mse_on_probabilities(logits, labels):
    one_hot = F.one_hot(labels, logits.shape[1]).float()
    return ((logits.softmax(dim=1) - one_hot) ** 2).sum(dim=1).mean()


logits_example = torch.randn(50, 4, generator=generator) * 3
labels_example = torch.randint(0, 4, (50,), generator=generator)
scores_example = torch.randn(50, generator=generator) * 3
targets_example = torch.randint(0, 2, (50,), generator=generator).float()
class_weights_example = torch.tensor([0.5, 1.0, 2.0, 4.0])
classification_check = pd.DataFrame({
    "cross-entropy vs F.cross_entropy": compare_with_torch(
        cross_entropy, F.cross_entropy, logits_example, labels_example),
    "multi-class hinge vs F.multi_margin_loss": compare_with_torch(
        multiclass_hinge, F.multi_margin_loss, logits_example, labels_example),
    "MSE on probabilities vs C x F.mse_loss(softmax, one-hot)": compare_with_torch(
        mse_on_probabilities,
        lambda z, y: 4 * F.mse_loss(z.softmax(dim=1), F.one_hot(y, 4).float()), logits_example, labels_example),
    "losses.binary_cross_entropy vs F.binary_cross_entropy_with_logits": compare_with_torch(
        losses.binary_cross_entropy, F.binary_cross_entropy_with_logits, scores_example, targets_example),
    "losses.weighted_cross_entropy vs F.cross_entropy(weight=)": compare_with_torch(
        partial(losses.weighted_cross_entropy, class_weights=class_weights_example),
        partial(F.cross_entropy, weight=class_weights_example), logits_example, labels_example),
    "losses.label_smoothed_cross_entropy vs F.cross_entropy(label_smoothing=0.1)": compare_with_torch(
        partial(losses.label_smoothed_cross_entropy, smoothing=0.1),
        partial(F.cross_entropy, label_smoothing=0.1), logits_example, labels_example),
    "losses.focal_loss(gamma=0) vs F.cross_entropy": compare_with_torch(
        partial(losses.focal_loss, gamma=0.0), F.cross_entropy, logits_example, labels_example),
}).T
assert (classification_check.iloc[:, 1:] < 1e-5).all().all(), "each loss should match its PyTorch counterpart"
classification_check.style.format("{:.2e}", subset=["|value difference|", "max |gradient difference|"]).format(
    "{:.3f}", subset=["value"])

# %% [markdown]
# (Binary cross-entropy is computed from the logit as
# $\max(z, 0) - zy + \log(1 + e^{-|z|})$, which never takes the log of 0:
# Exercise 1 asks you to derive it. The weighted, focal and label-smoothed
# losses are explained in sections 3 and 4; `tests/test_losses.py` checks all
# of `helpers.losses` against PyTorch the same way.)
#
# ### Experiment 1: starting confidently wrong
#
# To see the vanishing push at work we give a linear classifier for the
# breast cancer data {cite}`street1993nuclear` a deliberately bad start: its
# weights point *against* the direction that separates the classes, so it
# begins confidently wrong on almost every example. Then we train it with
# each loss, same optimizer (plain SGD), same learning rate, same epochs.

# %%
cancer = load("breast_cancer", seed=SEED).standardized()
Xc_train, yc_train = cancer.tensors("train", DEVICE)
Xc_val, yc_val = cancer.tensors("val", DEVICE)
yc_train, yc_val = yc_train.float(), yc_val.float()  # one logit per sample: 0/1 float targets
wrong_direction = Xc_train[yc_train == 0].mean(0) - Xc_train[yc_train == 1].mean(0)
wrong_direction = 3 * wrong_direction / wrong_direction.norm()

BINARY_LOSSES = {
    "cross-entropy": losses.binary_cross_entropy,
    "hinge": losses.hinge,
    "squared error on p": lambda z, y: ((torch.sigmoid(z) - y) ** 2).mean(),
}
BINARY_EPOCHS = max(6, round(15 * BUDGET))
binary_histories = {}
for name, loss_fn in BINARY_LOSSES.items():
    linear = nn.Linear(cancer.n_features, 1)
    with torch.no_grad():
        linear.weight.copy_(wrong_direction)
        linear.bias.zero_()
    model = nn.Sequential(linear, nn.Flatten(0)).to(DEVICE)  # outputs (n,): one logit per sample
    start_accuracy = ((predict(model, Xc_val) > 0).float() == yc_val.cpu()).float().mean().item()
    torch.manual_seed(SEED)
    binary_histories[name] = fit(model, (Xc_train, yc_train), (Xc_val, yc_val), loss_fn=loss_fn,
                                 optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
                                 epochs=BINARY_EPOCHS, batch_size=32, restore_best=False)

# %% mystnb={"image": {"alt": "Validation accuracy per epoch of a linear classifier on the breast cancer data that starts confidently wrong. Cross-entropy and hinge climb from under 10 percent to over 90 percent within three epochs; squared error on the probability stays flat near its starting accuracy for every epoch."}}
fig, ax = plt.subplots(figsize=(6, 3.2))
for name, history in binary_histories.items():
    ax.plot([0] + history.epoch, [start_accuracy] + history.val_metric, marker="o", ms=3,
            color=margin_colours[name], label=name)
ax.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0, 1.02), title="starting confidently wrong")
ax.legend()
plt.show()

# %% tags=["nbval-check-output"]
binary_final = {name: h.last("val_metric") for name, h in binary_histories.items()}
glue("binary_start_accuracy", start_accuracy, fmt=".1%")
glue("binary_epochs", BINARY_EPOCHS)
for key, name in [("ce", "cross-entropy"), ("hinge", "hinge"), ("sq", "squared error on p")]:
    glue(f"binary_final_{key}", binary_final[name], fmt=".1%")
print(f"start {start_accuracy:.3f};", ", ".join(f"{k} {v:.3f}" for k, v in binary_final.items()))
assert binary_final["cross-entropy"] > 0.9 and binary_final["hinge"] > 0.9, "both should recover"
assert binary_final["squared error on p"] < 0.5, "squared error on probabilities should stay stuck"

# %% [markdown]
# All three start at {glue:text}`binary_start_accuracy` validation accuracy.
# After {glue:text}`binary_epochs` epochs cross-entropy reaches
# {glue:text}`binary_final_ce` and hinge {glue:text}`binary_final_hinge`;
# squared error on the probability is still at {glue:text}`binary_final_sq`.
# Nothing is wrong with its minimum, which is the right classifier: it
# just cannot get there from a start where every gradient has vanished.
#
# ### Experiment 2: learning speed and calibration on digits
#
# A fairer race: a small network on the digits {cite}`alpaydin1998digits`
# from PyTorch's usual random start, trained with cross-entropy, the
# multi-class hinge, and squared error on the softmax probabilities.
# Besides accuracy we ask whether the softmax probabilities mean what they
# say. A model is **calibrated** when, among the examples it gives 80%
# confidence, it is right 80% of the time; the **expected calibration error**
# (ECE) averages the gap between confidence and accuracy over bins of
# confidence {cite}`guo2017calibration`.

# %%
digits = load("digits", seed=SEED).standardized()
Xd_train, yd_train = digits.tensors("train", DEVICE)
Xd_val, yd_val = digits.tensors("val", DEVICE)
Xd_test, yd_test = digits.tensors("test", DEVICE)

DIGIT_LOSSES = {
    "cross-entropy": losses.cross_entropy,
    "hinge": losses.multiclass_hinge,
    "squared error on p": losses.mse_on_probabilities,
}
DIGIT_EPOCHS = max(4, round(12 * BUDGET))
EARLY_EPOCH = 3
digit_histories, digit_probabilities = {}, {}
for name, loss_fn in DIGIT_LOSSES.items():
    torch.manual_seed(SEED)
    model = mlp(digits.n_features, [32], digits.n_classes).to(DEVICE)
    digit_histories[name] = fit(model, (Xd_train, yd_train), (Xd_val, yd_val), loss_fn=loss_fn,
                                optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                                epochs=DIGIT_EPOCHS, batch_size=64, restore_best=False)
    digit_probabilities[name] = predict(model, Xd_test).softmax(dim=1)

yd_test_cpu = yd_test.cpu()
digit_results = pd.DataFrame(
    {
        f"val accuracy, epoch {EARLY_EPOCH}": [h.val_metric[EARLY_EPOCH - 1] for h in digit_histories.values()],
        "test accuracy": [(p.argmax(1) == yd_test_cpu).float().mean().item() for p in digit_probabilities.values()],
        "mean confidence": [p.max(1).values.mean().item() for p in digit_probabilities.values()],
        "ECE": [expected_calibration_error(*top_label_confidence(p, yd_test_cpu)) for p in digit_probabilities.values()],
    },
    index=pd.Index(list(DIGIT_LOSSES), name="loss"),
)
digit_results.round(3)

# %% mystnb={"image": {"alt": "Left: validation accuracy per epoch on digits for the three losses; cross-entropy and hinge rise quickly above 85 percent, squared error on probabilities climbs much more slowly. Right: reliability diagram, accuracy against confidence per bin; cross-entropy's points lie closest to the diagonal, hinge's lie far above it (right much more often than its low confidence says), squared error on p's lie above it too."}}
fig, (ax_speed, ax_cal) = plt.subplots(1, 2, figsize=(9.5, 3.4))
for name, history in digit_histories.items():
    ax_speed.plot(history.epoch, history.val_metric, marker="o", ms=3, color=margin_colours[name], label=name)
    curve = reliability_table(*top_label_confidence(digit_probabilities[name], yd_test_cpu))
    curve = curve[curve["count"] >= 10]  # bins with a handful of digits are mostly noise
    ax_cal.plot(curve["confidence"], curve["accuracy"], marker="o", ms=3, color=margin_colours[name], label=name)
ax_speed.set(xlabel="epoch", ylabel="validation accuracy", title="learning speed")
ax_cal.plot([0, 1], [0, 1], "k--", lw=1, label="calibrated")
ax_cal.set(xlabel="confidence (largest softmax probability)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1.02),
           title="reliability on the test set")
ax_speed.legend(fontsize=7)
ax_cal.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
early = digit_results[f"val accuracy, epoch {EARLY_EPOCH}"]
for key, name in [("ce", "cross-entropy"), ("hinge", "hinge"), ("sq", "squared error on p")]:
    glue(f"digits_early_{key}", early[name], fmt=".1%")
    glue(f"digits_test_{key}", digit_results.loc[name, "test accuracy"], fmt=".1%")
    glue(f"digits_ece_{key}", digit_results.loc[name, "ECE"], fmt=".1%")
    glue(f"digits_conf_{key}", digit_results.loc[name, "mean confidence"], fmt=".1%")
glue("early_epoch", EARLY_EPOCH)
glue("digit_epochs", DIGIT_EPOCHS)
print(digit_results.round(2).to_string())
assert early["cross-entropy"] > early["squared error on p"] + 0.15, "cross-entropy should learn faster"
assert abs(early["hinge"] - early["cross-entropy"]) < 0.06, "hinge should learn about as fast as cross-entropy"
assert digit_results.loc["hinge", "mean confidence"] < digit_results.loc["hinge", "test accuracy"] - 0.2, (
    "softmax of hinge scores should be far less confident than the model is accurate")
assert digit_results.loc["hinge", "ECE"] > digit_results.loc["cross-entropy", "ECE"] + 0.15, (
    "softmax of hinge scores should be badly calibrated")
assert digit_results.loc["cross-entropy", "ECE"] < digit_results.loc["squared error on p", "ECE"] - 0.02, (
    "cross-entropy should be the best calibrated of the three")

# %% [markdown]
# After {glue:text}`early_epoch` epochs, cross-entropy's network is right on
# {glue:text}`digits_early_ce` of the validation digits, the hinge's on
# {glue:text}`digits_early_hinge`, squared error's on only
# {glue:text}`digits_early_sq`. Hinge learns as fast as cross-entropy and
# ends close in accuracy ({glue:text}`digits_test_hinge` against
# {glue:text}`digits_test_ce` on the test set), but its scores are not
# probabilities: once a digit wins by the margin, the loss stops pushing, so
# the softmax of its scores stays timid (mean confidence
# {glue:text}`digits_conf_hinge` for a model that is right
# {glue:text}`digits_test_hinge` of the time; ECE {glue:text}`digits_ece_hinge`).
# Cross-entropy's probabilities are the best calibrated of the three, with an ECE of
# {glue:text}`digits_ece_ce`. Squared error on probabilities is, like
# cross-entropy, a *proper scoring rule*: its minimum is at the true
# probabilities, so with enough training it too would be calibrated. After
# {glue:text}`digit_epochs` epochs it is still learning (ECE
# {glue:text}`digits_ece_sq`).
#
# ## 3. Imbalanced classes: class weights and focal loss
#
# When one class is rare, the average loss is dominated by the common class,
# and a model can lower it most by getting the common class right and
# treating the rare one as noise. We make an imbalanced problem from the two
# moons: the training and validation sets keep only {glue:text}`keep_fraction` of the "lower" moon,
# so it makes up under 1 in 20 examples. The test set keeps both classes
# whole, so that we can measure the **recall** of each class (the fraction of
# its examples found) on enough examples.
#
# Two remedies change the loss:
#
# - **class weights**: multiply the loss of each example by a weight for its
#   class. With the "balanced" weights $w_c = n / (C\, n_c)$ every class
#   carries the same total weight. PyTorch divides by the sum of the weights
#   of the batch, so the loss stays a weighted mean:
#   $\sum_i w_{y_i} \ell_i / \sum_i w_{y_i}$.
# - **focal loss** {cite}`lin2017focal`: multiply each example's
#   cross-entropy by $(1 - p_{y})^\gamma$, which is close to 0 for examples
#   the model already gets right with confidence, so training concentrates
#   on the hard ones. It was designed for object detection, where the
#   overwhelming majority of candidate boxes are easy background; its paper
#   combines it with a class weight $\alpha$.

# %%
moons = load("moons", seed=SEED, n_samples=2000)
KEEP_FRACTION = 0.05
Xm_train, ym_train = make_imbalanced(moons.train.X, moons.train.y, minority_class=1,
                                     keep_fraction=KEEP_FRACTION, seed=SEED)
Xm_val, ym_val = make_imbalanced(moons.val.X, moons.val.y, minority_class=1,
                                 keep_fraction=KEEP_FRACTION, seed=SEED)
Xm_test, ym_test = moons.test.X, moons.test.y
class_weights = losses.balanced_class_weights(ym_train, n_classes=2)
print(f"training set: {len(ym_train)} points, {int(ym_train.sum())} of the minority class; "
      f"balanced class weights {class_weights.numpy().round(2)}")

IMBALANCE_LOSSES = {
    "cross-entropy": losses.cross_entropy,
    "weighted cross-entropy": partial(losses.weighted_cross_entropy, class_weights=class_weights.to(DEVICE)),
    "focal (gamma = 2)": partial(losses.focal_loss, gamma=2.0),
    "focal + class weights": partial(losses.focal_loss, gamma=2.0, class_weights=class_weights.to(DEVICE)),
}
MOONS_EPOCHS = max(12, round(30 * BUDGET))
moons_models, imbalance_rows = {}, []
for name, loss_fn in IMBALANCE_LOSSES.items():
    torch.manual_seed(SEED)
    model = mlp(2, [32, 32], 2).to(DEVICE)
    fit(model, (Xm_train, ym_train), (Xm_val, ym_val), loss_fn=loss_fn, lr=0.01,
        epochs=MOONS_EPOCHS, batch_size=64, restore_best=False)
    moons_models[name] = model
    test_predicted = predict(model, Xm_test).argmax(1).numpy()
    val_predicted = predict(model, Xm_val).argmax(1).numpy()
    recall = [(test_predicted[ym_test == c] == c).mean() for c in (0, 1)]
    imbalance_rows.append({"loss": name, "majority recall": recall[0], "minority recall": recall[1],
                           "balanced accuracy": np.mean(recall),
                           "accuracy on the imbalanced validation set": (val_predicted == ym_val).mean()})
imbalance_results = pd.DataFrame(imbalance_rows).set_index("loss")
imbalance_results.round(3)

# %% mystnb={"image": {"alt": "Decision regions of four classifiers trained on the imbalanced moons, drawn over the full test set. With plain cross-entropy and with focal loss alone the boundary hugs the lower moon and leaves a large part of it in the majority region; with class weights, alone or with focal loss, the minority region covers nearly all of the lower moon."}}
fig, axes = plt.subplots(1, 4, figsize=(14, 3.3), sharey=True)
for ax, (name, model) in zip(axes, moons_models.items()):
    model_cpu = model.cpu()
    plot_decision_boundary(lambda P, m=model_cpu: predict(m, P).argmax(1), Xm_test, ym_test, ax=ax,
                           title=f"{name}\nminority recall {imbalance_results.loc[name, 'minority recall']:.0%}",
                           resolution=120)
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
recall_min = imbalance_results["minority recall"]
keys = {"cross-entropy": "ce", "weighted cross-entropy": "wce", "focal (gamma = 2)": "focal",
        "focal + class weights": "focalw"}
for name, key in keys.items():
    glue(f"recall_{key}", recall_min[name], fmt=".1%")
    glue(f"majority_recall_{key}", imbalance_results.loc[name, "majority recall"], fmt=".1%")
    glue(f"val_accuracy_{key}", imbalance_results.loc[name, "accuracy on the imbalanced validation set"], fmt=".1%")
glue("minority_weight", class_weights[1].item(), fmt=".1f")
glue("keep_fraction", KEEP_FRACTION, fmt=".0%")
print(imbalance_results.round(2).to_string())
assert recall_min["weighted cross-entropy"] > recall_min["cross-entropy"] + 0.1, "class weights should find more of the rare class"
assert recall_min["focal + class weights"] > recall_min["cross-entropy"] + 0.1
assert imbalance_results.loc["weighted cross-entropy", "majority recall"] < imbalance_results.loc[
    "cross-entropy", "majority recall"], "moving the boundary should cost some majority recall"
assert imbalance_results.loc["cross-entropy", "accuracy on the imbalanced validation set"] > 0.95, (
    "plain cross-entropy should look excellent by accuracy")
assert abs(recall_min["focal (gamma = 2)"] - recall_min["cross-entropy"]) < (
    recall_min["weighted cross-entropy"] - recall_min["cross-entropy"]), "weighting should matter more than focusing"

# %% [markdown]
# Plain cross-entropy finds only {glue:text}`recall_ce` of the rare class,
# yet scores {glue:text}`val_accuracy_ce` accuracy on the (imbalanced)
# validation set: on imbalanced data, accuracy hides the failure. Weighting
# each minority example {glue:text}`minority_weight` times raises minority
# recall to {glue:text}`recall_wce`, at the price of some majority recall
# ({glue:text}`majority_recall_wce` instead of {glue:text}`majority_recall_ce`):
# the boundary moves, and where to put it is a decision about which mistake
# costs more, not a property of the data.
#
# Focal loss *alone* gives {glue:text}`recall_focal`: close to plain
# cross-entropy. It down-weights easy examples of *both* classes; it does not
# know which class is rare. With class weights added, as in its paper, it
# reaches {glue:text}`recall_focalw`. On a problem this small, the class
# weights do the work; focal loss earns its keep when easy examples vastly
# outnumber hard ones, as in dense object detection.
#
# ## 4. Label smoothing
#
# Cross-entropy against a one-hot target is lowest when $p_y = 1$, which
# needs the true class's logit to beat the others by an infinite gap: the
# loss never stops rewarding larger logits. **Label smoothing**
# {cite}`szegedy2016rethinking` replaces the target by a mixture with the
# uniform distribution,
#
# $$
# q_k = (1 - \varepsilon)\,[k = y] + \frac{\varepsilon}{C},
# $$
#
# so the best the model can do is a finite gap, with confidence
# $1 - \varepsilon + \varepsilon / C$ on the training examples. It is used to
# regularise large image and language models; {cite:t}`muller2019label` show it makes the representations of each class
# tighter and often improves calibration of networks that are *over*confident.
# We train the same network on the digits with and without it ($\varepsilon =$
# {glue:text}`smoothing`), long enough for the plain one to become very confident.

# %%
SMOOTHING = 0.1
SMOOTHING_EPOCHS = max(12, round(30 * BUDGET))
smoothing_rows, smoothing_confidences = [], {}
for name, loss_fn in {"cross-entropy": losses.cross_entropy,
                      f"label smoothing {SMOOTHING}": partial(losses.label_smoothed_cross_entropy,
                                                              smoothing=SMOOTHING)}.items():
    torch.manual_seed(SEED)
    model = mlp(digits.n_features, [64], digits.n_classes).to(DEVICE)
    fit(model, (Xd_train, yd_train), (Xd_val, yd_val), loss_fn=loss_fn, lr=3e-3,
        epochs=SMOOTHING_EPOCHS, batch_size=64, restore_best=False)
    train_logits, test_logits = predict(model, Xd_train), predict(model, Xd_test)
    top2 = train_logits.topk(2, dim=1).values
    smoothing_confidences[name] = test_logits.softmax(1).max(1).values
    smoothing_rows.append({
        "loss": name,
        "train confidence": train_logits.softmax(1).max(1).values.mean().item(),
        "train logit gap": (top2[:, 0] - top2[:, 1]).mean().item(),
        "test accuracy": (test_logits.argmax(1) == yd_test_cpu).float().mean().item(),
        "test confidence": smoothing_confidences[name].mean().item(),
        "test ECE": expected_calibration_error(*top_label_confidence(test_logits.softmax(1), yd_test_cpu)),
    })
smoothing_results = pd.DataFrame(smoothing_rows).set_index("loss")
smoothing_results.round(3)

# %% mystnb={"image": {"alt": "Histograms, on a log scale, of the test-set confidence of two digit classifiers. Plain cross-entropy piles almost all examples at a confidence near 1; with label smoothing most examples sit lower, between about 0.8 and 0.95, around the dotted line at the training ceiling of 0.91, and few reach 1."}}
fig, ax = plt.subplots(figsize=(6, 3.2))
bins = np.linspace(0.3, 1.0, 36)
for (name, confidence), colour in zip(smoothing_confidences.items(), ["tab:blue", "tab:red"]):
    ax.hist(confidence.numpy(), bins=bins, alpha=0.6, color=colour, label=name)
ax.axvline(1 - SMOOTHING + SMOOTHING / digits.n_classes, color="tab:red", ls=":", label="1 - eps + eps / C")
ax.set(xlabel="confidence on a test digit", ylabel="test digits", yscale="log", title="how sure the model is")
ax.legend(fontsize=7)
plt.show()

# %% tags=["nbval-check-output"]
plain, smoothed = smoothing_results.iloc[0], smoothing_results.iloc[1]
for key, row in [("plain", plain), ("smooth", smoothed)]:
    glue(f"ls_train_conf_{key}", row["train confidence"], fmt=".1%")
    glue(f"ls_gap_{key}", row["train logit gap"], fmt=".1f")
    glue(f"ls_test_acc_{key}", row["test accuracy"], fmt=".1%")
    glue(f"ls_ece_{key}", row["test ECE"], fmt=".1%")
glue("ls_ceiling", 1 - SMOOTHING + SMOOTHING / digits.n_classes, fmt=".0%")
glue("smoothing", SMOOTHING)
print(smoothing_results.round(2).to_string())
assert smoothed["train confidence"] < plain["train confidence"] - 0.05, "smoothing should cap the confidence"
assert smoothed["train logit gap"] < 0.7 * plain["train logit gap"], "smoothing should shrink the logit gap"
assert abs(smoothed["test accuracy"] - plain["test accuracy"]) < 0.04, "accuracy should barely change"
assert smoothed["test ECE"] > plain["test ECE"] + 0.03, "on this well-calibrated model smoothing adds underconfidence"
assert smoothed["test confidence"] < smoothed["test accuracy"] - 0.05, "smoothed model should be underconfident"

# %% [markdown]
# With $\varepsilon =$ {glue:text}`smoothing`, the mean confidence on the
# training digits falls from {glue:text}`ls_train_conf_plain` to
# {glue:text}`ls_train_conf_smooth` (the ceiling is {glue:text}`ls_ceiling`),
# and the gap between the two largest logits from {glue:text}`ls_gap_plain`
# to {glue:text}`ls_gap_smooth`. Test accuracy barely moves
# ({glue:text}`ls_test_acc_plain` against {glue:text}`ls_test_acc_smooth`).
# Calibration does not improve here: this small network was already well
# calibrated (ECE {glue:text}`ls_ece_plain`), and smoothing makes it
# *under*confident (ECE {glue:text}`ls_ece_smooth`), right more often than it
# claims. Label smoothing is a regulariser of the logits, not a calibration
# method: it helps calibration when a network is overconfident, which large
# networks trained long often are {cite}`guo2017calibration,muller2019label`.
#
# ## 5. The Loss Function table
#
# Every loss of this chapter, what it is for, and what it did here (the last
# column is measured in the run above).

# %%
def pct(value):
    return f"{value:.1%}"


loss_table = pd.DataFrame(
    [
        ("MSE", "regression", "mean (ŷ − y)²",
         "Gaussian-like noise; large errors should cost much more",
         f"slope {slope['MSE']:.2f} (true {TRUE_SLOPE}) with {is_outlier.mean():.0%} outliers"),
        ("MAE", "regression", "mean |ŷ − y|",
         "outliers or heavy tails; predicts the median",
         f"slope {slope['MAE']:.2f}; outliers {outlier_share['MAE']:.0%} of the gradient"),
        ("Huber (δ = 1)", "regression", "½r² if |r| ≤ δ, else δ(|r| − ½δ)",
         "outliers, but a smooth minimum; δ in target units",
         f"slope {slope['Huber']:.2f}; outliers {outlier_share['Huber']:.0%} of the gradient (MSE: {outlier_share['MSE']:.0%})"),
        ("cross-entropy", "classification", "−log softmax(z)_y",
         "the default; calibrated probabilities",
         f"digits: {pct(early['cross-entropy'])} after {EARLY_EPOCH} epochs, ECE {pct(digit_results.loc['cross-entropy', 'ECE'])}"),
        ("binary cross-entropy", "binary classification", "−[y log σ(z) + (1−y) log(1−σ(z))]",
         "two classes or multi-label, one logit each",
         f"cancer, bad start: {pct(binary_final['cross-entropy'])} after {BINARY_EPOCHS} epochs"),
        ("hinge", "classification", "max(0, 1 − t z); multi-class: Σ_j≠y max(0, 1 − z_y + z_j) / C",
         "only the decision matters, not probabilities (SVMs)",
         f"digits: {pct(digit_results.loc['hinge', 'test accuracy'])} test accuracy but ECE {pct(digit_results.loc['hinge', 'ECE'])}"),
        ("squared error on p (Brier)", "classification", "Σ_k (p_k − [k = y])²",
         "as a score of probabilities, rarely to train",
         f"cancer, bad start: stuck at {pct(binary_final['squared error on p'])}; digits: {pct(early['squared error on p'])} after {EARLY_EPOCH} epochs"),
        ("weighted cross-entropy", "imbalanced classification", "Σ w_y (−log p_y) / Σ w_y",
         "rare classes matter; w_c = n / (C n_c)",
         f"minority recall {pct(recall_min['weighted cross-entropy'])} (plain: {pct(recall_min['cross-entropy'])})"),
        ("focal (γ = 2)", "imbalanced / many easy examples", "−(1 − p_y)^γ log p_y",
         "easy examples swamp the loss (detection); add class weights",
         f"minority recall {pct(recall_min['focal (gamma = 2)'])}; with weights {pct(recall_min['focal + class weights'])}"),
        ("label-smoothed cross-entropy", "classification", "−Σ_k q_k log p_k, q = (1−ε) one-hot + ε/C",
         "regularise overconfident large models",
         f"train confidence {pct(smoothed['train confidence'])} (plain {pct(plain['train confidence'])}), test ECE {pct(smoothed['test ECE'])}"),
    ],
    columns=["loss", "task", "formula", "when to use it", "result in this chapter"],
).set_index("loss")
loss_table.style.set_properties(**{"text-align": "left"})

# %% [markdown]
# ## Exercises
#
# **[Do these exercises on Colab](https://colab.research.google.com/github/ai-training-course/ai-training-course/blob/main/notebooks/exercises/04_loss_functions.ipynb)**: the student version, with stubs instead of solutions.
#
# Each exercise has a check: run it after your answer. `ex.q1.hint()` gives a
# hint (`ex.q1.hint(2)` a stronger one) and `ex.q1.solution()` shows a
# solution.
#
# ```{exercise} Binary cross-entropy that never takes log(0)
# :label: ch04-ex1
# Write `bce_with_logits(scores, targets)` for logits `scores` of shape (n,)
# and float targets of 0s and 1s of the same shape. It returns the mean
# binary cross-entropy as a scalar tensor, without `F.binary_cross_entropy_with_logits`,
# and must stay finite for scores as large as ±200.
# ```
#
# ```{solution-start} ch04-ex1
# :class: dropdown
# ```

# %% tags=["solution"] nbgrader={"grade": false, "grade_id": "ch04-ex1-answer", "locked": false, "schema_version": 3, "solution": true}
def bce_with_logits(scores, targets):
    ### BEGIN SOLUTION
    return (scores.clamp(min=0) - scores * targets + torch.log1p(torch.exp(-scores.abs()))).mean()
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% tags=["nbval-check-output"] nbgrader={"grade": true, "grade_id": "ch04-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false}
ex.q1.check()

# %% [markdown]
# ```{exercise} The pull of an outlier under Huber
# :label: ch04-ex2
# Write `huber_gradient(residuals, delta)`: for a tensor of residuals
# $r_i$, return the tensor of derivatives $\partial \ell(r_i) / \partial r_i$
# of the Huber penalty of section 1 (one per residual, same shape), without
# autograd.
# ```
#
# ```{solution-start} ch04-ex2
# :class: dropdown
# ```

# %% tags=["solution"] nbgrader={"grade": false, "grade_id": "ch04-ex2-answer", "locked": false, "schema_version": 3, "solution": true}
def huber_gradient(residuals, delta):
    ### BEGIN SOLUTION
    return residuals.clamp(-delta, delta)
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% tags=["nbval-check-output"] nbgrader={"grade": true, "grade_id": "ch04-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false}
ex.q2.check()

# %% [markdown]
# ```{exercise} Balanced class weights
# :label: ch04-ex3
# Write `balanced_weights(labels, n_classes)`: given integer labels of shape
# (n,), return a float tensor of shape (n_classes,) with the weight
# $n / (C\, n_c)$ of each class $c$, as used in section 3.
# ```
#
# ```{solution-start} ch04-ex3
# :class: dropdown
# ```

# %% tags=["solution"] nbgrader={"grade": false, "grade_id": "ch04-ex3-answer", "locked": false, "schema_version": 3, "solution": true}
def balanced_weights(labels, n_classes):
    ### BEGIN SOLUTION
    counts = torch.bincount(labels, minlength=n_classes).float()
    return len(labels) / (n_classes * counts)
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% tags=["nbval-check-output"] nbgrader={"grade": true, "grade_id": "ch04-ex3-check", "locked": true, "points": 1, "schema_version": 3, "solution": false}
ex.q3.check()

# %% [markdown]
# ```{exercise} Label-smoothed targets
# :label: ch04-ex4
# Write `smoothed_targets(labels, n_classes, smoothing)`: given integer
# labels of shape (n,), return the (n, n_classes) tensor of smoothed target
# distributions $q$ of section 4. Cross-entropy against your targets,
# $-\sum_k q_k \log p_k$, must equal `F.cross_entropy(logits, labels, label_smoothing=smoothing)`.
# ```
#
# ```{solution-start} ch04-ex4
# :class: dropdown
# ```

# %% tags=["solution"] nbgrader={"grade": false, "grade_id": "ch04-ex4-answer", "locked": false, "schema_version": 3, "solution": true}
def smoothed_targets(labels, n_classes, smoothing):
    ### BEGIN SOLUTION
    one_hot = F.one_hot(labels, n_classes).float()
    return (1 - smoothing) * one_hot + smoothing / n_classes
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% tags=["nbval-check-output"] nbgrader={"grade": true, "grade_id": "ch04-ex4-check", "locked": true, "points": 1, "schema_version": 3, "solution": false}
ex.q4.check()

# %% [markdown]
# ## Summary
#
# - A loss is judged by its **gradient**: how hard each example pulls on the
#   model. MSE's pull grows with the error, so a few outliers
#   ({glue:text}`outlier_fraction` of the points, {glue:text}`outlier_share_mse`
#   of the gradient) tilt the fit; MAE and Huber cap the pull and stay near
#   the true line.
# - For classifiers, **cross-entropy** is the default: its gradient does not
#   vanish on confidently wrong examples, and its probabilities are
#   calibrated. Squared error on probabilities can get stuck; hinge decides
#   well but its scores are not probabilities.
# - On **imbalanced** data, accuracy hides a model that ignores the rare
#   class; **class weights** move the boundary. **Focal loss** focuses on
#   hard examples, which is not the same as rare ones: pair it with weights.
# - **Label smoothing** caps confidence and shrinks logit gaps; it is a
#   regulariser, and only improves calibration when the model was
#   overconfident.
# - Every loss here is a few lines of PyTorch (`helpers.losses`), checked
#   against `torch.nn.functional`; any of them can be passed to
#   `helpers.train.fit` as `loss_fn`.
#
# The next chapter changes the other half of the update: the optimizer that
# turns these gradients into steps. For the probabilistic view of losses as
# negative log-likelihoods, see {cite}`goodfellow2016deep` (chapters 5.5 and
# 6.2); for the loss functions PyTorch provides, {cite}`pytorch2024lossfunctions`.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
