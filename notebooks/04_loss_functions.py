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
# # Chapter 4: Loss functions
#
# The training loop of Chapter 1 never sees "accuracy" or "a good fit": it
# sees one number, the **loss**, and its gradient. Whatever the loss rewards
# is what the model learns. Choose mean squared error and a handful of broken
# measurements can tilt a regression line; choose squared error on
# probabilities and a classifier that starts out confidently wrong barely
# moves at a learning rate where cross-entropy recovers at once; train on
# data where one class is rare and the plain loss is happiest ignoring it.
# This chapter derives the common losses from one principle (maximum
# likelihood), writes them from scratch, checks each against PyTorch, and
# compares them fairly: each loss trained at the learning rates that suit
# *it*, several seeds, the test set used once.
#
# **After this chapter you will be able to**
#
# - derive MSE, MAE and cross-entropy as negative log-likelihoods, and the
#   cross-entropy gradient $\partial \text{CE} / \partial z = p - y$;
# - write MSE, MAE, Huber, cross-entropy, binary cross-entropy, hinge, focal
#   and label-smoothed losses in a few lines, and check them against `torch.nn.functional`;
# - explain, from its gradient, how much each training example pulls on the model under each loss;
# - compare losses fairly: each with its own learning-rate grid, since their gradients differ in scale;
# - choose a robust regression loss when the data has outliers;
# - handle class imbalance with class weights (and know what focal loss does and does not do);
# - predict the effect of label smoothing on confidence, and fix a model's
#   calibration after training with temperature scaling.

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
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy.optimize import minimize
from sklearn.dummy import DummyClassifier, DummyRegressor
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
torch.set_num_threads(1)  # tiny models and batches: a second thread costs more than it saves
# The comparisons train small models many times (every loss x every learning rate x every seed), on the CPU.
SEEDS = [SEED + k for k in range(max(3, round(3 * BUDGET)))]
SEEDS_CHEAP = [SEED + k for k in range(max(5, round(5 * BUDGET)))]  # for the experiments that cost little


def mean_sd(values, fmt="{:.1%}"):
    """'mean ± sd' over seeds, as a string to print and to quote."""
    values = np.asarray(values, dtype=float)
    return f"{fmt.format(values.mean())} ± {fmt.format(values.std(ddof=1))}"


print(f"seeds {SEEDS} for the costly comparisons, {SEEDS_CHEAP} for the cheap ones")

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
# The Huber loss {cite}`huber1964robust` is quadratic for small residuals and
# linear for large ones: it behaves like MSE on clean data and like MAE on
# outliers. Each is a line of PyTorch; we check them, value and gradient,
# against `torch.nn.functional` {cite}`pytorch2024lossfunctions`.

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


def show_check(table):
    """The check table for reading: values to 3 decimals, differences as powers of ten."""
    shown = table.copy()
    shown["value"] = shown["value"].map("{:.3f}".format)
    for column in ["|value difference|", "max |gradient difference|"]:
        shown[column] = shown[column].map(lambda v: "0" if v == 0 else f"{v:.0e}")
    return shown.to_string()


generator = torch.Generator().manual_seed(SEED)
p_example, y_example = torch.randn(100, generator=generator) * 2, torch.randn(100, generator=generator) * 2
regression_check = pd.DataFrame({
    "MSE vs F.mse_loss": compare_with_torch(mse, F.mse_loss, p_example, y_example),
    "MAE vs F.l1_loss": compare_with_torch(mae, F.l1_loss, p_example, y_example),
    "Huber vs F.huber_loss": compare_with_torch(huber, F.huber_loss, p_example, y_example),
}).T
assert (regression_check.iloc[:, 1:] < 1e-5).all().all(), "each hand-written loss should match PyTorch's"
print(show_check(regression_check))

# %% [markdown]
# The same functions, with input checks that fail with a clear message (wrong
# shapes, integer labels where floats are needed, NaN), live in
# `helpers.losses`; from here on we use those.
#
# ### Where these losses come from: maximum likelihood
#
# Why squares, and not fourth powers? Suppose the target is the prediction
# plus noise, $y = \hat y + \varepsilon$. If the noise is Gaussian with
# standard deviation $\sigma$, the probability density of seeing $y$ is
# $\frac{1}{\sqrt{2\pi}\sigma} e^{-(y - \hat y)^2 / 2\sigma^2}$, and the
# **negative log-likelihood** of the data, averaged over the examples, is
#
# $$
# -\frac1n \sum_i \log p(y_i \mid \hat y_i) = \frac{1}{2\sigma^2}\,\text{MSE} + \tfrac12 \log(2\pi\sigma^2).
# $$
#
# For any fixed $\sigma$ this is MSE times a positive number plus a
# constant, so the model that makes the data most likely is the model with
# the lowest MSE. Laplace noise, with density $\frac{1}{2b} e^{-|y - \hat y| / b}$,
# gives $\text{MAE}/b + \log 2b$ in the same way {cite}`goodfellow2016deep`.
# The loss is an assumption about the noise: MSE assumes that large errors
# are very rare (the Gaussian's tails fall fast), MAE that they happen. We
# check both identities with `torch.distributions`, and one consequence:
# the best *constant* prediction is the mean of the targets under MSE and
# their median under MAE.

# %%
SIGMA = 0.7  # any positive noise scale gives the same minimiser
gaussian_nll = -torch.distributions.Normal(p_example, SIGMA).log_prob(y_example).mean().item()
laplace_nll = -torch.distributions.Laplace(p_example, SIGMA).log_prob(y_example).mean().item()
from_mse = losses.mse(p_example, y_example).item() / (2 * SIGMA**2) + 0.5 * math.log(2 * math.pi * SIGMA**2)
from_mae = losses.mae(p_example, y_example).item() / SIGMA + math.log(2 * SIGMA)

skewed = torch.randn(1001, generator=generator).exp()  # a skewed sample: its mean and median differ
constants = torch.linspace(0, 3, 3001)
best_constant = {name: constants[torch.stack([loss_fn(c.expand_as(skewed), skewed) for c in constants]).argmin()].item()
                 for name, loss_fn in [("MSE", losses.mse), ("MAE", losses.mae)]}
likelihood_check = pd.DataFrame(
    {"negative log-likelihood": [gaussian_nll, laplace_nll], "from the loss": [from_mse, from_mae]},
    index=["Gaussian noise: NLL vs MSE / 2σ² + const", "Laplace noise: NLL vs MAE / b + const"],
)
print(likelihood_check.round(6).to_string())
print(f"best constant under MSE {best_constant['MSE']:.3f}, mean {skewed.mean().item():.3f}; "
      f"under MAE {best_constant['MAE']:.3f}, median {skewed.median().item():.3f}")
assert abs(gaussian_nll - from_mse) < 1e-4 and abs(laplace_nll - from_mae) < 1e-4
assert abs(best_constant["MSE"] - skewed.mean().item()) < 2e-3 and abs(best_constant["MAE"] - skewed.median().item()) < 5e-3

# %% [markdown]
# ### Data with outliers
#
# We draw points from the line $y = 1.5x + 0.5$ with a little Gaussian noise
# (standard deviation 0.3) and then corrupt a tenth of them: among the points
# with the largest $x$, some read about 6 too low, like a sensor that fails
# when the signal is high. Outliers at the edge of the data have
# **leverage**: they can tilt the line, not just shift it. We fit a line
# with each loss by full-batch gradient descent, all three at learning rate
# 0.1, with Huber's $\delta = 1$ (about three times the noise, chosen before
# looking at the results).

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
REGRESSION_EPOCHS = max(100, round(150 * BUDGET))
lines = {}
for name, loss_fn in REGRESSION_LOSSES.items():
    torch.manual_seed(SEED)
    line = nn.Linear(1, 1)
    fit(line, (x_t, y_t), loss_fn=loss_fn, optimizer=torch.optim.SGD(line.parameters(), lr=0.1),
        epochs=REGRESSION_EPOCHS, batch_size=len(x), metric=None, restore_best=False, device="cpu")
    lines[name] = (line.weight.item(), line.bias.item())

# %% [markdown]
# A learning rate decides how fast gradient descent goes downhill, not where
# the bottom is. So before blaming a loss for where its line ends up, we
# check that training reached the bottom: a direct search (the Nelder–Mead
# method of `scipy.optimize.minimize`, which uses no gradient and no
# learning rate) finds the lowest point of each loss over slope and
# intercept.

# %%
def lowest_point(loss_fn, x, y):
    """The (slope, intercept) where loss_fn of the line is lowest, by a direct search (no learning rate)."""
    x64, y64 = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    result = minimize(lambda wb: loss_fn(wb[0] * x64 + wb[1], y64).item(), x0=np.polyfit(x, y, 1),
                      method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-12})
    return result.x


bottoms = {name: lowest_point(loss_fn, x, y) for name, loss_fn in REGRESSION_LOSSES.items()}
convergence = pd.DataFrame(
    {"slope after training": [lines[n][0] for n in lines], "slope at the loss's lowest point": [bottoms[n][0] for n in lines],
     "intercept after training": [lines[n][1] for n in lines], "intercept at the lowest point": [bottoms[n][1] for n in lines]},
    index=pd.Index(list(lines), name="loss"),
)
print(convergence.round(3).to_string())
assert all(abs(lines[n][0] - bottoms[n][0]) < 0.02 and abs(lines[n][1] - bottoms[n][1]) < 0.02 for n in lines), (
    "gradient descent should have reached the bottom of each loss")

# %% [markdown]
# Training reached the bottom of each loss, so the differences below belong
# to the losses, not to the learning rate. One data set could be a lucky
# draw: we repeat on {glue:text}`n_seeds_cheap` data sets (different noise,
# different outliers), taking each loss's lowest point, and measure each line
# where it matters, on 1,000 fresh *clean* test points from the true line.
# A dummy model that predicts the median of the training targets, whatever
# $x$, is the baseline.

# %%
regression_rows = []
for seed in SEEDS_CHEAP:
    xs, ys, _ = make_outlier_regression(200, 0.1, slope=TRUE_SLOPE, intercept=TRUE_INTERCEPT, seed=seed)
    x_test, y_test, _ = make_outlier_regression(1000, 0.0, slope=TRUE_SLOPE, intercept=TRUE_INTERCEPT,
                                                seed=10_000 + seed)  # clean points, never used before this line
    dummy = DummyRegressor(strategy="median").fit(xs[:, None], ys)
    regression_rows.append({"loss": "dummy (median)", "seed": seed, "slope": 0.0,
                            "clean test MAE": np.abs(dummy.predict(x_test[:, None]) - y_test).mean()})
    for name, loss_fn in REGRESSION_LOSSES.items():
        w, b = lowest_point(loss_fn, xs, ys)
        regression_rows.append({"loss": name, "seed": seed, "slope": w,
                                "clean test MAE": np.abs(w * x_test + b - y_test).mean()})
regression_runs = pd.DataFrame(regression_rows)
regression_runs["|slope error|"] = (regression_runs["slope"] - TRUE_SLOPE).abs()
by_loss = regression_runs.groupby("loss", sort=False)
regression_summary = pd.DataFrame({
    "slope": by_loss["slope"].apply(lambda v: mean_sd(v, "{:.2f}")),
    "clean test MAE": by_loss["clean test MAE"].apply(lambda v: mean_sd(v, "{:.2f}")),
})

# %% mystnb={"image": {"alt": "Left: the data with the outliers in red at the right edge, and the three fitted lines; the MSE line is visibly tilted down towards the outliers while the MAE and Huber lines follow the clean points. Right three panels: residuals against x for each loss; for MSE the clean points show a trend, for MAE and Huber they scatter around zero and only the outliers stand out."}}
colours = {"MSE": "tab:blue", "MAE": "tab:green", "Huber": "tab:purple"}
clean = ~is_outlier
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
slope_error = by_loss["|slope error|"]
test_mae = by_loss["clean test MAE"]
for name in ["MSE", "MAE", "Huber"]:
    glue(f"slope_{name.lower()}", regression_summary.loc[name, "slope"])
    glue(f"test_mae_{name.lower()}", regression_summary.loc[name, "clean test MAE"])
glue("test_mae_dummy", regression_summary.loc["dummy (median)", "clean test MAE"])
glue("true_slope", TRUE_SLOPE, fmt=".1f")
glue("n_outliers", int(is_outlier.sum()))
glue("n_seeds_cheap", len(SEEDS_CHEAP))
print(f"{int(is_outlier.sum())} outliers per data set; mean ± sd over {len(SEEDS_CHEAP)} data sets "
      f"(true slope {TRUE_SLOPE}):")
print(regression_summary.to_string())
# Margins from the spread over data sets: MSE's slope error exceeds the robust losses' by more than 3 of its sds.
assert slope_error.mean()["MSE"] - 3 * slope_error.std()["MSE"] > max(slope_error.mean()["MAE"], slope_error.mean()["Huber"])
assert slope_error.max()["MAE"] < 0.3 and slope_error.max()["Huber"] < 0.3, "robust losses should stay near the true slope"
assert test_mae.mean()["Huber"] + 3 * test_mae.std()["Huber"] < test_mae.mean()["MSE"], "MSE's tilt costs on clean data"
assert test_mae.max()["MSE"] < test_mae.min()["dummy (median)"], "every line should beat the constant prediction"

# %% [markdown]
# Over {glue:text}`n_seeds_cheap` data sets, each with
# {glue:text}`n_outliers` bad points, the MSE line's slope is
# {glue:text}`slope_mse` (true: {glue:text}`true_slope`); MAE finds
# {glue:text}`slope_mae` and Huber {glue:text}`slope_huber`. On fresh clean
# points, the MSE line is off by {glue:text}`test_mae_mse` on average,
# against {glue:text}`test_mae_mae` for MAE and {glue:text}`test_mae_huber`
# for Huber (and {glue:text}`test_mae_dummy` for the constant prediction).
# The residual panels, for one of the data sets, show the cause: under MSE
# even the clean points are mispredicted, in a trend along $x$. MSE has
# traded accuracy on the many good points for a smaller error on the few bad
# ones, because one squared error of 6 costs as much as 400 squared errors of
# 0.3 (the noise level). In the language of likelihood: MSE assumed Gaussian
# noise, and a residual of 6 is twenty standard deviations, which Gaussian
# noise essentially never produces, so the line bends to explain it.
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
# is the true one (on each of the {glue:text}`n_seeds_cheap` data sets).

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


def outlier_share(loss_fn, x, y, is_outlier):
    """The outliers' share of the total |pull| when the line is the true one."""
    p = torch.tensor(TRUE_SLOPE * x + TRUE_INTERCEPT).requires_grad_()
    (pull,) = torch.autograd.grad(len(p) * loss_fn(p, torch.tensor(y)), p)
    return (pull.abs()[torch.tensor(is_outlier)].sum() / pull.abs().sum()).item()


share_rows = []
for seed in SEEDS_CHEAP:
    xs, ys, outliers = make_outlier_regression(200, 0.1, slope=TRUE_SLOPE, intercept=TRUE_INTERCEPT, seed=seed)
    share_rows += [{"loss": name, "seed": seed, "share": outlier_share(loss_fn, xs, ys, outliers)}
                   for name, loss_fn in REGRESSION_LOSSES.items()]
shares = pd.DataFrame(share_rows).groupby("loss", sort=False)["share"]

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
share_summary = shares.apply(lambda v: mean_sd(v, "{:.0%}"))
for name in REGRESSION_LOSSES:
    glue(f"outlier_share_{name.lower()}", share_summary[name])
glue("outlier_fraction", is_outlier.mean(), fmt=".0%")
print(f"outliers: {is_outlier.mean():.0%} of the points; their share of the gradient at the true line:",
      ", ".join(f"{k} {v}" for k, v in share_summary.items()))
# Margins: the spread of the shares over data sets is a few percent (printed above).
assert shares.min()["MSE"] > 0.5, "under MSE the few outliers should dominate the gradient"
assert shares.max()["MAE"] < shares.min()["Huber"] and shares.max()["Huber"] < shares.min()["MSE"] - 0.2

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
# $b$, on the first data set. Training rolls downhill on this surface; where
# its lowest point lies is where training ends. MSE's bowl is smooth, but
# centred on the wrong line. MAE's surface is built from flat pieces joined
# at creases (its gradient jumps whenever a residual changes sign; with 200
# points the creases are too small to see), and its lowest point sits near
# the true line. Huber's is smooth near the bottom *and* centred near the truth.

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
print(f"push at margin -5: cross-entropy {pull_ce:.2f}, squared error on p {pull_sq:.3f}, "
      f"ratio {pull_ce / pull_sq:.0f}")
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
# Cross-entropy's $\log$ undoes the sigmoid's flatness. Hinge also pushes
# hard on wrong examples, but stops at margin 1: beyond it, a correct
# example no longer matters.
#
# ### Cross-entropy is a likelihood too, and its gradient is $p - y$
#
# A classifier that outputs probabilities $p = \operatorname{softmax}(z)$
# says the label is drawn from the **categorical distribution** with those
# probabilities. The likelihood of the observed label $y$ is $p_y$, and the
# negative log-likelihood is $-\log p_y$: cross-entropy *is* maximum
# likelihood for classification, as MSE is for Gaussian noise
# {cite}`goodfellow2016deep`. Writing $-\log p_y = -z_y + \log \sum_k e^{z_k}$
# and differentiating with respect to $z_j$:
#
# $$
# \frac{\partial (-\log p_y)}{\partial z_j} = -[j = y] + \frac{e^{z_j}}{\sum_k e^{z_k}} = p_j - [j = y],
# \qquad \text{in short} \quad \frac{\partial\, \text{CE}}{\partial z} = p - y_{\text{one-hot}}.
# $$
#
# The push on each logit is simply "predicted minus observed", between $-1$
# and $1$, and it stays large exactly when the model is confidently wrong.
# (For one logit and the sigmoid, the same algebra gives $\sigma(z) - y$.)
# We check the likelihood, the formula against autograd, and autograd itself
# against finite differences.

# %%
logits_example = torch.randn(50, 4, generator=generator) * 3
labels_example = torch.randint(0, 4, (50,), generator=generator)
scores_example = torch.randn(50, generator=generator) * 3
targets_example = torch.randint(0, 2, (50,), generator=generator).float()

categorical_nll = -torch.distributions.Categorical(logits=logits_example).log_prob(labels_example).mean()
z = logits_example.clone().requires_grad_()
(autograd_gradient,) = torch.autograd.grad(losses.cross_entropy(z, labels_example), z)
p_minus_y = (logits_example.softmax(dim=1) - F.one_hot(labels_example, 4)) / len(z)  # /n: the loss is a mean
s = scores_example.clone().requires_grad_()
(binary_autograd,) = torch.autograd.grad(losses.binary_cross_entropy(s, targets_example), s)
sigmoid_minus_y = (torch.sigmoid(scores_example) - targets_example) / len(s)
autograd_is_right = torch.autograd.gradcheck(  # autograd against finite differences, in float64
    lambda z64: losses.cross_entropy(z64, labels_example), (logits_example.double().requires_grad_(),))
gradient_check = pd.Series({
    "|categorical NLL - cross-entropy|": abs(categorical_nll - losses.cross_entropy(logits_example, labels_example)).item(),
    "max |autograd - (p - y) / n|": (autograd_gradient - p_minus_y).abs().max().item(),
    "max |autograd - (sigmoid(z) - y) / n|, binary": (binary_autograd - sigmoid_minus_y).abs().max().item(),
})
print(gradient_check.map(lambda v: "0" if v == 0 else f"{v:.0e}").to_string())
print(f"autograd agrees with finite differences: {autograd_is_right}")
assert (gradient_check < 1e-6).all() and autograd_is_right

# %% [markdown]
# The three other classification losses, written from scratch and checked
# the same way. Cross-entropy subtracts the log-sum-exp of the logits
# (computed without overflow); the multi-class hinge sums the margin
# violations of the wrong classes (PyTorch divides by the number of classes
# $C$); squared error on probabilities compares the softmax with the one-hot label.

# %%
def cross_entropy(logits, labels):
    return (torch.logsumexp(logits, dim=1) - logits.gather(1, labels[:, None]).squeeze(1)).mean()


def multiclass_hinge(logits, labels, margin=1.0):
    violations = (margin - logits.gather(1, labels[:, None]) + logits).clamp(min=0)  # the true class adds `margin`
    return (violations.sum(dim=1) - margin).mean() / logits.shape[1]


def mse_on_probabilities(logits, labels):
    one_hot = F.one_hot(labels, logits.shape[1]).float()
    return ((logits.softmax(dim=1) - one_hot) ** 2).sum(dim=1).mean()


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
print(show_check(classification_check))

# %% [markdown]
# (Binary cross-entropy is computed from the logit as
# $\max(z, 0) - zy + \log(1 + e^{-|z|})$, which never takes the log of 0:
# Exercise 2 asks you to derive it. The weighted, focal and label-smoothed
# losses are explained in sections 3 and 4; `tests/test_losses.py` checks all
# of `helpers.losses` against PyTorch the same way.)
#
# ### Comparing losses fairly
#
# The pushes above differ in *scale*: at margin $-5$ by a factor of
# {glue:text}`pull_ratio_at_minus5`. A learning rate multiplies the
# gradient, so one learning rate shared by all the losses is a small step
# for one and a large step for another, and such a comparison measures the
# learning rate as much as the loss. In every experiment below, each loss is
# trained at every learning rate of its own grid, on several seeds; the rate
# is chosen on the validation set (its best value must not sit on the edge of
# the grid, or the grid is too narrow), and only the chosen runs meet the
# test set, once. The loop is `losses.train`: the bare loop of Chapter 1,
# without the per-epoch bookkeeping of `fit`, because it runs hundreds of
# times; `losses.best_on_grid` picks each loss's rate.
#
# ### Experiment 1: starting confidently wrong
#
# To see the vanishing push at work we give a linear classifier for the
# breast cancer data {cite}`street1993nuclear` a deliberately bad start: its
# weights point *against* the direction that separates the classes, so it
# begins confidently wrong on almost every example. Then we train it with
# each loss (plain SGD, minibatches of 32, {glue:text}`binary_epochs`
# epochs), at learning rates from 0.01 to 1000, on
# {glue:text}`n_seeds_cheap` random splits of the data.

# %%
BINARY_LOSSES = {
    "cross-entropy": losses.binary_cross_entropy,
    "hinge": losses.hinge,
    "squared error on p": lambda z, y: ((torch.sigmoid(z) - y) ** 2).mean(),
}
BINARY_GRID = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]  # the same wide grid for each loss: one rate per decade
BINARY_EPOCHS = max(8, round(15 * BUDGET))


def binary_accuracy(model, X, y):
    return ((model(X) > 0).float() == y).float().mean().item()


def confidently_wrong(n_features, X, y):
    """A linear model (one logit per sample) whose weights point from the class-1 mean to the class-0 mean."""
    linear = nn.Linear(n_features, 1)
    wrong_direction = X[y == 0].mean(0) - X[y == 1].mean(0)
    with torch.no_grad():
        linear.weight.copy_(3 * wrong_direction / wrong_direction.norm())
        linear.bias.zero_()
    return nn.Sequential(linear, nn.Flatten(0))


binary_rows, binary_models, binary_splits = [], {}, {}
for seed in SEEDS_CHEAP:
    cancer = load("breast_cancer", seed=seed).standardized()
    (Xc_train, yc_train), (Xc_val, yc_val), (Xc_test, yc_test) = (
        (X, y.float()) for X, y in (cancer.tensors(part) for part in ("train", "val", "test")))
    binary_splits[seed] = cancer, (Xc_val, yc_val), (Xc_test, yc_test)
    for name, loss_fn in BINARY_LOSSES.items():
        for lr in BINARY_GRID:
            model = confidently_wrong(cancer.n_features, Xc_train, yc_train)
            start = binary_accuracy(model, Xc_val, yc_val)
            curve = losses.train(model, loss_fn, Xc_train, yc_train, lr=lr, epochs=BINARY_EPOCHS, batch_size=32,
                                 seed=seed, on_epoch_end=lambda epoch, m: binary_accuracy(m, Xc_val, yc_val))
            binary_models[name, lr, seed] = model
            binary_rows.append({"loss": name, "lr": lr, "seed": seed, "start": start,
                                "val accuracy": curve[-1] if len(curve) == BINARY_EPOCHS else 0.0})  # diverged: 0
binary_sweep = pd.DataFrame(binary_rows)
binary_table = binary_sweep.pivot_table(index="loss", columns="lr", values="val accuracy", sort=False)
binary_best = losses.best_on_grid(binary_sweep, "val accuracy")
print(f"validation accuracy after {BINARY_EPOCHS} epochs, mean over {len(SEEDS_CHEAP)} splits "
      f"(at the start: {binary_sweep['start'].mean():.3f}):")
print(binary_table.round(3).to_string())
print(binary_best.round(3).to_string())

# %% mystnb={"image": {"alt": "Validation accuracy after training against the learning rate, on a log scale from 0.01 to 1000, for a linear classifier on the breast cancer data that starts confidently wrong. Cross-entropy and hinge are above 90 percent from a learning rate of 0.1 up to 1000; squared error on the probability stays near its starting accuracy, below 10 percent, up to 0.1 and only recovers from 1 up, dropping again at 1000. A dotted line marks the accuracy of always predicting the majority class."}}
fig, ax = plt.subplots(figsize=(6, 3.2))
for name in BINARY_LOSSES:
    runs = binary_sweep[binary_sweep["loss"] == name].groupby("lr")["val accuracy"]
    ax.errorbar(runs.mean().index, runs.mean(), yerr=runs.std(), marker="o", ms=3, capsize=2,
                color=margin_colours[name], label=name)
majority_val = np.mean([max(v[1].mean().item(), 1 - v[1].mean().item()) for _, v, _ in binary_splits.values()])
ax.axhline(majority_val, color="grey", ls=":", label="always the majority class")
ax.set(xscale="log", xlabel="learning rate (SGD)", ylabel="validation accuracy", ylim=(0, 1.02),
       title=f"starting confidently wrong: {BINARY_EPOCHS} epochs")
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# Each point is the mean over the splits, the bars one standard deviation.
# Only the chosen rate of each loss now meets the test set, with the dummy
# classifier that always predicts the majority class as the baseline.

# %% tags=["nbval-check-output"]
binary_test = {name: [binary_accuracy(binary_models[name, binary_best.loc[name, "lr"], seed], *binary_splits[seed][2])
                      for seed in SEEDS_CHEAP] for name in BINARY_LOSSES}
binary_test["dummy (majority class)"] = [
    DummyClassifier(strategy="most_frequent").fit(cancer.train.X, cancer.train.y).score(cancer.test.X, cancer.test.y)
    for cancer, _, _ in binary_splits.values()]
binary_summary = pd.DataFrame({
    "chosen lr": [f"{binary_best.loc[n, 'lr']:g}" if n in binary_best.index else "-" for n in binary_test],
    "test accuracy": [mean_sd(v) for v in binary_test.values()],
}, index=pd.Index(list(binary_test), name="loss"))
print(f"start: {binary_sweep['start'].mean():.1%} validation accuracy; {BINARY_EPOCHS} epochs; "
      f"test accuracy of each loss's chosen run:")
print(binary_summary.to_string())
at_01 = binary_table[0.1]
glue("binary_start_accuracy", binary_sweep["start"].mean(), fmt=".1%")
glue("binary_epochs", BINARY_EPOCHS)
glue("binary_ce_at_01", at_01["cross-entropy"], fmt=".1%")
glue("binary_hinge_at_01", at_01["hinge"], fmt=".1%")
glue("binary_sq_at_01", at_01["squared error on p"], fmt=".1%")
glue("binary_sq_at_1", binary_table.loc["squared error on p", 1.0], fmt=".1%")
glue("binary_sq_at_1000", binary_table.loc["squared error on p", 1000.0], fmt=".1%")
for key, name in [("ce", "cross-entropy"), ("hinge", "hinge"), ("sq", "squared error on p"),
                  ("dummy", "dummy (majority class)")]:
    glue(f"binary_test_{key}", binary_summary.loc[name, "test accuracy"])
    if name in binary_best.index:
        glue(f"binary_lr_{key}", f"{binary_best.loc[name, 'lr']:g}")
good_rates = {name: [lr for lr, acc in row.items() if acc >= row.max() - 0.02] for name, row in binary_table.iterrows()}
for key, name in [("ce", "cross-entropy"), ("hinge", "hinge"), ("sq", "squared error on p")]:
    glue(f"binary_ok_low_{key}", f"{min(good_rates[name]):g}")
    glue(f"binary_ok_high_{key}", f"{max(good_rates[name]):g}")
print("rates within 2 points of each loss's best:", "; ".join(f"{n} {', '.join(f'{lr:g}' for lr in r)}"
                                                           for n, r in good_rates.items()))
print(f"at lr 0.1: cross-entropy {at_01['cross-entropy']:.1%}, hinge {at_01['hinge']:.1%}, "
      f"squared error on p {at_01['squared error on p']:.1%}; squared error on p at lr 1: "
      f"{binary_table.loc['squared error on p', 1.0]:.1%}, at lr 1000: {binary_table.loc['squared error on p', 1000.0]:.1%}")
assert not binary_best["on_edge"].any(), "each loss's best learning rate should be inside its grid"
worst_at_01 = binary_sweep[binary_sweep["lr"] == 0.1].groupby("loss")["val accuracy"].agg(["min", "max"])
# Margins: across the splits, the recovered runs stay above 0.9 and the stuck ones below 0.5 (see the error bars).
assert worst_at_01.loc["cross-entropy", "min"] > 0.9 and worst_at_01.loc["hinge", "min"] > 0.9, "both recover at lr 0.1"
assert worst_at_01.loc["squared error on p", "max"] < 0.5, "at lr 0.1 squared error on probabilities stays stuck"
best_test = {name: np.mean(v) for name, v in binary_test.items()}
assert all(best_test[n] > 0.9 for n in BINARY_LOSSES), "at its own best rate each loss recovers"
assert all(best_test[n] > best_test["dummy (majority class)"] + 0.2 for n in BINARY_LOSSES)
test_sd = max(np.std(binary_test[n], ddof=1) for n in BINARY_LOSSES)  # the seed spread sets the margin
assert max(best_test[n] for n in BINARY_LOSSES) - min(best_test[n] for n in BINARY_LOSSES) < max(0.02, 2 * test_sd), (
    "tuned, the three losses should be within their spread of one another on the test set")
assert len(good_rates["squared error on p"]) < len(good_rates["cross-entropy"]), "cross-entropy works over more rates"

# %% [markdown]
# All runs start at {glue:text}`binary_start_accuracy` validation accuracy.
# At a learning rate of 0.1, cross-entropy reaches
# {glue:text}`binary_ce_at_01` after {glue:text}`binary_epochs` epochs and
# hinge {glue:text}`binary_hinge_at_01`, while squared error on the
# probability is still at {glue:text}`binary_sq_at_01`: compared at this one
# learning rate, it looks hopeless. But its gradient is only *small*, not
# wrong, and a larger learning rate makes up for a small gradient: at a rate
# of 1 it reaches {glue:text}`binary_sq_at_1`. Tuned on validation, each loss
# recovers, and on the test set the three are within their spreads of one
# another (cross-entropy {glue:text}`binary_test_ce` at rate
# {glue:text}`binary_lr_ce`, hinge {glue:text}`binary_test_hinge` at
# {glue:text}`binary_lr_hinge`, squared error {glue:text}`binary_test_sq` at
# {glue:text}`binary_lr_sq`; always predicting the majority class:
# {glue:text}`binary_test_dummy`).
#
# What the run does show is a difference in *robustness*: cross-entropy
# comes within 2 points of its best validation accuracy at every rate from
# {glue:text}`binary_ok_low_ce` to {glue:text}`binary_ok_high_ce`, hinge from
# {glue:text}`binary_ok_low_hinge` to {glue:text}`binary_ok_high_hinge`,
# squared error on probabilities only from {glue:text}`binary_ok_low_sq` to
# {glue:text}`binary_ok_high_sq` (at 1000 it falls back to
# {glue:text}`binary_sq_at_1000`). A loss that forgives a poorly chosen
# learning rate, and whose value is a likelihood, is a good default, and
# cross-entropy is the usual default for classifiers {cite}`goodfellow2016deep`.
#
# ### Experiment 2: accuracy and calibration on digits
#
# A second race, from PyTorch's usual random start: a network with one
# hidden layer of 32 units on the digits {cite}`alpaydin1998digits`,
# trained with cross-entropy, the multi-class hinge, and squared error on the
# softmax probabilities (SGD, minibatches of 64, {glue:text}`digit_epochs`
# epochs), each over its own grid of five learning rates, on
# {glue:text}`n_seeds` random splits.
#
# Besides accuracy we ask whether the softmax probabilities mean what they
# say. A model is **calibrated** when, among the examples it gives 80%
# confidence, it is right 80% of the time; the **expected calibration error**
# (ECE) averages the gap between confidence and accuracy over ten bins of
# confidence {cite}`guo2017calibration`.

# %%
DIGIT_LOSSES = {
    "cross-entropy": losses.cross_entropy,
    "hinge": losses.multiclass_hinge,
    "squared error on p": losses.mse_on_probabilities,
}
DIGIT_GRIDS = {  # each loss's own grid, widened until its best rate was inside
    "cross-entropy": [0.03, 0.1, 0.3, 1.0, 3.0],
    "hinge": [0.1, 0.3, 1.0, 3.0, 10.0],
    "squared error on p": [0.1, 0.3, 1.0, 3.0, 10.0],
}
DIGIT_EPOCHS = max(8, round(12 * BUDGET))
EARLY_EPOCH = 3


def accuracy(logits, labels):
    return (logits.argmax(dim=1) == labels).float().mean().item()


digit_rows, digit_logits, digit_splits = [], {}, {}
for seed in SEEDS:
    digits = load("digits", seed=seed).standardized()
    (Xd_train, yd_train), (Xd_val, yd_val), (Xd_test, yd_test) = (digits.tensors(part) for part in ("train", "val", "test"))
    digit_splits[seed] = digits, (Xd_val, yd_val), (Xd_test, yd_test)
    for name, loss_fn in DIGIT_LOSSES.items():
        for lr in DIGIT_GRIDS[name]:
            torch.manual_seed(seed)
            model = mlp(digits.n_features, [32], digits.n_classes)
            curve = losses.train(model, loss_fn, Xd_train, yd_train, lr=lr, epochs=DIGIT_EPOCHS, batch_size=64,
                                 seed=seed, on_epoch_end=lambda epoch, m: accuracy(m(Xd_val), yd_val))
            finished = len(curve) == DIGIT_EPOCHS and torch.isfinite(predict(model, Xd_val)).all()
            digit_logits[name, lr, seed] = (predict(model, Xd_val), predict(model, Xd_test)) if finished else None
            digit_rows.append({"loss": name, "lr": lr, "seed": seed,
                               f"val accuracy, epoch {EARLY_EPOCH}": curve[EARLY_EPOCH - 1] if finished else np.nan,
                               "val accuracy": curve[-1] if finished else 0.0})  # diverged: 0
digit_sweep = pd.DataFrame(digit_rows)
digit_table = digit_sweep.pivot_table(index="loss", columns="lr", values="val accuracy", sort=False)
digit_best = losses.best_on_grid(digit_sweep, "val accuracy")
print(f"validation accuracy after {DIGIT_EPOCHS} epochs, mean over {len(SEEDS)} splits "
      "(a run that diverged counts as 0; -: not on that loss's grid):")
print(digit_table.round(3).to_string(na_rep="-"))
print(digit_best.round(3).to_string())

# %% [markdown]
# Each loss's best rate is inside its grid (`on_edge` is False). The grids
# differ because the losses do: squared error on probabilities lags far
# behind at small rates, and each loss falls apart at the largest rates of
# its grid. The chosen run of each loss (and seed) now meets the test set.

# %%
dummy_digits = [DummyClassifier(strategy="most_frequent").fit(d.train.X, d.train.y).score(d.test.X, d.test.y)
                for d, _, _ in digit_splits.values()]
chosen_digits = []
for name in DIGIT_LOSSES:
    lr = digit_best.loc[name, "lr"]
    for seed in SEEDS:
        val_logits, test_logits = digit_logits[name, lr, seed]
        y_test = digit_splits[seed][2][1]
        p = test_logits.softmax(dim=1)
        early = digit_sweep.query("loss == @name and lr == @lr and seed == @seed")[f"val accuracy, epoch {EARLY_EPOCH}"]
        chosen_digits.append({"loss": name, "seed": seed, "early": early.item(), "test accuracy": accuracy(test_logits, y_test),
                              "mean confidence": p.max(dim=1).values.mean().item(),
                              "ECE": expected_calibration_error(*top_label_confidence(p, y_test))})
chosen_digits = pd.DataFrame(chosen_digits).groupby("loss", sort=False)
digit_summary = pd.DataFrame({
    "chosen lr": [f"{digit_best.loc[n, 'lr']:g}" for n in DIGIT_LOSSES] + ["-"],
    f"val accuracy, epoch {EARLY_EPOCH}": [mean_sd(v) for _, v in chosen_digits["early"]] + ["-"],
    "test accuracy": [mean_sd(v) for _, v in chosen_digits["test accuracy"]] + [mean_sd(dummy_digits)],
    "mean confidence": [mean_sd(v) for _, v in chosen_digits["mean confidence"]] + ["-"],
    "test ECE": [mean_sd(v) for _, v in chosen_digits["ECE"]] + ["-"],
}, index=pd.Index(list(DIGIT_LOSSES) + ["dummy (most frequent digit)"], name="loss"))

# %% mystnb={"image": {"alt": "Left: validation accuracy against the learning rate for the three losses on digits; cross-entropy peaks around 0.3 to 1, hinge and squared error on probabilities around 1 to 3, all near 97 percent, and every loss falls off at its largest rates. Right: reliability diagram on the test set for the chosen run of each loss; cross-entropy's and squared error's points lie close to the diagonal, hinge's lie far above it: right much more often than its low confidence says."}}
fig, (ax_lr, ax_cal) = plt.subplots(1, 2, figsize=(9.5, 3.4))
for name in DIGIT_LOSSES:
    runs = digit_sweep[digit_sweep["loss"] == name].groupby("lr")["val accuracy"]
    ax_lr.errorbar(runs.mean().index, runs.mean(), yerr=runs.std(), marker="o", ms=3, capsize=2,
                   color=margin_colours[name], label=name)
    _, test_logits = digit_logits[name, digit_best.loc[name, "lr"], SEED]
    curve = reliability_table(*top_label_confidence(test_logits.softmax(dim=1), digit_splits[SEED][2][1]))
    curve = curve[curve["count"] >= 10]  # bins with a handful of digits are mostly noise
    ax_cal.plot(curve["confidence"], curve["accuracy"], marker="o", ms=3, color=margin_colours[name], label=name)
ax_lr.set(xscale="log", xlabel="learning rate (SGD)", ylabel="validation accuracy", ylim=(0.5, 1.0),
          title="each loss over its own grid")
ax_cal.plot([0, 1], [0, 1], "k--", lw=1, label="calibrated")
ax_cal.set(xlabel="confidence (largest softmax probability)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1.02),
           title="reliability on the test set (chosen runs)")
ax_lr.legend(fontsize=7)
ax_cal.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
digit_means = chosen_digits[["early", "test accuracy", "mean confidence", "ECE"]].mean()
digit_sds = chosen_digits[["early", "test accuracy", "mean confidence", "ECE"]].std()
for key, name in [("ce", "cross-entropy"), ("hinge", "hinge"), ("sq", "squared error on p")]:
    glue(f"digits_lr_{key}", digit_summary.loc[name, "chosen lr"])
    glue(f"digits_early_{key}", digit_summary.loc[name, f"val accuracy, epoch {EARLY_EPOCH}"])
    glue(f"digits_test_{key}", digit_summary.loc[name, "test accuracy"])
    glue(f"digits_ece_{key}", digit_summary.loc[name, "test ECE"])
    glue(f"digits_conf_{key}", digit_summary.loc[name, "mean confidence"])
glue("digits_test_dummy", digit_summary.loc["dummy (most frequent digit)", "test accuracy"])
glue("digits_sq_at_ce_lr", digit_table.loc["squared error on p", 0.1], fmt=".1%")
glue("digits_ce_at_01", digit_table.loc["cross-entropy", 0.1], fmt=".1%")
glue("early_epoch", EARLY_EPOCH)
glue("digit_epochs", DIGIT_EPOCHS)
glue("n_seeds", len(SEEDS))
print(f"mean ± sd over {len(SEEDS)} splits, {DIGIT_EPOCHS} epochs, each loss at its chosen rate:")
print(digit_summary.to_string())
print(f"at lr 0.1: cross-entropy {digit_table.loc['cross-entropy', 0.1]:.1%}, "
      f"squared error on p {digit_table.loc['squared error on p', 0.1]:.1%}")
assert not digit_best["on_edge"].any(), "each loss's best learning rate should be inside its grid"
assert digit_table.loc["squared error on p", 0.1] < digit_table.loc["cross-entropy", 0.1] - 0.05, "lags at small rates"
spread = digit_sds["test accuracy"].max()  # the seed spread of test accuracy sets the margin
assert digit_means["test accuracy"].max() - digit_means["test accuracy"].min() < max(0.03, 3 * spread), (
    "tuned, the three losses should reach about the same accuracy")
assert digit_means["test accuracy"].min() > np.mean(dummy_digits) + 0.5
assert digit_means.loc["hinge", "mean confidence"] < digit_means.loc["hinge", "test accuracy"] - 0.1, (
    "softmax of hinge scores should be far less confident than the model is accurate")
# Margins: the ECE of each loss varies by about 0.01 to 0.04 over the splits; the gaps asserted are larger.
assert digit_means.loc["hinge", "ECE"] > max(digit_means.loc["cross-entropy", "ECE"], digit_means.loc["squared error on p", "ECE"]) + 0.08
assert digit_means.loc["cross-entropy", "ECE"] < 0.06 and digit_means.loc["squared error on p", "ECE"] < 0.06

# %% [markdown]
# Each loss at its own best rate reaches about the same test accuracy:
# cross-entropy {glue:text}`digits_test_ce` (rate {glue:text}`digits_lr_ce`),
# hinge {glue:text}`digits_test_hinge` (rate {glue:text}`digits_lr_hinge`),
# squared error on probabilities {glue:text}`digits_test_sq` (rate
# {glue:text}`digits_lr_sq`), against {glue:text}`digits_test_dummy` for
# always guessing the most frequent digit. The differences are within the
# spread over splits, so this run does not rank them. At a shared rate of
# 0.1 it would have: cross-entropy {glue:text}`digits_ce_at_01` on
# validation, squared error {glue:text}`digits_sq_at_ce_lr`. Speed follows
# the same pattern: after {glue:text}`early_epoch` epochs, at their own
# rates, the three stand at {glue:text}`digits_early_ce`,
# {glue:text}`digits_early_hinge` and {glue:text}`digits_early_sq`.
#
# Where the losses do differ is in the meaning of the outputs. Hinge's scores
# are not probabilities: once a digit wins by the margin, the loss stops
# pushing, so the softmax of its scores stays timid (mean confidence
# {glue:text}`digits_conf_hinge` for a model that is right
# {glue:text}`digits_test_hinge` of the time; ECE {glue:text}`digits_ece_hinge`).
# Cross-entropy (ECE {glue:text}`digits_ece_ce`) and squared error on
# probabilities (ECE {glue:text}`digits_ece_sq`) are both well calibrated
# here. That is no accident: both are **proper scoring rules**, whose
# expected value is lowest when the predicted probabilities are the true ones
# {cite}`gneiting2007strictly`; the hinge loss is not.
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
#
# Both change the scale of the gradient (focal loss shrinks it, weights
# grow the minority's share), so each of the four losses gets its own search
# over Adam's learning rate, on {glue:text}`n_seeds` draws of the data, and
# the rate is chosen by **balanced accuracy** on the (imbalanced) validation
# set: the mean of the two recalls, the measure we care about here.

# %%
KEEP_FRACTION = 0.05
MOONS_GRID = [3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
MOONS_EPOCHS = max(20, round(20 * BUDGET))  # fewer epochs move the best rate to the grid's edge


def recalls(predicted, labels):
    return [float((predicted[labels == c] == c).mean()) for c in (0, 1)]


moons_rows, moons_models, moons_data = [], {}, {}
for seed in SEEDS:
    moons = load("moons", seed=seed, n_samples=4000)
    Xm_train, ym_train = make_imbalanced(moons.train.X, moons.train.y, minority_class=1,
                                         keep_fraction=KEEP_FRACTION, seed=seed)
    Xm_val, ym_val = make_imbalanced(moons.val.X, moons.val.y, minority_class=1,
                                     keep_fraction=KEEP_FRACTION, seed=seed)
    moons_data[seed] = (Xm_train, ym_train), (Xm_val, ym_val), (moons.test.X, moons.test.y)
    class_weights = losses.balanced_class_weights(ym_train, n_classes=2)
    imbalance_losses = {
        "cross-entropy": losses.cross_entropy,
        "weighted cross-entropy": partial(losses.weighted_cross_entropy, class_weights=class_weights),
        "focal (gamma = 2)": partial(losses.focal_loss, gamma=2.0),
        "focal + class weights": partial(losses.focal_loss, gamma=2.0, class_weights=class_weights),
    }
    for name, loss_fn in imbalance_losses.items():
        for lr in MOONS_GRID:
            torch.manual_seed(seed)
            model = mlp(2, [32, 32], 2)
            losses.train(model, loss_fn, torch.as_tensor(Xm_train), torch.as_tensor(ym_train), lr=lr,
                         epochs=MOONS_EPOCHS, batch_size=128, seed=seed, optimizer=torch.optim.Adam)
            moons_models[name, lr, seed] = model
            val_recall = recalls(predict(model, Xm_val).argmax(1).numpy(), ym_val)
            moons_rows.append({"loss": name, "lr": lr, "seed": seed, "val balanced accuracy": np.mean(val_recall)})
    if seed == SEED:
        print(f"training set: {len(ym_train)} points, {int(ym_train.sum())} of the minority class; validation set: "
              f"{len(ym_val)} points, {int(ym_val.sum())} of the minority class; balanced class weights "
              f"{', '.join(f'{w:.1f}' for w in class_weights.tolist())}")
        glue("minority_weight", class_weights[1].item(), fmt=".1f")
moons_sweep = pd.DataFrame(moons_rows)
moons_best = losses.best_on_grid(moons_sweep, "val balanced accuracy")
print(f"validation balanced accuracy, mean over {len(SEEDS)} draws:")
print(moons_sweep.pivot_table(index="loss", columns="lr", values="val balanced accuracy", sort=False).round(3).to_string())
print(moons_best.round(3).to_string())

# %% [markdown]
# The chosen run of each loss meets the full test set; the dummy classifier
# that always predicts the majority class is the baseline.

# %% tags=["nbval-check-output"]
moons_test_rows = []
for seed in SEEDS:
    (_, ym_train), (_, ym_val), (Xm_test, ym_test) = moons_data[seed]
    dummy = DummyClassifier(strategy="most_frequent").fit(np.zeros((len(ym_train), 1)), ym_train)
    majority_recall, minority_recall = recalls(dummy.predict(np.zeros((len(ym_test), 1))), ym_test)
    moons_test_rows.append({"loss": "dummy (majority class)", "seed": seed, "majority recall": majority_recall,
                            "minority recall": minority_recall})
    for name in moons_best.index:
        model = moons_models[name, moons_best.loc[name, "lr"], seed]
        majority_recall, minority_recall = recalls(predict(model, Xm_test).argmax(1).numpy(), ym_test)
        moons_test_rows.append({"loss": name, "seed": seed, "majority recall": majority_recall,
                                "minority recall": minority_recall})
moons_test = pd.DataFrame(moons_test_rows)
moons_test["balanced accuracy"] = (moons_test["majority recall"] + moons_test["minority recall"]) / 2
moons_by_loss = moons_test.groupby("loss", sort=False)
imbalance_summary = moons_by_loss[["majority recall", "minority recall", "balanced accuracy"]].agg(mean_sd)
imbalance_summary.insert(0, "chosen lr", [f"{moons_best.loc[n, 'lr']:g}" if n in moons_best.index else "-"
                                          for n in imbalance_summary.index])

# %% mystnb={"image": {"alt": "Decision regions of four classifiers trained on the imbalanced moons, drawn over the full test set, for one draw of the data. With plain cross-entropy and with focal loss alone the boundary hugs the lower moon and leaves part of it in the majority region; with class weights, alone or with focal loss, the minority region covers nearly all of the lower moon."}}
fig, axes = plt.subplots(1, 4, figsize=(14, 3.3), sharey=True)
Xm_test, ym_test = moons_data[SEED][2]
for ax, name in zip(axes, moons_best.index):
    model = moons_models[name, moons_best.loc[name, "lr"], SEED]
    recall = recalls(predict(model, Xm_test).argmax(1).numpy(), ym_test)[1]
    plot_decision_boundary(lambda P, m=model: predict(m, P).argmax(1), Xm_test, ym_test, ax=ax,
                           title=f"{name}\nminority recall {recall:.0%}", resolution=80)
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
recall_mean, recall_sd = moons_by_loss["minority recall"].mean(), moons_by_loss["minority recall"].std()
majority_mean = moons_by_loss["majority recall"].mean()
keys = {"cross-entropy": "ce", "weighted cross-entropy": "wce", "focal (gamma = 2)": "focal",
        "focal + class weights": "focalw", "dummy (majority class)": "dummy"}
for name, key in keys.items():
    glue(f"recall_{key}", imbalance_summary.loc[name, "minority recall"])
    glue(f"majority_recall_{key}", imbalance_summary.loc[name, "majority recall"])
    glue(f"balanced_{key}", imbalance_summary.loc[name, "balanced accuracy"])
glue("keep_fraction", KEEP_FRACTION, fmt=".0%")
dummy_val_accuracy = np.mean([(moons_data[s][1][1] == 0).mean() for s in SEEDS])
glue("dummy_val_accuracy", dummy_val_accuracy, fmt=".1%")
print(f"the dummy's accuracy on the imbalanced validation sets: {dummy_val_accuracy:.1%}")
print(f"kept {KEEP_FRACTION:.0%} of the minority class in training and validation; test set, mean ± sd over "
      f"{len(SEEDS)} draws:")
print(imbalance_summary.to_string())
assert not moons_best["on_edge"].any(), "each loss's best learning rate should be inside its grid"
# Margins from the spread over draws (sd of minority recall printed above, up to about 0.06).
gap = recall_mean["weighted cross-entropy"] - recall_mean["cross-entropy"]
assert gap > 2 * max(recall_sd["weighted cross-entropy"], recall_sd["cross-entropy"]), "class weights should find more of the rare class"
assert recall_mean["focal + class weights"] - recall_mean["cross-entropy"] > 2 * recall_sd["cross-entropy"]
assert majority_mean["weighted cross-entropy"] < majority_mean["cross-entropy"], "moving the boundary costs some majority recall"
assert abs(recall_mean["focal (gamma = 2)"] - recall_mean["cross-entropy"]) < gap, "weighting should matter more than focusing"
assert recall_mean["cross-entropy"] > 0.2, "every trained model should beat the dummy's 0 minority recall"

# %% [markdown]
# Plain cross-entropy, at its best rate, finds {glue:text}`recall_ce` of the
# rare class. The dummy finds none ({glue:text}`recall_dummy`), yet scores
# {glue:text}`dummy_val_accuracy` accuracy on the imbalanced validation set:
# on imbalanced data, accuracy hides the failure. Weighting each minority example
# {glue:text}`minority_weight` times raises minority recall to
# {glue:text}`recall_wce`, at the price of some majority recall
# ({glue:text}`majority_recall_wce` instead of {glue:text}`majority_recall_ce`):
# the boundary moves, and where to put it is a decision about which mistake
# costs more, not a property of the data.
#
# Focal loss *alone* gives {glue:text}`recall_focal`: close to plain
# cross-entropy, given the spread. It down-weights easy examples of *both*
# classes; it does not know which class is rare. With class weights added,
# as in its paper, it reaches {glue:text}`recall_focalw`. On this small
# problem, the class weights do the work; the focal loss paper reports its
# gains where easy examples outnumber hard ones by orders of magnitude, in
# dense object detection {cite}`lin2017focal`, which this run does not test.
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
# We train a network with one hidden layer of 64 units on the digits with
# and without it ($\varepsilon =$ {glue:text}`smoothing`, Adam,
# {glue:text}`smoothing_epochs` epochs: long enough for the plain one to
# become very confident), each over its own learning-rate grid, on
# {glue:text}`n_seeds` splits.

# %%
SMOOTHING = 0.1
SMOOTHING_GRID = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1]  # its validation curve is flat in the middle: a wide grid
SMOOTHING_EPOCHS = max(20, round(20 * BUDGET))  # long enough to become confident
SMOOTHING_LOSSES = {"cross-entropy": losses.cross_entropy,
                    f"label smoothing {SMOOTHING}": partial(losses.label_smoothed_cross_entropy, smoothing=SMOOTHING)}
smoothing_rows, smoothing_models = [], {}
for seed in SEEDS:
    digits, (Xd_val, yd_val), _ = digit_splits[seed]
    Xd_train, yd_train = digits.tensors("train")
    for name, loss_fn in SMOOTHING_LOSSES.items():
        for lr in SMOOTHING_GRID:
            torch.manual_seed(seed)
            model = mlp(digits.n_features, [64], digits.n_classes)
            losses.train(model, loss_fn, Xd_train, yd_train, lr=lr, epochs=SMOOTHING_EPOCHS, batch_size=64,
                         seed=seed, optimizer=torch.optim.Adam)
            smoothing_models[name, lr, seed] = model
            smoothing_rows.append({"loss": name, "lr": lr, "seed": seed,
                                   "val accuracy": accuracy(predict(model, Xd_val), yd_val)})
smoothing_sweep = pd.DataFrame(smoothing_rows)
smoothing_best = losses.best_on_grid(smoothing_sweep, "val accuracy")
print(f"validation accuracy, mean over {len(SEEDS)} splits:")
print(smoothing_sweep.pivot_table(index="loss", columns="lr", values="val accuracy", sort=False).round(3).to_string())
print(smoothing_best.round(3).to_string())

# %%
smoothing_chosen, smoothing_confidences = [], {}
for name in SMOOTHING_LOSSES:
    for seed in SEEDS:
        digits, _, (Xd_test, yd_test) = digit_splits[seed]
        model = smoothing_models[name, smoothing_best.loc[name, "lr"], seed]
        train_logits, test_logits = predict(model, digits.tensors("train")[0]), predict(model, Xd_test)
        top2 = train_logits.topk(2, dim=1).values
        p = test_logits.softmax(dim=1)
        if seed == SEED:
            smoothing_confidences[name] = p.max(dim=1).values
        smoothing_chosen.append({
            "loss": name, "seed": seed,
            "train confidence": train_logits.softmax(1).max(1).values.mean().item(),
            "train logit gap": (top2[:, 0] - top2[:, 1]).mean().item(),
            "test accuracy": accuracy(test_logits, yd_test),
            "test confidence": p.max(dim=1).values.mean().item(),
            "test ECE": expected_calibration_error(*top_label_confidence(p, yd_test)),
        })
smoothing_chosen = pd.DataFrame(smoothing_chosen).groupby("loss", sort=False)
smoothing_results = smoothing_chosen.agg(
    {"train confidence": mean_sd, "train logit gap": partial(mean_sd, fmt="{:.1f}"), "test accuracy": mean_sd,
     "test confidence": mean_sd, "test ECE": mean_sd})

# %% mystnb={"image": {"alt": "Histograms, on a log scale, of the test-set confidence of two digit classifiers. Plain cross-entropy piles almost all examples at a confidence near 1; with label smoothing most examples sit lower, between about 0.8 and 0.95, around the dotted line at the training ceiling of 0.91, and few reach 1."}}
fig, ax = plt.subplots(figsize=(6, 3.2))
bins = np.linspace(0.3, 1.0, 36)
for (name, confidence), colour in zip(smoothing_confidences.items(), ["tab:blue", "tab:red"]):
    ax.hist(confidence.numpy(), bins=bins, alpha=0.6, color=colour, label=name)
ax.axvline(1 - SMOOTHING + SMOOTHING / 10, color="tab:red", ls=":", label="1 - eps + eps / C")
ax.set(xlabel="confidence on a test digit", ylabel="test digits", yscale="log", title="how sure the model is")
ax.legend(fontsize=7)
plt.show()

# %% tags=["nbval-check-output"]
smoothing_means, smoothing_sds = smoothing_chosen.mean(numeric_only=True), smoothing_chosen.std(numeric_only=True)
plain_name, smooth_name = list(SMOOTHING_LOSSES)
for key, name in [("plain", plain_name), ("smooth", smooth_name)]:
    glue(f"ls_train_conf_{key}", smoothing_results.loc[name, "train confidence"])
    glue(f"ls_gap_{key}", smoothing_results.loc[name, "train logit gap"])
    glue(f"ls_test_acc_{key}", smoothing_results.loc[name, "test accuracy"])
    glue(f"ls_ece_{key}", smoothing_results.loc[name, "test ECE"])
    glue(f"ls_lr_{key}", f"{smoothing_best.loc[name, 'lr']:g}")
ls_ceiling = 1 - SMOOTHING + SMOOTHING / 10
glue("ls_ceiling", ls_ceiling, fmt=".0%")
glue("smoothing", SMOOTHING)
glue("smoothing_epochs", SMOOTHING_EPOCHS)
print(f"smoothing {SMOOTHING}, {SMOOTHING_EPOCHS} epochs: the confidence ceiling on training examples is "
      f"1 - eps + eps / C = {ls_ceiling:.0%}; chosen learning rates {smoothing_best['lr'].tolist()}")
print(f"chosen runs, mean ± sd over {len(SEEDS)} splits:")
print(smoothing_results.to_string())
assert not smoothing_best["on_edge"].any(), "each loss's best learning rate should be inside its grid"
plain, smoothed = smoothing_means.loc[plain_name], smoothing_means.loc[smooth_name]
# Margins: over the splits, confidences vary by about 0.01, accuracies and ECEs by about 0.01 to 0.02.
assert smoothed["train confidence"] < min(plain["train confidence"] - 0.05, ls_ceiling + 0.01), "smoothing caps the confidence"
assert smoothed["train logit gap"] < 0.7 * plain["train logit gap"], "smoothing should shrink the logit gap"
assert abs(smoothed["test accuracy"] - plain["test accuracy"]) < 0.03, "accuracy should barely change"
assert smoothed["test ECE"] > plain["test ECE"] + 0.05, "on this well-calibrated model smoothing adds underconfidence"
assert smoothed["test confidence"] < smoothed["test accuracy"] - 0.05, "smoothed model should be underconfident"

# %% [markdown]
# With $\varepsilon =$ {glue:text}`smoothing` (each loss at its own best
# rate: {glue:text}`ls_lr_plain` and {glue:text}`ls_lr_smooth`), the mean
# confidence on the training digits falls from {glue:text}`ls_train_conf_plain` to
# {glue:text}`ls_train_conf_smooth` (the ceiling is {glue:text}`ls_ceiling`),
# and the gap between the two largest logits from {glue:text}`ls_gap_plain`
# to {glue:text}`ls_gap_smooth`. Test accuracy barely moves
# ({glue:text}`ls_test_acc_plain` against {glue:text}`ls_test_acc_smooth`).
# Calibration does not improve here: this small network was already well
# calibrated (ECE {glue:text}`ls_ece_plain`), and smoothing makes it
# *under*confident (ECE {glue:text}`ls_ece_smooth`), right more often than it
# claims. Label smoothing is a regulariser of the logits, not a calibration
# method; it is reported to help calibration when a network is
# overconfident, which large networks trained long often are
# {cite}`guo2017calibration,muller2019label`.
#
# ## 5. Calibration after training: temperature scaling
#
# Two of our models give probabilities that do not mean what they say: the
# hinge network of Experiment 2 (underconfident because its loss stops
# pushing at the margin) and the label-smoothed network (underconfident by
# design). **Temperature scaling** {cite}`guo2017calibration` repairs this
# after training, with one number: divide every logit by a temperature
# $T > 0$ before the softmax. $T > 1$ softens the probabilities, $T < 1$
# sharpens them, and since dividing all logits by the same $T$ never changes
# which is largest, **the predictions, and so the accuracy, stay exactly the
# same**. $T$ is fitted on the *validation* set, by minimising the
# cross-entropy of $\operatorname{softmax}(z / T)$ (a one-dimensional search,
# `losses.fit_temperature`); the test set then tells whether it helped. We
# do it for the chosen runs of both sections, on every split.

# %%
temperature_rows = []
for seed in SEEDS:
    digits, (Xd_val, yd_val), (Xd_test, yd_test) = digit_splits[seed]
    outputs = {name: digit_logits[name, digit_best.loc[name, "lr"], seed] for name in DIGIT_LOSSES}
    for name in SMOOTHING_LOSSES:
        model = smoothing_models[name, smoothing_best.loc[name, "lr"], seed]
        outputs[f"{name} (Adam, 64 units)"] = (predict(model, Xd_val), predict(model, Xd_test))
    for name, (val_logits, test_logits) in outputs.items():
        temperature = losses.fit_temperature(val_logits, yd_val)  # fitted on validation only
        before = top_label_confidence(test_logits.softmax(dim=1), yd_test)
        after = top_label_confidence((test_logits / temperature).softmax(dim=1), yd_test)
        temperature_rows.append({"model": name, "seed": seed, "T": temperature,
                                 "test ECE before": expected_calibration_error(*before),
                                 "test ECE after": expected_calibration_error(*after),
                                 "test accuracy before": before[1].mean(), "test accuracy after": after[1].mean()})
temperature_runs = pd.DataFrame(temperature_rows)
by_model = temperature_runs.groupby("model", sort=False)
temperature_results = by_model.agg({"T": partial(mean_sd, fmt="{:.2f}"), "test ECE before": mean_sd,
                                    "test ECE after": mean_sd, "test accuracy before": mean_sd,
                                    "test accuracy after": mean_sd})

# %% mystnb={"image": {"alt": "Two reliability diagrams on the test digits, before and after temperature scaling, for the hinge network and the label-smoothed network. Before, both curves lie well above the diagonal: the models are right more often than their confidence says. After dividing the logits by the temperature fitted on validation, both curves lie close to the diagonal."}}
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
digits, (Xd_val, yd_val), (Xd_test, yd_test) = digit_splits[SEED]
examples = {"hinge": digit_logits["hinge", digit_best.loc["hinge", "lr"], SEED],
            smooth_name: tuple(predict(smoothing_models[smooth_name, smoothing_best.loc[smooth_name, "lr"], SEED], X)
                               for X in (Xd_val, Xd_test))}
for ax, (name, (val_logits, test_logits)) in zip(axes, examples.items()):
    temperature = losses.fit_temperature(val_logits, yd_val)
    for label, logits, style in [("before", test_logits, "o-"), (f"after (T = {temperature:.2f})", test_logits / temperature, "s-")]:
        curve = reliability_table(*top_label_confidence(logits.softmax(dim=1), yd_test))
        curve = curve[curve["count"] >= 10]
        ax.plot(curve["confidence"], curve["accuracy"], style, ms=3, label=label)
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="calibrated")
    ax.set(xlabel="confidence", xlim=(0, 1), ylim=(0, 1.02), title=name)
    ax.legend(fontsize=7)
axes[0].set_ylabel("accuracy")
fig.tight_layout()
plt.show()

# %% tags=["nbval-check-output"]
for key, name in [("ce", "cross-entropy"), ("hinge", "hinge"), ("sq", "squared error on p"),
                  ("smooth", f"{smooth_name} (Adam, 64 units)")]:
    glue(f"ts_T_{key}", temperature_results.loc[name, "T"])
    glue(f"ts_before_{key}", temperature_results.loc[name, "test ECE before"])
    glue(f"ts_after_{key}", temperature_results.loc[name, "test ECE after"])
print(f"mean ± sd over {len(SEEDS)} splits; T fitted on the validation set:")
print(temperature_results.to_string())
assert (temperature_runs["test accuracy before"] == temperature_runs["test accuracy after"]).all(), (
    "dividing the logits by one temperature never changes a prediction")
ece_before, ece_after = by_model["test ECE before"], by_model["test ECE after"]
for name in ["hinge", f"{smooth_name} (Adam, 64 units)"]:
    # Margin: the ECE varies by about 0.01 to 0.03 over the splits; the improvement must exceed 3 sds of either.
    assert ece_before.mean()[name] - ece_after.mean()[name] > 3 * max(ece_before.std()[name], ece_after.std()[name])
    assert ece_after.max()[name] < 0.06, "after temperature scaling the model should be close to calibrated"
assert temperature_runs.query("model == 'hinge'")["T"].max() < 1, "the hinge network needs sharpening (T < 1)"

# %% [markdown]
# For the hinge network the fitted temperature is {glue:text}`ts_T_hinge`
# (below 1: the logits are sharpened), and its test ECE falls from
# {glue:text}`ts_before_hinge` to {glue:text}`ts_after_hinge`; for the
# label-smoothed network $T$ = {glue:text}`ts_T_smooth` takes it from
# {glue:text}`ts_before_smooth` to {glue:text}`ts_after_smooth`. The
# accuracy of every model is exactly what it was. For the models that were
# already calibrated (cross-entropy: {glue:text}`ts_before_ce` before,
# {glue:text}`ts_after_ce` after; squared error on probabilities:
# {glue:text}`ts_before_sq` before, {glue:text}`ts_after_sq` after) there is
# little to gain, and a temperature fitted on 360 validation digits can move
# the ECE a little either way. Temperature scaling needs a held-out set and
# fixes only a miscalibration that is the same at all confidence levels;
# it costs nothing at prediction time.
#
# ## 6. The loss function table
#
# Every loss of this chapter, what it is for, and what it did here (the last
# column is measured in the runs above; mean over seeds, each loss at its own
# best learning rate).

# %%
loss_table = pd.DataFrame(
    [
        ("MSE", "regression", "mean (ŷ − y)²", "Gaussian noise; large errors should cost much more",
         f"slope {regression_summary.loc['MSE', 'slope']} (true {TRUE_SLOPE}) with {is_outlier.mean():.0%} outliers"),
        ("MAE", "regression", "mean |ŷ − y|", "Laplace noise, outliers; predicts the median",
         f"slope {regression_summary.loc['MAE', 'slope']}; outliers {share_summary['MAE']} of the gradient"),
        ("Huber (δ = 1)", "regression", "½r² if |r| ≤ δ, else δ(|r| − ½δ)",
         "outliers, but a smooth minimum; δ in target units",
         f"slope {regression_summary.loc['Huber', 'slope']}; outliers {share_summary['Huber']} of the gradient"),
        ("cross-entropy", "classification", "−log softmax(z)_y", "the default; categorical likelihood, gradient p − y",
         f"digits: test {digit_summary.loc['cross-entropy', 'test accuracy']}, ECE {digit_summary.loc['cross-entropy', 'test ECE']}"),
        ("binary cross-entropy", "binary classification", "−[y log σ(z) + (1−y) log(1−σ(z))]",
         "two classes or multi-label, one logit each",
         f"cancer, bad start: {binary_table.loc['cross-entropy', 0.1]:.0%} at lr 0.1"),
        ("hinge", "classification", "max(0, 1 − t z); multi-class: Σ_j≠y max(0, 1 − z_y + z_j) / C",
         "only the decision matters, not probabilities (SVMs)",
         f"digits: test {digit_summary.loc['hinge', 'test accuracy']}, ECE {digit_summary.loc['hinge', 'test ECE']}"),
        ("squared error on p (Brier)", "classification", "Σ_k (p_k − [k = y])²",
         "a proper score of probabilities; needs a larger learning rate",
         f"cancer, bad start: {binary_table.loc['squared error on p', 0.1]:.0%} at lr 0.1, "
         f"{binary_table.loc['squared error on p', 1.0]:.0%} at lr 1; digits: ECE {digit_summary.loc['squared error on p', 'test ECE']}"),
        ("weighted cross-entropy", "imbalanced classification", "Σ w_y (−log p_y) / Σ w_y",
         "rare classes matter; w_c = n / (C n_c)",
         f"minority recall {imbalance_summary.loc['weighted cross-entropy', 'minority recall']} "
         f"(plain: {imbalance_summary.loc['cross-entropy', 'minority recall']})"),
        ("focal (γ = 2)", "imbalanced / many easy examples", "−(1 − p_y)^γ log p_y",
         "easy examples swamp the loss (detection); add class weights",
         f"minority recall {imbalance_summary.loc['focal (gamma = 2)', 'minority recall']}; "
         f"with weights {imbalance_summary.loc['focal + class weights', 'minority recall']}"),
        ("label-smoothed cross-entropy", "classification", "−Σ_k q_k log p_k, q = (1−ε) one-hot + ε/C",
         "regularise overconfident large models",
         f"train confidence {smoothing_results.loc[smooth_name, 'train confidence']}, "
         f"test ECE {smoothing_results.loc[smooth_name, 'test ECE']} (plain {smoothing_results.loc[plain_name, 'test ECE']})"),
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
# ```{exercise} Predict, then run: outliers in the middle
# :label: ch04-ex1
# In Section 1 the outliers sat among the points with the largest $x$ and
# tilted the MSE line. Now move the *same number* of outliers, with the same
# offset of about $-6$, to the points nearest the middle of the $x$ range.
# Will the MSE line's slope error be `"larger"`, `"smaller"` or
# `"about the same"`? Set `prediction_middle`, run the check, then run the
# experiment below it.
# ```
#
# ```{solution-start} ch04-ex1
# :class: dropdown
# ```

# %% tags=["solution"] nbgrader={"grade": false, "grade_id": "ch04-ex1-answer", "locked": false, "schema_version": 3, "solution": true}
### BEGIN SOLUTION
prediction_middle = "smaller"
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% tags=["nbval-check-output"] nbgrader={"grade": true, "grade_id": "ch04-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false}
ex.q1.check()

# %%
middle_rows = []
for seed in SEEDS_CHEAP:
    xs, ys, edge_outliers = make_outlier_regression(200, 0.1, slope=TRUE_SLOPE, intercept=TRUE_INTERCEPT, seed=seed)
    xs, clean_ys, _ = make_outlier_regression(200, 0.0, slope=TRUE_SLOPE, intercept=TRUE_INTERCEPT, seed=seed)
    n_out = int(edge_outliers.sum())
    rng = np.random.default_rng(seed)
    middle = rng.choice(np.argsort(np.abs(xs))[:3 * n_out], size=n_out, replace=False)  # near x = 0
    middle_ys = clean_ys.copy()
    middle_ys[middle] += -6.0 + rng.normal(0, 1.0, n_out)
    edge_slope, middle_slope = np.polyfit(xs, ys, 1)[0], np.polyfit(xs, middle_ys, 1)[0]  # MSE's lowest point
    middle_rows.append({"seed": seed, "outliers at the edge": abs(edge_slope - TRUE_SLOPE),
                        "outliers in the middle": abs(middle_slope - TRUE_SLOPE)})
middle_table = pd.DataFrame(middle_rows).set_index("seed")
print(f"|slope error| of the MSE line, {n_out} outliers:")
print(middle_table.round(3).to_string())
assert (middle_table["outliers in the middle"] < middle_table["outliers at the edge"] / 3).all()

# %% [markdown]
# ```{exercise} Binary cross-entropy that never takes log(0)
# :label: ch04-ex2
# Write `bce_with_logits(scores, targets)` for logits `scores` of shape (n,)
# and float targets of 0s and 1s of the same shape. It returns the mean
# binary cross-entropy as a scalar tensor, without `F.binary_cross_entropy_with_logits`
# or `helpers.losses`, and must stay finite for scores as large as ±200.
# ```
#
# ```{solution-start} ch04-ex2
# :class: dropdown
# ```

# %% tags=["solution"] nbgrader={"grade": false, "grade_id": "ch04-ex2-answer", "locked": false, "schema_version": 3, "solution": true}
def bce_with_logits(scores, targets):
    ### BEGIN SOLUTION
    return (scores.clamp(min=0) - scores * targets + torch.log1p(torch.exp(-scores.abs()))).mean()
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% tags=["nbval-check-output"] nbgrader={"grade": true, "grade_id": "ch04-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false}
ex.q2.check()

# %% [markdown]
# ```{exercise} Diagnose: a regression line that stays flat
# :label: ch04-ex3
# A colleague fits a line to the data of Section 1 with a hand-written MSE
# and plain gradient descent. The run below prints what they got. Which
# single cause explains it? Set `diagnosis` to one letter:
#
# - `"A"`: the learning rate is too small: training stopped before the line could tilt;
# - `"B"`: the outliers pull the line flat, because MSE is not robust;
# - `"C"`: the loss compares every prediction with every target, not each with its own;
# - `"D"`: gradient descent cannot fit a line with MSE: use the closed-form solution instead.
# ```

# %%
torch.manual_seed(SEED)
colleague_line = nn.Linear(1, 1)
colleague_optimizer = torch.optim.SGD(colleague_line.parameters(), lr=0.1)
for step in range(1, 401):
    colleague_loss = ((colleague_line(x_t) - y_t) ** 2).mean()
    colleague_optimizer.zero_grad()
    colleague_loss.backward()
    colleague_optimizer.step()
    if step in (100, 200, 400):
        print(f"step {step}: loss {colleague_loss.item():.4f}")
print(f"colleague's line: slope {round(colleague_line.weight.item(), 3) + 0.0:.3f}, intercept {colleague_line.bias.item():.3f}; "
      f"mean of y {y.mean():.3f}")
print(f"lowest point of MSE on these data (Section 1): slope {bottoms['MSE'][0]:.3f}, intercept {bottoms['MSE'][1]:.3f}")

# %% [markdown]
# ```{solution-start} ch04-ex3
# :class: dropdown
# ```

# %% tags=["solution"] nbgrader={"grade": false, "grade_id": "ch04-ex3-answer", "locked": false, "schema_version": 3, "solution": true}
### BEGIN SOLUTION
diagnosis = "C"
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% tags=["nbval-check-output"] nbgrader={"grade": true, "grade_id": "ch04-ex3-check", "locked": true, "points": 1, "schema_version": 3, "solution": false}
ex.q3.check()

# %% [markdown]
# ```{exercise} Experiment: a learning rate for squared error on probabilities
# :label: ch04-ex4
# Find a learning rate `lr_squared_error` at which squared error on
# probabilities gets within 2 points of cross-entropy's validation accuracy.
# The check trains the digits network of Experiment 2 with plain SGD for
# only 4 epochs on two seeds: cross-entropy at its best rate from a grid,
# and squared error on probabilities at your rate. `ex.try_learning_rate(lr)`
# runs the same experiment and prints both accuracies (a few seconds), so
# you can search before you commit. Start at the rate that suits
# cross-entropy, and see what the check says.
# ```
#
# ```{solution-start} ch04-ex4
# :class: dropdown
# ```

# %% tags=["solution"] nbgrader={"grade": false, "grade_id": "ch04-ex4-answer", "locked": false, "schema_version": 3, "solution": true}
### BEGIN SOLUTION
lr_squared_error = 2.0
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% tags=["nbval-check-output"] nbgrader={"grade": true, "grade_id": "ch04-ex4-check", "locked": true, "points": 1, "schema_version": 3, "solution": false}
ex.q4.check()

# %% [markdown]
# ## Summary
#
# - Losses are **negative log-likelihoods**: MSE of Gaussian noise, MAE of
#   Laplace noise, cross-entropy of a categorical distribution. Choosing a
#   loss is choosing a noise model, and cross-entropy's gradient with respect
#   to the logits is simply $p - y$.
# - A loss is judged by its **gradient**: how hard each example pulls on the
#   model. MSE's pull grows with the error, so a few outliers
#   ({glue:text}`outlier_fraction` of the points, {glue:text}`outlier_share_mse`
#   of the gradient) tilt the fit, even at the loss's exact minimum; MAE and
#   Huber cap the pull and stay near the true line.
# - Losses differ in the **scale** of their gradients, so compare them each
#   at its own tuned learning rate. At a shared rate squared error on
#   probabilities looked stuck; at its own rate it matched cross-entropy's
#   accuracy. Cross-entropy's advantages that survived the fair comparison:
#   it works over a much wider range of learning rates, and its
#   probabilities are calibrated (as are squared error's, another proper
#   scoring rule); hinge decides as well, but its scores are not probabilities.
# - On **imbalanced** data, accuracy hides a model that ignores the rare
#   class; **class weights** move the boundary. **Focal loss** focuses on
#   hard examples, which is not the same as rare ones: pair it with weights.
# - **Label smoothing** caps confidence and shrinks logit gaps; it is a
#   regulariser, not a calibration method. **Temperature scaling**, one number
#   fitted on validation data, fixed the calibration of the underconfident
#   models here without changing a single prediction.
# - Every loss here is a few lines of PyTorch (`helpers.losses`), checked
#   against `torch.nn.functional`; any of them can be passed to
#   `helpers.train.fit` as `loss_fn`.
#
# The next chapter changes the other half of the update: the optimizer that
# turns these gradients into steps. For the probabilistic view of losses as
# negative log-likelihoods, see {cite}`goodfellow2016deep` (chapters 5.5 and
# 6.2); for proper scoring rules {cite}`gneiting2007strictly`; for the loss
# functions PyTorch provides, {cite}`pytorch2024lossfunctions`.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
