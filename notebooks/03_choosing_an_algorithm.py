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
# # Chapter 3: Choosing an algorithm
#
# Textbooks often end their tour of machine-learning algorithms with a table:
# *algorithm, advantages, disadvantages*. "Random forests are accurate and
# robust." "Neural networks learn complex patterns but need lots of data."
# "k-nearest neighbours is simple but slow to predict." Each line may be true,
# but a table of adjectives cannot tell you which model to train on *your*
# data. This chapter turns that table into evidence. We tune ten models,
# from a dummy baseline to a convolutional network, each on its own small
# grid, on the **same data and the same cross-validation folds**, and
# measure in one run what the adjectives only claim: accuracy on held-out
# data (with its spread), training time, prediction time and size. We
# choose on the development data and touch the test set once. Then we
# look at what the numbers cannot show (can a person read the model?), watch
# decision trees overfit and forests repair them, see neural networks bend
# their decision boundaries, and test the claim that AI models are *narrow*.
#
# **After this chapter you will be able to**
#
# - run a fair comparison of scikit-learn and PyTorch models with `helpers.compare`: a grid per model,
#   cross-validation, a dummy baseline, mean ± sd, and the test set once;
# - explain in one or two sentences how each of the models predicts, and what it stores;
# - read a shallow decision tree as rules, and choose its size on held-out data;
# - say when a model's built-in assumptions (linear, local, shift-invariant) help or hurt;
# - show with an experiment that a trained model fails on a slightly different task.

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

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, export_text, plot_tree

from helpers import glue, setup
from helpers.compare import (TorchClassifier, compare_by_training_size, compare_cv, describe_setting,
                             development_folds, test_once)
from helpers.data import load
from helpers.exercises import ch03_choosing_an_algorithm as ex
from helpers.models import CNN1D, GRUClassifier, mlp
from helpers.plots import plot_decision_boundary, use_style

DEVICE = setup(SEED)
if DEVICE.type == "cpu":
    torch.set_num_threads(1)  # the networks here are small: a second thread adds more waiting than speed
use_style()
pd.set_option("display.width", 120)


def epochs(n):
    """``n`` epochs at BUDGET = 1, scaled with BUDGET (at least 1)."""
    return max(1, round(n * BUDGET))


def key(name):
    """A model name as part of a glue name: 'RBF SVM' -> 'rbf_svm'."""
    return name.lower().replace(" ", "_").replace("-", "_")


# %% [markdown]
# ## 1. A fair contest: same data, same folds, a test set kept for the end
#
# A comparison is only fair if every model sees the same training examples
# and is judged on the same unseen examples, and if no model is judged on
# the data used to choose it. We use two data sets that load offline and
# split reproducibly (see Chapter 2):
#
# - **digits**: 1,797 handwritten digits, 8×8 grey images flattened into 64
#   pixel values. A classic *tabular* benchmark: each column is a feature,
#   and most models do well.
# - **MNIST-1D** {cite}`greydanus2020mnist1d`: 5,000 one-dimensional signals
#   of 40 points, each a digit template that has been padded, shifted,
#   sheared and blurred with noise. It was designed so that *where* a
#   pattern sits matters and models that know about neighbouring points
#   (convolutions, recurrent networks) beat those that do not. Its author
#   reports test accuracies of 32 % for logistic regression, 68 % for an MLP,
#   94 % for a CNN and 91 % for a GRU; we will set ours beside them.
#
# Each set has a training, a validation and a test split. The training and
# validation splits together are our **development data**: every choice
# (which setting of a model, which model) is made on it by
# **cross-validation**. The test split is locked away until the very end,
# when the one chosen model is scored on it once.

# %%
digits = load("digits", seed=SEED)  # raw pixels: each model standardises inside its own folds
mnist1d = load("mnist1d", seed=SEED)
data_sets = {"digits": digits, "MNIST-1D": mnist1d}
pd.DataFrame([d.table_row() for d in data_sets.values()]).set_index("data set").drop(columns="description")

# %% mystnb={"image": {"alt": "Left: four 8x8 handwritten digits from the digits set. Right: three MNIST-1D signals of 40 points, wiggly curves whose shape encodes a digit."}}
fig, axes = plt.subplots(1, 5, figsize=(10, 2.2), gridspec_kw={"width_ratios": [1, 1, 1, 1, 4]})
for ax, image, label in zip(axes[:4], digits.train.X, digits.train.y):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(f"digit {label}")
    ax.axis("off")
for i in range(3):
    axes[4].plot(mnist1d.train.X[i], label=f"class {mnist1d.train.y[i]}")
axes[4].set_xlabel("position $t$")
axes[4].set_title("MNIST-1D signals")
axes[4].legend(fontsize="small")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. The contenders
#
# Each model turns an input $x \in \mathbb{R}^d$ into one of $K$ classes. They
# differ in *what kind of function* they can represent, and in what they
# store to do it.
#
# | model | how it predicts | what it stores |
# |---|---|---|
# | dummy | always the most frequent training class: the score to beat | one label |
# | linear regression | least-squares fit of one-hot targets, $\hat y = \arg\max_k (W x + b)_k$ | $K(d+1)$ weights |
# | logistic regression | the same linear scores, trained with cross-entropy (softmax) | $K(d+1)$ weights |
# | $k$-nearest neighbours | majority vote of the $k$ closest training points {cite}`cover1967nearest` | the whole training set |
# | decision tree | a sequence of yes/no questions on single features {cite}`breiman1984classification` | one node per question or leaf |
# | random forest | majority vote of many trees, each grown on a bootstrap sample {cite}`breiman2001random` | all trees' nodes |
# | gradient boosting | a sum of small trees, each fitted to the errors of the sum so far {cite}`friedman2001greedy`; histogram version {cite}`ke2017lightgbm` | all trees' nodes |
# | linear SVM | linear scores chosen to maximise the margin (hinge loss) {cite}`cortes1995support` | $K(d+1)$ weights |
# | RBF SVM | a weighted vote of *support vectors*, $\sum_i \alpha_i\, e^{-\gamma \lVert x - x_i \rVert^2}$ | the support vectors |
# | MLP | layers $h = \mathrm{ReLU}(W h + b)$, trained by gradient descent | weights |
# | CNN | small filters slid along the signal, the same weights at every position | weights |
# | GRU | reads the signal one step at a time, updating a memory vector {cite}`cho2014learning` | weights |
#
# Linear regression and logistic regression differ only in the loss.
# **Linear regression** used as a classifier solves
# $\min_{W,b} \sum_i \lVert W x_i + b - e_{y_i} \rVert^2$, where $e_{y}$ is
# the one-hot vector of class $y$; it has a closed-form solution. Here it is
# from scratch with NumPy's least-squares solver, and the same model from
# scikit-learn (`RidgeClassifier` with a tiny penalty; it codes the targets
# as $\pm 1$ instead of $0/1$, which changes the scores but not their
# ranking). We score it on the validation split: the test split stays locked.

# %%
def fit_least_squares(X, y, n_classes):
    """Weights (d + 1, K) of a linear regression from X (n, d) to one-hot targets (n, K)."""
    X1 = np.c_[X, np.ones(len(X))]  # a column of ones for the bias
    targets = np.eye(n_classes)[y]
    weights, *_ = np.linalg.lstsq(X1, targets, rcond=None)
    return weights


def predict_least_squares(weights, X):
    return (np.c_[X, np.ones(len(X))] @ weights).argmax(axis=1)


scaled = digits.standardized()  # statistics of the training split only
weights = fit_least_squares(scaled.train.X, scaled.train.y, scaled.n_classes)
ours = predict_least_squares(weights, scaled.val.X)
library = RidgeClassifier(alpha=1e-3, solver="svd").fit(scaled.train.X, scaled.train.y).predict(scaled.val.X)
agreement = float(np.mean(ours == library))
ls_accuracy = float(np.mean(ours == scaled.val.y))
assert agreement > 0.97, "the hand-written least squares should agree with RidgeClassifier"
glue("ls_agreement", agreement, fmt=".1%")
glue("ls_accuracy", ls_accuracy, fmt=".1%")
print(f"from scratch: validation accuracy {ls_accuracy:.1%}; agrees with scikit-learn on {agreement:.1%}")

# %% [markdown]
# Eight lines give a digit classifier with validation accuracy
# {glue:text}`ls_accuracy`, agreeing with scikit-learn on
# {glue:text}`ls_agreement` of the validation images. Every other model
# below is a library call: scikit-learn for the classical ones
# {cite}`pedregosa2011scikit`, PyTorch {cite}`paszke2019pytorch` through
# `helpers.train.fit` for the networks. `helpers.compare.TorchClassifier`
# gives a PyTorch model scikit-learn's `fit` / `predict`, so one function
# can train and measure them all.
#
# A model's default settings can be far from its best, and a contest
# between one tuned and one untuned model says little. So **each family
# gets its own small grid** of its most important setting (the penalty $C$
# or $\alpha$ of the linear models, $k$ of $k$-NN, the leaf size of the
# tree, the share of features tried per split of the forest, the learning
# rate of boosting and of the networks, the kernel width $\gamma$ of the
# SVM), three or four values around a sensible middle. Learning rates are tuned per
# network, never shared. The networks train for a fixed number of epochs
# that scales with `BUDGET`; to keep this chapter within a minute on a
# laptop CPU the grids are small, the forest has {glue:text}`n_trees` trees and the boosting
# 20 rounds. The linear SVM (a linear model like logistic regression, with
# the hinge loss) sits out of the contest: tuning it is Exercise 5. The GRU
# is the slowest network to train (it reads its 40 points one after
# another); it joins the contest when `BUDGET` is 2 or more.

# %%
N_TREES = max(20, round(20 * BUDGET))  # trees per random forest: 20 on a laptop CPU, more with BUDGET
glue("n_trees", N_TREES)
print(f"random forests of {N_TREES} trees")


def networks(n_features, signals):
    """The networks, as make(lr) functions (a fresh model each call)."""
    nets = {"MLP": (lambda lr: TorchClassifier(mlp(n_features, [100, 100], 10), epochs=epochs(15),
                                               batch_size=128, lr=lr, device=DEVICE),
                    {"lr": [3e-3, 1e-2, 3e-2, 1e-1] if signals else [1e-3, 3e-3, 1e-2, 3e-2]})}
    if signals:
        nets["CNN"] = (lambda lr: TorchClassifier(CNN1D(channels=32), epochs=epochs(10), batch_size=128,
                                                  lr=lr, device=DEVICE),
                       {"lr": [3e-3, 1e-2, 3e-2]})
        if BUDGET >= 2:
            nets["GRU"] = (lambda lr: TorchClassifier(GRUClassifier(hidden=32), epochs=epochs(10), batch_size=128,
                                                      lr=lr, device=DEVICE),
                           {"lr": [1e-2, 3e-2, 1e-1]})
    return nets


def contenders(data, signals):
    """Every contender as (make, grid): make(**setting) returns a new, unfitted model.

    The grids were widened where a first try put the best value on an edge, so
    some differ between the two data sets (``signals`` marks MNIST-1D).
    """
    gamma = 1 / data.n_features  # scikit-learn's default for standardised features
    return {
        "dummy": (lambda: DummyClassifier(strategy="most_frequent"), {}),
        "linear regression": (lambda alpha: RidgeClassifier(alpha=alpha, solver="svd"),
                              {"alpha": [1, 10, 100] if signals else [10, 100, 1000]}),
        "logistic regression": (lambda C: LogisticRegression(C=C, max_iter=1000), {"C": [0.1, 1, 10]}),
        "k-nearest neighbours": (lambda n_neighbors: KNeighborsClassifier(n_neighbors=n_neighbors),
                                 {"n_neighbors": [1, 3, 5] if signals else [3, 5, 9]}),
        "decision tree": (lambda min_samples_leaf: DecisionTreeClassifier(min_samples_leaf=min_samples_leaf,
                                                                          random_state=SEED),
                          {"min_samples_leaf": [1, 3, 10]}),
        "random forest": (lambda max_features: RandomForestClassifier(n_estimators=N_TREES, max_features=max_features,
                                                                      n_jobs=-1, random_state=SEED),
                          {"max_features": [0.3, 0.6, 1.0] if signals else [0.03, 0.1, 0.3]}),
        "gradient boosting": (lambda learning_rate: HistGradientBoostingClassifier(
            max_iter=epochs(20), learning_rate=learning_rate, early_stopping=False, random_state=SEED),
                              {"learning_rate": [0.1, 0.3, 1.0]}),
        "RBF SVM": (lambda gamma: SVC(C=10, gamma=gamma),
                    {"gamma": [gamma, 3 * gamma, 9 * gamma] if signals else [gamma / 3, gamma, 3 * gamma]}),
        **networks(data.n_features, signals),
    }


# %% [markdown]
# ## 3. The evidence table, chosen by cross-validation
#
# `compare_cv(contenders, data)` cuts the development data into three
# stratified **folds**. For each model family it scores every setting of
# its grid on the first fold (trained on the other two folds, scored on
# the held-out one: a validation split), keeps the best setting, and
# trains and scores that setting on the other two folds as well. Every
# model is standardised inside each fold with that fold's training
# statistics. The table gives, per family:
#
# - **setting**: the value its grid chose;
# - **CV accuracy** and **sd**: the mean and standard deviation of the
#   held-out accuracy over the three folds. (Its first-fold score was the
#   best of three, so it leans a little high; scoring every setting on every
#   fold would remove that, at three times the cost);
# - **train time (s)**, the wall-clock time of one `fit`;
# - **predict time (ms / 1000)**, milliseconds to classify 1,000 examples;
# - **parameters**, how many numbers the fitted model keeps, and **counted
#   as** which numbers (weights, tree nodes, support vectors, or stored
#   training values).
#
# First the digits:

# %%
N_FOLDS = 3
cv, tuned = {}, {}
cv["digits"], tuned["digits"] = compare_cv(contenders(digits, signals=False), digits, n_folds=N_FOLDS,
                                           seed=SEED, select_on="first fold")
cv["digits"].round(3)

# %% [markdown]
# Then MNIST-1D, with the convolutional network built for signals:

# %%
cv["MNIST-1D"], tuned["MNIST-1D"] = compare_cv(contenders(mnist1d, signals=True), mnist1d, n_folds=N_FOLDS,
                                               seed=SEED, select_on="first fold")
cv["MNIST-1D"].round(3)

# %% [markdown]
# Was every grid wide enough? The next table shows, for every family, the
# first-fold accuracy of each value of its grid and where the chosen value
# sits. A chosen value at an edge would mean a better one might lie outside
# the grid, unless the edge is a hard limit: $k = 1$ is the smallest $k$
# there is, and `max_features = 1` (every feature at every split) the
# largest share.

# %%
grid_rows = []
for data_name, results in tuned.items():
    for name, result in results.items():
        if not result.grid:
            continue
        (hyper, values), = result.grid.items()
        position = values.index(result.best[hyper])
        grid_rows.append({"data set": data_name, "model": name, "tuned": hyper,
                          "grid": ", ".join(f"{v:g}" for v in values),
                          "first-fold accuracy": ", ".join(f"{v:.3f}" for v in result.scores["fold 1"]),
                          "chosen": f"{values[position]:g}",
                          "where": "inside" if 0 < position < len(values) - 1 else "edge"})
grid_table = pd.DataFrame(grid_rows).set_index(["data set", "model"])
at_edge = grid_table[grid_table["where"] == "edge"]
glue("n_grids", len(grid_table))
glue("n_grids_inside", int((grid_table["where"] == "inside").sum()))
glue("grids_at_edge", ", ".join(f"{m} ({d})" for d, m in at_edge.index) or "none")
print(f"{int((grid_table['where'] == 'inside').sum())} of {len(grid_table)} grids chose a value inside; "
      f"at an edge: {', '.join(f'{m} ({d})' for d, m in at_edge.index) or 'none'}")
grid_table

# %%
def mean_sd(table):
    """'0.968 ± 0.004' for every row of a compare_cv table."""
    return table["CV accuracy"].map("{:.3f}".format) + " ± " + table["sd"].map("{:.3f}".format)


cv_acc = {name: table["CV accuracy"] for name, table in cv.items()}
cv_sd = {name: table["sd"] for name, table in cv.items()}
for data_name, table in cv.items():
    data_key = data_name.lower().replace("-", "")  # 'digits', 'mnist1d'
    for model_name, row in table.iterrows():
        glue(f"acc_{data_key}_{key(model_name)}", float(row["CV accuracy"]), fmt=".1%")
        glue(f"sd_{data_key}_{key(model_name)}", float(row["sd"]), fmt=".1%")
        glue(f"train_s_{data_key}_{key(model_name)}", float(row["train time (s)"]), fmt=".2f")
        size = row["parameters"]
        glue(f"params_{data_key}_{key(model_name)}", f"{size:,}" if isinstance(size, (int, np.integer)) else str(size))
        glue(f"setting_{data_key}_{key(model_name)}", row["setting"])

digit_spread = cv_acc["digits"].drop(["dummy", "decision tree"])
glue("digits_best_model", digit_spread.idxmax())
glue("digits_min_acc_but_tree", float(digit_spread.min()), fmt=".1%")
glue("digits_max_acc", float(digit_spread.max()), fmt=".1%")
spread = max(cv_sd["digits"].drop("dummy").max(), cv_sd["MNIST-1D"].drop("dummy").max())
glue("largest_sd", float(spread), fmt=".1%")
cnn_gain = cv_acc["MNIST-1D"]["CNN"] - cv_acc["MNIST-1D"]["logistic regression"]
glue("mnist1d_cnn_gain", 100 * cnn_gain, fmt=".0f")
knn_slowdown = (cv["MNIST-1D"].loc["k-nearest neighbours", "predict time (ms / 1000)"]
                / cv["MNIST-1D"].loc["logistic regression", "predict time (ms / 1000)"])
glue("knn_slowdown", float(knn_slowdown), fmt=".0f")
svm = tuned["MNIST-1D"]["RBF SVM"].model.model
n_fit_rows = len(mnist1d.train) + len(mnist1d.val) - len(development_folds(mnist1d, N_FOLDS, SEED)[2][0][1])
glue("svm_sv_share", svm.support_vectors_.shape[0] / n_fit_rows, fmt=".0%")
glue("digits_logistic_gap", 100 * float(digit_spread.max() - cv_acc["digits"]["logistic regression"]), fmt=".1f")
for data_name, table in cv.items():
    print(f"{data_name}: chosen setting, train time (s) and parameters, as quoted in the text:")
    print(table[["setting", "train time (s)", "parameters"]].round(2).to_string(), end="\n\n")
print("CV accuracy, mean ± sd over", N_FOLDS, "folds, as quoted in the text:")
print(pd.DataFrame({name: mean_sd(table) for name, table in cv.items()}).fillna("").to_string())
print(f"largest sd of any model: {spread:.3f}; CNN minus logistic regression on MNIST-1D: {cnn_gain:.3f}; "
      f"k-NN predicts {knn_slowdown:.0f}x slower than logistic regression; "
      f"the SVM keeps {svm.support_vectors_.shape[0] / n_fit_rows:.0%} of its training signals")

# Headline claims. Margins: the largest fold sd of any model here is about 0.02-0.04
# (seeds 0, 1, 2, 3, 7); each margin is several times that.
for name, table in cv.items():
    assert (table["CV accuracy"].drop("dummy") > table.loc["dummy", "CV accuracy"] + 0.1).all(), \
        f"on {name} every model should beat the dummy"
assert digit_spread.min() > 0.90, "on digits every model but the lone tree should pass 90%"
assert cv_acc["digits"]["random forest"] > cv_acc["digits"]["decision tree"] + 0.05, "a forest beats one tree"
assert cnn_gain > 0.25, "on MNIST-1D the CNN should beat logistic regression by a wide margin"
assert cv_acc["MNIST-1D"]["CNN"] > cv_acc["MNIST-1D"]["MLP"] + 0.1, "weight sharing should beat a plain MLP here"
assert cv_acc["MNIST-1D"]["logistic regression"] < 0.45, "no linear model can do well on MNIST-1D"
assert cv_acc["MNIST-1D"]["random forest"] > cv_acc["MNIST-1D"]["logistic regression"] + 0.2

# %% [markdown]
# Of the {glue:text}`n_grids` grids, {glue:text}`n_grids_inside` chose a
# value inside; at an edge: {glue:text}`grids_at_edge`. For $k$-nearest
# neighbours the edge is $k = 1$, which cannot be widened; any other edge
# in that list means the family might do better with a wider grid, and its
# row in the evidence table is a lower bound.
#
# Every model beats the dummy, which always answers the most frequent class
# ({glue:text}`acc_digits_dummy` on digits, {glue:text}`acc_mnist1d_dummy`
# on MNIST-1D: chance for ten balanced classes). The fold-to-fold spread of
# a model is at most {glue:text}`largest_sd` here, so two models whose
# means are closer than that are, on this evidence, tied.
#
# On the digits, every model except the lone decision tree scores between
# {glue:text}`digits_min_acc_but_tree` and {glue:text}`digits_max_acc` (the
# highest mean: {glue:text}`digits_best_model`), differences mostly within
# a few spreads of each other. When the classes are this easy to separate,
# the choice of algorithm hardly matters for accuracy, and the other
# columns decide: logistic regression trains in
# {glue:text}`train_s_digits_logistic_regression` s and stores
# {glue:text}`params_digits_logistic_regression` numbers, while the forest
# stores {glue:text}`params_digits_random_forest` tree nodes.
#
# MNIST-1D separates the models. The linear ones are stuck near a third
# (logistic regression: {glue:text}`acc_mnist1d_logistic_regression`,
# linear regression: {glue:text}`acc_mnist1d_linear_regression`), the others
# land in between (random forest: {glue:text}`acc_mnist1d_random_forest`,
# the MLP: {glue:text}`acc_mnist1d_mlp`), and the CNN reaches
# {glue:text}`acc_mnist1d_cnn` ± {glue:text}`sd_mnist1d_cnn`,
# {glue:text}`mnist1d_cnn_gain` percentage points above logistic regression,
# with fewer parameters than the MLP ({glue:text}`params_mnist1d_cnn`
# against {glue:text}`params_mnist1d_mlp`). A digit template can sit
# anywhere along the signal; the CNN applies the same filters at every
# position, so it recognises a bump wherever it is, while the MLP must learn
# each position separately.
#
# The columns also show the costs the adjectives hide. $k$-nearest
# neighbours trains instantly (it only stores the data) but predicts
# {glue:text}`knn_slowdown` times slower than logistic regression, since
# every prediction measures the distance to all
# {glue:text}`params_mnist1d_k_nearest_neighbours` stored values. The RBF
# SVM keeps {glue:text}`svm_sv_share` of its training signals as support
# vectors, and pays for it at prediction time too.
#
# ### Our numbers beside the published ones
#
# The table below sets our cross-validated accuracies beside reference
# results: for MNIST-1D the paper's test accuracies
# {cite}`greydanus2020mnist1d`, for the digits typical results of these
# models on a stratified 25 % hold-out (the course's reference values, not
# from one paper). Both are estimates of the same thing, accuracy on unseen
# data, but from other splits, other settings and, for the paper's
# networks, far more training.

# %%
REFERENCE = pd.DataFrame({
    "digits (reference)": {"logistic regression": 0.97, "RBF SVM": 0.99, "random forest": 0.98,
                           "MLP": 0.98, "k-nearest neighbours": 0.98},
    "MNIST-1D (paper)": {"logistic regression": 0.32, "MLP": 0.68, "CNN": 0.94, "GRU": 0.91},
})
beside = pd.DataFrame({
    "digits (ours, CV)": mean_sd(cv["digits"]),
    "MNIST-1D (ours, CV)": mean_sd(cv["MNIST-1D"]),
}).reindex(list(cv["MNIST-1D"].index) + [m for m in REFERENCE.index if m not in cv["MNIST-1D"].index])
beside = beside.join(REFERENCE)[["digits (ours, CV)", "digits (reference)", "MNIST-1D (ours, CV)", "MNIST-1D (paper)"]]
beside = beside.astype(object).where(beside.notna(), "-")
for model_name in REFERENCE.index:
    for column in REFERENCE.columns:
        if not np.isnan(REFERENCE.loc[model_name, column]):
            glue(f"ref_{'digits' if column.startswith('digits') else 'paper'}_{key(model_name)}",
                 REFERENCE.loc[model_name, column], fmt=".0%")
ours_digits = cv["digits"]["CV accuracy"].reindex(REFERENCE.index)
digits_ref_gap = (REFERENCE["digits (reference)"] - ours_digits).dropna()
glue("digits_max_ref_gap", 100 * float(digits_ref_gap.abs().max()), fmt=".1f")
print("reference minus ours, digits (points):", (100 * digits_ref_gap).round(1).to_dict())
cnn_steps = tuned["MNIST-1D"]["CNN"].model.model.epochs * math.ceil(n_fit_rows / 128)
glue("cnn_steps", f"{cnn_steps:,}")
glue("cnn_examples_share", cnn_steps * 128 / (6000 * 100), fmt=".0%")
print(f"our CNN: {cnn_steps} steps of 128 examples = {cnn_steps * 128 / (6000 * 100):.0%} "
      "of the examples the paper's 6,000 steps of 100 showed")
beside

# %% [markdown]
# Where the models train to convergence on the same data, we agree with the
# references: logistic regression reaches {glue:text}`acc_mnist1d_logistic_regression`
# on MNIST-1D (paper: {glue:text}`ref_paper_logistic_regression`) and
# {glue:text}`acc_digits_logistic_regression` on the digits (reference
# {glue:text}`ref_digits_logistic_regression`). On the digits our means lie
# within {glue:text}`digits_max_ref_gap` points of the reference values. Part
# of any gap may come from less training data (our models learn from two
# thirds of 1,437 development images, a 25 % hold-out from three quarters of
# all 1,797) and from our small grids; we did not measure which.
# The networks on MNIST-1D differ most, and their training differs most:
# our CNN took {glue:text}`cnn_steps` steps of 128 examples, about
# {glue:text}`cnn_examples_share` of the examples the paper's 6,000 steps of
# 100 showed it, and reached {glue:text}`acc_mnist1d_cnn` (paper:
# {glue:text}`ref_paper_cnn`); our MLP reached {glue:text}`acc_mnist1d_mlp`
# (paper: {glue:text}`ref_paper_mlp`). Shorter training is the obvious
# suspect for the gap, but this chapter does not measure how much of it
# that explains (the splits and architectures differ too); `BUDGET` scales
# the epochs, so a run with a larger budget can. The GRU is not in the
# default run (paper: {glue:text}`ref_paper_gru`).
#
# ### The choice, and the test set, once
#
# Now, and only now, we choose: on each data set the model with the highest
# cross-validated mean, with the setting its grid chose. It is retrained on
# all the development data and scored on the test split, which no decision
# so far has seen.

# %%
final = {}
for data_name, data in data_sets.items():
    chosen_name = cv_acc[data_name].idxmax()
    result = tuned[data_name][chosen_name]
    make = contenders(data, signals=data_name == "MNIST-1D")[chosen_name][0]
    test_accuracy, _ = test_once(make, result.best, data)
    final[data_name] = {"chosen model": chosen_name, "setting": describe_setting(result.best),
                        "CV accuracy": result.mean, "sd": result.sd, "test accuracy": test_accuracy}
final_table = pd.DataFrame(final).T
for data_name, row in final_table.iterrows():
    data_key = data_name.lower().replace("-", "")
    glue(f"chosen_{data_key}", row["chosen model"])
    glue(f"test_{data_key}", float(row["test accuracy"]), fmt=".1%")
# Retrained on all the development data (half as much again as each fold trained on), the chosen model
# should not fall below its CV estimate by more than 3 fold sd plus 2 points (the test split is small).
for data_name, row in final_table.iterrows():
    assert row["test accuracy"] > row["CV accuracy"] - 3 * row["sd"] - 0.02, data_name
glue("cnn_final_steps", f"{tuned['MNIST-1D']['CNN'].model.model.epochs * math.ceil(len(mnist1d.train) / 128 + len(mnist1d.val) / 128):,}")
print("test accuracy minus CV accuracy:", (final_table["test accuracy"] - final_table["CV accuracy"]).astype(float).round(3).to_dict())
final_table.round(3)

# %% [markdown]
# The chosen models score {glue:text}`test_digits` ({glue:text}`chosen_digits`,
# digits) and {glue:text}`test_mnist1d` ({glue:text}`chosen_mnist1d`,
# MNIST-1D) on the test split. Retrained on all the development data, each
# learns from half as many examples again as it did in any fold, so the
# cross-validated accuracy is, if anything, a cautious estimate; for the
# networks, whose epochs are fixed, more examples also mean more steps
# (the CNN's final fit took {glue:text}`cnn_final_steps` steps against
# {glue:text}`cnn_steps` in a fold). Had we instead picked the winner by its
# test score among ten models, that score would have been the highest of ten
# noisy numbers, and so biased upward; that is why the choice was made on
# the development data and the test set was used once.

# %% mystnb={"image": {"alt": "Scatter plot of cross-validated accuracy against training time on a log scale for every model on MNIST-1D, with error bars of one standard deviation: the CNN is the most accurate, the linear models are fast but inaccurate, the dummy sits at chance."}}
table = cv["MNIST-1D"]
fig, ax = plt.subplots(figsize=(7, 4))
ax.errorbar(table["train time (s)"], table["CV accuracy"], yerr=table["sd"], fmt="o", color="tab:blue")
for name, row in table.iterrows():
    ax.annotate(name, (row["train time (s)"], row["CV accuracy"]), fontsize=8,
                xytext=(4, 2), textcoords="offset points")
ax.set_xscale("log")
ax.set_xlabel("training time of one fit (s, log scale)")
ax.set_ylabel("CV accuracy (mean ± sd over folds)")
ax.set_title("MNIST-1D: accuracy against training cost")
plt.show()

# %% [markdown]
# The figure puts the two columns that matter most side by side: up is more
# accurate, right is more expensive to train. On MNIST-1D the CNN buys its
# lead with one of the longest training times; the linear models are cheap
# and near chance-plus-a-little; the dummy marks the floor.

# %% [markdown]
# ## 4. What the numbers cannot show: can you read the model?
#
# No column of the table says whether a person can *understand* a model. For
# a loan refusal or a medical triage, being able to read why the model decided
# can matter as much as a point of accuracy, and some argue that for such
# decisions an interpretable model should be preferred whenever it is nearly
# as accurate {cite}`rudin2019stop`. The most readable model in our list is a
# shallow decision tree. To read one we need features with meaning, so we
# borrow the Palmer penguins (Chapter 2): bill and flipper measurements,
# body mass, island and sex, to predict the species.
#
# A tree chooses each question greedily: among all features $j$ and
# thresholds $t$ it picks the split of the node's samples $S$ into
# $S_{\text{left}} = \{x_j \le t\}$ and $S_{\text{right}}$ that most lowers
# the **Gini impurity**, weighted by the size of each half:
#
# $$
# G(S) = 1 - \sum_{k} p_k^2, \qquad
# \text{cost}(j, t) = \frac{|S_{\text{left}}|}{|S|} G(S_{\text{left}}) + \frac{|S_{\text{right}}|}{|S|} G(S_{\text{right}}),
# $$
#
# where $p_k$ is the fraction of class $k$ in the node. A pure node has
# $G = 0$. It then repeats inside each half (Exercises 2 and 3 build this).

# %%
penguins = load("penguins", seed=SEED)
shallow_tree = DecisionTreeClassifier(max_depth=2, random_state=SEED).fit(penguins.train.X, penguins.train.y)
shallow_accuracy = shallow_tree.score(penguins.test.X, penguins.test.y)
assert shallow_accuracy > 0.85, "two questions should identify most penguins"
glue("penguin_tree_accuracy", shallow_accuracy, fmt=".1%")
glue("penguin_tree_leaves", int(shallow_tree.get_n_leaves()))
glue("penguin_root_feature", penguins.feature_names[shallow_tree.tree_.feature[0]])
glue("penguin_root_threshold", float(shallow_tree.tree_.threshold[0]), fmt=".1f")
print(f"a depth-2 tree with {int(shallow_tree.get_n_leaves())} leaves classifies {shallow_accuracy:.1%} of the test penguins")
print(export_text(shallow_tree, feature_names=penguins.feature_names, class_names=penguins.class_names, decimals=1))

# %% mystnb={"image": {"alt": "A depth-2 decision tree for penguin species: the root asks about flipper length, the short-flipper branch then asks about bill length and the long-flipper branch about the island, and the four leaves name Adelie, Chinstrap or Gentoo."}}
fig, ax = plt.subplots(figsize=(9, 3.8))
plot_tree(shallow_tree, feature_names=penguins.feature_names, class_names=penguins.class_names,
          filled=True, impurity=True, fontsize=7, ax=ax)
plt.show()

# %% [markdown]
# Read from the root down, the tree *is* a set of rules a biologist can check
# against a field guide. The first question is whether
# {glue:text}`penguin_root_feature` is at most
# {glue:text}`penguin_root_threshold`; each path then asks one more question
# and ends in a leaf that names a species. With
# only {glue:text}`penguin_tree_leaves` leaves it classifies
# {glue:text}`penguin_tree_accuracy` of the test penguins correctly. Compare
# the {glue:text}`params_mnist1d_cnn` weights of the CNN above: accurate, but
# no one can read them as rules. Linear models sit in between (one weight per
# feature and class, readable when the features are few and meaningful);
# forests and boosted ensembles of hundreds of trees are, in practice, as
# opaque as networks.
#
# ## 5. How deep? Deep trees overfit, forests cure them
#
# A tree grown without a depth limit keeps splitting until every leaf is
# pure: it can memorise its training set. We grow trees of increasing depth
# on MNIST-1D, on the training rows of the first fold of Section 3, and
# watch training and held-out accuracy on that fold.

# %%
X_dev, y_dev, folds = development_folds(mnist1d, N_FOLDS, SEED)
fit_rows, held = folds[0]  # the first fold: the same rows the random forest of Section 3 was scored on
depths = [2, 4, 6, 8, 12, 16, 20, 25, 30, None]  # None: grow until every leaf is pure
rows = []
for depth in depths:
    tree = DecisionTreeClassifier(max_depth=depth, random_state=SEED).fit(X_dev[fit_rows], y_dev[fit_rows])
    rows.append({"depth": tree.get_depth(),
                 "train": tree.score(X_dev[fit_rows], y_dev[fit_rows]),
                 "validation": tree.score(X_dev[held], y_dev[held]),
                 "leaves": tree.get_n_leaves()})
depth_table = pd.DataFrame(rows).set_index("depth")
forest_val = float(tuned["MNIST-1D"]["random forest"].scores["fold 1"].max())  # the chosen forest, same fold

gap = depth_table["train"] - depth_table["validation"]
deepest = depth_table.iloc[-1]
glue("tree_shallow_depth", int(depth_table.index[0]))
glue("tree_shallow_gap", 100 * gap.iloc[0], fmt=".0f")
glue("tree_deep_gap", 100 * gap.iloc[-1], fmt=".0f")
glue("tree_best_val", depth_table["validation"].max(), fmt=".1%")
glue("tree_deep_depth", int(depth_table.index[-1]))  # the depth the unlimited tree reached
glue("tree_deep_leaves", int(deepest["leaves"]))
glue("tree_signals_per_leaf", len(fit_rows) / deepest["leaves"], fmt=".1f")
glue("tree_deep_train", deepest["train"], fmt=".1%")
glue("tree_deep_val", deepest["validation"], fmt=".1%")
glue("forest_val", forest_val, fmt=".1%")
print(f"unlimited tree: depth {int(depth_table.index[-1])}, {int(deepest['leaves'])} leaves, "
      f"{len(fit_rows) / deepest['leaves']:.1f} training signals per leaf; "
      f"best tree on the held-out fold {depth_table['validation'].max():.1%}, the tuned forest {forest_val:.1%}; "
      f"train minus validation: {100 * gap.iloc[0]:.0f} points at depth {int(depth_table.index[0])}, "
      f"{100 * gap.iloc[-1]:.0f} for the unlimited tree")
# Margins: the fold sd of the tree and the forest is about 0.02; the gaps asserted are 10 times that.
assert deepest["train"] > 0.99, "a deep tree memorises its training set"
assert gap.iloc[-1] > gap.iloc[0] + 0.25, "... and the gap to validation accuracy grows with depth"
assert forest_val > depth_table["validation"].max() + 0.08, "a forest beats the best single tree"
depth_table.round(3).T

# %% mystnb={"image": {"alt": "Training and validation accuracy of decision trees against depth on MNIST-1D: training accuracy climbs to 100 percent while validation accuracy climbs slowly and ends far below; a dashed line for the random forest sits well above every tree."}}
fig, ax = plt.subplots()
ax.plot(depth_table.index, depth_table["train"], "o-", label="tree: training")
ax.plot(depth_table.index, depth_table["validation"], "o-", label="tree: validation")
ax.axhline(forest_val, color="tab:green", linestyle="--", label="tuned random forest: validation")
ax.set_xlabel("depth of the tree (the last point: no limit)")
ax.set_ylabel("accuracy")
ax.set_title("MNIST-1D: deep trees memorise; a forest generalises")
ax.legend()
plt.show()

# %% [markdown]
# Training accuracy climbs with depth to {glue:text}`tree_deep_train` at depth
# {glue:text}`tree_deep_depth`, where {glue:text}`tree_deep_leaves` pure
# leaves hold on average {glue:text}`tree_signals_per_leaf` training signals
# each: the tree has written down its training set. Validation accuracy
# climbs far more slowly: the gap between the two grows from
# {glue:text}`tree_shallow_gap` percentage points at depth
# {glue:text}`tree_shallow_depth` to {glue:text}`tree_deep_gap` points for the
# unlimited tree, which reaches only {glue:text}`tree_deep_val` on the
# held-out fold. That gap is **overfitting**: most of what the deep tree
# learned is the noise of its particular training signals, and its training
# accuracy says nothing about new data. (On some data sets validation
# accuracy even turns down past some depth; choosing the depth, or the leaf
# size as Section 3 did, on held-out data guards against that.)
#
# The random forest is the better cure: {glue:text}`forest_val` on the
# same held-out fold, against {glue:text}`tree_best_val` for the best single
# tree of any depth. It grows many deep trees, each on a bootstrap sample of the training
# set and choosing each split among a random subset of features, and lets
# them vote {cite}`breiman2001random`.
# Each tree overfits in its own way; averaging cancels much of it. If each
# of $B$ trees has variance $\sigma^2$ and two trees are correlated by
# $\rho$, their average has variance {cite}`hastie2009elements`
#
# $$
# \rho\, \sigma^2 + \frac{1 - \rho}{B}\, \sigma^2 ,
# $$
#
# so more trees shrink the second term, and the random feature choice lowers
# $\rho$. The price is what Section 4 showed: a vote of 100 trees cannot be
# read as rules.
#
# ## 6. Neural networks bend their decision boundaries
#
# A linear model separates classes with a straight line (a hyperplane in
# more dimensions). An MLP composes linear maps with nonlinearities,
# $f(x) = W_2\,\mathrm{ReLU}(W_1 x + b_1) + b_2$, and can bend its boundary
# around the data. Two generated data sets make this visible: two
# interleaving half-moons and a circle inside a ring.

# %%
BOUNDARY_SEEDS = [100 * SEED + i for i in range(3)]  # three draws of each data set (and of the network's start)
boundary_models, boundary_rows = {}, []
for name in ("moons", "circles"):
    for seed in BOUNDARY_SEEDS:
        data = load(name, seed=seed, n_samples=600).standardized()
        logistic = LogisticRegression().fit(data.train.X, data.train.y)
        network = TorchClassifier(mlp(2, [32, 32], 2), epochs=epochs(40), batch_size=32, lr=1e-2, device=DEVICE)
        network.fit(data.train.X, data.train.y)
        if seed == BOUNDARY_SEEDS[0]:
            boundary_models[name] = (data, logistic, network)
        boundary_rows.append({"data set": name, "seed": seed,
                              "dummy": DummyClassifier().fit(data.train.X, data.train.y).score(data.val.X, data.val.y),
                              "logistic regression": logistic.score(data.val.X, data.val.y),
                              "MLP": network.score(data.val.X, data.val.y)})
boundary_runs = pd.DataFrame(boundary_rows)
boundary_mean = boundary_runs.groupby("data set")[["dummy", "logistic regression", "MLP"]].mean()
boundary_sd = boundary_runs.groupby("data set")[["dummy", "logistic regression", "MLP"]].std()
boundary_accuracy = boundary_runs[boundary_runs["seed"] == BOUNDARY_SEEDS[0]].set_index("data set")
for name in boundary_mean.index:
    glue(f"{name}_logistic", float(boundary_mean.loc[name, "logistic regression"]), fmt=".1%")
    glue(f"{name}_mlp", float(boundary_mean.loc[name, "MLP"]), fmt=".1%")
glue("boundary_max_sd", float(boundary_sd.to_numpy().max()), fmt=".1%")
# Margins: the seed sd is at most about 0.03 (seeds 0, 1, 2, 3, 7); the gaps asserted are larger.
assert boundary_mean.loc["circles", "MLP"] > boundary_mean.loc["circles", "logistic regression"] + 0.3
assert boundary_mean.loc["moons", "MLP"] > boundary_mean.loc["moons", "logistic regression"] + 0.03
print(f"validation accuracy, mean ± sd over {len(BOUNDARY_SEEDS)} seeds:")
(boundary_mean.map("{:.3f}".format) + " ± " + boundary_sd.map("{:.3f}".format))

# %% mystnb={"image": {"alt": "Decision regions on moons and circles: logistic regression cuts each plane with a straight line, misclassifying much of the data, while the MLP's boundary curves around the moons and encloses the inner circle."}}
fig, axes = plt.subplots(2, 2, figsize=(8, 7))
for row, (name, (data, logistic, network)) in zip(axes, boundary_models.items()):
    X, y = data.val.X, data.val.y
    plot_decision_boundary(logistic.predict, X, y, ax=row[0], resolution=100,
                           title=f"{name}: logistic regression ({boundary_accuracy.loc[name, 'logistic regression']:.0%})")
    plot_decision_boundary(network.predict, X, y, ax=row[1], resolution=100,
                           title=f"{name}: MLP ({boundary_accuracy.loc[name, 'MLP']:.0%})")
fig.tight_layout()
plt.show()

# %% [markdown]
# The figure shows the first seed's validation points and decision regions;
# the table, the mean and spread over three draws of the data. On the
# circles, no straight line can do better than about half (the dummy's
# score): logistic regression scores {glue:text}`circles_logistic` on the
# validation points, the MLP {glue:text}`circles_mlp`. On the moons a line already gets most points
# ({glue:text}`moons_logistic`) and the curved boundary the rest
# ({glue:text}`moons_mlp`); no spread exceeds {glue:text}`boundary_max_sd`.
# The RBF SVM, $k$-nearest neighbours and the
# trees bend their boundaries too, each in its own way; the linear models
# never do.
#
# ## 7. ... but do they need more data and compute?
#
# The table of adjectives says neural networks "need a lot of data". We test
# it: train a random forest, the MLP and the CNN, each with the setting its
# grid chose in Section 3, on slices of MNIST-1D's training split of growing
# size, and measure validation accuracy and training time, over three seeds
# (each seed draws other slices and other starting weights). To be fair to
# the networks, each takes the same number of gradient steps whatever the
# slice size (more epochs on a smaller slice).

# %%
NETWORK_STEPS = round(100 * BUDGET)
CURVE_SEEDS = [100 * SEED + i for i in range(3)]
best = {name: tuned["MNIST-1D"][name].best for name in ("random forest", "MLP", "CNN")}
scaled_signals = mnist1d.standardized()  # statistics of the training split only


def epochs_for(n, batch_size=128):
    """Epochs that give about NETWORK_STEPS steps on n examples."""
    return max(1, math.ceil(NETWORK_STEPS * batch_size / n))


curves = []
for seed in CURVE_SEEDS:
    curves.append(compare_by_training_size(
        {
            "random forest": lambda n: RandomForestClassifier(n_estimators=N_TREES, n_jobs=-1, random_state=seed,
                                                              **best["random forest"]),
            "MLP": lambda n: TorchClassifier(mlp(40, [100, 100], 10), epochs=epochs_for(n), batch_size=128,
                                             device=DEVICE, **best["MLP"]),
            "CNN": lambda n: TorchClassifier(CNN1D(channels=32), epochs=epochs_for(n), batch_size=128,
                                             device=DEVICE, **best["CNN"]),
        },
        scaled_signals,
        train_sizes=[100, 400, 1600],
        seed=seed,
        use_val=False,  # a fixed number of steps, no epoch picked on the validation split we score on
        score_on="val",
    ))
curve = pd.concat(curves)
models_order = ["random forest", "MLP", "CNN"]
curve_acc = curve.pivot_table(index="training samples", columns="model", values="validation accuracy")[models_order]
curve_sd = curve.pivot_table(index="training samples", columns="model", values="validation accuracy",
                             aggfunc="std")[models_order]
curve_time = curve.pivot_table(index="training samples", columns="model", values="train time (s)")[models_order]
small = curve_acc.index[0]
glue("lc_small_n", int(small))
glue("lc_steps", NETWORK_STEPS)
glue("lc_n_seeds", len(CURVE_SEEDS))
glue("lc_max_sd", float(curve_sd.to_numpy().max()), fmt=".1%")
for name in curve_acc.columns:
    glue(f"lc_small_{key(name)}", float(curve_acc.loc[small, name]), fmt=".1%")
    glue(f"lc_large_{key(name)}", float(curve_acc.iloc[-1][name]), fmt=".1%")
    glue(f"lc_small_time_{key(name)}", float(curve_time.loc[small, name]), fmt=".2f")
glue("lc_large_n", int(curve_acc.index[-1]))
# Margins: the seed sd of any point is at most about 0.04 (seeds 0, 1, 2, 3, 7).
assert curve_acc.loc[small, "CNN"] > curve_acc.loc[small, "MLP"] + 0.05, "the CNN's built-in assumption saves data"
assert curve_acc.loc[small, "CNN"] > curve_acc.loc[small, "random forest"] + 0.05, "... and beats the forest on little data"
gains = curve_acc.iloc[-1] - curve_acc.iloc[0]
assert gains["random forest"] > 0.15, "the forest gains from more data"
print(f"validation accuracy, mean over {len(CURVE_SEEDS)} seeds:\n{curve_acc.round(3).to_string()}\n")
print(f"training time (s), mean over {len(CURVE_SEEDS)} seeds:\n{curve_time.round(2).to_string()}\n")
print(f"validation accuracy, mean ± sd over {len(CURVE_SEEDS)} seeds; networks: {NETWORK_STEPS} steps each")
curve_acc.map("{:.3f}".format) + " ± " + curve_sd.map("{:.3f}".format)

# %% mystnb={"image": {"alt": "Learning curves on MNIST-1D: validation accuracy against number of training examples on a log scale for a random forest, an MLP and a CNN; the CNN starts far ahead of the other two on the smallest slice, the forest and the MLP rise with more data, and the right panel shows the networks taking far longer to train than the forest on small slices."}}
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
for name in curve_acc.columns:
    axes[0].plot(curve_acc.index, curve_acc[name], "o-", label=name)
    axes[1].plot(curve_time.index, curve_time[name], "o-", label=name)
axes[0].set_ylabel("validation accuracy (mean of seeds)")
axes[1].set_ylabel("training time (s)")
for ax in axes:
    ax.set_xscale("log")
    ax.set_xlabel("training examples (log scale)")
axes[0].legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# Each point is the mean of {glue:text}`lc_n_seeds` seeds; no spread in the
# table exceeds {glue:text}`lc_max_sd`. The claim is half right. With
# {glue:text}`lc_small_n` training signals the MLP scores
# {glue:text}`lc_small_mlp` and the forest {glue:text}`lc_small_random_forest`;
# the forest climbs steadily with more data
# ({glue:text}`lc_large_random_forest` on {glue:text}`lc_large_n`), the MLP,
# which must learn every position separately, less
# ({glue:text}`lc_large_mlp`). The CNN, however, is ahead from the start
# ({glue:text}`lc_small_cnn` on {glue:text}`lc_small_n` signals): its
# assumption that a pattern means the same thing wherever it appears is
# *true* for this data, and here that assumption was worth many examples.
# (The networks take only {glue:text}`lc_steps` steps at every size, so
# this curve says nothing about how far longer training would take them.)
# What the networks did need here is **compute**: on the smallest slice the
# forest trains in {glue:text}`lc_small_time_random_forest` s, the CNN's
# {glue:text}`lc_steps` gradient steps take {glue:text}`lc_small_time_cnn` s.
# On ordinary tabular data, where no such assumption fits, tree ensembles
# remain hard to beat, a result of a large benchmark, not of this chapter
# {cite}`grinsztajn2022why`. In this run, "needs more data" was really a
# statement about whether a model's assumptions match the data.
#
# ## 8. AI models are narrow
#
# Everything above measured models on held-out data drawn the same way as
# their training data. People do not only face such data. Take the digit
# models of Section 3 (as fitted on the first fold) and give them that
# fold's held-out digits, changed in ways a person would barely notice: moved one or two pixels to the right, or drawn
# light-on-dark instead of dark-on-light. The task is, for a person, the same.

# %%
def shift_right(images, pixels):
    """Move 8x8 images (n, 64) ``pixels`` columns to the right, filling with blank (0) pixels."""
    grid = images.reshape(-1, 8, 8)
    moved = np.zeros_like(grid)
    moved[:, :, pixels:] = grid[:, :, : 8 - pixels]
    return moved.reshape(-1, 64)


# The models of Section 3 fitted on the first fold, scored on that fold's held-out digits
# (raw pixels: each model standardises them with its own training statistics).
X_dev_digits, y_dev_digits, digit_folds = development_folds(digits, N_FOLDS, SEED)
held_digits = X_dev_digits[digit_folds[0][1]]
held_labels = y_dev_digits[digit_folds[0][1]]
variants = {
    "original": held_digits,
    "shifted 1 px": shift_right(held_digits, 1),
    "shifted 2 px": shift_right(held_digits, 2),
    "inverted": 16 - held_digits,  # pixel values run from 0 (blank) to 16 (ink)
}
chosen = ["logistic regression", "random forest", "RBF SVM", "MLP"]
digit_models = {name: tuned["digits"][name].model for name in chosen}
narrow = pd.DataFrame(
    {
        variant: {name: float(np.mean(digit_models[name].predict(X) == held_labels)) for name in chosen}
        for variant, X in variants.items()
    }
)
narrow.index.name = "model"
for name in chosen:
    for variant in variants:
        glue(f"narrow_{key(name)}_{key(variant).replace('_px', '')}", narrow.loc[name, variant], fmt=".1%")
glue("narrow_worst_shift2", narrow["shifted 2 px"].max(), fmt=".1%")
glue("narrow_worst_inverted", narrow["inverted"].max(), fmt=".1%")
assert np.allclose(narrow["original"], [tuned["digits"][n].scores.loc[describe_setting(tuned["digits"][n].best), "fold 1"]
                                        for n in chosen]), "the original column repeats Section 3's first fold"
# Margins: the drops are 60 points or more; the fold sd of these models is under 0.02.
assert (narrow["original"] - narrow["shifted 2 px"] > 0.3).all(), "a 2-pixel shift should break every model"
assert (narrow["inverted"] < 0.5).all(), "inverted digits should break every model"
narrow.round(3)

# %% mystnb={"image": {"alt": "One test digit shown four ways, original, shifted one pixel, shifted two pixels and inverted, each titled with the MLP's prediction; the shifted and inverted versions are misread."}}
example = int(np.flatnonzero(digit_models["MLP"].predict(held_digits) == held_labels)[0])
fig, axes = plt.subplots(1, 4, figsize=(8, 2.4))
for ax, (variant, X) in zip(axes, variants.items()):
    prediction = digit_models["MLP"].predict(X[example : example + 1])[0]
    ax.imshow(X[example].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
    ax.set_title(f"{variant}\nMLP says {prediction}", fontsize=9)
    ax.set(xticks=[], yticks=[])
    for spine in ax.spines.values():  # draw the 8x8 frame, so the shift shows
        spine.set_visible(True)
fig.suptitle(f"a held-out digit {held_labels[example]}", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# A shift of two pixels drops every model to at most
# {glue:text}`narrow_worst_shift2` (the MLP: from
# {glue:text}`narrow_mlp_original` to {glue:text}`narrow_mlp_shifted_2`), and
# inverted digits to at most {glue:text}`narrow_worst_inverted`. Nothing is
# wrong with the models: they learned exactly the task in their training
# data, in which every digit is centred and dark on light, and nothing more.
# This is what "AI models are narrow" means in practice: a model is only
# tested for the conditions its data covered, and small changes of
# conditions, which image benchmarks reproduce with blur, noise or shifts,
# cause large drops {cite}`hendrycks2019benchmarking`. The remedies (training
# on the variations, data augmentation, architectures with the right
# invariances such as the CNN's) all amount to putting the new conditions
# into training. Chapter 8 returns to testing a model under such shifts.
#
# ## 9. So which algorithm?
#
# There is no algorithm that is best on every problem
# {cite}`wolpert1996lack`, but the evidence above suggests an order of work:
#
# 1. **Start with a linear model** (logistic regression): it trains in
#    seconds, is a baseline every other model must beat, and its weights can
#    be read. On the digits it was within {glue:text}`digits_logistic_gap`
#    percentage points of the best model.
# 2. **On tabular data, try a tree ensemble** (random forest or histogram
#    gradient boosting): no scaling needed, and strong on tabular benchmarks
#    {cite}`grinsztajn2022why`. Use a single shallow tree when people must
#    read the rules.
# 3. **When the input has structure** (neighbouring points of a signal,
#    pixels of an image, words of a sentence), **use a network whose
#    architecture matches it** (CNN, RNN, transformer), and budget the
#    compute: on MNIST-1D the CNN gained {glue:text}`mnist1d_cnn_gain` points
#    over logistic regression.
# 4. Mind prediction cost and size: $k$-nearest neighbours and kernel SVMs
#    carry their training data into every prediction.
# 5. Tune every contender on its own grid, compare them on validation
#    folds with their spread and a dummy, and keep the test set for the one
#    model you choose.
# 6. Whatever wins, test it on data that differs the way the real world
#    will differ from your training set.

# %% [markdown]
# ## Exercises
#
# **[Do these exercises on Colab](https://colab.research.google.com/github/ai-training-course/ai-training-course/blob/main/notebooks/exercises/03_choosing_an_algorithm.ipynb)**: the student version, with stubs instead of solutions.
#
# ```{exercise} Predict, then run: 1-nearest neighbour on its own training data
# :label: ch03-ex1
# Fit a $k$-nearest-neighbours classifier with $k = 1$ on the digits'
# training split (raw pixels, `load("digits", seed=0)`). Before running
# anything, predict its accuracy **on that same training split**, as a
# fraction between 0 and 1, and store it in `knn1_train_accuracy`. The cell
# after the check runs the experiment.
# ```
#
# ```{solution-start} ch03-ex1
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch03-ex1-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
knn1_train_accuracy = 1.0  # every training image is its own nearest neighbour, at distance 0
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch03-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q1.check()

# %%
ex_digits = load("digits", seed=0)
one_nn = KNeighborsClassifier(n_neighbors=1).fit(ex_digits.train.X, ex_digits.train.y)
print(f"1-NN: training accuracy {one_nn.score(ex_digits.train.X, ex_digits.train.y):.3f}, "
      f"validation accuracy {one_nn.score(ex_digits.val.X, ex_digits.val.y):.3f}")

# %% [markdown]
# ```{exercise} Gini impurity
# :label: ch03-ex2
# Write `gini(labels)` that returns the Gini impurity $1 - \sum_k p_k^2$ of an
# array of class labels, where $p_k$ is the fraction of labels equal to $k$.
# A pure array scores 0.
# ```
#
# ```{solution-start} ch03-ex2
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch03-ex2-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def gini(labels):
    ### BEGIN SOLUTION
    _, counts = np.unique(labels, return_counts=True)
    p = counts / counts.sum()
    return 1 - (p**2).sum()
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch03-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q2.check()

# %% [markdown]
# ```{exercise} Diagnose a tuning run
# :label: ch03-ex3
# A colleague tuned an RBF SVM's $C$ on a validation fold and reports
# "the best $C$ is 1". Their run (`ex.COLLEAGUE_GRID`, printed below) maps
# each $C$ they tried to its validation accuracy. What is wrong with the
# conclusion? Fix it: set `next_grid` to the list of values of $C$ you would
# try next.
# ```
#
# ```{solution-start} ch03-ex3
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch03-ex3-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
print(ex.COLLEAGUE_GRID)
### BEGIN SOLUTION
# The best C sits on the upper edge of the grid, with accuracy still rising:
# a larger C may be better. Keep the current best and step beyond it.
next_grid = [1.0, 10.0, 100.0]
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch03-ex3-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q3.check()

# %% [markdown]
# ```{exercise} The best split of one feature
# :label: ch03-ex4
# A tree's root tries every threshold on every feature. Write
# `best_threshold(x, y)` for a single feature `x` (shape `(n,)`) and labels
# `y`: try each midpoint between consecutive distinct sorted values of `x`
# as threshold $t$ (left: `x <= t`, right: `x > t`) and return the pair
# `(t, cost)` with the lowest size-weighted Gini impurity (the cost formula
# of Section 4). Make the function self-contained (do not rely on your `gini`).
# ```
#
# ```{solution-start} ch03-ex4
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch03-ex4-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def best_threshold(x, y):
    ### BEGIN SOLUTION
    def impurity(labels):
        _, counts = np.unique(labels, return_counts=True)
        p = counts / counts.sum()
        return 1 - (p**2).sum()

    values = np.unique(x)
    best = (None, np.inf)
    for t in (values[:-1] + values[1:]) / 2:
        left, right = y[x <= t], y[x > t]
        score = (len(left) * impurity(left) + len(right) * impurity(right)) / len(y)
        if score < best[1]:
            best = (t, score)
    return best
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch03-ex4-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q4.check()

# %% [markdown]
# ```{exercise} Experiment: tune the linear SVM
# :label: ch03-ex5
# The linear SVM sat out of Section 3's contest. Tune its $C$ on the digits
# (`load("digits", seed=0)`, raw pixels) with
# `helpers.compare.tune_by_cv(make, grid, data, n_folds=3, seed=0, select_on="first fold")`,
# where `make(C)` returns `sklearn.svm.LinearSVC(C=C)`. Choose a grid of 3
# to 6 values (increasing) whose best value is **not** on an edge, then
# store `linear_svm_result = {"grid": [...], "C": chosen C, "cv_accuracy": mean over the folds}`.
# The check reruns your grid and compares.
# ```
#
# ```{solution-start} ch03-ex5
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch03-ex5-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
from sklearn.svm import LinearSVC

from helpers.compare import tune_by_cv

### BEGIN SOLUTION
svm_grid = [0.001, 0.01, 0.1, 1.0]
svm_tuned = tune_by_cv(lambda C: LinearSVC(C=C), {"C": svm_grid}, load("digits", seed=0),
                       n_folds=3, seed=0, select_on="first fold")
print(svm_tuned.scores.round(3))
linear_svm_result = {"grid": svm_grid, "C": svm_tuned.best["C"], "cv_accuracy": svm_tuned.mean}
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch03-ex5-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q5.check()

# %% [markdown]
# ## Summary
#
# - A fair comparison tunes every model on its own grid, scores all of
#   them on the same cross-validation folds with their spread and a dummy
#   baseline, chooses on those folds, and scores only the chosen model on the
#   test set; `helpers.compare.compare_cv` and `test_once` do that for
#   scikit-learn and PyTorch models alike and measure accuracy, training
#   time, prediction time and size in one run.
# - On an easy tabular set (digits) every model but a lone tree scores above
#   90 %, most within a few spreads of each other, and cost and readability
#   decide. On MNIST-1D, where the position of a pattern
#   varies, the CNN beat logistic regression by
#   {glue:text}`mnist1d_cnn_gain` points.
# - Decision trees can be read as rules; grown deep they memorise their
#   training data. Forests vote many deep trees and generalise better, at the
#   price of readability.
# - Neural networks bend decision boundaries that linear models cannot, and
#   here cost more compute; whether they needed more *data* depended on
#   whether their built-in assumptions fit the data.
# - Models are narrow: a two-pixel shift or inverted ink broke every digit
#   model. Test on the variations the world will bring.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
