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
# # Chapter 1: The training loop, end to end
#
# Every model in this course, from a straight line to a convolutional network,
# is trained by the same loop: **predict, measure the error, compute how the
# error changes with each parameter, nudge the parameters downhill, repeat.**
# Everything else (data preparation, the choice of model, the loss, the
# optimizer, regularisation, tuning) is about making that loop work well.
# This chapter builds the loop from scratch on a line, compares it with the
# line's exact answer, then trains a linear softmax classifier and a small
# neural network on images of handwritten digits, compares them fairly, and
# hands the loop over to the course's `helpers.train.fit`, checking that the
# two agree.
#
# **After this chapter you will be able to**
#
# - name the parts of the training loop: data, model, parameters, loss, gradient, update;
# - write gradient descent for a line with PyTorch autograd and check it against the closed-form least-squares answer;
# - explain mean squared error and cross-entropy, check a hand-written loss against PyTorch's, and check the
#   loss at initialisation ($\approx \ln 10$ for ten classes);
# - say why we minimise a loss and not the accuracy itself;
# - train a linear softmax classifier and a network with a hidden layer, and compare them with a dummy baseline,
#   tuned learning rates and several seeds;
# - train the same model with `helpers.train.fit` and read its learning curves;
# - say why a model is judged on data it was not trained on.

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
import torch.nn.functional as F
from sklearn.dummy import DummyClassifier
from torch import nn

from helpers import glue, setup
from helpers.data import load
from helpers.exercises import ch01_training_loop as ex
from helpers.models import count_parameters, mlp
from helpers.plots import plot_confusion_matrix, use_style
from helpers.train import evaluate, fit, predict

DEVICE = setup(SEED)
use_style()
torch.set_num_threads(1)  # tiny models and batches: a second thread costs more than it saves

# %% [markdown]
# ## 1. Data: examples of inputs with known outputs
#
# Training needs examples where we know the right answer. We start with the
# smallest possible problem: one input $x$, one output $y$, and a hidden rule
# $y = 3x - 1$ blurred by noise. The model will never see the rule, only the
# examples. We keep a quarter of them aside as a **validation set**: the
# model does not learn from them, so they tell us how it does on data it has
# not seen.

# %%
generator = torch.Generator().manual_seed(SEED)
n_points = 200
x = torch.rand(n_points, 1, generator=generator) * 4 - 2  # inputs in [-2, 2)
noise = 0.5 * torch.randn(n_points, 1, generator=generator)
y = 3 * x - 1 + noise

n_train = 150
x_train, y_train = x[:n_train], y[:n_train]
x_val, y_val = x[n_train:], y[n_train:]
print(f"{len(x_train)} training and {len(x_val)} validation examples")

# %% [markdown]
# ## 2. A model with random parameters
#
# Our model is a line, $\hat y = w x + b$, with two **parameters**, the
# weight $w$ and the bias $b$. Training starts from random values: the model
# knows nothing yet. `requires_grad=True` asks PyTorch to record every
# operation on them so it can later compute gradients.

# %%
w = torch.randn(1, generator=generator).requires_grad_()
b = torch.zeros(1, requires_grad=True)


def predict_line(x):
    """The model: one prediction (n, 1) per input (n, 1)."""
    return w * x + b


print(f"starting parameters: w = {w.item():.3f}, b = {b.item():.3f}")

# %% [markdown]
# ## 3. Measure the error: mean squared error
#
# A **loss** turns "how wrong are the predictions" into one number. For
# regression the usual choice is the mean squared error,
#
# $$
# L(w, b) = \frac{1}{n} \sum_{i=1}^{n} \left(\hat y_i - y_i\right)^2 ,
# $$
#
# which punishes large errors much more than small ones. Written by hand it is
# one line; PyTorch's `F.mse_loss` computes the same thing.

# %%
def mse(predictions, targets):
    return ((predictions - targets) ** 2).mean()


start_loss = mse(predict_line(x_train), y_train)
assert torch.allclose(start_loss, F.mse_loss(predict_line(x_train), y_train))
glue("line_start_loss", start_loss.item(), fmt=".2f")
print(f"loss of the random line: {start_loss.item():.2f}")

# %% [markdown]
# The random line has a training loss of {glue:text}`line_start_loss`.
#
# ## 4. Gradients, and a step downhill
#
# The **gradient** $\nabla L = (\partial L/\partial w, \partial L/\partial b)$
# points in the direction in which the loss grows fastest. For the MSE of a
# line, calculus gives
#
# $$
# \frac{\partial L}{\partial w} = \frac{2}{n}\sum_i (\hat y_i - y_i)\,x_i ,
# \qquad
# \frac{\partial L}{\partial b} = \frac{2}{n}\sum_i (\hat y_i - y_i).
# $$
#
# We never have to derive these by hand: `loss.backward()` applies the chain
# rule backwards through the recorded operations (**backpropagation**,
# {cite}`rumelhart1986learning`) and stores the results in `w.grad` and `b.grad`.
# Let us check that autograd agrees with the formulas.

# %%
loss = mse(predict_line(x_train), y_train)
loss.backward()
with torch.no_grad():
    error = predict_line(x_train) - y_train
    grad_w_by_hand = 2 * (error * x_train).mean()
    grad_b_by_hand = 2 * error.mean()
print(f"dL/dw: autograd {w.grad.item():.4f}, by hand {grad_w_by_hand.item():.4f}")
print(f"dL/db: autograd {b.grad.item():.4f}, by hand {grad_b_by_hand.item():.4f}")
assert torch.allclose(w.grad, grad_w_by_hand) and torch.allclose(b.grad, grad_b_by_hand)

# %% [markdown]
# **Gradient descent** {cite}`cauchy1847methode` moves each parameter a small
# step against its gradient,
#
# $$
# w \leftarrow w - \eta \,\frac{\partial L}{\partial w}, \qquad
# b \leftarrow b - \eta \,\frac{\partial L}{\partial b},
# $$
#
# where the **learning rate** $\eta$ sets the step size. Then we forget the
# old gradients and do it again. That is the whole training loop:

# %%
learning_rate = 0.1
n_steps = 60
w.grad = None
b.grad = None
snapshots, line_history = {}, []
for step in range(n_steps + 1):
    loss = mse(predict_line(x_train), y_train)  # 1. predict and measure the error
    with torch.no_grad():
        val_loss = mse(predict_line(x_val), y_val)
    line_history.append((step, loss.item(), val_loss.item()))
    if step in (0, 2, 5, 20, n_steps):
        snapshots[step] = (w.item(), b.item())
    if step == n_steps:
        break
    loss.backward()  # 2. gradients of the loss
    with torch.no_grad():  # 3. one step downhill (not itself recorded for autograd)
        w -= learning_rate * w.grad
        b -= learning_rate * b.grad
    w.grad = None  # 4. forget these gradients before the next step
    b.grad = None

line_history = pd.DataFrame(line_history, columns=["step", "train_loss", "val_loss"]).set_index("step")
final_w, final_b = w.item(), b.item()
glue("line_final_w", final_w, fmt=".2f")
glue("line_final_b", final_b, fmt=".2f")
glue("line_final_val_loss", line_history["val_loss"].iloc[-1], fmt=".3f")
glue("line_steps", n_steps)
print(f"after {n_steps} steps: w = {final_w:.2f}, b = {final_b:.2f}, "
      f"validation MSE {line_history['val_loss'].iloc[-1]:.3f}")

# %% mystnb={"image": {"alt": "Left: the data points with the fitted line at steps 0, 2, 5, 20 and 60, moving from a random slope onto the data. Right: training and validation loss falling quickly during the first steps, then levelling off."}}
fig, (ax_line, ax_loss) = plt.subplots(1, 2, figsize=(9, 3.4))
ax_line.scatter(x_train, y_train, s=8, color="grey", alpha=0.6, label="training data")
grid = torch.linspace(-2, 2, 50)
for step, (w_s, b_s) in snapshots.items():
    ax_line.plot(grid, w_s * grid + b_s, label=f"step {step}", alpha=0.5 + 0.5 * step / n_steps)
ax_line.set_xlabel("x")
ax_line.set_ylabel("y")
ax_line.legend(fontsize=7)
ax_line.set_title("the line as it learns")
ax_loss.plot(line_history.index, line_history["train_loss"], label="train")
ax_loss.plot(line_history.index, line_history["val_loss"], label="validation")
ax_loss.set_yscale("log")
ax_loss.set_xlabel("gradient descent step")
ax_loss.set_ylabel("MSE (log scale)")
ax_loss.legend()
ax_loss.set_title("loss per step")
fig.tight_layout()
plt.show()

# %% [markdown]
# After {glue:text}`line_steps` steps the line is
# $\hat y = $ {glue:text}`line_final_w` $x$ + ({glue:text}`line_final_b`),
# close to the hidden rule $3x - 1$, and its validation loss is
# {glue:text}`line_final_val_loss`. It cannot reach zero: the noise we added
# has variance $0.5^2 = 0.25$, and no line can predict noise. **A trained model
# is not perfect**; the best it can do is the error the data itself carries.

# %% tags=["nbval-check-output"]
print(f"learned w = {final_w:.2f}, b = {final_b:.2f} (true rule: w = 3, b = -1)")
assert abs(final_w - 3) < 0.3 and abs(final_b + 1) < 0.3, "gradient descent should recover the rule"
assert line_history["val_loss"].iloc[-1] < 0.5, "the validation loss should approach the noise level (0.25)"

# %% [markdown]
# ### The same answer in closed form
#
# For this one problem we did not need a loop at all. The MSE of a line is a
# quadratic function of $(w, b)$, so its minimum is where both derivatives of
# Section 4 are zero. Put the inputs in a matrix $A$ whose rows are
# $(x_i, 1)$; then $\hat y = A\,(w, b)^\top$ and setting the gradient to zero
# gives the **normal equations** of least squares {cite}`goodfellow2016deep`,
#
# $$
# A^\top A \begin{pmatrix} w \\ b \end{pmatrix} = A^\top y ,
# $$
#
# two linear equations in two unknowns. `torch.linalg.lstsq` solves them
# (in a numerically careful way). Does gradient descent land on the same line?

# %% tags=["nbval-check-output"]
design = torch.cat([x_train, torch.ones_like(x_train)], dim=1)  # the rows (x_i, 1): columns for w and for b
closed_form = torch.linalg.lstsq(design, y_train).solution  # (2, 1): w and b
ls_w, ls_b = closed_form[:, 0].tolist()
closed_form_table = pd.DataFrame({
    "w": [final_w, ls_w],
    "b": [final_b, ls_b],
    "training MSE": [line_history["train_loss"].iloc[-1], mse(design @ closed_form, y_train).item()],
    "validation MSE": [line_history["val_loss"].iloc[-1],
                       mse(torch.cat([x_val, torch.ones_like(x_val)], dim=1) @ closed_form, y_val).item()],
}, index=[f"gradient descent, {n_steps} steps", "closed form (least squares)"])
print(closed_form_table.round(4).to_string())
gap_to_closed_form = max(abs(final_w - ls_w), abs(final_b - ls_b))
glue("ls_w", ls_w, fmt=".3f")
glue("ls_b", ls_b, fmt=".3f")
glue("gap_to_closed_form", f"{gap_to_closed_form:.0e}")
print(f"largest difference between the two answers: {gap_to_closed_form:.0e}")
# Each step shrinks the distance to the minimum by a factor |1 - lr * curvature| <= 0.81 here (computed below),
# so after 60 steps it is about 0.81**60 * 3 < 1e-5: 1e-3 leaves room for float32 rounding.
assert gap_to_closed_form < 1e-3, "gradient descent should converge to the least-squares line"

# %% [markdown]
# Gradient descent reached the least-squares line $w =$ {glue:text}`ls_w`,
# $b =$ {glue:text}`ls_b` to within {glue:text}`gap_to_closed_form`.
# So why loop at all? Because a closed form exists only in special cases: a
# model *linear in its parameters* with a *squared* error. Change the loss to
# cross-entropy, or put a hidden layer with a nonlinearity in the model, and
# setting the gradient to zero no longer gives equations we can solve
# directly {cite}`goodfellow2016deep`. Gradient descent only needs the
# gradient, which autograd gives for any model; that is why the rest of the
# course uses it. Least squares stays useful as a check, and as a baseline.
#
# The matrix $A^\top A$ also tells us how large a step may be. The loss's
# curvature is its matrix of second derivatives, $H = \tfrac{2}{n} A^\top A$;
# along the direction of its largest eigenvalue $\lambda_{\max}$ one step
# multiplies the distance to the minimum by $|1 - \eta\,\lambda_{\max}|$,
# which is larger than 1, so the steps overshoot more and more, once
# $\eta > 2 / \lambda_{\max}$ {cite}`goodfellow2016deep`.

# %%
curvature = torch.linalg.eigvalsh(2 * design.T @ design / len(design))  # ascending
lr_limit = 2 / curvature[-1].item()
glue("lr_limit", lr_limit, fmt=".2f")
print(f"eigenvalues of the curvature: {curvature[0]:.2f} and {curvature[-1]:.2f}; "
      f"gradient descent diverges for learning rates above 2 / {curvature[-1]:.2f} = {lr_limit:.2f}")

# %% [markdown]
# ### Training is not automatic: the learning rate matters
#
# The same loop with a different learning rate behaves very differently. Too
# small, and it crawls; above {glue:text}`lr_limit` every step overshoots the
# minimum by more than it corrects, so the loss *grows*. Here is the training
# loss after {glue:text}`line_steps` steps for five learning rates, each from
# five random starting values of $w$ (mean and standard deviation over the
# starts):

# %%
def gradient_descent_on_line(lr, steps, x, y, seed=SEED):
    """Final MSE of a line trained by gradient descent from a seeded random start."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(1, generator=g).requires_grad_()
    b = torch.zeros(1, requires_grad=True)
    for _ in range(steps):
        loss = mse(w * x + b, y)
        w_grad, b_grad = torch.autograd.grad(loss, (w, b))
        with torch.no_grad():
            w -= lr * w_grad
            b -= lr * b_grad
    return mse(w * x + b, y).item()


LINE_LEARNING_RATES = (0.001, 0.01, 0.1, 0.3, 1.0)
START_SEEDS = [100 * SEED + i for i in range(5)]
lr_runs = pd.DataFrame([
    {"learning rate": lr, "start": s, "mse": gradient_descent_on_line(lr, n_steps, x_train, y_train, seed=s)}
    for lr in LINE_LEARNING_RATES for s in START_SEEDS
])
lr_table = lr_runs.groupby("learning rate")["mse"].agg(["mean", "std"])
lr_table.columns = ["final training MSE, mean", "sd over 5 starts"]
print(lr_table.map(lambda v: f"{v:.4g}").to_string())

# %%
too_small, good, too_large = (lr_table.loc[lr, "final training MSE, mean"] for lr in (0.001, 0.1, 1.0))
glue("lr_small_loss", too_small, fmt=".2f")
glue("lr_good_loss", good, fmt=".3f")
glue("lr_large_loss", f"{too_large:.1e}")
print(f"learning rate 0.001: {too_small:.2f}; 0.1: {good:.3f}; 1.0: {too_large:.1e} "
      f"(least squares: {closed_form_table['training MSE'].iloc[1]:.3f})")
# At 0.1 every start ends at the minimum (sd ~1e-8); at 0.001 the loss still depends on the start (sd of the same
# order as the mean) but even a start at the right slope keeps b's error, so the mean stays several times above.
assert too_small > 5 * good, "a tiny learning rate should still be far from the minimum"
assert lr_runs.query("`learning rate` == 1.0")["mse"].min() > 100 * good, "above the limit the loss should blow up"
assert 0.3 < lr_limit < 1.0

# %% [markdown]
# With $\eta = 0.001$ the loss is still {glue:text}`lr_small_loss`; with
# $\eta = 0.1$ it reaches {glue:text}`lr_good_loss`, the least-squares
# minimum; with $\eta = 1$, above the limit, it has exploded to
# {glue:text}`lr_large_loss`. At the two good rates every start ends at the
# same loss (a standard deviation of about zero); at the crawling rate the
# loss after 60 steps still depends on where it started, because it has
# hardly moved from there. Finding a learning rate that works is part of the job; Chapters
# 5 and 7 are about doing it well.
#
# ## 5. The same loop on real data: handwritten digits
#
# Now a real task: recognise the digit in an 8×8 grey image
# {cite}`alpaydin1998digits`. `helpers.data.load` gives reproducible
# train / validation / test splits; we standardise each pixel with statistics
# of the training split only (Chapter 2 explains why).

# %%
digits = load("digits", seed=SEED).standardized()
print(digits.summary())
X_train, y_train_digits = digits.tensors("train", DEVICE)
X_val, y_val_digits = digits.tensors("val", DEVICE)

# %% [markdown]
# ### The simplest classifier: linear scores and a softmax
#
# The line had one output. A classifier of ten digits needs ten: one score
# (**logit**) per class, each a weighted sum of the 64 pixels plus a bias,
# $z = W x + b$ with $W$ of shape $10 \times 64$. The **softmax** turns the
# scores into probabilities,
# $p_k = e^{z_k} / \sum_j e^{z_j}$: positive, summing to 1, largest for the
# largest score. This is the **linear softmax classifier** (multinomial
# logistic regression); in PyTorch it is one `nn.Linear(64, 10)` layer, which
# `mlp(64, [], 10)` builds (no hidden layers).
#
# ### Classification needs a different loss: cross-entropy
#
# The **cross-entropy** loss is the average of $-\log p_{y}$, the surprise at
# the true class $y$:
#
# $$
# L = -\frac{1}{n} \sum_{i=1}^{n} \log \frac{e^{z_{i, y_i}}}{\sum_j e^{z_{i,j}}}
#   = \frac{1}{n} \sum_{i=1}^{n} \Big( \log \sum_j e^{z_{i,j}} - z_{i, y_i} \Big).
# $$
#
# A confident right answer costs almost nothing; a confident wrong answer costs
# a lot. Written with `logsumexp` (which never overflows) it matches PyTorch's
# `F.cross_entropy`:

# %%
def cross_entropy(logits, labels):
    """Mean cross-entropy of logits (n, classes) against integer labels (n,)."""
    true_class_logit = logits[torch.arange(len(labels)), labels]
    return (torch.logsumexp(logits, dim=1) - true_class_logit).mean()


example_logits = torch.randn(5, 10, generator=generator)
example_labels = torch.tensor([0, 3, 9, 1, 1])
print(f"ours: {cross_entropy(example_logits, example_labels):.6f}, "
      f"PyTorch: {F.cross_entropy(example_logits, example_labels):.6f}")
assert torch.allclose(cross_entropy(example_logits, example_labels), F.cross_entropy(example_logits, example_labels))

# %% [markdown]
# ### A check before training: the loss at initialisation
#
# Before training, what loss should we expect? A model that knows nothing
# should give each of the 10 classes about the same probability, $1/10$, so
# its cross-entropy should be about $-\log(1/10) = \ln 10 \approx 2.303$. If
# all logits are exactly equal it is exactly that. PyTorch's default
# initialisation gives small random weights, so the logits are close to each
# other and the loss should be a little above $\ln 10$. A starting loss far
# from it points to a problem before any training happens: labels that do
# not match the outputs, inputs far from standardised, or weights
# initialised far too large. We check it on five random
# initialisations of the linear model and of the network of Section 6, and
# on the network with every weight drawn from a normal distribution of
# standard deviation 1 (`torch.randn`), a common mistake: PyTorch draws the
# weights of a layer with $m$ inputs with a standard deviation of about
# $1/\sqrt{3m}$, 0.07 for the 64 pixels.

# %% tags=["nbval-check-output"]
INIT_SEEDS = [100 * SEED + i for i in range(5)]


def loss_at_initialisation(hidden, seed, weights_std=None):
    """Training loss of a fresh model; ``weights_std`` replaces PyTorch's initial weight matrices by N(0, std^2)."""
    torch.manual_seed(seed)
    model = mlp(digits.n_features, hidden, digits.n_classes).to(DEVICE)
    with torch.no_grad():
        for weights in (p for p in model.parameters() if p.ndim == 2 and weights_std is not None):
            nn.init.normal_(weights, std=weights_std)
        return cross_entropy(model(X_train), y_train_digits).item()


init_losses = pd.DataFrame({
    "linear softmax": [loss_at_initialisation([], s) for s in INIT_SEEDS],
    "network, 32 hidden units": [loss_at_initialisation([32], s) for s in INIT_SEEDS],
    "network, weights with sd 1 (a bug)": [loss_at_initialisation([32], s, weights_std=1.0) for s in INIT_SEEDS],
}, index=pd.Index(INIT_SEEDS, name="seed"))
init_summary = init_losses.agg(["mean", "std"]).T.round(3)
init_summary.columns = ["loss at initialisation, mean", "sd over 5 seeds"]
all_equal_logits = cross_entropy(torch.zeros(len(y_train_digits), 10, device=DEVICE), y_train_digits).item()
print(f"all logits equal: {all_equal_logits:.3f} = ln 10 = {np.log(10):.3f}")
print(init_summary.to_string())
for column in init_summary.index:
    glue("init_loss_" + {"linear softmax": "linear", "network, 32 hidden units": "mlp"}.get(column, "bug"),
         float(init_summary.loc[column, "loss at initialisation, mean"]), fmt=".2f")
# Over 25 seeds (5 data splits) the default initialisations started between 2.23 and 2.65 (sd about 0.1 for
# the linear model, 0.04 for the network; means at most 0.2 above ln 10): margins of 0.5 per seed and 0.3 for
# the mean. With the bug every one of those seeds started between 34 and 64, far above 5 x ln 10.
assert abs(all_equal_logits - np.log(10)) < 1e-5
default_inits = init_losses[["linear softmax", "network, 32 hidden units"]] - np.log(10)
assert default_inits.abs().max().max() < 0.5 and default_inits.mean().abs().max() < 0.3
assert init_losses["network, weights with sd 1 (a bug)"].min() > 5 * np.log(10)

# %% [markdown]
# Both models start at {glue:text}`init_loss_linear` and
# {glue:text}`init_loss_mlp`, a little above $\ln 10$ as expected. The
# "bug" starts at {glue:text}`init_loss_bug`: its logits are so large that
# the network is confidently wrong, on most images, before it has seen a
# single label. One look at the first loss catches it.
#
# ### Why we minimise the loss, not the accuracy
#
# What we care about is accuracy, the fraction of digits classified
# correctly. Why not minimise the error rate directly? Because gradient
# descent needs a gradient, and accuracy has none worth following: it only
# changes when a prediction flips from one class to another, so a small
# change of the weights leaves it exactly where it was, and its derivative
# is zero almost everywhere. The cross-entropy changes with every weight,
# rewards a correct answer for becoming more confident and a wrong one for
# becoming less wrong, and so tells each step which way is downhill.
# Here are both, for an untrained linear model, as we move its weights a
# little along a random direction:

# %% tags=["nbval-check-output"]
torch.manual_seed(SEED)
probe_model = mlp(digits.n_features, [], digits.n_classes).to(DEVICE)
direction = torch.randn_like(probe_model[0].weight)
rows = []
with torch.no_grad():
    for step_size in (0.0, 1e-4, 1e-3, 1e-2):
        probe_model[0].weight.add_(step_size * direction)
        logits = probe_model(X_val)
        rows.append({"step along a random direction": step_size,
                     "validation accuracy": (logits.argmax(dim=1) == y_val_digits).float().mean().item(),
                     "validation cross-entropy": cross_entropy(logits, y_val_digits).item()})
        probe_model[0].weight.sub_(step_size * direction)
flat_table = pd.DataFrame(rows).set_index("step along a random direction")
print(flat_table.round(5).to_string())
accuracy = (probe_model(X_val).argmax(dim=1) == y_val_digits).float().mean()
print(f"does the accuracy have a gradient? requires_grad = {accuracy.requires_grad}")
assert flat_table["validation accuracy"].iloc[1] == flat_table["validation accuracy"].iloc[0]
assert flat_table["validation cross-entropy"].iloc[1] != flat_table["validation cross-entropy"].iloc[0]
assert not accuracy.requires_grad

# %% [markdown]
# A step of $10^{-4}$ changes the loss and leaves the accuracy exactly as it
# was; and `argmax` is not differentiable, so autograd does not even record
# the accuracy. We train on the loss and *report* the accuracy.
#
# ### Mini-batches: the loop on the digits
#
# Computing the gradient on all training images for every step is wasteful.
# **Mini-batch gradient descent** estimates it from a small random batch
# (here 64 images), takes a step, and moves on; one pass over the shuffled
# training set is an **epoch**. We write the loop once, as a function, and
# record two training losses per epoch: the mean of the batch losses
# computed *during* the epoch (free: we computed them anyway), and the loss
# on the whole training set *after* the epoch (one extra pass). Section 8
# shows why both matter.

# %%
EPOCHS = max(2, round(15 * BUDGET))
BATCH_SIZE = 64


def new_model(hidden, seed):
    torch.manual_seed(seed)  # the same random starting weights every time we ask
    return mlp(digits.n_features, hidden, digits.n_classes)


def train_by_hand(model, learning_rate, seed, X, y, X_check, y_check, epochs=EPOCHS):
    """Mini-batch SGD on cross-entropy; returns a DataFrame with one row per epoch."""
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    torch.manual_seed(seed)  # fixes the order in which batches are drawn
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(X), device=X.device)  # shuffle once per epoch
        batch_losses = []
        for first in range(0, len(X), BATCH_SIZE):
            batch = order[first : first + BATCH_SIZE]
            loss = cross_entropy(model(X[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()  # w <- w - lr * grad, for every weight of the model
            batch_losses.append(loss.item() * len(batch))
        model.eval()
        with torch.no_grad():
            check_logits = model(X_check)
            history.append({
                "epoch": epoch,
                "train loss, mean of batches": sum(batch_losses) / len(X),
                "train loss after the epoch": cross_entropy(model(X), y).item(),
                "val loss": cross_entropy(check_logits, y_check).item(),
                "val accuracy": (check_logits.argmax(dim=1) == y_check).float().mean().item(),
            })
    return pd.DataFrame(history).set_index("epoch")


linear_model = new_model([], SEED).to(DEVICE)
linear_history = train_by_hand(linear_model, 0.1, SEED, X_train, y_train_digits, X_val, y_val_digits)
print(f"linear softmax: {count_parameters(linear_model)} parameters, {EPOCHS} epochs of batches of {BATCH_SIZE}, "
      f"learning rate 0.1")
print(linear_history.round(4).tail(3).to_string())

# %% mystnb={"image": {"alt": "Learning curves of the hand-written loop training the linear softmax classifier on digits: training and validation loss fall together over the epochs while validation accuracy climbs above 90 percent."}}
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.2))
ax_loss.plot(linear_history.index, linear_history["train loss after the epoch"], label="train")
ax_loss.plot(linear_history.index, linear_history["val loss"], label="validation")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("cross-entropy")
ax_loss.legend()
ax_acc.plot(linear_history.index, linear_history["val accuracy"], color="tab:orange")
ax_acc.set_xlabel("epoch")
ax_acc.set_ylabel("validation accuracy")
fig.suptitle("the hand-written loop training a linear softmax classifier")
fig.tight_layout()
plt.show()

# %%
linear_val_accuracy = linear_history["val accuracy"].iloc[-1]
glue("linear_val_accuracy", linear_val_accuracy, fmt=".1%")
glue("digits_epochs", EPOCHS)
glue("linear_parameters", count_parameters(linear_model))
print(f"{count_parameters(linear_model)} parameters, {EPOCHS} epochs: validation accuracy {linear_val_accuracy:.1%}")
assert linear_val_accuracy > 0.85, "a linear softmax model should recognise most digits after a few epochs"

# %% [markdown]
# From random weights, the {glue:text}`linear_parameters` parameters of the
# linear model reach {glue:text}`linear_val_accuracy` validation accuracy
# after {glue:text}`digits_epochs` epochs; the training and validation losses
# fall together.
#
# ## 6. Hidden layers: a small neural network
#
# A linear model draws straight boundaries between classes in pixel space.
# A **hidden layer** first computes new features, $h = \mathrm{ReLU}(W_1 x +
# b_1)$ with $\mathrm{ReLU}(a) = \max(a, 0)$, and the linear softmax layer
# then scores the classes from $h$ instead of from the pixels. Without the
# nonlinearity the two layers would collapse into one linear map; with it,
# the network can draw curved boundaries. `mlp(64, [32], 10)` is 64 inputs
# → 32 hidden units (ReLU) → 10 logits, trained by the same function, the
# same loss and the same optimizer: only the model changes.

# %%
network = new_model([32], SEED).to(DEVICE)
network_history = train_by_hand(network, 0.1, SEED, X_train, y_train_digits, X_val, y_val_digits)
glue("network_parameters", count_parameters(network))
print(f"network: {count_parameters(network)} parameters; validation accuracy after {EPOCHS} epochs "
      f"{network_history['val accuracy'].iloc[-1]:.1%} (linear model: {linear_val_accuracy:.1%})")

# %% [markdown]
# The network has {glue:text}`network_parameters` parameters. Is it better
# than the linear model? One run each, at one learning rate we picked for
# neither, cannot say: the difference could be luck of the initialisation or
# a learning rate that suits one model more than the other.
#
# ## 7. A fair comparison: tuned, over seeds, against a baseline
#
# To compare the two models fairly, each gets its **own learning rate**,
# chosen on the validation set from a grid (widened if the best value is on
# its edge), and each configuration is trained from five random
# initialisations (seeds), reported as mean ± standard deviation. We choose
# by the mean **validation loss**: it is smooth, where the accuracy on 360
# validation images moves in steps of 0.28%. A **dummy classifier** that
# always answers the most frequent training digit shows what no learning at
# all scores. The test set stays untouched.

# %% tags=["nbval-check-output"]
MODELS = {"linear softmax": [], "network, 32 hidden units": [32]}
GRID = [0.03, 0.1, 0.3, 1.0]  # learning rates: the starting grid, the same for both models
SEEDS = [100 * SEED + i for i in range(5)]
runs, trained = [], {}
for name, hidden in MODELS.items():
    grid = list(GRID)
    while True:
        for lr in grid:
            if (name, lr, SEEDS[0]) in trained:
                continue
            for seed in SEEDS:
                model = new_model(hidden, seed).to(DEVICE)
                final = train_by_hand(model, lr, seed, X_train, y_train_digits, X_val, y_val_digits).iloc[-1]
                trained[name, lr, seed] = model
                runs.append({"model": name, "learning rate": lr, "seed": seed,
                             "val loss": final["val loss"], "val accuracy": final["val accuracy"]})
        mean_loss = pd.DataFrame(runs).query("model == @name").groupby("learning rate")["val loss"].mean()
        best = mean_loss.idxmin()
        if best == min(grid) and len(grid) < 8:
            grid = [best / 3] + grid  # the best value is on the edge: widen the grid that way
        elif best == max(grid) and len(grid) < 8:
            grid = grid + [best * 3]
        else:
            break
runs = pd.DataFrame(runs)
grid_table = runs.groupby(["model", "learning rate"])[["val loss", "val accuracy"]].agg(["mean", "std"])
print(grid_table.map(lambda v: f"{v:.4f}" if abs(v) < 100 else "diverged").to_string())  # NaN or huge: diverged

# %%
chosen_lr = {name: runs.query("model == @name").groupby("learning rate")["val loss"].mean().idxmin()
             for name in MODELS}
dummy = DummyClassifier(strategy="most_frequent").fit(digits.train.X, digits.train.y)
dummy_val_accuracy = dummy.score(digits.val.X, digits.val.y)
comparison = {"dummy (most frequent digit)": (dummy_val_accuracy, 0.0)}
for name in MODELS:
    at_best = runs.query("model == @name and `learning rate` == @chosen_lr[@name]")["val accuracy"]
    comparison[f"{name}, learning rate {chosen_lr[name]:g}"] = (at_best.mean(), at_best.std())
comparison = pd.DataFrame(comparison, index=["val accuracy, mean", "sd over 5 seeds"]).T
print(comparison.round(4).to_string())
on_edge = [name for name in MODELS
           if chosen_lr[name] in (runs.query("model == @name")["learning rate"].min(),
                                  runs.query("model == @name")["learning rate"].max())]
print("chosen learning rates on the edge of their grid:", on_edge or "none")

(linear_mean, linear_sd), (network_mean, network_sd) = comparison.iloc[1].tolist(), comparison.iloc[2].tolist()
difference = network_mean - linear_mean
spread = max(linear_sd, network_sd)
if abs(difference) <= 2 * spread:
    verdict = "within twice the seed spread: this experiment does not show that the hidden layer helps"
else:
    verdict = (f"larger than twice the seed spread: here the hidden layer "
               f"{'helps' if difference > 0 else 'hurts'}")
glue("dummy_val_accuracy", dummy_val_accuracy, fmt=".1%")
glue("linear_lr", f"{chosen_lr['linear softmax']:g}")
glue("network_lr", f"{chosen_lr['network, 32 hidden units']:g}")
glue("linear_val_mean", linear_mean, fmt=".1%")
glue("linear_val_sd", linear_sd, fmt=".1%")
glue("network_val_mean", network_mean, fmt=".1%")
glue("network_val_sd", network_sd, fmt=".1%")
glue("network_minus_linear", difference, fmt="+.1%")
glue("comparison_verdict", verdict)
print(f"network - linear: {difference:+.1%} (largest sd {spread:.1%}): {verdict}")
assert not on_edge, "every chosen learning rate lies inside its grid"
# Both models are tens of sd (sd <= 1 point over seeds) above the dummy's ~10%.
assert min(linear_mean, network_mean) > dummy_val_accuracy + 0.7

# %% [markdown]
# The validation accuracies, mean ± sd over five seeds: dummy
# {glue:text}`dummy_val_accuracy`; linear softmax at its best learning rate
# ({glue:text}`linear_lr`) {glue:text}`linear_val_mean` ±
# {glue:text}`linear_val_sd`; the network at its own
# ({glue:text}`network_lr`) {glue:text}`network_val_mean` ±
# {glue:text}`network_val_sd`. Both learn what the dummy cannot. The
# network's difference, {glue:text}`network_minus_linear`, is
# {glue:text}`comparison_verdict`, on 8×8 digits with this budget of epochs.
# A linear model is already strong on these small, centred images; on
# harder inputs hidden layers pay off, as on MNIST-1D, where logistic
# regression reaches 32% and an MLP 68% {cite}`greydanus2020mnist1d`
# (Chapter 3 compares models there).
#
# ## 8. The same, with `helpers.train.fit`
#
# Every later chapter trains with `helpers.train.fit`. One epoch of `fit`
# runs the loop of `train_by_hand` and adds what you would otherwise write
# again each time: validation after every epoch, a `History` of losses,
# metrics and seconds, callbacks such as early stopping, learning-rate
# schedules, mixed precision on a GPU, a progress bar, and a clear message
# when training diverges. Open `helpers/train.py` to read it.
#
# To show that nothing is hidden, we train the network (at its tuned
# learning rate) from the same starting weights, with the same loss, the
# same optimizer and the same shuffling, once by hand and once with `fit`,
# and compare. The loss is our own `cross_entropy`: `fit` accepts any
# function of outputs and labels. "The same optimizer" has to be said:
# without `optimizer=`, `fit` uses Adam (Chapter 5). And "the same
# arithmetic": on a GPU, `fit` computes in 16-bit floats by default (mixed
# precision), and GPU kernels may add numbers in another order, so the
# weights would no longer agree to the last digit. We therefore run this
# comparison on the CPU in 32-bit floats, whatever device the rest of the
# chapter used, and pass `mixed_precision=False` to say so.

# %% tags=["nbval-check-output"]
COMPARE_ON = torch.device("cpu")  # exact agreement is only expected with the same kernels in float32
compare_data = [t.to(COMPARE_ON) for t in (X_train, y_train_digits, X_val, y_val_digits)]
network_lr = chosen_lr["network, 32 hidden units"]
model_by_hand = new_model([32], SEED)
by_hand = train_by_hand(model_by_hand, network_lr, SEED, *compare_data)
model_fit = new_model([32], SEED)
torch.manual_seed(SEED)  # the same batch order as train_by_hand
history = fit(
    model_fit,
    (compare_data[0], compare_data[1]),
    (compare_data[2], compare_data[3]),
    loss_fn=cross_entropy,  # our own loss: fit takes any function of (outputs, labels)
    optimizer=torch.optim.SGD(model_fit.parameters(), lr=network_lr),  # the loop's optimizer, not fit's default
    epochs=EPOCHS,
    batch_size=BATCH_SIZE,
    device=COMPARE_ON,
    mixed_precision=False,  # float32, as the hand-written loop computes
    restore_best=False,  # keep the last epoch's weights, as the hand-written loop does
)
biggest_weight_difference = max(
    (p_hand - p_fit).abs().max().item() for p_hand, p_fit in zip(model_by_hand.parameters(), model_fit.parameters())
)
side_by_side = pd.DataFrame({
    "loop: mean of batches": by_hand["train loss, mean of batches"],
    "fit: train_loss": history.train_loss,
    "loop: after the epoch": by_hand["train loss after the epoch"],
    "loop: val loss": by_hand["val loss"],
    "fit: val_loss": history.val_loss,
}, index=by_hand.index)
print(side_by_side.round(4).tail(3).to_string())
fit_val_accuracy = history.last("val_metric")
print(f"validation accuracy: hand-written loop {by_hand['val accuracy'].iloc[-1]:.4f}, fit {fit_val_accuracy:.4f}")
print(f"largest difference between the two models' weights: {biggest_weight_difference:.1e}")
# The same operations in the same order on the CPU: identical weights (0 at every seed we ran); the train losses
# differ by float rounding only, because fit averages the batch losses as a tensor and the loop in Python.
assert biggest_weight_difference < 1e-6 and abs(fit_val_accuracy - by_hand["val accuracy"].iloc[-1]) < 1e-6
assert np.allclose(history.train_loss, by_hand["train loss, mean of batches"], atol=1e-4)
assert np.allclose(history.val_loss, by_hand["val loss"], atol=1e-4)

# %% mystnb={"image": {"alt": "Learning curves drawn by History.plot: loss and accuracy per epoch for training and validation, the same curves as the hand-written loop."}}
history.plot(title="the same training, run by helpers.train.fit")
plt.show()

# %%
glue("fit_val_accuracy", fit_val_accuracy, fmt=".1%")
glue("fit_seconds", history.total_seconds, fmt=".2f")
glue("fit_weight_difference", f"{biggest_weight_difference:.0e}" if biggest_weight_difference else "0")
after_minus_during = (by_hand["train loss after the epoch"] - by_hand["train loss, mean of batches"]).iloc[1:]
print(f"validation accuracy with fit: {fit_val_accuracy:.1%}; fit took {history.total_seconds:.2f} s; "
      f"train loss after the epoch minus mean of batches, epochs 2 on: mean {after_minus_during.mean():+.4f}")
assert after_minus_during.mean() < 0, "while the loss falls, the weights after an epoch beat its average batch"

# %% [markdown]
# The two runs end with weights that differ by at most
# {glue:text}`fit_weight_difference` and with the same validation
# accuracy, {glue:text}`fit_val_accuracy`; `fit` took
# {glue:text}`fit_seconds` s here. Their validation losses agree epoch by
# epoch, and so do their training losses **once we compare the same
# measurement**: `fit`'s `train_loss` is the mean of the batch losses
# computed *during* the epoch, exactly our first column, not the loss on the
# whole training set *after* it. The two measurements differ: during the
# epoch the early batches were scored by weights that were still worse, so
# the mean of the batches is usually a little higher than the loss after the
# epoch (the last printed number is the mean of their difference). `fit`
# reports the cheaper one, which costs no extra pass over the data.
#
# ## 9. Evaluate once, on the test set
#
# We looked at the validation set after every epoch and used it to choose a
# learning rate for each model, so it has influenced our choices. The
# **test set** was never looked at. Now we choose one model, the one with
# the lower mean validation loss, and evaluate its five trained copies
# (one per seed) on the test set, once. The dummy classifier is scored
# beside it. (The two models' validation losses, printed below, are close:
# choosing one is a decision we have to make, not evidence that it is
# better.)

# %%
best_loss = {name: runs.query("model == @name and `learning rate` == @chosen_lr[@name]")["val loss"].mean()
             for name in MODELS}
chosen_model = min(best_loss, key=best_loss.get)
X_test, y_test_digits = digits.tensors("test", DEVICE)
test_accuracies = [evaluate(trained[chosen_model, chosen_lr[chosen_model], seed], X_test, y_test_digits,
                            loss_fn=nn.CrossEntropyLoss())["accuracy"] for seed in SEEDS]
final_model = trained[chosen_model, chosen_lr[chosen_model], SEEDS[0]]
test_predictions = predict(final_model, X_test).argmax(dim=1)
n_wrong = int((test_predictions != y_test_digits.cpu()).sum())
dummy_test_accuracy = dummy.score(digits.test.X, digits.test.y)
glue("chosen_model", chosen_model)
glue("test_accuracy", test_accuracies[0], fmt=".1%")
glue("test_accuracy_mean", float(np.mean(test_accuracies)), fmt=".1%")
glue("test_accuracy_sd", float(np.std(test_accuracies, ddof=1)), fmt=".1%")
glue("dummy_test_accuracy", dummy_test_accuracy, fmt=".1%")
glue("n_test", len(y_test_digits))
glue("n_test_wrong", n_wrong)
for name in MODELS:
    at_best = runs.query("model == @name and `learning rate` == @chosen_lr[@name]")["val loss"]
    print(f"{name}, learning rate {chosen_lr[name]:g}: validation loss {at_best.mean():.3f} ± {at_best.std():.3f}")
    glue("val_loss_" + ("linear" if name == "linear softmax" else "network"), float(at_best.mean()), fmt=".3f")
    glue("val_loss_sd_" + ("linear" if name == "linear softmax" else "network"), float(at_best.std()), fmt=".3f")
print(f"chosen: {chosen_model}, learning rate {chosen_lr[chosen_model]:g}")
print(f"test accuracy over 5 seeds: {np.mean(test_accuracies):.1%} ± {np.std(test_accuracies, ddof=1):.1%}; "
      f"dummy {dummy_test_accuracy:.1%}")
print(f"seed {SEEDS[0]}: test accuracy {test_accuracies[0]:.1%}, wrong on {n_wrong} of {len(y_test_digits)} images")

# %% mystnb={"image": {"alt": "Confusion matrix of the chosen digit classifier on the test set: nearly all counts lie on the diagonal, with a few confusions between similar digits."}}
plot_confusion_matrix(y_test_digits, test_predictions, digits.class_names, title="test set: true vs predicted digit")
plt.show()

# %%
# Over seeds the test accuracy varies by about 1 point (sd); 0.85 is more than 5 sd below its mean.
assert min(test_accuracies) > 0.85, "the model should generalise to unseen digits"
assert n_wrong > 0 or len(y_test_digits) < 50, "a model this small is not expected to be perfect"

# %% [markdown]
# The chosen model, the {glue:text}`chosen_model`, is right on
# {glue:text}`test_accuracy_mean` ± {glue:text}`test_accuracy_sd` of the
# {glue:text}`n_test` test images over five seeds (the dummy:
# {glue:text}`dummy_test_accuracy`). The copy trained with the first seed
# scores {glue:text}`test_accuracy` and is wrong on
# {glue:text}`n_test_wrong` images. The confusion matrix above shows *which*
# digits it mixes up (rows: the true digit; columns: the prediction), which
# is where a person would look next: at those images, at their labels, and
# at whether more or better data would help.
#
# ## Exercises
#
# **[Do these exercises on Colab](https://colab.research.google.com/github/ai-training-course/ai-training-course/blob/main/notebooks/exercises/01_training_loop.ipynb)**: the student version, with stubs instead of solutions.
#
# Each exercise has a check: run it after your answer. `ex.q1.hint()` gives a
# hint (`ex.q1.hint(2)` a stronger one) and `ex.q1.solution()` shows a
# solution.
#
# ```{exercise} Predict, then run: the loss at initialisation with three classes
# :label: ch01-ex1
# Iris flowers come in 3 species. A fresh network `mlp(4, [32], 3)`, with
# PyTorch's default random initialisation, is about to be trained on the
# standardised iris measurements with cross-entropy. Before running
# anything, predict its loss on the training set at initialisation: set
# `predicted_initial_loss` to a number, run the check, *then* run the cell
# after it, which measures it for five seeds.
# ```
#
# ```{solution-start} ch01-ex1
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch01-ex1-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
predicted_initial_loss = 1.1  # ln 3: a model that knows nothing gives each of the 3 classes probability 1/3
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch01-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q1.check()

# %%
iris = load("iris", seed=SEED).standardized()
X_iris, y_iris = iris.tensors("train")
iris_losses = []
for seed in INIT_SEEDS:
    torch.manual_seed(seed)
    with torch.no_grad():
        iris_losses.append(F.cross_entropy(mlp(iris.n_features, [32], iris.n_classes)(X_iris), y_iris).item())
print(f"iris, 3 classes: loss at initialisation {np.mean(iris_losses):.3f} ± {np.std(iris_losses, ddof=1):.3f} "
      f"over 5 seeds; ln 3 = {np.log(3):.3f}")
# The seed spread is a few hundredths; 0.2 leaves room for it.
assert abs(np.mean(iris_losses) - np.log(3)) < 0.2

# %% [markdown]
# ```{exercise} Diagnose: a loop that learns nothing
# :label: ch01-ex2
# A colleague wrote the loop below for the linear softmax model. It runs
# without an error, but look at what it prints. Which single bug explains
# it? Set `diagnosis` to one letter:
#
# - `"A"`: the learning rate is so large that the steps overshoot;
# - `"B"`: the images and the labels are shuffled with two different permutations, so each image is trained with a
#   random label;
# - `"C"`: the gradients are never reset, so they add up from step to step;
# - `"D"`: the model is too small to recognise digits.
# ```

# %%
torch.manual_seed(SEED)
colleague_model = mlp(digits.n_features, [], digits.n_classes).to(DEVICE)
colleague_optimizer = torch.optim.SGD(colleague_model.parameters(), lr=0.1)
for epoch in range(1, EPOCHS + 1):
    images = X_train[torch.randperm(len(X_train), device=DEVICE)]
    labels = y_train_digits[torch.randperm(len(X_train), device=DEVICE)]
    for first in range(0, len(images), BATCH_SIZE):
        loss = F.cross_entropy(colleague_model(images[first : first + BATCH_SIZE]), labels[first : first + BATCH_SIZE])
        colleague_optimizer.zero_grad()
        loss.backward()
        colleague_optimizer.step()
    if epoch in (1, EPOCHS):
        with torch.no_grad():
            val_logits = colleague_model(X_val)
            print(f"epoch {epoch}: last batch loss {loss.item():.3f}, validation loss "
                  f"{F.cross_entropy(val_logits, y_val_digits).item():.3f}, validation accuracy "
                  f"{(val_logits.argmax(dim=1) == y_val_digits).float().mean().item():.1%}")

# %% [markdown]
# ```{solution-start} ch01-ex2
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch01-ex2-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
diagnosis = "B"  # losses stay near ln 10 and accuracy near chance: the labels carry no information about the images
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch01-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q2.check()

# %% [markdown]
# ```{exercise} Experiment: a learning rate that reaches least squares in 10 steps
# :label: ch01-ex3
# `x_line, y_line = ex.line_data()` is a noisy line like that of Section 1.
# Starting from $w = 0$, $b = 0$, find a learning rate with which **10
# steps** of full-batch gradient descent on the MSE reach a training MSE
# within 0.1% of the least-squares minimum. Set `line_experiment` to a dict
# `{"learning_rate": ..., "mse": ...}` holding your learning rate and the
# training MSE *your* run reached after 10 steps. The check runs gradient
# descent itself with your learning rate and compares.
# ```
#
# ```{solution-start} ch01-ex3
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch01-ex3-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
x_line, y_line = ex.line_data()
line_design = torch.cat([x_line, torch.ones_like(x_line)], dim=1)
minimum = ((line_design @ torch.linalg.lstsq(line_design, y_line).solution - y_line) ** 2).mean().item()
curvatures = torch.linalg.eigvalsh(2 * line_design.T @ line_design / len(line_design))
learning_rate = 2 / (curvatures[0] + curvatures[-1]).item()  # shrinks the error fastest along both directions


def line_mse_after(lr, steps=10):
    params = torch.zeros(2, 1, requires_grad=True)  # (w, b)
    for _ in range(steps):
        (grad,) = torch.autograd.grad(((line_design @ params - y_line) ** 2).mean(), params)
        with torch.no_grad():
            params -= lr * grad
    return ((line_design @ params - y_line) ** 2).mean().item()


line_experiment = {"learning_rate": learning_rate, "mse": line_mse_after(learning_rate)}
print(f"learning rate {learning_rate:.3f}: MSE {line_experiment['mse']:.5f}, least squares {minimum:.5f}")
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch01-ex3-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q3.check()

# %% [markdown]
# ```{exercise} Implement least squares with the normal equations
# :label: ch01-ex4
# Section 4 solved the normal equations $A^\top A\,\theta = A^\top y$ for a
# line with `torch.linalg.lstsq`. Write `least_squares(X, y)` for any
# number of features: `X` has shape $(n, d)$, `y` shape $(n, 1)$; return a
# tensor of shape $(d + 1,)$ holding the $d$ weights and then the bias,
# the parameters of $\hat y = X w + b$ with the smallest MSE. Build the
# matrix $A$ and solve the normal equations yourself (`torch.linalg.solve`
# is allowed; `lstsq` and `pinv` are not).
# ```
#
# ```{solution-start} ch01-ex4
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch01-ex4-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def least_squares(X, y):
    ### BEGIN SOLUTION
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)  # a column of ones for the bias
    theta = torch.linalg.solve(A.T @ A, A.T @ y)  # the normal equations
    return theta.reshape(-1)
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch01-ex4-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q4.check()

# %% [markdown]
# ## Summary
#
# - Training repeats four moves: **predict**, measure the error with a
#   **loss** (MSE for numbers, cross-entropy for classes), compute the
#   **gradient** of the loss with backpropagation, and step the parameters
#   against it (**gradient descent**).
# - For a line with squared error there is a **closed form** (least
#   squares), and gradient descent converges to it; for cross-entropy or
#   hidden layers there is none, and the loop is how we train.
# - The learning rate decides whether the steps crawl, converge or blow up;
#   for the line, the loss's curvature says where it blows up.
# - Check the **loss at initialisation**: about $\ln K$ for $K$ classes.
#   Far above means something is wrong before training starts.
# - We minimise the loss because the accuracy has no useful gradient; we
#   report the accuracy.
# - A **linear softmax classifier** scores classes with one linear layer; a
#   **hidden layer** adds learned features. Compared fairly (each model's
#   own tuned learning rate, five seeds, a dummy baseline), their difference
#   was {glue:text}`comparison_verdict`.
# - Mini-batches make each step cheap; an epoch is one pass over the data.
# - `helpers.train.fit` runs the same loop (we checked on the CPU: the same
#   weights to rounding) and records a `History` whose `train_loss` is the
#   mean of the batch losses during each epoch.
# - A model is judged on data it never trained on: validation data to make
#   choices, test data once at the end.
#
# The next chapters take each part in turn: preparing the data (Chapter 2),
# choosing the model (3), the loss (4), the optimizer (5), and beyond. For
# the full story of gradient-based learning, see {cite}`goodfellow2016deep`,
# chapters 4–6; for how PyTorch computes gradients, {cite}`paszke2019pytorch`.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
