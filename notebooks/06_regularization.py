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
# visible, builds each remedy from scratch, then measures them side by side
# on the same overfitting network.
#
# **After this chapter you will be able to**
#
# - recognise overfitting as a gap between training and validation scores,
#   and see it in a polynomial fit and in a neural network's learning curves;
# - add an L2 penalty to a loss by hand, relate it to the optimizer's
#   `weight_decay`, and choose its strength with a validation sweep;
# - explain why an L1 penalty makes weights exactly zero and an L2 penalty does not;
# - say what dropout does in training and in evaluation mode;
# - stop training early with `helpers.train.EarlyStopping` and keep the best weights;
# - compare regularization methods fairly in one table, on validation *and* test data.

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
from sklearn.linear_model import Lasso, Ridge
from torch import nn

from helpers import glue, setup
from helpers.data import load
from helpers.exercises import ch06_regularization as ex
from helpers.models import mlp
from helpers.plots import use_style
from helpers.regularization import Penalized, accuracy_row, overfitting_table, weight_penalty, weight_report
from helpers.train import EarlyStopping, fit

DEVICE = setup(SEED)
use_style()

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
# ## 3. L1 regularization: weights that are exactly zero
#
# Replace the squares by absolute values and the penalty becomes
# $\lambda \sum_k |w_k|$: the **lasso** {cite}`tibshirani1996regression`.
# The difference matters near zero. The L2 penalty's pull, $2\lambda w$,
# fades as a weight gets small, so weights shrink but stay non-zero. The L1
# penalty's pull, $\lambda\,\mathrm{sign}(w)$, keeps the same strength all
# the way to zero, so any weight whose contribution to the fit is worth less
# than $\lambda$ ends **exactly at zero**. The lasso selects features.
#
# We test this on a synthetic regression with 40 features of which only 5
# matter, and 80 samples: scikit-learn's `Lasso` (L1) against `Ridge` (L2),
# each with a penalty strong enough to matter.

# %%
X_sparse, y_sparse, true_coef = make_regression(
    n_samples=80, n_features=40, n_informative=5, noise=10.0, coef=True, random_state=SEED
)
informative = np.flatnonzero(true_coef)
lasso = Lasso(alpha=1.0).fit(X_sparse, y_sparse)
ridge_model = Ridge(alpha=10.0).fit(X_sparse, y_sparse)
sparsity = pd.DataFrame(
    {
        "exactly zero": [int(np.sum(m.coef_ == 0)) for m in (lasso, ridge_model)],
        "|w| < 1": [int(np.sum(np.abs(m.coef_) < 1)) for m in (lasso, ridge_model)],
        "informative kept": [int(np.sum(m.coef_[informative] != 0)) for m in (lasso, ridge_model)],
        "largest |w|": [float(np.abs(m.coef_).max()) for m in (lasso, ridge_model)],
    },
    index=pd.Index(["Lasso (L1), alpha=1", "Ridge (L2), alpha=10"], name="model"),
)
sparsity.round(1)

# %%
n_lasso_zero = int(np.sum(lasso.coef_ == 0))
n_ridge_zero = int(np.sum(ridge_model.coef_ == 0))
lasso_kept = set(np.flatnonzero(lasso.coef_))
glue("n_sparse_features", X_sparse.shape[1])
glue("n_informative", len(informative))
glue("n_lasso_zero", n_lasso_zero)
glue("n_ridge_zero", n_ridge_zero)
glue("lasso_informative_kept", len(lasso_kept & set(informative)))
assert n_lasso_zero >= 20 and n_ridge_zero == 0, "L1 zeroes weights, L2 does not"
assert len(lasso_kept & set(informative)) >= len(informative) - 1, "the lasso keeps the informative features"

# %% [markdown]
# Of the {glue:text}`n_sparse_features` weights, the lasso sets
# {glue:text}`n_lasso_zero` to exactly zero and keeps
# {glue:text}`lasso_informative_kept` of the {glue:text}`n_informative`
# informative features (one with a tiny true effect can be dropped with the
# rest); ridge sets {glue:text}`n_ridge_zero` to zero. Solvers
# for the lasso reach exact zeros with a **soft-thresholding** step
# (Exercise 2), which a plain gradient step cannot do. In a neural network
# trained by gradient descent, an L1 penalty therefore drives weights *near*
# zero, not exactly to it, as we will see below. In PyTorch the penalty is one
# more term in the loss; `helpers.regularization.Penalized` wraps a loss
# so that `fit` adds it on training batches (not on the validation loss):
#
# ```python
# loss_fn = Penalized(nn.CrossEntropyLoss(), model, l1=1e-4)   # + 1e-4 * sum |w|
# ```
#
# ## 4. A network that overfits
#
# Now a neural network. We take 200 training images of handwritten digits
# (8x8 pixels) and, as happens in real data sets {cite}`northcutt2021pervasive`,
# a fifth of their labels are wrong: we replace them by random digits. The
# validation and test images keep their true labels. A two-layer MLP with 128
# units per layer has about 27,000 weights for 200 examples: more than enough
# to memorise every training label, right or wrong.

# %%
digits = load("digits", seed=SEED)
N_TRAIN, LABEL_NOISE = 200, 0.2
X_train_d, y_train_clean = digits.tensors("train")
X_train_d, y_train_clean = X_train_d[:N_TRAIN] / 16, y_train_clean[:N_TRAIN]  # pixels 0..16 -> 0..1
noise_generator = torch.Generator().manual_seed(SEED)
flipped = torch.rand(N_TRAIN, generator=noise_generator) < LABEL_NOISE
y_train_d = y_train_clean.clone()
y_train_d[flipped] = torch.randint(0, 10, (int(flipped.sum()),), generator=noise_generator)
X_val_d, y_val_d = digits.tensors("val")
X_test_d, y_test_d = digits.tensors("test")
X_val_d, X_test_d = X_val_d / 16, X_test_d / 16
train_d, val_d, test_d = (X_train_d, y_train_d), (X_val_d, y_val_d), (X_test_d, y_test_d)
n_wrong_labels = int((y_train_d != y_train_clean).sum())
print(f"{N_TRAIN} training images, {n_wrong_labels} with a wrong label; "
      f"{len(y_val_d)} validation and {len(y_test_d)} test images")

# %% [markdown]
# Every run below starts from the same initial weights and sees the same
# batches; only the regularization changes. `restore_best=False` keeps the
# weights of the last epoch: `fit`'s default keeps the epoch with the best
# validation loss, which is already a form of early stopping (Section 7).

# %%
EPOCHS = max(100, round(150 * BUDGET))
HIDDEN = [128, 128]
LR = 2e-3
WEIGHT_DECAY = 1.0  # AdamW's decoupled decay, a moderate value (see the sweep of Section 5)
L1_STRENGTH = 1e-4
DROPOUT = 0.5
PATIENCE = 10


def train_mlp(*, weight_decay=0.0, l1=0.0, dropout=0.0, early_stopping=False, epochs=EPOCHS):
    """Train the same MLP from the same start; return (model, history)."""
    torch.manual_seed(SEED)
    model = mlp(digits.n_features, HIDDEN, digits.n_classes, dropout=dropout)
    loss_fn = Penalized(nn.CrossEntropyLoss(), model, l1=l1) if l1 else nn.CrossEntropyLoss()
    history = fit(
        model, train_d, val_d, loss_fn=loss_fn,
        optimizer=torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=weight_decay),
        epochs=epochs, batch_size=32, device=DEVICE,
        callbacks=[EarlyStopping(patience=PATIENCE)] if early_stopping else [],
        restore_best=early_stopping,
    )
    return model.cpu(), history


models, histories = {}, {}
models["none"], histories["none"] = train_mlp()
plain_row = accuracy_row(models["none"], train_d, val_d, test_d)
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
# ## 5. Weight decay on the network
#
# We sweep AdamW's `weight_decay` and record, for each strength, the size of
# the trained weights (`helpers.regularization.weight_report`) and the
# validation accuracy at the end of training.

# %%
decays = [0.0, 0.1, 0.3, 1.0, 3.0]
decay_rows = []
for decay in decays:
    if decay == 0.0:
        model = models["none"]
    else:
        model, _ = train_mlp(weight_decay=decay)
        if decay == WEIGHT_DECAY:
            models["L2 (weight decay)"] = model
    report = weight_report(model)
    row = accuracy_row(model, train_d, val_d, test_d)
    decay_rows.append({"weight_decay": decay, "weight norm": report["l2_norm"],
                       "train accuracy": row["train accuracy"], "validation accuracy": row["validation accuracy"]})
decay_table = pd.DataFrame(decay_rows).set_index("weight_decay")
decay_table.round(3)

# %% mystnb={"image": {"alt": "Weight decay sweep on the MLP: as weight_decay grows from 0 to 3 the weight norm shrinks; training accuracy falls from 100% while validation accuracy rises, so the gap closes."}}
fig, (ax_acc, ax_norm) = plt.subplots(1, 2, figsize=(9, 3.2))
x_positions = range(len(decays))
ax_acc.plot(x_positions, decay_table["train accuracy"], marker="o", label="training")
ax_acc.plot(x_positions, decay_table["validation accuracy"], marker="o", label="validation")
ax_acc.set_ylabel("accuracy")
ax_acc.legend()
ax_norm.plot(x_positions, decay_table["weight norm"], marker="o", color="tab:purple")
ax_norm.set_ylabel("weight norm")
for ax in (ax_acc, ax_norm):
    ax.set_xticks(list(x_positions), [str(d) for d in decays])
    ax.set_xlabel("AdamW weight_decay")
fig.tight_layout()
plt.show()

# %%
glue("wd_chosen", WEIGHT_DECAY)
glue("wd_val_acc", decay_table.loc[WEIGHT_DECAY, "validation accuracy"], fmt=".1%")
glue("wd_norm_ratio", decay_table.loc[0.0, "weight norm"] / decay_table.loc[WEIGHT_DECAY, "weight norm"], fmt=".1f")
glue("wd_max", decays[-1])
glue("wd_max_train_acc", decay_table.loc[decays[-1], "train accuracy"], fmt=".1%")
glue("wd_max_val_acc", decay_table.loc[decays[-1], "validation accuracy"], fmt=".1%")
assert decay_table["weight norm"].is_monotonic_decreasing, "stronger decay, smaller weights"
assert decay_table.loc[WEIGHT_DECAY, "validation accuracy"] > decay_table.loc[0.0, "validation accuracy"] + 0.02

# %% [markdown]
# Stronger decay gives smaller weights (at `weight_decay` =
# {glue:text}`wd_chosen`, a norm {glue:text}`wd_norm_ratio` times smaller than
# without), the network can no longer memorise every wrong label, and the
# validation accuracy rises to {glue:text}`wd_val_acc`. At
# {glue:text}`wd_max` the training accuracy is down to
# {glue:text}`wd_max_train_acc` (validation {glue:text}`wd_max_val_acc`): the
# penalty now competes with the correct labels too, and pushed further the
# model underfits. For the comparison of Section 8 we keep the moderate
# `weight_decay` = {glue:text}`wd_chosen`, which also leaves room to combine
# it with dropout. (Any value chosen by looking at the validation set makes
# that set's score slightly optimistic; the test column of Section 8 is the
# honest one.)
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
print(f"training mode: {(in_training == 0).float().mean():.2f} zeroed, kept values "
      f"{sorted(set(in_training.tolist()))}, mean {in_training.mean():.2f}")
print(f"evaluation mode: unchanged: {torch.equal(in_evaluation, ones)}")

# %%
zero_fraction = float((in_training == 0).float().mean())
glue("dropout_zero_fraction", zero_fraction, fmt=".1%")
glue("dropout_train_mean", float(in_training.mean()), fmt=".3f")
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
models["dropout"], histories["dropout"] = train_mlp(dropout=DROPOUT)
print(models["dropout"])
dropout_row = accuracy_row(models["dropout"], train_d, val_d, test_d)
glue("dropout_val_acc", dropout_row["validation accuracy"], fmt=".1%")
glue("dropout_gap", dropout_row["gap"], fmt=".1%")
assert dropout_row["gap"] < plain_row["gap"] - 0.05, "dropout narrows the gap"

# %% [markdown]
# With dropout $p = 0.5$ the same network reaches
# {glue:text}`dropout_val_acc` validation accuracy, with a gap of
# {glue:text}`dropout_gap` instead of {glue:text}`plain_gap`.
#
# ## 7. Early stopping
#
# Section 4 showed the validation loss reaching its minimum long before the
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
# ## 8. Overfitting: every method in one table
#
# Finally the two remaining candidates, an L1 penalty and a combination of
# dropout, weight decay and early stopping, and all of them side by side:
# accuracy on the (noisy) training labels, on validation, the gap, and on
# the test set that no choice in this chapter has looked at.

# %%
models["L1"], _ = train_mlp(l1=L1_STRENGTH)
models["dropout + L2 + early stopping"], _ = train_mlp(dropout=DROPOUT, weight_decay=WEIGHT_DECAY,
                                                        early_stopping=True)
order = ["none", "L2 (weight decay)", "L1", "dropout", "early stopping", "dropout + L2 + early stopping"]
overfitting = overfitting_table({name: accuracy_row(models[name], train_d, val_d, test_d) for name in order})
overfitting.style.format("{:.1%}")

# %%
short = {"none": "none", "L2 (weight decay)": "l2", "L1": "l1", "dropout": "dropout",
         "early stopping": "es", "dropout + L2 + early stopping": "combo"}
for name, key in short.items():
    for column, suffix in (("train accuracy", "train"), ("validation accuracy", "val"),
                           ("gap", "gap"), ("test accuracy", "test")):
        glue(f"table_{key}_{suffix}", overfitting.loc[name, column], fmt=".1%")
l1_report, plain_report = weight_report(models["L1"]), weight_report(models["none"])
glue("l1_near_zero", l1_report["fraction_near_zero"], fmt=".0%")
glue("plain_near_zero", plain_report["fraction_near_zero"], fmt=".0%")
glue("l1_strength", L1_STRENGTH, fmt=".0e")
regularized = ["L2 (weight decay)", "dropout", "early stopping", "dropout + L2 + early stopping"]
glue("reg_gap_min", overfitting.loc[regularized, "gap"].min(), fmt=".1%")
glue("reg_gap_max", overfitting.loc[regularized, "gap"].max(), fmt=".1%")
# First-layer weights from pixels that are blank (0) in every training image get no signal from the data.
blank = (X_train_d == 0).all(dim=0)
first_layer = models["L1"][0].weight.detach().abs()  # (hidden, pixels)
glue("n_blank_pixels", int(blank.sum()))
glue("l1_blank_near_zero", float((first_layer[:, blank] < 0.01).float().mean()), fmt=".0%")
glue("plain_blank_near_zero", float((models["none"][0].weight.detach().abs()[:, blank] < 0.01).float().mean()),
     fmt=".0%")
assert (first_layer[:, blank] < 0.01).float().mean() > 0.9, "L1 zeroes the weights of blank pixels"
best_method = overfitting["test accuracy"].idxmax()
glue("best_method", best_method)
glue("best_test_acc", overfitting.loc[best_method, "test accuracy"], fmt=".1%")
none_row = overfitting.loc["none"]
for name in regularized:
    assert overfitting.loc[name, "gap"] < none_row["gap"] - 0.05, f"{name} should narrow the gap"
    assert overfitting.loc[name, "validation accuracy"] > none_row["validation accuracy"] + 0.02, name
    assert overfitting.loc[name, "test accuracy"] > none_row["test accuracy"] + 0.01, name
assert l1_report["fraction_near_zero"] > plain_report["fraction_near_zero"] + 0.2, "L1 drives weights towards 0"
assert best_method != "none"

# %% [markdown]
# Without regularization the network is right on {glue:text}`table_none_train`
# of its training labels and {glue:text}`table_none_val` of the validation
# images (test: {glue:text}`table_none_test`). Weight decay
# ({glue:text}`table_l2_test` on test), dropout ({glue:text}`table_dropout_test`),
# early stopping ({glue:text}`table_es_test`) and their combination
# ({glue:text}`table_combo_test`) all narrow the gap, from
# {glue:text}`table_none_gap` to between {glue:text}`reg_gap_min` and
# {glue:text}`reg_gap_max`, and all do better on the test set; the highest
# test accuracy here, {glue:text}`best_test_acc`, comes from
# **{glue:text}`best_method`**. A gap below zero, where it occurs,
# means the model disagrees with some of the wrong training labels, which is
# exactly what we want from it.
#
# The L1 penalty of strength {glue:text}`l1_strength` changes less
# (validation {glue:text}`table_l1_val`, test {glue:text}`table_l1_test`),
# but it does what L1 does: {glue:text}`l1_near_zero` of its weights have
# $|w| < 0.01$, against {glue:text}`plain_near_zero` without it. The clearest
# case: {glue:text}`n_blank_pixels` pixels, mostly at the border, are blank
# in every training image, so the data never moves their weights; without a
# penalty they keep their random initial values (only
# {glue:text}`plain_blank_near_zero` are near 0), while L1 pulls
# {glue:text}`l1_blank_near_zero` of them to zero. L1 is a tool for sparse,
# interpretable models more than a cure for memorised label noise.
#
# Which method wins depends on the model, the data and the seed: run the
# chapter with another `SEED` and the order of the regularized rows may
# change. What the chapter asserts, and what holds across seeds, is that each
# of them beats no regularization on validation and test data.
#
# ## Exercises
#
# **[Do these exercises on Colab](https://colab.research.google.com/github/ai-training-course/ai-training-course/blob/main/notebooks/exercises/06_regularization.ipynb)**: the student version, with stubs instead of solutions.
#
# Each exercise has a check: run it after your answer. `ex.q1.hint()` gives a
# hint (`ex.q1.hint(2)` a stronger one) and `ex.q1.solution()` shows a
# solution.
#
# ```{exercise} Ridge regression in closed form
# :label: ch06-ex1
# Write `ridge_weights(X, y, lam)` for a NumPy matrix `X` (n, d), targets `y`
# (n,) and a strength `lam` $\ge 0$: it returns the weights (d,) that minimise
# $\lVert Xw - y\rVert^2 + \lambda\lVert w\rVert^2$, without scikit-learn.
# ```
#
# ```{solution-start} ch06-ex1
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch06-ex1-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def ridge_weights(X, y, lam):
    ### BEGIN SOLUTION
    n_features = X.shape[1]
    return np.linalg.solve(X.T @ X + lam * np.eye(n_features), X.T @ y)
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch06-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q1.check()

# %% [markdown]
# ```{exercise} Soft thresholding
# :label: ch06-ex2
# Lasso solvers alternate a step on the data loss with the *proximal step*
# of the L1 penalty, which moves every weight towards zero by `threshold`
# and stops at zero: $\mathrm{sign}(w)\max(|w| - t, 0)$. Write
# `soft_threshold(w, threshold)` for a tensor `w` of any shape. Which weights
# end exactly at zero?
# ```
#
# ```{solution-start} ch06-ex2
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch06-ex2-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def soft_threshold(w, threshold):
    ### BEGIN SOLUTION
    return torch.sign(w) * torch.clamp(w.abs() - threshold, min=0.0)
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch06-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q2.check()

# %% [markdown]
# ```{exercise} Dropout by hand
# :label: ch06-ex3
# Write `my_dropout(x, p, training)`: in training mode it sets each value of
# the tensor `x` to zero with probability `p` (a new random choice on every
# call) and divides the others by $1-p$; with `training=False` it returns `x`
# unchanged. Do not use `nn.Dropout` or `F.dropout`.
# ```
#
# ```{solution-start} ch06-ex3
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch06-ex3-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def my_dropout(x, p, training):
    ### BEGIN SOLUTION
    if not training or p == 0:
        return x
    keep = (torch.rand_like(x) >= p).to(x.dtype)
    return x * keep / (1 - p)
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch06-ex3-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q3.check()

# %% [markdown]
# ```{exercise} When does early stopping stop?
# :label: ch06-ex4
# Write `early_stopping_epochs(val_losses, patience)`: given the validation
# loss of each epoch (a list, epoch 1 first), return the pair
# `(stop_epoch, best_epoch)`: the epoch after which `EarlyStopping(patience)`
# stops training (the last epoch if it never does) and the epoch whose
# weights `fit` restores. A loss equal to the best so far is not an
# improvement.
# ```
#
# ```{solution-start} ch06-ex4
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch06-ex4-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
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

# %% nbgrader={"grade": true, "grade_id": "ch06-ex4-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q4.check()

# %% [markdown]
# ## Summary
#
# - **Overfitting** shows as a gap: training error keeps falling while
#   validation error stalls or rises. Capacity, small data and noisy labels
#   all widen it.
# - **L2 regularization** adds $\lambda\lVert w\rVert^2$ to the loss; with SGD
#   (and Adam's `weight_decay`) it is the same as decaying the weights at
#   every step. AdamW decouples the decay from Adam's rescaling. Its strength
#   is a hyperparameter: sweep it on validation data.
# - **L1 regularization** adds $\lambda\sum|w|$; its constant pull sets
#   uninformative weights exactly to zero (with a proximal solver such as the
#   lasso's), so it selects features.
# - **Dropout** zeroes units at random while training and rescales the rest;
#   in evaluation mode it does nothing, so `model.train()` / `model.eval()`
#   matter.
# - **Early stopping** stops when the validation loss stops improving and
#   keeps the best epoch's weights: often the cheapest regularizer, and it
#   saves time.
# - More training is not always better: past the validation minimum, the
#   model learns its training set's noise.
# - Compare methods on the same model, data and start, and report test
#   accuracy, since the validation set helped choose.
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
