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
# # Chapter 6: Regularization
#
# A model with enough parameters can fit its training data perfectly, noise
# and mistakes included, and then do worse on new data than a simpler model
# would. This is **overfitting**, and it is the normal state of affairs when
# a flexible model meets a small or noisy data set. **Regularization** is
# everything we do to make a model prefer simple explanations: penalising
# large weights (L2), pushing weights to exactly zero (L1), switching units
# off at random while training (dropout), or stopping before the model has
# memorised its data (early stopping). This chapter makes overfitting
# visible, measures it as bias and variance, builds each remedy from
# scratch, then tunes and compares them on the same overfitting network
# over several seeds.
#
# **After this chapter you will be able to**
#
# - recognise overfitting as a gap between training and validation scores,
#   and see it in a polynomial fit and in a neural network's learning curves;
# - measure bias² and variance over resampled training sets, and show how
#   model complexity and a penalty trade one for the other;
# - add an L2 penalty to a loss by hand, relate it to the optimizer's
#   `weight_decay`, and choose its strength with a validation sweep;
# - explain why an L1 penalty makes weights exactly zero and an L2 penalty does not;
# - say what dropout does in training and in evaluation mode;
# - stop training early with `helpers.train.EarlyStopping` and keep the best weights;
# - compare regularization methods fairly: each tuned on its own grid on
#   validation data, several seeds, differences judged against their
#   standard error, the test set used once.

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
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.datasets import make_regression
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import Lasso, Ridge
from torch import nn

from helpers import glue, setup
from helpers.data import load
from helpers.exercises import ch06_regularization as ex
from helpers.models import mlp
from helpers.plots import use_style
from helpers.regularization import noisy_subset, train_many, weight_penalty
from helpers.train import EarlyStopping, fit, predict

DEVICE = setup(SEED)
use_style()
pd.set_option("display.width", 120)  # wide tables on one line

# %% [markdown]
# ## 1. Overfitting made visible
#
# Twenty points are drawn from a smooth curve, $y = \sin(\pi x) + \varepsilon$,
# with noise $\varepsilon$ of standard deviation 0.3. We fit polynomials
# $\hat y = \sum_{k=0}^{d} w_k x^k$ of increasing degree $d$ by least squares
# and score each on 200 fresh points from the same curve (the validation set).
# A polynomial of degree 15 has 16 weights for 20 points: enough to pass
# close to every point, noise included.

# %%
rng = np.random.default_rng(SEED)


def noisy_sine(n):
    x = rng.uniform(-1, 1, n)
    return x, np.sin(np.pi * x) + 0.3 * rng.normal(size=n)


def powers(x, degree):
    """Polynomial features (n, degree + 1): columns 1, x, x**2, ..., x**degree."""
    return np.vander(x, degree + 1, increasing=True)


def mse(X, w, y):
    return float(np.mean((X @ w - y) ** 2))


x_train, y_train = noisy_sine(20)
x_val, y_val = noisy_sine(200)
degrees = list(range(0, 16))
poly_rows = []
poly_weights = {}
for degree in degrees:
    X_tr, X_va = powers(x_train, degree), powers(x_val, degree)
    w = np.linalg.lstsq(X_tr, y_train, rcond=None)[0]
    poly_weights[degree] = w
    poly_rows.append({"degree": degree, "train MSE": mse(X_tr, w, y_train), "validation MSE": mse(X_va, w, y_val)})
poly_table = pd.DataFrame(poly_rows).set_index("degree")
poly_table.loc[[1, 3, 5, 9, 12, 15]].round(3)

# %% mystnb={"image": {"alt": "Left: polynomials of degree 1, 3 and 15 fitted to 20 noisy points; degree 1 misses the curve, degree 3 follows it, degree 15 wiggles through the points. Right: training error falls with the degree while validation error falls, then rises steeply."}}
grid = np.linspace(-1, 1, 300)
fig, (ax_fit, ax_err) = plt.subplots(1, 2, figsize=(9, 3.4))
ax_fit.scatter(x_train, y_train, color="black", s=15, zorder=3, label="training points")
ax_fit.plot(grid, np.sin(np.pi * grid), color="grey", linestyle=":", label="true curve")
for degree, color in ((1, "tab:blue"), (3, "tab:green"), (15, "tab:red")):
    ax_fit.plot(grid, powers(grid, degree) @ poly_weights[degree], color=color, label=f"degree {degree}")
ax_fit.set_ylim(-2, 2)
ax_fit.set_xlabel("x")
ax_fit.legend(fontsize=7)
ax_err.semilogy(poly_table.index, poly_table["train MSE"], marker="o", label="training")
ax_err.semilogy(poly_table.index, poly_table["validation MSE"], marker="o", label="validation")
ax_err.set_xlabel("polynomial degree")
ax_err.set_ylabel("mean squared error")
ax_err.legend()
fig.tight_layout()
plt.show()

# %%
best_degree = int(poly_table["validation MSE"].idxmin())
glue("best_degree", best_degree)
glue("deg15_train_mse", poly_table.loc[15, "train MSE"], fmt=".3f")
glue("deg15_val_mse", poly_table.loc[15, "validation MSE"], fmt=".2f")
glue("best_degree_val_mse", poly_table.loc[best_degree, "validation MSE"], fmt=".3f")
glue("deg15_ratio", poly_table.loc[15, "validation MSE"] / poly_table.loc[15, "train MSE"], fmt=".0f")
assert poly_table.loc[15, "train MSE"] < poly_table.loc[3, "train MSE"], "more capacity fits the training set better"
print(f"lowest validation MSE at degree {best_degree}: {poly_table.loc[best_degree, 'validation MSE']:.3f}; "
      f"degree 15: train MSE {poly_table.loc[15, 'train MSE']:.3f}, validation MSE "
      f"{poly_table.loc[15, 'validation MSE']:.2f} "
      f"({poly_table.loc[15, 'validation MSE'] / poly_table.loc[15, 'train MSE']:.0f} times the train MSE)")
assert poly_table.loc[15, "train MSE"] < poly_table.loc[3, "train MSE"], "more capacity fits the training set better"
assert poly_table.loc[15, "validation MSE"] > 3 * poly_table.loc[best_degree, "validation MSE"], "and new data worse"

# %% [markdown]
# The training error only goes down as the degree grows, because each
# polynomial can do everything the smaller ones can. The validation error
# tells another story: it is lowest at degree {glue:text}`best_degree`
# ({glue:text}`best_degree_val_mse`), and the degree-15 polynomial, with a
# training error of {glue:text}`deg15_train_mse`, has a validation error of
# {glue:text}`deg15_val_mse`, {glue:text}`deg15_ratio` times its training
# error. **The gap between training and validation error is the symptom of
# overfitting**: the model has learnt the noise of its 20 points, which
# does not repeat in new data {cite}`hastie2009elements`.
#
# Choosing a smaller model is one cure. Regularization is another: keep the
# flexible model, but make it pay for complexity.
#
# ## 2. L2 regularization (weight decay)
#
# The wiggly degree-15 fit needs huge weights of opposite signs that almost
# cancel. **L2 regularization** adds the squared size of the weights to the
# loss, so large weights must earn their keep:
#
# $$
# L_\lambda(w) = \underbrace{\frac{1}{n}\sum_{i=1}^{n} \left(\hat y_i - y_i\right)^2}_{\text{data}}
# + \lambda \underbrace{\sum_k w_k^2}_{\lVert w \rVert^2} .
# $$
#
# The strength $\lambda \ge 0$ trades fit for simplicity: $\lambda = 0$ is
# plain least squares, a huge $\lambda$ forces every weight towards 0. For
# a linear model the minimum has a closed form, **ridge regression**
# {cite}`hoerl1970ridge` (also called Tikhonov regularization
# {cite}`tikhonov1963solution`): with the data term written as
# $\lVert Xw - y\rVert^2$, setting the gradient to zero gives
# $w = (X^\top X + \lambda I)^{-1} X^\top y$. The $\lambda I$ also makes the
# matrix invertible when there are more weights than points. Our version
# agrees with scikit-learn's `Ridge` {cite}`pedregosa2011scikit`:

# %%
def ridge(X, y, lam):
    """Weights (d,) minimising ||X w - y||^2 + lam ||w||^2 for X (n, d), y (n,)."""
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)


DEGREE = 15
X_tr, X_va = powers(x_train, DEGREE), powers(x_val, DEGREE)
w_ours = ridge(X_tr, y_train, 1e-3)
w_sklearn = Ridge(alpha=1e-3, fit_intercept=False).fit(X_tr, y_train).coef_
assert np.allclose(w_ours, w_sklearn, atol=1e-5)

lams = np.logspace(-8, 2, 31)
sweep = pd.DataFrame(
    [
        {"lambda": lam, "train MSE": mse(X_tr, w, y_train), "validation MSE": mse(X_va, w, y_val),
         "weight norm": float(np.linalg.norm(w))}
        for lam in lams
        for w in [ridge(X_tr, y_train, lam)]
    ]
).set_index("lambda")

# %% mystnb={"image": {"alt": "Ridge sweep for a degree-15 polynomial: as lambda grows, the weight norm falls steadily; the validation error first falls to a minimum at a moderate lambda, then rises again as the fit becomes too stiff."}}
fig, (ax_err, ax_norm) = plt.subplots(1, 2, figsize=(9, 3.2))
ax_err.loglog(sweep.index, sweep["train MSE"], label="training")
ax_err.loglog(sweep.index, sweep["validation MSE"], label="validation")
ax_err.axvline(sweep["validation MSE"].idxmin(), color="grey", linestyle=":")
ax_err.set_xlabel(r"penalty strength $\lambda$")
ax_err.set_ylabel("mean squared error")
ax_err.legend()
ax_norm.loglog(sweep.index, sweep["weight norm"], color="tab:purple")
ax_norm.set_xlabel(r"penalty strength $\lambda$")
ax_norm.set_ylabel(r"weight norm $\|w\|$")
fig.suptitle("degree-15 polynomial, ridge penalty sweep")
fig.tight_layout()
plt.show()

# %%
best_lam = float(sweep["validation MSE"].idxmin())
glue("best_lambda", best_lam, fmt=".0e")
glue("ridge_best_val_mse", sweep.loc[best_lam, "validation MSE"], fmt=".3f")
glue("ridge_small_val_mse", sweep["validation MSE"].iloc[0], fmt=".2f")
glue("ridge_norm_shrink", sweep["weight norm"].iloc[0] / sweep.loc[best_lam, "weight norm"], fmt=".0f")
print(f"validation MSE: {sweep['validation MSE'].iloc[0]:.2f} at lambda = {sweep.index[0]:.0e}, "
      f"{sweep.loc[best_lam, 'validation MSE']:.3f} at the best lambda = {best_lam:.0e} "
      f"(weight norm {sweep['weight norm'].iloc[0] / sweep.loc[best_lam, 'weight norm']:.0f} times smaller), "
      f"{sweep['validation MSE'].iloc[-1]:.2f} at lambda = {sweep.index[-1]:.0e}")
print(f"best lambda inside the grid: {sweep.index[0] < best_lam < sweep.index[-1]}")
assert sweep.index[0] < best_lam < sweep.index[-1], "the best strength lies inside the grid"
assert sweep["weight norm"].is_monotonic_decreasing, "a stronger penalty never gives larger weights"
assert sweep.loc[best_lam, "validation MSE"] < 0.5 * sweep["validation MSE"].iloc[0], "the right penalty helps"
assert sweep.loc[best_lam, "validation MSE"] < 0.5 * sweep["validation MSE"].iloc[-1], "too much penalty hurts"
assert sweep.loc[best_lam, "validation MSE"] < 2 * poly_table.loc[best_degree, "validation MSE"], "as good as a small model"

# %% [markdown]
# The weight norm falls steadily as $\lambda$ grows. The validation error
# falls, stays low over a range of strengths, and rises again:
# {glue:text}`ridge_small_val_mse` with almost no penalty,
# {glue:text}`ridge_best_val_mse` at $\lambda =$ {glue:text}`best_lambda`
# (with weights {glue:text}`ridge_norm_shrink` times smaller), and worse
# again when the penalty flattens the curve. The same degree-15 model now
# generalises about as well as the best small polynomial (degree
# {glue:text}`best_degree`, {glue:text}`best_degree_val_mse`): the penalty, not
# the number of parameters, sets the effective complexity. The strength is a
# hyperparameter, chosen on validation data as in Chapter 7.
#
# ### The penalty in the loss vs the optimizer's `weight_decay`
#
# With gradient descent, the penalty $\frac{\lambda}{2}\lVert w\rVert^2$ adds
# $\lambda w$ to the gradient, so each step becomes
# $w \leftarrow w - \eta(\nabla L + \lambda w) = (1 - \eta\lambda)\,w - \eta \nabla L$:
# the weights **decay** by a constant factor before every step, hence the
# name *weight decay* {cite}`krogh1992simple`. PyTorch optimizers take it as
# an argument, `weight_decay=λ`. We check the two are the same by training two
# copies of a linear model on the polynomial features: one with the penalty
# written in the loss, one with the optimizer's `weight_decay`.

# %%
X_poly = torch.tensor(powers(x_train, DEGREE), dtype=torch.float32)
y_poly = torch.tensor(y_train, dtype=torch.float32).unsqueeze(1)
LAMBDA = 0.01


def train_linear(optimizer_class, penalty_in_loss, weight_decay, steps=200, lr=0.05):
    torch.manual_seed(SEED)
    model = nn.Linear(DEGREE + 1, 1, bias=False)  # the column of ones plays the bias
    optimizer = optimizer_class(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        loss = ((model(X_poly) - y_poly) ** 2).mean()
        if penalty_in_loss:
            loss = loss + LAMBDA / 2 * weight_penalty(model, "l2")  # sum of squared weights
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.weight.detach().squeeze()


w_sgd_loss = train_linear(torch.optim.SGD, penalty_in_loss=True, weight_decay=0.0)
w_sgd_decay = train_linear(torch.optim.SGD, penalty_in_loss=False, weight_decay=LAMBDA)
w_adam_loss = train_linear(torch.optim.Adam, penalty_in_loss=True, weight_decay=0.0, lr=0.01)
w_adam_decay = train_linear(torch.optim.Adam, penalty_in_loss=False, weight_decay=LAMBDA, lr=0.01)
w_adamw = train_linear(torch.optim.AdamW, penalty_in_loss=False, weight_decay=LAMBDA, lr=0.01)
w_plain = train_linear(torch.optim.SGD, penalty_in_loss=False, weight_decay=0.0)

# %% tags=["nbval-check-output"]
print(f"SGD:  penalty in the loss vs weight_decay, largest weight difference < 1e-5: "
      f"{(w_sgd_loss - w_sgd_decay).abs().max().item() < 1e-5}")
print(f"Adam: penalty in the loss vs weight_decay, largest weight difference < 1e-5: "
      f"{(w_adam_loss - w_adam_decay).abs().max().item() < 1e-5}")
print(f"AdamW (decoupled) vs Adam with the penalty, largest weight difference: "
      f"{(w_adamw - w_adam_loss).abs().max().item():.3f}")
print(f"weight norm after 200 SGD steps: no penalty {w_plain.norm():.3f}, penalty {w_sgd_loss.norm():.3f}")
assert torch.allclose(w_sgd_loss, w_sgd_decay, atol=1e-5) and torch.allclose(w_adam_loss, w_adam_decay, atol=1e-5)
assert (w_adamw - w_adam_loss).abs().max() > 1e-3, "AdamW's decoupled decay is a different update"
assert w_sgd_loss.norm() < w_plain.norm()

# %% [markdown]
# For SGD, and for Adam's `weight_decay`, the two are the same computation:
# `weight_decay=λ` is the penalty $\frac{\lambda}{2}\lVert w\rVert^2$ in the
# loss. **AdamW** is different on purpose: Adam divides each gradient by a
# running estimate of its size, which also shrinks the penalty's pull on
# weights with large gradients. Loshchilov and Hutter {cite}`loshchilov2019decoupled`
# proposed to *decouple* the decay, shrinking every weight by $(1-\eta\lambda)$
# outside Adam's rescaling; it usually regularizes better, and it is what
# the network experiments below use.
#
# ## 3. Bias and variance over resampled training sets
#
# Why does a flexible model generalise badly, and why does a penalty help?
# Imagine drawing not one training set of 20 points but many, fitting the
# same model to each, and looking at the predictions at one input $x$. Two
# things can go wrong {cite}`geman1992neural,hastie2009elements`. The
# *average* prediction can miss the true curve $f(x)$: that is the
# **bias**. And the predictions can scatter around their average from one
# training set to the next: that is the **variance**. For squared error the
# expected error on a new point splits exactly into the two plus the noise
# that no model can remove:
#
# $$
# \mathbb{E}\big[(\hat f(x) - y)^2\big]
# = \underbrace{\big(\bar f(x) - f(x)\big)^2}_{\text{bias}^2}
# + \underbrace{\mathbb{E}\big[(\hat f(x) - \bar f(x))^2\big]}_{\text{variance}}
# + \underbrace{\sigma^2}_{\text{noise}},
# \qquad \bar f(x) = \mathbb{E}[\hat f(x)] .
# $$
#
# We can measure all three terms, because we know the curve and can draw as
# many training sets as we like: {glue:text}`bv_n_sets` training sets of 20
# points, a polynomial of each degree fitted to each, predictions on a grid
# of $x$ in $[-1, 1]$, and the bias² and variance averaged over the grid.
# Then the same for the degree-{glue:text}`bv_ridge_degree` polynomial with
# a ridge penalty of growing strength.

# %%
N_SETS, N_POINTS, NOISE_SD = 200, 20, 0.3
x_grid = np.linspace(-1, 1, 101)
f_grid = np.sin(np.pi * x_grid)
resampled = [noisy_sine(N_POINTS) for _ in range(N_SETS)]  # 200 independent training sets


def bias_variance(fit_predict, training_sets=resampled):
    """bias^2, variance and the measured error on fresh noisy points, averaged over the grid of x."""
    predictions = np.array([fit_predict(x, y) for x, y in training_sets])  # (sets, grid points)
    bias2 = float(np.mean((predictions.mean(axis=0) - f_grid) ** 2))
    variance = float(np.mean(predictions.var(axis=0)))
    fresh_y = f_grid + NOISE_SD * rng.normal(size=predictions.shape)  # a new noisy point per set and x
    return {"bias²": bias2, "variance": variance, "bias² + variance + noise": bias2 + variance + NOISE_SD**2,
            "measured error": float(np.mean((predictions - fresh_y) ** 2))}


BV_DEGREES = list(range(0, 10))
by_degree = pd.DataFrame(
    [bias_variance(lambda x, y, d=d: powers(x_grid, d) @ np.linalg.lstsq(powers(x, d), y, rcond=None)[0])
     for d in BV_DEGREES], index=pd.Index(BV_DEGREES, name="degree"))
BV_RIDGE_DEGREE = 12
bv_lams = np.logspace(-8, 2, 11)
by_lambda = pd.DataFrame(
    [bias_variance(lambda x, y, lam=lam: powers(x_grid, BV_RIDGE_DEGREE) @ ridge(powers(x, BV_RIDGE_DEGREE), y, lam))
     for lam in bv_lams], index=pd.Index(bv_lams, name="lambda"))
by_degree.round(4)

# %% mystnb={"image": {"alt": "Left: over 200 resampled training sets, bias squared falls with the polynomial degree while variance rises steeply from degree 4 on; their sum plus the noise has a minimum at a middle degree and matches the measured error. Right: for a degree-12 polynomial, bias squared rises with the ridge penalty while variance falls, and the total is lowest at a moderate penalty."}}
fig, (ax_deg, ax_lam) = plt.subplots(1, 2, figsize=(9, 3.4))
for frame, ax in ((by_degree, ax_deg), (by_lambda, ax_lam)):
    ax.plot(frame.index, frame["bias²"], marker="o", label="bias²")
    ax.plot(frame.index, frame["variance"], marker="o", label="variance")
    ax.plot(frame.index, frame["bias² + variance + noise"], color="black", label="bias² + variance + noise")
    ax.plot(frame.index, frame["measured error"], color="tab:red", linestyle="none", marker="x",
            label="measured error")
    ax.axhline(NOISE_SD**2, color="grey", linestyle=":", label="noise σ²")
    ax.set_yscale("log")
ax_deg.set_xlabel("polynomial degree (no penalty)")
ax_deg.set_ylabel("squared error, mean over x")
ax_lam.set_xscale("log")
ax_lam.set_xlabel(rf"ridge $\lambda$ (degree {BV_RIDGE_DEGREE})")
ax_deg.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %%
bv_best_degree = int((by_degree["bias²"] + by_degree["variance"]).idxmin())
bv_best_lam = float((by_lambda["bias²"] + by_lambda["variance"]).idxmin())
decomposition_error = float(((by_degree["bias² + variance + noise"] - by_degree["measured error"]).abs()
                             / by_degree["measured error"]).max())
glue("bv_n_sets", N_SETS)
print(f"{N_SETS} training sets of {N_POINTS} points")
glue("bv_ridge_degree", BV_RIDGE_DEGREE)
glue("bv_best_degree", bv_best_degree)
glue("bv_bias2_deg1", by_degree.loc[1, "bias²"], fmt=".3f")
glue("bv_var_deg1", by_degree.loc[1, "variance"], fmt=".3f")
glue("bv_bias2_best", by_degree.loc[bv_best_degree, "bias²"], fmt=".3f")
glue("bv_var_best", by_degree.loc[bv_best_degree, "variance"], fmt=".3f")
glue("bv_var_deg9", by_degree.loc[9, "variance"], fmt=".0f")
glue("bv_decomposition_error", decomposition_error, fmt=".1%")
glue("bv_best_lambda", bv_best_lam, fmt=".0e")
glue("bv_var_small_lam", by_lambda["variance"].iloc[0], fmt=".0f")
glue("bv_var_best_lam", by_lambda.loc[bv_best_lam, "variance"], fmt=".3f")
glue("bv_bias2_best_lam", by_lambda.loc[bv_best_lam, "bias²"], fmt=".3f")
print(f"degree 1: bias² {by_degree.loc[1, 'bias²']:.3f}, variance {by_degree.loc[1, 'variance']:.3f}; "
      f"degree {bv_best_degree} (lowest bias² + variance): bias² {by_degree.loc[bv_best_degree, 'bias²']:.3f}, "
      f"variance {by_degree.loc[bv_best_degree, 'variance']:.3f}; degree 9: variance {by_degree.loc[9, 'variance']:.0f}")
print(f"bias² + variance + noise vs the measured error: at most {decomposition_error:.1%} apart")
print(f"degree {BV_RIDGE_DEGREE} with ridge: variance {by_lambda['variance'].iloc[0]:.0f} at lambda = {bv_lams[0]:.0e}; "
      f"lowest bias² + variance at lambda = {bv_best_lam:.0e}: bias² {by_lambda.loc[bv_best_lam, 'bias²']:.3f}, "
      f"variance {by_lambda.loc[bv_best_lam, 'variance']:.3f}")
assert decomposition_error < 0.05, "the measured error is bias² + variance + noise (up to sampling error)"
assert by_degree.loc[0, "bias²"] > 10 * by_degree.loc[bv_best_degree, "bias²"], "a rigid model is biased"
assert by_degree.loc[9, "variance"] > 10 * by_degree.loc[bv_best_degree, "variance"], "a flexible one varies"
assert 2 <= bv_best_degree <= 6 and bv_lams[0] < bv_best_lam < bv_lams[-1], "the best trade-off is in the middle"
assert by_lambda["bias²"].iloc[-1] > 10 * by_lambda.loc[bv_best_lam, "bias²"], "a strong penalty adds bias"
assert by_lambda["variance"].iloc[0] > 100 * by_lambda.loc[bv_best_lam, "variance"], "and removes variance"

# %% [markdown]
# The left panel is the trade-off. A straight line (degree 1) has a large
# bias² ({glue:text}`bv_bias2_deg1`): on average it misses the sine, however
# many training sets we average; its variance is small
# ({glue:text}`bv_var_deg1`). As the degree grows the bias² falls and the
# variance rises, slowly at first and then steeply (degree 9:
# {glue:text}`bv_var_deg9`), because a flexible polynomial follows the
# noise of whichever 20 points it was given. The sum is lowest at degree
# {glue:text}`bv_best_degree` (bias² {glue:text}`bv_bias2_best`, variance
# {glue:text}`bv_var_best`), and bias² + variance + noise matches the error
# measured on fresh points to within {glue:text}`bv_decomposition_error`.
# Overfitting, in these terms, is variance.
#
# The right panel keeps the flexible degree-{glue:text}`bv_ridge_degree`
# polynomial and turns the ridge penalty up instead. Without it the variance
# is {glue:text}`bv_var_small_lam`; at $\lambda =$ {glue:text}`bv_best_lambda`
# it is {glue:text}`bv_var_best_lam` for a bias² of {glue:text}`bv_bias2_best_lam`;
# stronger penalties flatten every fit towards zero and the bias takes over.
# **A penalty buys a large cut in variance for a small rise in bias.** That is
# what every regularizer in this chapter does, with different ways of
# limiting how far the fit can follow its training set.
#
# ## 4. L1 regularization: weights that are exactly zero
#
# Replace the squares by absolute values and the penalty becomes
# $\lambda \sum_k |w_k|$: the **lasso** {cite}`tibshirani1996regression`.
# The difference matters near zero. The L2 penalty's pull, $2\lambda w$,
# fades as a weight gets small, so weights shrink but stay non-zero. The L1
# penalty's pull, $\lambda\,\mathrm{sign}(w)$, keeps the same strength all
# the way to zero, so any weight whose contribution to the fit is worth less
# than $\lambda$ ends **exactly at zero**. The lasso selects features.
#
# We test this on synthetic regressions with 40 features of which only 5
# matter, 80 training samples, 200 validation samples to choose the penalty
# and 1,000 test samples to score the choice once. To make the comparison
# fair, scikit-learn's `Lasso` (L1) and `Ridge` (L2) each get their own grid
# of strengths `alpha` (the two penalties are on different scales, so one
# shared value would favour one of them), the strength is chosen by the mean
# validation error over {glue:text}`n_sparse_draws` independent draws of the
# data, and a `DummyRegressor` that always predicts the training mean shows
# what no model at all achieves.

# %%
N_DRAWS = 5
ALPHAS = {"Lasso (L1)": np.logspace(-2, 2, 9), "Ridge (L2)": np.logspace(-3, 3, 13)}
ESTIMATORS = {"Lasso (L1)": Lasso, "Ridge (L2)": Ridge}
sparse_rows = []
for draw in range(N_DRAWS):
    X_all, y_all, true_coef = make_regression(n_samples=80 + 200 + 1000, n_features=40, n_informative=5,
                                              noise=10.0, coef=True, random_state=100 * SEED + draw)
    informative = np.flatnonzero(true_coef)
    splits = {"train": slice(0, 80), "validation": slice(80, 280), "test": slice(280, None)}
    X_tr_s, y_tr_s = X_all[splits["train"]], y_all[splits["train"]]
    candidates = [(name, alpha, ESTIMATORS[name](alpha=alpha)) for name in ALPHAS for alpha in ALPHAS[name]]
    candidates.append(("Dummy (training mean)", 0.0, DummyRegressor()))
    for name, alpha, estimator in candidates:
        estimator.fit(X_tr_s, y_tr_s)
        coef = getattr(estimator, "coef_", np.zeros(X_all.shape[1]))
        sparse_rows.append({
            "model": name, "alpha": alpha, "draw": draw,
            **{f"{split} MSE": float(np.mean((estimator.predict(X_all[rows]) - y_all[rows]) ** 2))
               for split, rows in splits.items() if split != "train"},
            "exactly zero": int(np.sum(coef == 0)),
            "informative kept": int(np.sum(coef[informative] != 0)),
        })
sparse_runs = pd.DataFrame(sparse_rows)
sparse_curves = sparse_runs.groupby(["model", "alpha"])["validation MSE"].mean()
chosen_alpha = {name: float(sparse_curves.loc[name].idxmin()) for name in ALPHAS}
chosen_alpha["Dummy (training mean)"] = 0.0
on_edge = [name for name in ALPHAS if chosen_alpha[name] in (ALPHAS[name][0], ALPHAS[name][-1])]
chosen_runs = sparse_runs[[chosen_alpha[m] == a for m, a in zip(sparse_runs["model"], sparse_runs["alpha"])]]
sparsity = chosen_runs.groupby("model")[["validation MSE", "test MSE", "exactly zero", "informative kept"]].mean()
sparsity.insert(0, "chosen alpha", pd.Series(chosen_alpha))
sparsity.insert(3, "test sd", chosen_runs.groupby("model")["test MSE"].std())
print(f"chosen on validation (mean of {N_DRAWS} draws): "
      + ", ".join(f"{name} alpha = {chosen_alpha[name]:g}" for name in ALPHAS)
      + f"; on the edge of its grid: {on_edge or 'none'}")
sparsity.round(1)

# %%
lasso_row, ridge_row = sparsity.loc["Lasso (L1)"], sparsity.loc["Ridge (L2)"]
dummy_test = sparsity.loc["Dummy (training mean)", "test MSE"]
test_by_draw = chosen_runs.pivot(index="draw", columns="model", values="test MSE")
lasso_minus_ridge = test_by_draw["Lasso (L1)"] - test_by_draw["Ridge (L2)"]
glue("n_sparse_draws", N_DRAWS)
glue("n_sparse_features", 40)
glue("n_informative", 5)
glue("lasso_alpha", chosen_alpha["Lasso (L1)"], fmt="g")
glue("ridge_alpha", chosen_alpha["Ridge (L2)"], fmt="g")
glue("n_lasso_zero", float(lasso_row["exactly zero"]), fmt=".1f")
glue("n_ridge_zero", float(ridge_row["exactly zero"]), fmt=".0f")
glue("lasso_informative_kept", float(lasso_row["informative kept"]), fmt=".1f")
glue("lasso_test_mse", float(lasso_row["test MSE"]), fmt=".0f")
glue("lasso_test_sd", float(lasso_row["test sd"]), fmt=".0f")
glue("ridge_test_mse", float(ridge_row["test MSE"]), fmt=".0f")
glue("ridge_test_sd", float(ridge_row["test sd"]), fmt=".0f")
glue("dummy_test_mse", float(dummy_test), fmt=".0f")
glue("lasso_minus_ridge", float(lasso_minus_ridge.mean()), fmt=".0f")
glue("lasso_minus_ridge_sd", float(lasso_minus_ridge.std()), fmt=".0f")
print(f"lasso: {lasso_row['exactly zero']:.1f} of 40 weights exactly zero, {lasso_row['informative kept']:.1f} "
      f"of 5 informative kept, test MSE {lasso_row['test MSE']:.0f} ± {lasso_row['test sd']:.0f}")
print(f"ridge: {ridge_row['exactly zero']:.0f} weights exactly zero, test MSE {ridge_row['test MSE']:.0f} ± "
      f"{ridge_row['test sd']:.0f}; dummy test MSE {dummy_test:.0f}")
print(f"lasso minus ridge, test MSE, draw by draw: {lasso_minus_ridge.round(0).tolist()} "
      f"(mean {lasso_minus_ridge.mean():.0f} ± {lasso_minus_ridge.std():.0f})")
assert not on_edge, "each penalty's chosen strength lies inside its grid"
assert (chosen_runs.loc[chosen_runs["model"] == "Ridge (L2)", "exactly zero"] == 0).all(), "L2 zeroes no weight"
assert lasso_row["exactly zero"] >= 15, "L1 zeroes many weights"
assert lasso_row["informative kept"] >= 4.5, "and keeps the informative ones"
# The margin is the spread itself: the lasso wins by more than 2 sd of the draw-to-draw differences.
assert lasso_minus_ridge.mean() < -2 * lasso_minus_ridge.std() / np.sqrt(N_DRAWS), "on sparse data L1 wins"

# %% [markdown]
# Each penalty's chosen strength lies inside its grid (lasso
# $\alpha =$ {glue:text}`lasso_alpha`, ridge $\alpha =$ {glue:text}`ridge_alpha`).
# At its chosen strength the lasso sets on average {glue:text}`n_lasso_zero`
# of the {glue:text}`n_sparse_features` weights to exactly zero and keeps
# {glue:text}`lasso_informative_kept` of the {glue:text}`n_informative`
# informative features; ridge sets {glue:text}`n_ridge_zero` to zero. On the
# test sets, touched once with the chosen strengths, the lasso's error is
# {glue:text}`lasso_test_mse` ± {glue:text}`lasso_test_sd` (mean ± sd over
# the draws), ridge's {glue:text}`ridge_test_mse` ± {glue:text}`ridge_test_sd`,
# the dummy's {glue:text}`dummy_test_mse`; draw by draw, the lasso is better
# by {glue:text}`lasso_minus_ridge` ± {glue:text}`lasso_minus_ridge_sd`. This
# is what the data were built for: when only a few features matter, a penalty
# that removes the others fits the truth. With many small effects instead,
# ridge usually does as well or better {cite}`hastie2009elements`; this
# experiment does not test that case. Solvers
# for the lasso reach exact zeros with a **soft-thresholding** step
# (Exercise 4), which a plain gradient step cannot do. In a neural network
# trained by gradient descent, an L1 penalty therefore drives weights *near*
# zero, not exactly to it, as we will see below. In PyTorch the penalty is one
# more term in the loss; `helpers.regularization.Penalized` wraps a loss
# so that `fit` adds it on training batches (not on the validation loss):
#
# ```python
# loss_fn = Penalized(nn.CrossEntropyLoss(), model, l1=1e-4)   # + 1e-4 * sum |w|
# ```
#
# ## 5. A network that overfits
#
# Now a neural network. We take 200 training images of handwritten digits
# (8x8 pixels) and, as happens in real data sets {cite}`northcutt2021pervasive`,
# many of their labels are wrong: each label is replaced, with probability
# 0.2, by a random digit. The
# validation and test images keep their true labels. A two-layer MLP with 128
# units per layer has about 27,000 weights for 200 examples: more than enough
# to memorise every training label, right or wrong.

# %%
digits = load("digits", seed=SEED)
N_TRAIN, LABEL_NOISE = 200, 0.2
X_pool, y_pool = digits.tensors("train")  # 1,077 images to draw training sets from
X_pool = X_pool / 16  # pixels 0..16 -> 0..1
X_train_d, y_train_d, y_train_clean = noisy_subset(X_pool, y_pool, N_TRAIN, LABEL_NOISE, SEED, digits.n_classes)
X_val_d, y_val_d = digits.tensors("val")
X_test_d, y_test_d = digits.tensors("test")
X_val_d, X_test_d = X_val_d / 16, X_test_d / 16
train_d, val_d = (X_train_d, y_train_d), (X_val_d, y_val_d)
n_wrong_labels = int((y_train_d != y_train_clean).sum())
print(f"{N_TRAIN} training images, {n_wrong_labels} with a wrong label; "
      f"{len(y_val_d)} validation and {len(y_test_d)} test images")

# %% [markdown]
# `helpers.regularization.noisy_subset` draws the 200 images and replaces
# each label, with probability 0.2, by a random digit (which is sometimes
# the right one by chance). We train the network with `fit` for a fixed
# number of epochs; `restore_best=False` keeps the weights of the last
# epoch: `fit`'s default keeps the epoch with the best validation loss,
# which is already a form of early stopping (Section 7). The test images
# stay untouched until Section 8.

# %%
EPOCHS = max(100, round(150 * BUDGET))
HIDDEN = [128, 128]
LR = 2e-3
PATIENCE = 10


def train_mlp(*, early_stopping=False, epochs=EPOCHS):
    """Train the MLP from the same start on the same batches; return (model, history)."""
    torch.manual_seed(SEED)
    model = mlp(digits.n_features, HIDDEN, digits.n_classes)
    history = fit(
        model, train_d, val_d, loss_fn=nn.CrossEntropyLoss(),
        optimizer=torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0),
        epochs=epochs, batch_size=32, device=DEVICE,
        callbacks=[EarlyStopping(patience=PATIENCE)] if early_stopping else [],
        restore_best=early_stopping,
    )
    return model.cpu(), history


def accuracy(model, X, y):
    return float((predict(model, X).argmax(dim=1) == y).float().mean())


models, histories = {}, {}
models["none"], histories["none"] = train_mlp()
plain_row = {"train accuracy": accuracy(models["none"], *train_d),
             "validation accuracy": accuracy(models["none"], *val_d)}
plain_row["gap"] = plain_row["train accuracy"] - plain_row["validation accuracy"]
pd.Series(plain_row).round(3)

# %% mystnb={"image": {"alt": "Learning curves of the unregularized MLP: training loss keeps falling towards zero while validation loss reaches a minimum early and then climbs; training accuracy reaches 100% while validation accuracy stalls far below."}}
histories["none"].plot(title="no regularization: 200 digits, 20% wrong labels")
plt.show()

# %%
h = histories["none"]
glue("n_wrong_labels", n_wrong_labels)
glue("epochs", EPOCHS)
glue("plain_train_acc", plain_row["train accuracy"], fmt=".1%")
glue("plain_val_acc", plain_row["validation accuracy"], fmt=".1%")
glue("plain_gap", plain_row["gap"], fmt=".1%")
print(f"{EPOCHS} epochs: training accuracy {plain_row['train accuracy']:.1%} "
      f"({n_wrong_labels} wrong labels), validation accuracy {plain_row['validation accuracy']:.1%}, "
      f"gap {plain_row['gap']:.1%}")
assert plain_row["train accuracy"] > 0.97, "the network memorises its training labels, wrong ones included"
assert plain_row["gap"] > 0.12, "and the train-validation gap is large"

# %% [markdown]
# After {glue:text}`epochs` epochs the network gets
# {glue:text}`plain_train_acc` of its training labels "right", including
# most of the {glue:text}`n_wrong_labels` wrong ones, but only
# {glue:text}`plain_val_acc` of the validation images: a gap of
# {glue:text}`plain_gap`.
#
# ### Misconception: "more training always makes a model better"
#
# The training loss does fall with every epoch, so training longer looks
# like progress. The validation loss says otherwise.

# %%
best = h.best_epoch
glue("plain_best_epoch", best)
glue("val_loss_min", h.val_loss[best - 1], fmt=".3f")
glue("val_loss_end", h.val_loss[-1], fmt=".3f")
glue("train_loss_at_best", h.train_loss[best - 1], fmt=".3f")
glue("train_loss_end", h.train_loss[-1], fmt=".4f")
print(f"validation loss: lowest at epoch {best} ({h.val_loss[best - 1]:.3f}), {h.val_loss[-1]:.3f} at the end; "
      f"training loss: {h.train_loss[best - 1]:.3f} at epoch {best}, {h.train_loss[-1]:.4f} at the end")
assert best < 0.6 * EPOCHS, "the validation loss bottoms out early"
assert h.val_loss[-1] > 1.3 * h.val_loss[best - 1], "then rises while training continues"
assert h.train_loss[-1] < 0.5 * h.train_loss[best - 1], "while the training loss keeps falling"

# %% [markdown]
# The validation loss is lowest at epoch {glue:text}`plain_best_epoch`
# ({glue:text}`val_loss_min`) and then **rises** to {glue:text}`val_loss_end`
# at the end, while the training loss keeps falling, from
# {glue:text}`train_loss_at_best` to {glue:text}`train_loss_end`. After the
# minimum, each epoch fits the training set's particulars (here, its wrong
# labels) better and new data worse. Training longer helps only while the
# validation loss falls; a model is judged on data it was not trained on.
# The rest of the chapter tries to close the gap.
#
# ## 6. Dropout
#
# **Dropout** {cite}`srivastava2014dropout` sets each unit's output to zero
# with probability $p$ at every training step, so the network cannot rely on
# any single unit and must spread what it learns. To keep the expected value
# of each output unchanged, the kept outputs are divided by $1-p$ ("inverted
# dropout"). In evaluation mode dropout does nothing. Here is `nn.Dropout(0.5)`
# applied to a vector of ones, in both modes:

# %% tags=["nbval-check-output"]
torch.manual_seed(SEED)
dropout_layer = nn.Dropout(p=0.5)
ones = torch.ones(10_000)
dropout_layer.train()
in_training = dropout_layer(ones)
dropout_layer.eval()
in_evaluation = dropout_layer(ones)
print("first ten outputs in training mode:", in_training[:10].tolist())
print(f"training mode: {(in_training == 0).float().mean():.1%} zeroed, kept values "
      f"{sorted(set(in_training.tolist()))}, mean {in_training.mean():.2f}")
print(f"evaluation mode: unchanged: {torch.equal(in_evaluation, ones)}")

# %%
zero_fraction = float((in_training == 0).float().mean())
glue("dropout_zero_fraction", zero_fraction, fmt=".1%")
glue("dropout_train_mean", float(in_training.mean()), fmt=".3f")
print(f"training mode: {zero_fraction:.1%} of the values zeroed, mean {float(in_training.mean()):.3f}")
assert abs(zero_fraction - 0.5) < 0.03 and torch.equal(in_evaluation, ones)
assert abs(float(in_training.mean()) - 1.0) < 0.05, "inverted dropout keeps the mean"

# %% [markdown]
# In training mode {glue:text}`dropout_zero_fraction` of the values are zero,
# the others are 2, and the mean stays near 1 ({glue:text}`dropout_train_mean`);
# in evaluation mode the layer is the identity. This is why `model.train()`
# and `model.eval()` matter: a model evaluated in training mode gives random,
# noisier predictions (`helpers.train` switches modes for you). The course's
# `mlp` puts a dropout layer after every hidden layer when asked:

# %%
print(mlp(digits.n_features, HIDDEN, digits.n_classes, dropout=0.5))

# %% [markdown]
# The rate $p$ is a hyperparameter like a penalty's strength: too small and
# the network still memorises, too large and it cannot learn the right
# labels either. Section 8 tunes it on validation data and measures what it
# buys on this network.
#
# ## 7. Early stopping
#
# Section 5 showed the validation loss reaching its minimum long before the
# last epoch. **Early stopping** {cite}`prechelt1998early` turns that into a
# rule: watch the validation loss, stop when it has not improved for
# `patience` epochs, and go back to the weights of the best epoch.
# `helpers.train.EarlyStopping` is the rule; `fit` restores the best weights
# at the end (`restore_best=True`).

# %%
models["early stopping"], histories["early stopping"] = train_mlp(early_stopping=True)
h_es, h_full = histories["early stopping"], histories["none"]
print(h_es.stop_reason)
es_val_loss = float(min(h_es.val_loss))
early_stopping_summary = pd.DataFrame(
    {
        "epochs run": [len(h_es), len(h_full)],
        "weights kept from epoch": [h_es.best_epoch, len(h_full)],
        "validation loss of the kept weights": [es_val_loss, h_full.val_loss[-1]],
        "seconds": [h_es.total_seconds, h_full.total_seconds],
    },
    index=pd.Index(["early stopping", "full run"], name="run"),
)
early_stopping_summary.round(3)

# %%
glue("es_stop_epoch", len(h_es))
glue("es_best_epoch", h_es.best_epoch)
glue("patience", PATIENCE)
glue("es_val_loss", es_val_loss, fmt=".3f")
glue("full_val_loss", h_full.val_loss[-1], fmt=".3f")
glue("es_epoch_fraction", len(h_es) / len(h_full), fmt=".0%")
glue("es_time_saved", 1 - h_es.total_seconds / h_full.total_seconds, fmt=".0%")
print(f"stopped after epoch {len(h_es)} (best epoch {h_es.best_epoch}, patience {PATIENCE}): "
      f"{len(h_es) / len(h_full):.0%} of the epochs, {1 - h_es.total_seconds / h_full.total_seconds:.0%} "
      f"of the training time saved; validation loss {es_val_loss:.3f} against {h_full.val_loss[-1]:.3f}")
assert h_es.stopped_early and len(h_es) < 0.6 * len(h_full), "early stopping ends well before the last epoch"
assert abs(es_val_loss - h_full.val_loss[h_es.best_epoch - 1]) < 1e-4, "same trajectory as the full run until then"
assert es_val_loss < 0.8 * h_full.val_loss[-1], "and keeps better weights than the last epoch's"

# %% [markdown]
# The run stops at epoch {glue:text}`es_stop_epoch`, {glue:text}`patience`
# epochs after the best one ({glue:text}`es_best_epoch`), and keeps that
# epoch's weights, whose validation loss is {glue:text}`es_val_loss` against
# {glue:text}`full_val_loss` at the end of the full run. Up to the stop, both
# runs are identical (same start, same batches), so early stopping simply
# skips the epochs that made things worse: it ran
# {glue:text}`es_epoch_fraction` of the epochs and saved about
# {glue:text}`es_time_saved` of the training time. Early stopping limits how
# far the weights travel from their small initial values, which for a linear
# model acts much like an L2 penalty {cite}`goodfellow2016deep`. Its price: the
# validation set now chooses the epoch, so its score is no longer unbiased.
#
# ## 8. Overfitting: every method tuned, over several seeds, in one table
#
# Now the comparison. For a fair one, each method gets **its own grid** of
# strengths and is tuned on the validation set, and every configuration is
# trained with {glue:text}`n_seeds` seeds: each seed draws its own 200
# training images and wrong labels, its own initial weights and its own
# batches (networks with the same seed share all three, so within a seed only
# the regularization differs). All use Adam at the same learning rate; Adam
# divides each gradient by its running size, so the penalties do not change
# the step size the way they would with SGD. The four contenders:
#
# - **L2**: AdamW-style decoupled weight decay, applied to the weight matrices;
# - **L1**: the penalty $\lambda\sum|w|$ added to the loss;
# - **dropout** after each hidden layer, with rate $p$;
# - **early stopping** of the unregularized network, patience
#   {glue:text}`patience`: the number of epochs is its hyperparameter, and the
#   validation loss chooses it at every epoch.
#
# Training {glue:text}`n_networks` networks one after the other with `fit`
# would take minutes on a laptop. `helpers.regularization.train_many` trains
# them all at once as one batched model: the weights of network $k$ are slice
# $k$ of a stacked tensor, each network gets its own batches, penalty and
# dropout rate, and since the summed loss gives each slice its own gradient
# and Adam's update is element-wise, the networks do not interact. It records
# early stopping on the way: each network's weights at its best validation
# loss before its patience runs out.

# %%
N_SEEDS = max(3, round(3 * BUDGET))
SEEDS = [100 * SEED + i for i in range(N_SEEDS)]
GRIDS = {  # method -> (the argument of train_many it sets, its grid)
    "none": ("weight_decay", [0.0]),
    "L2 (weight decay)": ("weight_decay", [0.3, 1.0, 3.0, 10.0]),
    "L1": ("l1", [1e-4, 3e-4, 1e-3, 3e-3]),
    "dropout": ("dropout", [0.3, 0.5, 0.7, 0.85]),
}
configs = [(method, value, seed) for method, (_, grid) in GRIDS.items() for value in grid for seed in SEEDS]
training_sets = {seed: noisy_subset(X_pool, y_pool, N_TRAIN, LABEL_NOISE, seed, digits.n_classes) for seed in SEEDS}
X_many = torch.stack([training_sets[seed][0] for _, _, seed in configs])
y_many = torch.stack([training_sets[seed][1] for _, _, seed in configs])
setting = {name: [value if GRIDS[method][0] == name else 0.0 for method, value, _ in configs]
           for name in ("weight_decay", "l1", "dropout")}
torch.manual_seed(SEED)  # the dropout masks
many = train_many(X_many, y_many, val_d, hidden=HIDDEN, n_classes=digits.n_classes,
                  seeds=[seed for _, _, seed in configs], epochs=EPOCHS, lr=LR, patience=PATIENCE, device=DEVICE,
                  **setting)
networks = pd.DataFrame(configs, columns=["method", "value", "seed"])
networks["validation accuracy"] = many.accuracy(X_val_d, y_val_d)
networks["early-stopped validation accuracy"] = many.accuracy(X_val_d, y_val_d, early_stopping=True)
grid_curves = networks.groupby(["method", "value"])["validation accuracy"].agg(["mean", "std"])
chosen = {method: float(grid_curves.loc[method, "mean"].idxmax()) for method in GRIDS}
on_edge = [m for m in GRIDS if len(GRIDS[m][1]) > 1 and chosen[m] in (GRIDS[m][1][0], GRIDS[m][1][-1])]
print(f"{len(configs)} networks ({N_SEEDS} seeds), {EPOCHS} epochs each")
print("chosen on validation:", {m: chosen[m] for m in GRIDS if m != "none"}, "| on the edge of their grid:",
      on_edge or "none")
grid_curves.round(3)

# %% mystnb={"image": {"alt": "Three panels, one per method (weight decay, L1 strength, dropout rate): validation accuracy, mean and spread over seeds, against the method's own grid, rising to a maximum inside the grid and falling at its far end; a grey band marks the unregularized network and a star the chosen value."}}
fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), sharey=True)
none_mean, none_sd = grid_curves.loc[("none", 0.0)]
for ax, method in zip(axes, ["L2 (weight decay)", "L1", "dropout"]):
    curve = grid_curves.loc[method]
    ax.errorbar(range(len(curve)), curve["mean"], yerr=curve["std"], marker="o", capsize=3, label="validation")
    ax.axhspan(none_mean - none_sd, none_mean + none_sd, color="grey", alpha=0.3, label="no regularization")
    best_position = list(curve.index).index(chosen[method])
    ax.plot(best_position, curve["mean"].iloc[best_position], marker="*", markersize=14, color="tab:red",
            linestyle="none", label="chosen")
    ax.set_xticks(range(len(curve)), [f"{v:g}" for v in curve.index])
    ax.set_xlabel(f"{method}: {GRIDS[method][0]}")
axes[0].set_ylabel(f"validation accuracy (mean ± sd, {N_SEEDS} seeds)")
axes[0].legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# Each method's validation accuracy rises with its strength, peaks inside
# its grid (the star) and falls at the far end, where the penalty or the
# dropout rate is so strong that the network cannot learn the right labels
# either: a method is only as good as its tuning. The grey band is the
# unregularized network (mean ± sd over the seeds).
#
# Now the table. For each method, the networks of the chosen configuration
# are scored **once** on the test set; a `DummyClassifier` that always
# predicts the most frequent training label is the floor. The columns are
# accuracies (train, on the noisy labels), means over the seeds, with the sd
# of validation and test accuracy, and the size of the weights.

# %%
rows = np.arange(len(configs))
picked = {method: rows[(networks["method"] == (method if method != "early stopping" else "none"))
                       & (networks["value"] == chosen.get(method, 0.0))]
          for method in ["none", "L2 (weight decay)", "L1", "dropout", "early stopping"]}
per_seed = []
for method, idx in picked.items():
    stop = method == "early stopping"
    train_acc = many.accuracy(X_many[idx], y_many[idx], networks=idx, early_stopping=stop)
    val_acc = many.accuracy(X_val_d, y_val_d, networks=idx, early_stopping=stop)
    test_acc = many.accuracy(X_test_d, y_test_d, networks=idx, early_stopping=stop)  # the test set, once
    weights = (many.early_stopped if stop else many.model).subset(idx).weights
    norm = torch.sqrt(sum((w.detach() ** 2).sum((1, 2)) for w in weights)).cpu().numpy()
    for i, seed in enumerate(SEEDS):
        per_seed.append({"method": method, "seed": seed, "train accuracy": train_acc[i],
                         "validation accuracy": val_acc[i], "test accuracy": test_acc[i], "weight norm": norm[i]})
for seed in SEEDS:
    X_s, y_s, _ = training_sets[seed]
    dummy = DummyClassifier(strategy="most_frequent").fit(X_s.numpy(), y_s.numpy())
    per_seed.append({"method": "dummy (most frequent)", "seed": seed,
                     "train accuracy": dummy.score(X_s.numpy(), y_s.numpy()),
                     "validation accuracy": dummy.score(X_val_d.numpy(), y_val_d.numpy()),
                     "test accuracy": dummy.score(X_test_d.numpy(), y_test_d.numpy()), "weight norm": np.nan})
per_seed = pd.DataFrame(per_seed)
per_seed["gap"] = per_seed["train accuracy"] - per_seed["validation accuracy"]
order = ["dummy (most frequent)", "none", "L2 (weight decay)", "L1", "dropout", "early stopping"]
means = per_seed.groupby("method").mean().loc[order]
sds = per_seed.groupby("method").std().loc[order]
overfitting = pd.DataFrame({
    "setting": ["", "", f"decay {chosen['L2 (weight decay)']:g}", f"l1 {chosen['L1']:g}",
                f"p {chosen['dropout']:g}", f"patience {PATIENCE}"],
    "train": means["train accuracy"], "validation": means["validation accuracy"],
    "val sd": sds["validation accuracy"], "gap": means["gap"],
    "test": means["test accuracy"], "test sd": sds["test accuracy"], "weight norm": means["weight norm"],
}, index=pd.Index(order, name="method"))
short = {"none": "none", "L2 (weight decay)": "l2", "L1": "l1", "dropout": "dropout", "early stopping": "es",
         "dummy (most frequent)": "dummy"}
for name, key in short.items():
    for column, suffix in (("train accuracy", "train"), ("validation accuracy", "val"), ("gap", "gap"),
                           ("test accuracy", "test")):
        glue(f"table_{key}_{suffix}", float(means.loc[name, column]), fmt=".1%")
    glue(f"table_{key}_test_sd", float(sds.loc[name, "test accuracy"]), fmt=".1%")
overfitting.round(3)

# %%
regularizers = ["L2 (weight decay)", "L1", "dropout", "early stopping"]
by_seed = per_seed.pivot(index="seed", columns="method", values="validation accuracy")
paired = pd.DataFrame({m: by_seed[m] - by_seed["none"] for m in regularizers})  # each seed: method minus none
standard_error = sds["validation accuracy"] / np.sqrt(N_SEEDS)
best_method = str(means.loc[regularizers, "validation accuracy"].idxmax())
within_one_se = [m for m in regularizers
                 if means.loc[m, "validation accuracy"] >= means.loc[best_method, "validation accuracy"]
                 - standard_error[best_method]]
for name in regularizers:
    glue(f"gain_{short[name]}", float(paired[name].mean()), fmt=".1%")
    glue(f"gain_{short[name]}_sd", float(paired[name].std()), fmt=".1%")
glue("n_seeds", N_SEEDS)
glue("reg_gap_min", float(means.loc[regularizers, "gap"].min()), fmt=".1%")
glue("reg_gap_max", float(means.loc[regularizers, "gap"].max()), fmt=".1%")
glue("n_networks", len(configs))
glue("wd_chosen", chosen["L2 (weight decay)"], fmt="g")
glue("l1_chosen", chosen["L1"], fmt="g")
glue("dropout_chosen", chosen["dropout"], fmt="g")
glue("best_method", best_method)
glue("best_val_acc", float(means.loc[best_method, "validation accuracy"]), fmt=".1%")
glue("best_val_se", float(standard_error[best_method]), fmt=".1%")
glue("within_one_se", ", ".join(m for m in within_one_se if m != best_method) or "none of the others")
glue("wd_norm_ratio", float(means.loc["none", "weight norm"] / means.loc["L2 (weight decay)", "weight norm"]),
     fmt=".1f")
print(f"chosen on validation: weight decay {chosen['L2 (weight decay)']:g}, L1 {chosen['L1']:g}, dropout {chosen['dropout']:g}")
print("validation accuracy, method minus none, seed by seed (mean ± sd):")
for name in regularizers:
    print(f"  {name:18s} {paired[name].round(3).tolist()}  {paired[name].mean():+.1%} ± {paired[name].std():.1%}")
print(f"best on validation: {best_method} ({means.loc[best_method, 'validation accuracy']:.1%}, "
      f"standard error {standard_error[best_method]:.1%}); other methods within one standard error of it: "
      f"{', '.join(m for m in within_one_se if m != best_method) or 'none of the others'}")
print(f"gap: none {means.loc['none', 'gap']:.1%}, regularized between {means.loc[regularizers, 'gap'].min():.1%} "
      f"and {means.loc[regularizers, 'gap'].max():.1%}")
print(f"weight norm without regularization / with weight decay: "
      f"{means.loc['none', 'weight norm'] / means.loc['L2 (weight decay)', 'weight norm']:.1f}")
assert not on_edge, "every chosen value lies inside its grid"
assert grid_curves.loc[("L1", GRIDS["L1"][1][-1]), "mean"] < none_mean - 0.2, "too strong an L1 penalty wipes out"
assert best_method != "none"
for name in ["L2 (weight decay)", "dropout", "early stopping"]:
    # The margin is the seed spread: the paired gain must exceed one standard error of itself, and 2 points.
    gain = paired[name]
    assert gain.mean() > max(0.02, gain.std() / np.sqrt(N_SEEDS)), f"{name} beats no regularization on validation"
    assert means.loc[name, "test accuracy"] > means.loc["none", "test accuracy"] + 0.02, f"{name}, on test too"
for name in regularizers:
    assert means.loc[name, "gap"] < means.loc["none", "gap"] - 0.05, f"{name} narrows the gap"
assert means.loc["none", "test accuracy"] > means.loc["dummy (most frequent)", "test accuracy"] + 0.3
assert means.loc["L2 (weight decay)", "weight norm"] < 0.7 * means.loc["none", "weight norm"], "L2 shrinks weights"

# %% [markdown]
# Without regularization the networks are right on
# {glue:text}`table_none_train` of their training labels, wrong ones
# included, and on {glue:text}`table_none_val` of the validation images
# (test: {glue:text}`table_none_test`; the dummy gets
# {glue:text}`table_dummy_test`). Seed by seed, against the unregularized
# network of the same seed, the validation accuracy rises by
# {glue:text}`gain_l2` ± {glue:text}`gain_l2_sd` with weight decay
# (`weight_decay` = {glue:text}`wd_chosen`, weights
# {glue:text}`wd_norm_ratio` times smaller), {glue:text}`gain_dropout` ±
# {glue:text}`gain_dropout_sd` with dropout ($p$ = {glue:text}`dropout_chosen`),
# {glue:text}`gain_es` ± {glue:text}`gain_es_sd` with early stopping, and
# {glue:text}`gain_l1` ± {glue:text}`gain_l1_sd` with L1 (strength
# {glue:text}`l1_chosen`). All four narrow the gap, from
# {glue:text}`table_none_gap` to between {glue:text}`reg_gap_min` and
# {glue:text}`reg_gap_max`. The test set, scored once, agrees for weight
# decay, dropout and early stopping ({glue:text}`table_l2_test`,
# {glue:text}`table_dropout_test` and {glue:text}`table_es_test` against
# {glue:text}`table_none_test`); L1 scores {glue:text}`table_l1_test`, a
# smaller gain that the seeds' spread (sd {glue:text}`table_l1_test_sd`)
# does not let us call certain. A gap below zero, where it occurs, means the
# model disagrees with some of the wrong training labels, which is exactly
# what we want from it.
#
# Which one is best? We choose on validation, never on test: the highest
# mean validation accuracy is **{glue:text}`best_method`**'s
# ({glue:text}`best_val_acc`, standard error {glue:text}`best_val_se`
# over the {glue:text}`n_seeds` seeds). Methods within one standard error of
# it: {glue:text}`within_one_se`. A difference smaller than the standard
# error is not evidence, so a method inside that band cannot be called worse;
# run the chapter with another `SEED` and the order inside it may change.
# More seeds (`BUDGET`) shrink the standard error. Two more caveats: the validation column is a little
# optimistic for every method, because the same validation set chose the
# strengths (and, for early stopping, the epoch); the test column is not,
# since nothing was chosen on it. The honest summary: on this small, noisy
# data set, weight decay, dropout and early stopping each buy several points
# of accuracy over no regularization, more than the standard error of that
# gain over the seeds.
#
# L1 gains less here: its best strength sits just below the value at which it
# wipes out the network (the collapse at the right of its panel). What it
# does well is what it does to the weights. Pixels that are blank in every
# training image give their first-layer weights no signal from the data:
# without a penalty these weights keep their random initial values, with L1
# they are pulled to zero.

# %%
l1_idx, none_idx = picked["L1"], picked["none"]
blank_fractions = {}
for name, idx in (("L1", l1_idx), ("none", none_idx)):
    first_layer = many.model.subset(idx).weights[0].detach().abs().cpu()  # (seeds, pixels, hidden units)
    fractions = []
    for i, seed in enumerate(SEEDS):
        blank = (training_sets[seed][0] == 0).all(dim=0)  # pixels that are 0 in every training image
        fractions.append(float((first_layer[i][blank] < 0.01).float().mean()))
    blank_fractions[name] = float(np.mean(fractions))
n_blank = float(np.mean([int((training_sets[seed][0] == 0).all(dim=0).sum()) for seed in SEEDS]))
glue("n_blank_pixels", n_blank, fmt=".0f")
glue("l1_blank_near_zero", blank_fractions["L1"], fmt=".0%")
glue("plain_blank_near_zero", blank_fractions["none"], fmt=".0%")
print(f"{n_blank:.0f} blank pixels on average; first-layer weights of blank pixels with |w| < 0.01: "
      f"L1 {blank_fractions['L1']:.0%}, none {blank_fractions['none']:.0%}")
assert blank_fractions["L1"] > 0.9 and blank_fractions["none"] < 0.2, "L1 zeroes the weights of blank pixels"

# %% [markdown]
# About {glue:text}`n_blank_pixels` pixels, mostly at the border, are blank
# in every training image. Without a penalty only
# {glue:text}`plain_blank_near_zero` of their weights are near zero; L1 pulls
# {glue:text}`l1_blank_near_zero` of them there. L1 is a tool for sparse,
# interpretable models more than a cure for memorised label noise.
#
# ## Exercises
#
# **[Do these exercises on Colab](https://colab.research.google.com/github/ai-training-course/ai-training-course/blob/main/notebooks/exercises/06_regularization.ipynb)**: the student version, with stubs instead of solutions.
#
# Each exercise has a check: run it after your answer. `ex.q1.hint()` gives a
# hint (`ex.q1.hint(2)` a stronger one) and `ex.q1.solution()` shows a
# solution.
#
# ```{exercise} Predict, then run: who gains from more data?
# :label: ch06-ex1
# Section 3 fitted polynomials to 200 training sets of 20 points each. Now
# give every training set 80 points instead of 20. Whose expected error
# (bias² + variance) falls more: the straight line, `"degree 1"`, or the
# flexible `"degree 9"` polynomial? Set `prediction_more_data` to one of the
# two, *then* run the check and the experiment after it.
# ```
#
# ```{solution-start} ch06-ex1
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch06-ex1-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
prediction_more_data = "degree 9"
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch06-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q1.check()

# %%
resampled_80 = [noisy_sine(80) for _ in range(N_SETS)]  # 200 training sets of 80 points
more_data = pd.DataFrame(index=pd.Index(["degree 1", "degree 9"], name="bias² + variance"))
for n_points, training_sets in ((20, resampled), (80, resampled_80)):
    for d in (1, 9):
        terms = bias_variance(lambda x, y: powers(x_grid, d) @ np.linalg.lstsq(powers(x, d), y, rcond=None)[0],
                              training_sets)
        more_data.loc[f"degree {d}", f"{n_points} points"] = terms["bias²"] + terms["variance"]
print(more_data.round(3).to_string())
assert more_data.loc["degree 9", "20 points"] - more_data.loc["degree 9", "80 points"] > \
    10 * (more_data.loc["degree 1", "20 points"] - more_data.loc["degree 1", "80 points"])

# %% [markdown]
# ```{exercise} Diagnose: a ridge sweep that went wrong
# :label: ch06-ex2
# A colleague fits the degree-15 polynomial of Section 2 with a ridge
# penalty, sweeps $\lambda$ on the grid below, keeps the value with the
# lowest validation error and concludes that "ridge does not help much here".
# Their run is printed below. Which single problem explains the conclusion?
# Set `diagnosis` to one letter:
#
# - `"A"`: the penalty is too weak, so the polynomial still overfits;
# - `"B"`: the best value sits on the edge of the grid, so the sweep never reached the optimum;
# - `"C"`: the test set was used to choose $\lambda$;
# - `"D"`: no penalty can help a degree-15 polynomial on 20 points; only a smaller degree can.
# ```

# %%
colleague_lams = [1.0, 3.0, 10.0, 30.0, 100.0]
colleague = pd.DataFrame(
    [{"lambda": lam, "train MSE": mse(X_tr, w, y_train), "validation MSE": mse(X_va, w, y_val)}
     for lam in colleague_lams for w in [ridge(X_tr, y_train, lam)]]).set_index("lambda")
print(colleague.round(3).to_string())
print(f"colleague's choice: lambda = {colleague['validation MSE'].idxmin():.0e}")

# %% [markdown]
# ```{solution-start} ch06-ex2
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch06-ex2-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
diagnosis = "B"
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch06-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q2.check()

# %%
print(f"the colleague's best: lambda = {colleague['validation MSE'].idxmin():.0e}, validation MSE "
      f"{colleague['validation MSE'].min():.3f}; Section 2's wider grid: lambda = {best_lam:.0e}, "
      f"validation MSE {sweep.loc[best_lam, 'validation MSE']:.3f}")
assert colleague["validation MSE"].idxmin() == colleague_lams[0], "the colleague's best is the grid's first value"
assert sweep.loc[best_lam, "validation MSE"] < colleague["validation MSE"].min()

# %% [markdown]
# ```{exercise} Experiment: tame a degree-12 polynomial
# :label: ch06-ex3
# Without a penalty, the degree-12 polynomial of Section 3 has a variance in
# the millions. Find a ridge strength `lam_degree12` for which its expected
# error, bias² + variance over resampled training sets of 20 points, is at
# most half that of a straight line. The check draws its own 200 training
# sets, fits your `lam_degree12`, and tells you which term dominates when
# you miss. Try `1e-4` first and read what it says.
# ```
#
# ```{solution-start} ch06-ex3
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch06-ex3-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
lam_degree12 = 0.1
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch06-ex3-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q3.check()

# %% [markdown]
# ```{exercise} Soft thresholding
# :label: ch06-ex4
# Lasso solvers alternate a step on the data loss with the *proximal step*
# of the L1 penalty, which moves every weight towards zero by `threshold`
# and stops at zero: $\mathrm{sign}(w)\max(|w| - t, 0)$. Write
# `soft_threshold(w, threshold)` for a tensor `w` of any shape. Which weights
# end exactly at zero?
# ```
#
# ```{solution-start} ch06-ex4
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch06-ex4-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def soft_threshold(w, threshold):
    ### BEGIN SOLUTION
    return torch.sign(w) * torch.clamp(w.abs() - threshold, min=0.0)
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch06-ex4-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q4.check()

# %% [markdown]
# ```{exercise} When does early stopping stop?
# :label: ch06-ex5
# Write `early_stopping_epochs(val_losses, patience)`: given the validation
# loss of each epoch (a list, epoch 1 first), return the pair
# `(stop_epoch, best_epoch)`: the epoch after which `EarlyStopping(patience)`
# stops training (the last epoch if it never does) and the epoch whose
# weights `fit` restores. A loss equal to the best so far is not an
# improvement.
# ```
#
# ```{solution-start} ch06-ex5
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch06-ex5-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def early_stopping_epochs(val_losses, patience):
    ### BEGIN SOLUTION
    best, best_epoch, waited = float("inf"), 0, 0
    for epoch, value in enumerate(val_losses, start=1):
        if value < best:
            best, best_epoch, waited = value, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch, best_epoch
    return len(val_losses), best_epoch
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch06-ex5-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q5.check()

# %% [markdown]
# ## Summary
#
# - **Overfitting** shows as a gap: training error keeps falling while
#   validation error stalls or rises. Capacity, small data and noisy labels
#   all widen it.
# - Over resampled training sets the expected error splits into **bias²,
#   variance and noise**; more flexible models trade bias for variance, and
#   a penalty buys back a large cut in variance for a little bias.
# - **L2 regularization** adds $\lambda\lVert w\rVert^2$ to the loss; with SGD
#   (and Adam's `weight_decay`) it is the same as decaying the weights at
#   every step. AdamW decouples the decay from Adam's rescaling. Its strength
#   is a hyperparameter: sweep it on validation data, and widen the grid if
#   the best value sits on its edge.
# - **L1 regularization** adds $\lambda\sum|w|$; its constant pull sets
#   uninformative weights exactly to zero (with a proximal solver such as the
#   lasso's), so it selects features; on sparse data the tuned lasso beat the
#   tuned ridge here.
# - **Dropout** zeroes units at random while training and rescales the rest;
#   in evaluation mode it does nothing, so `model.train()` / `model.eval()`
#   matter.
# - **Early stopping** stops when the validation loss stops improving and
#   keeps the best epoch's weights: a cheap regularizer that saves time.
# - More training is not always better: past the validation minimum, the
#   model learns its training set's noise.
# - A fair comparison tunes every method on its own grid on validation
#   data, repeats it over seeds, calls a difference real only when it is
#   larger than its standard error, and scores the chosen models once on
#   the test set, next to a dummy baseline.
#
# For more depth, see Chapter 7 of {cite}`goodfellow2016deep` and Chapter 3.4
# of {cite}`hastie2009elements`. Chapter 7 of this course tunes penalty
# strengths and dropout rates systematically.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
