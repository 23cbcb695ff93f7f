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
# # Chapter 1: The training loop, end to end
#
# Every model in this course, from a straight line to a convolutional network,
# is trained by the same loop: **predict, measure the error, compute how the
# error changes with each parameter, nudge the parameters downhill, repeat.**
# Everything else (data preparation, the choice of model, the loss, the
# optimizer, regularisation, tuning) is about making that loop work well.
# This chapter builds the loop from scratch twice, once on a line and once on
# images of handwritten digits, watches it learn, then hands it over to the
# course's `helpers.train.fit` and checks that the two agree.
#
# **After this chapter you will be able to**
#
# - name the parts of the training loop: data, model, parameters, loss, gradient, update;
# - write gradient descent for a linear model and a softmax classifier with PyTorch autograd;
# - explain mean squared error and cross-entropy, and check a hand-written loss against PyTorch's;
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
from torch import nn

from helpers import glue, setup
from helpers.data import load
from helpers.exercises import ch01_training_loop as ex
from helpers.models import count_parameters, mlp
from helpers.plots import plot_confusion_matrix, use_style
from helpers.train import evaluate, fit, predict

DEVICE = setup(SEED)
use_style()

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
# ### Training is not automatic: the learning rate matters
#
# The same loop with a different learning rate behaves very differently. Too
# small, and it crawls; too large, and every step overshoots the minimum by
# more than it corrects, so the loss *grows*. Here is the loss after
# {glue:text}`line_steps` steps for four learning rates:

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


lr_table = pd.DataFrame(
    {"learning rate": lr, "final training MSE": gradient_descent_on_line(lr, n_steps, x_train, y_train)}
    for lr in (0.001, 0.01, 0.1, 1.0)
).set_index("learning rate")
lr_table["final training MSE"] = lr_table["final training MSE"].map(lambda v: float(f"{v:.4g}"))
lr_table

# %%
too_small, good, too_large = (lr_table.loc[lr, "final training MSE"] for lr in (0.001, 0.1, 1.0))
glue("lr_small_loss", too_small, fmt=".2f")
glue("lr_good_loss", good, fmt=".3f")
glue("lr_large_loss", too_large, fmt=".3g")
assert too_small > 5 * good, "a tiny learning rate should still be far from the minimum"
assert too_large > 100 * good, "a learning rate that is too large should make the loss blow up"

# %% [markdown]
# With $\eta = 0.001$ the loss is still {glue:text}`lr_small_loss`; with
# $\eta = 0.1$ it reaches {glue:text}`lr_good_loss`; with $\eta = 1$ it has
# exploded to {glue:text}`lr_large_loss`. Finding a learning rate that works
# is part of the job; Chapters 5 and 7 are about doing it well.
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
# ### Classification needs a different loss: cross-entropy
#
# The model now outputs ten scores (**logits**) $z_1, \dots, z_{10}$, one per
# digit. The softmax turns them into probabilities,
# $p_k = e^{z_k} / \sum_j e^{z_j}$, and the **cross-entropy** loss is the
# average of $-\log p_{y}$, the surprise at the true class $y$:
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
# ### Mini-batches
#
# Computing the gradient on all training images for every step is wasteful.
# **Mini-batch gradient descent** estimates it from a small random batch
# (here 64 images), takes a step, and moves on; one pass over the shuffled
# training set is an **epoch**. The model is a small neural network,
# 64 inputs → 32 hidden units (ReLU) → 10 logits, initialised with random
# weights by PyTorch.

# %%
EPOCHS = max(2, round(15 * BUDGET))
BATCH_SIZE = 64
LEARNING_RATE = 0.1


def new_digit_model():
    torch.manual_seed(SEED)  # the same random starting weights every time we ask
    return mlp(digits.n_features, [32], digits.n_classes).to(DEVICE)


model = new_digit_model()
optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
print(f"{count_parameters(model)} parameters, {EPOCHS} epochs of batches of {BATCH_SIZE}")

torch.manual_seed(SEED)  # fixes the order in which batches are drawn
scratch_history = []
for epoch in range(1, EPOCHS + 1):
    model.train()
    order = torch.randperm(len(X_train), device=DEVICE)  # shuffle once per epoch
    for first in range(0, len(X_train), BATCH_SIZE):
        batch = order[first : first + BATCH_SIZE]
        loss = cross_entropy(model(X_train[batch]), y_train_digits[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()  # w <- w - lr * grad, for every weight of the network
    model.eval()
    with torch.no_grad():
        train_logits, val_logits = model(X_train), model(X_val)
        scratch_history.append({
            "epoch": epoch,
            "train_loss": cross_entropy(train_logits, y_train_digits).item(),
            "val_loss": cross_entropy(val_logits, y_val_digits).item(),
            "val_accuracy": (val_logits.argmax(dim=1) == y_val_digits).float().mean().item(),
        })
scratch_history = pd.DataFrame(scratch_history).set_index("epoch")
scratch_history.round(4).tail(3)

# %% mystnb={"image": {"alt": "Learning curves of the hand-written loop on digits: training and validation loss fall together over the epochs while validation accuracy climbs above 90 percent."}}
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.2))
ax_loss.plot(scratch_history.index, scratch_history["train_loss"], label="train")
ax_loss.plot(scratch_history.index, scratch_history["val_loss"], label="validation")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("cross-entropy")
ax_loss.legend()
ax_acc.plot(scratch_history.index, scratch_history["val_accuracy"], color="tab:orange")
ax_acc.set_xlabel("epoch")
ax_acc.set_ylabel("validation accuracy")
fig.suptitle("the hand-written loop learning digits")
fig.tight_layout()
plt.show()

# %%
scratch_val_accuracy = scratch_history["val_accuracy"].iloc[-1]
glue("scratch_val_accuracy", scratch_val_accuracy, fmt=".1%")
glue("digits_epochs", EPOCHS)
glue("digit_parameters", count_parameters(model))
chance = 1 / digits.n_classes
assert scratch_val_accuracy > 0.85, "a small network should recognise most digits after a few epochs"

# %% [markdown]
# From random weights, the {glue:text}`digit_parameters` parameters of the
# network reach {glue:text}`scratch_val_accuracy` validation accuracy after
# {glue:text}`digits_epochs` epochs, where guessing would give 10%.
#
# ## 6. The same, with `helpers.train.fit`
#
# Every later chapter trains with `helpers.train.fit`, which runs exactly the
# loop above and adds what you would otherwise write again each time:
# validation after every epoch, a `History` of losses, metrics and seconds,
# callbacks such as early stopping, learning-rate schedules, mixed precision
# on a GPU, a progress bar, and a clear message when training diverges. Open
# `helpers/train.py` to read it: it is the loop above with those additions.
#
# To show that nothing is hidden, we train the same model from the same
# starting weights, with the same optimizer and the same shuffling, and
# compare the results with the hand-written loop. "The same optimizer" has to
# be said: without `optimizer=`, `fit` uses Adam (Chapter 5), so we hand it
# the loop's plain SGD with the loop's learning rate. And the same arithmetic:
# on a GPU `fit` computes in 16-bit floats unless told otherwise
# (`mixed_precision=False`), while the loop above computes in 32-bit floats.

# %%
model_fit = new_digit_model()
torch.manual_seed(SEED)
history = fit(
    model_fit,
    (X_train, y_train_digits),
    (X_val, y_val_digits),
    loss_fn=nn.CrossEntropyLoss(),
    optimizer=torch.optim.SGD(model_fit.parameters(), lr=LEARNING_RATE),  # the loop's optimizer, not fit's default
    epochs=EPOCHS,
    batch_size=BATCH_SIZE,
    mixed_precision=False,  # float32 on every device, as the hand-written loop computes
    restore_best=False,  # keep the last epoch's weights, as the hand-written loop does
)
history.as_frame()[["train_loss", "val_loss", "val_accuracy"]].round(4).tail(3)

# %% tags=["nbval-check-output"]
biggest_weight_difference = max(
    (p_scratch - p_fit).abs().max().item() for p_scratch, p_fit in zip(model.parameters(), model_fit.parameters())
)
fit_val_accuracy = history.last("val_metric")
side_by_side = pd.DataFrame({
    "loop: train loss after the epoch": scratch_history["train_loss"],
    "fit: mean batch loss during it": history.train_loss,
    "loop: val loss": scratch_history["val_loss"],
    "fit: val loss": history.val_loss,
}, index=scratch_history.index)
print(side_by_side.round(4).tail(3).to_string())
print(f"validation accuracy: hand-written loop {scratch_val_accuracy:.4f}, fit {fit_val_accuracy:.4f}")
print(f"largest difference between the two models' weights < 1e-4: {biggest_weight_difference < 1e-4}")
assert biggest_weight_difference < 1e-4 and abs(fit_val_accuracy - scratch_val_accuracy) < 1e-6
# Both measure the validation loss after each epoch with the same weights: equal up to float rounding.
assert np.allclose(history.val_loss, scratch_history["val_loss"], atol=1e-4)

# %% mystnb={"image": {"alt": "Learning curves drawn by History.plot: loss and accuracy per epoch for training and validation, the same curves as the hand-written loop."}}
history.plot(title="the same training, run by helpers.train.fit")
plt.show()

# %%
glue("fit_val_accuracy", fit_val_accuracy, fmt=".1%")
glue("fit_seconds", history.total_seconds, fmt=".2f")

# %% [markdown]
# The two runs end with the same weights and the same validation accuracy
# ({glue:text}`fit_val_accuracy`); `fit` took {glue:text}`fit_seconds` s here.
# Their validation losses agree epoch by epoch. Their training losses do not,
# because they are not the same measurement: our loop measured the loss on
# the whole training set *after* each epoch, one extra pass over the data;
# `fit` reports the mean of the batch losses it computed anyway *during* the
# epoch, for free, while the weights were still improving, so early batches
# of an epoch count with the worse weights they had then. That is why its
# training loss is usually a little higher than an end-of-epoch measurement,
# and why the two columns differ in the table above.
#
# ## 7. Evaluate once, on the test set
#
# We looked at the validation set after every epoch, and we would use it to
# choose between models and settings, so it has quietly influenced our
# choices. The **test set** was never looked at. Evaluating on it once, at the
# very end, estimates how the model will do on new digits.

# %%
X_test, y_test_digits = digits.tensors("test", DEVICE)
test_result = evaluate(model_fit, X_test, y_test_digits, loss_fn=nn.CrossEntropyLoss())
test_predictions = predict(model_fit, X_test).argmax(dim=1)
glue("test_accuracy", test_result["accuracy"], fmt=".1%")
glue("n_test", len(y_test_digits))
n_wrong = int((test_predictions != y_test_digits.cpu()).sum())
glue("n_test_wrong", n_wrong)
print(f"test loss {test_result['loss']:.3f}, test accuracy {test_result['accuracy']:.3f}")

# %% mystnb={"image": {"alt": "Confusion matrix of the digit classifier on the test set: nearly all counts lie on the diagonal, with a few confusions between similar digits."}}
plot_confusion_matrix(y_test_digits, test_predictions, digits.class_names, title="test set: true vs predicted digit")
plt.show()

# %%
assert test_result["accuracy"] > 0.85, "the model should generalise to unseen digits"
assert n_wrong > 0 or len(y_test_digits) < 50, "a model this small is not expected to be perfect"

# %% [markdown]
# On the {glue:text}`n_test` test images the model is right
# {glue:text}`test_accuracy` of the time and wrong on {glue:text}`n_test_wrong`
# of them. The confusion matrix shows *which* digits it mixes up, which is
# where a person would look next: at those images, at their labels, and at
# whether more or better data would help.
#
# ## Exercises
#
# **[Do these exercises on Colab](https://colab.research.google.com/github/ai-training-course/ai-training-course/blob/main/notebooks/exercises/01_training_loop.ipynb)**: the student version, with stubs instead of solutions.
#
# Each exercise has a check: run it after your answer. `ex.q1.hint()` gives a
# hint (`ex.q1.hint(2)` a stronger one) and `ex.q1.solution()` shows a
# solution.
#
# ```{exercise} Mean absolute error
# :label: ch01-ex1
# The mean absolute error $\frac{1}{n}\sum_i |\hat y_i - y_i|$ is another
# regression loss. Write `my_mae(predictions, targets)`, which takes two
# tensors of the same shape and returns it as a scalar tensor, without using
# `F.l1_loss`.
# ```
#
# ```{solution-start} ch01-ex1
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch01-ex1-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def my_mae(predictions, targets):
    ### BEGIN SOLUTION
    return (predictions - targets).abs().mean()
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch01-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q1.check()

# %% [markdown]
# ```{exercise} A softmax that does not overflow
# :label: ch01-ex2
# Write `my_softmax(logits)` for logits of shape (n, classes): it returns a
# tensor of the same shape whose rows are the probabilities
# $p_k = e^{z_k} / \sum_j e^{z_j}$, without `torch.softmax`. It must stay
# finite for logits as large as 1000.
# ```
#
# ```{solution-start} ch01-ex2
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch01-ex2-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def my_softmax(logits):
    ### BEGIN SOLUTION
    shifted = logits - logits.max(dim=1, keepdim=True).values  # same probabilities, no overflow
    exponentials = shifted.exp()
    return exponentials / exponentials.sum(dim=1, keepdim=True)
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch01-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q2.check()

# %% [markdown]
# ```{exercise} Write the training loop
# :label: ch01-ex3
# Write `train_line(x, y, learning_rate, steps)`: starting from $w = 0$,
# $b = 0$, run `steps` steps of full-batch gradient descent on the MSE of the
# line $\hat y = w x + b$ for inputs `x` and targets `y` (tensors of shape
# (n, 1)), using autograd for the gradients, and return the final `(w, b)` as
# two Python floats.
# ```
#
# ```{solution-start} ch01-ex3
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch01-ex3-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def train_line(x, y, learning_rate, steps):
    ### BEGIN SOLUTION
    weight = torch.zeros(1, requires_grad=True)
    bias = torch.zeros(1, requires_grad=True)
    for _ in range(steps):
        loss = ((weight * x + bias - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            weight -= learning_rate * weight.grad
            bias -= learning_rate * bias.grad
        weight.grad = None
        bias.grad = None
    return weight.item(), bias.item()
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch01-ex3-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q3.check()

# %% [markdown]
# ```{exercise} Choose a learning rate
# :label: ch01-ex4
# The check runs 30 steps of gradient descent on a line fitted to noisy data
# like that of section 1 (the inputs are spread over $[-2, 2)$). Set
# `chosen_learning_rate` to a value for which the training MSE gets within
# 10% of the best a line can do in those 30 steps, without diverging.
# ```
#
# ```{solution-start} ch01-ex4
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch01-ex4-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
chosen_learning_rate = 0.2
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
# - The model starts from random parameters; the learning rate decides
#   whether the steps crawl, converge or blow up.
# - Mini-batches make each step cheap; an epoch is one pass over the data.
# - `helpers.train.fit` runs the same loop (we checked: same weights) and
#   records a `History` you can plot.
# - A model is judged on data it never trained on: validation data to make
#   choices, test data once at the end. Even then it is not perfect, and
#   looking at its mistakes is the next step.
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
