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
# # Chapter 8: Evaluating a model
#
# "The model is {glue:text}`eight_accuracy` accurate" sounds like the end of
# a project. It is the start of a set of questions. Accurate at what: would a
# model that always gives the same answer score {glue:text}`eight_dummy_accuracy`
# (section 2 meets exactly that case)? Which mistakes does it make, and
# which ones matter? Was the score measured on data that played no part in
# choosing the model? How much would it move on another test set of the same
# size? And will the model still be as accurate next month, when the data
# look a little different? This chapter answers each question with a measurement,
# on classification (breast cancer, handwritten digits) and regression
# (diabetes), with scikit-learn models and a PyTorch network trained with
# `helpers.train.fit`.
#
# **After this chapter you will be able to**
#
# - compute accuracy, precision, recall, F1 and a confusion matrix, and say
#   when accuracy misleads (a rare class);
# - read ROC and precision-recall curves and choose between them;
# - compare MSE, MAE and $R^2$ for regression and say what each rewards;
# - separate validation from test data, run k-fold cross-validation and
#   select a model without touching the test set;
# - put a bootstrap confidence interval on a test score and compare two
#   models fairly on the same test set;
# - spot overfitting as a gap between training and validation scores;
# - test a "perfect" model under distribution shift, draw a reliability
#   diagram, and say what to monitor after deployment.

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
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, QuantileRegressor
from sklearn.metrics import (
    PrecisionRecallDisplay,
    RocCurveDisplay,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from torch import nn

from helpers import glue, metrics, setup
from helpers.data import add_noise, load, rotate_images, shift_images
from helpers.exercises import ch08_evaluation as ex
from helpers.models import mlp
from helpers.plots import plot_confusion_matrix, plot_history, use_style
from helpers.train import fit, predict

DEVICE = setup(SEED)
use_style()
EPOCHS = max(20, round(30 * BUDGET))  # epochs of the digit MLPs
N_BOOT = max(300, round(1000 * BUDGET))  # bootstrap resamples

# %% [markdown]
# ## 1. Counting errors: accuracy, precision, recall, F1
#
# We start with a binary problem: is a breast tumour malignant, from 30
# measurements of its cell nuclei? We call the case we look for (malignant)
# **positive**. A classifier's test predictions then fall into four boxes,
# the **confusion matrix**: true positives $TP$ (malignant, flagged), false
# negatives $FN$ (malignant, missed), false positives $FP$ (benign,
# flagged) and true negatives $TN$. Every usual score is a ratio of these
# counts:
#
# $$
# \text{accuracy} = \frac{TP + TN}{n}, \qquad
# \text{precision} = \frac{TP}{TP + FP}, \qquad
# \text{recall} = \frac{TP}{TP + FN}, \qquad
# F_1 = \frac{2 \cdot \text{precision} \cdot \text{recall}}{\text{precision} + \text{recall}}.
# $$
#
# **Precision** answers "when the model raises the alarm, how often is it
# right?"; **recall** (sensitivity) answers "of the cases that are there,
# how many does it find?". $F_1$, their harmonic mean, is high only when
# both are. We fit a logistic regression on the training split and count the
# boxes on the test split by hand.

# %%
cancer = load("breast_cancer", seed=SEED)


def malignant(y):
    """scikit-learn codes malignant as 0 and benign as 1; we want malignant = 1 (positive)."""
    return (np.asarray(y) == 0).astype(int)


y_cancer_train, y_cancer_test = malignant(cancer.train.y), malignant(cancer.test.y)
cancer_model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
cancer_model.fit(cancer.train.X, y_cancer_train)
cancer_scores = cancer_model.decision_function(cancer.test.X)  # > 0 means "malignant"
cancer_pred = (cancer_scores > 0).astype(int)

# %% tags=["nbval-check-output"]
tp = int(np.sum((cancer_pred == 1) & (y_cancer_test == 1)))
fn = int(np.sum((cancer_pred == 0) & (y_cancer_test == 1)))
fp = int(np.sum((cancer_pred == 1) & (y_cancer_test == 0)))
tn = int(np.sum((cancer_pred == 0) & (y_cancer_test == 0)))
accuracy_by_hand = (tp + tn) / len(y_cancer_test)
precision_by_hand = tp / (tp + fp)
recall_by_hand = tp / (tp + fn)
f1_by_hand = 2 * precision_by_hand * recall_by_hand / (precision_by_hand + recall_by_hand)
print(f"TP {tp}, FN {fn}, FP {fp}, TN {tn}")
print(f"accuracy {accuracy_by_hand:.3f}, precision {precision_by_hand:.3f}, "
      f"recall {recall_by_hand:.3f}, F1 {f1_by_hand:.3f}")

# %% [markdown]
# `helpers.metrics.classification_report` gives the same four numbers (it
# calls scikit-learn {cite}`pedregosa2011scikit`); we check that it agrees
# with our counting before we rely on it.

# %%
cancer_report = metrics.classification_report(y_cancer_test, cancer_pred)
by_hand = {"accuracy": accuracy_by_hand, "precision": precision_by_hand, "recall": recall_by_hand, "f1": f1_by_hand}
for name, value in by_hand.items():
    assert np.isclose(cancer_report[name], value), name

glue("cancer_n_test", len(y_cancer_test))
glue("cancer_prevalence", y_cancer_test.mean(), fmt=".0%")
glue("cancer_accuracy", accuracy_by_hand, fmt=".1%")
glue("cancer_precision", precision_by_hand, fmt=".1%")
glue("cancer_recall", recall_by_hand, fmt=".1%")
glue("cancer_missed", fn)
glue("cancer_false_alarms", fp);

# %% mystnb={"image": {"alt": "Two-by-two confusion matrix of the breast cancer classifier on the test set: most tumours sit on the diagonal (correctly called benign or malignant), with a handful of missed malignant tumours and false alarms off the diagonal."}}
plot_confusion_matrix(y_cancer_test, cancer_pred, ["benign", "malignant"], title="breast cancer, test set")
plt.show()

# %% [markdown]
# On the {glue:text}`cancer_n_test` test tumours
# ({glue:text}`cancer_prevalence` malignant) the model is right
# {glue:text}`cancer_accuracy` of the time. Its precision is
# {glue:text}`cancer_precision` and its recall {glue:text}`cancer_recall`:
# of the malignant tumours it missed {glue:text}`cancer_missed`, and it
# flagged {glue:text}`cancer_false_alarms` benign ones as malignant (false
# alarms). For a screening test the two
# kinds of error do not cost the same, which is why we report them apart.
#
# ## 2. When accuracy misleads: a rare class
#
# Now a problem where the positive class is rare: find the **8s** among
# handwritten digits, where only about one image in ten is an 8. A model that
# never says "8" is right nine times out of ten. We compare a logistic
# regression with that do-nothing baseline (scikit-learn's `DummyClassifier`
# predicting the most frequent class) on both problems.

# %%
digits = load("digits", seed=SEED)
TARGET_DIGIT = 8
y_eight_train = (digits.train.y == TARGET_DIGIT).astype(int)
y_eight_test = (digits.test.y == TARGET_DIGIT).astype(int)
eight_model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
eight_model.fit(digits.train.X, y_eight_train)
eight_scores = eight_model.decision_function(digits.test.X)
eight_pred = (eight_scores > 0).astype(int)

problems = {
    "breast cancer (malignant?)": (cancer.train.X, y_cancer_train, cancer.test.X, y_cancer_test),
    f"digits (is it an {TARGET_DIGIT}?)": (digits.train.X, y_eight_train, digits.test.X, y_eight_test),
}
rows = {}
for problem, (X_tr, y_tr, X_te, y_te) in problems.items():
    baseline = DummyClassifier(strategy="most_frequent").fit(X_tr, y_tr)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X_tr, y_tr)
    for name, fitted in (("always the majority class", baseline), ("logistic regression", model)):
        predictions = fitted.predict(X_te)
        report = metrics.classification_report(y_te, predictions)
        report["balanced accuracy"] = metrics.score("balanced_accuracy", y_te, predictions)
        report["positives in test"] = y_te.mean()
        rows[(problem, name)] = report
misleading = pd.DataFrame.from_dict(rows, orient="index").drop(columns="n")
misleading.index.names = ["problem", "model"]

# %% tags=["nbval-check-output"]
print(misleading.round(3).to_string())

# %%
eight_rare = misleading.loc[f"digits (is it an {TARGET_DIGIT}?)"]
dummy_rare = eight_rare.loc["always the majority class"]
logreg_rare = eight_rare.loc["logistic regression"]
eight_report = metrics.classification_report(y_eight_test, eight_pred)
assert np.isclose(eight_report["f1"], logreg_rare["f1"])
assert dummy_rare["accuracy"] > 0.85, "the do-nothing model should look accurate on a rare class"
assert dummy_rare["recall"] == 0 and dummy_rare["f1"] == 0, "... while finding none of the positives"
assert logreg_rare["f1"] < logreg_rare["accuracy"] - 0.1, "F1 should reveal what accuracy hides"

glue("eight_prevalence", y_eight_test.mean(), fmt=".1%")
glue("eight_dummy_accuracy", dummy_rare["accuracy"], fmt=".1%")
glue("eight_accuracy", logreg_rare["accuracy"], fmt=".1%")
glue("eight_precision", logreg_rare["precision"], fmt=".1%")
glue("eight_recall", logreg_rare["recall"], fmt=".1%")
glue("eight_f1", logreg_rare["f1"], fmt=".2f")
glue("eight_missed", int(np.sum((eight_pred == 0) & (y_eight_test == 1))))
glue("eight_n_positive", int(y_eight_test.sum()))
glue("eight_gain", 100 * (logreg_rare["accuracy"] - dummy_rare["accuracy"]), fmt=".1f")
glue("cancer_dummy_accuracy", misleading.loc[("breast cancer (malignant?)", "always the majority class"), "accuracy"], fmt=".1%");

# %% [markdown]
# Only {glue:text}`eight_prevalence` of the test digits are 8s, so the
# do-nothing model scores {glue:text}`eight_dummy_accuracy` accuracy while
# finding no 8 at all (recall and $F_1$ are 0); on the cancer data the same
# trick scores only {glue:text}`cancer_dummy_accuracy`. The logistic
# regression's {glue:text}`eight_accuracy` sounds excellent, but it is only
# {glue:text}`eight_gain` percentage points above doing nothing: it finds
# {glue:text}`eight_recall` of the 8s (it misses {glue:text}`eight_missed` of
# {glue:text}`eight_n_positive`), its precision is
# {glue:text}`eight_precision`, and its $F_1$ is {glue:text}`eight_f1`.
# **Accuracy is only meaningful next to the accuracy of a trivial
# baseline**; with a rare class, report precision, recall and $F_1$ of that
# class, or the **balanced accuracy** (the mean recall over classes, on
# which the do-nothing model scores 50 %).
#
# ## 3. Every threshold at once: ROC and precision-recall curves
#
# A classifier outputs a **score**; we turned it into a decision by
# comparing it with 0. Any other threshold trades recall for precision. The
# **ROC curve** {cite}`fawcett2006introduction` draws, for every threshold,
# the true positive rate (recall) against the false positive rate
# $FP / (FP + TN)$; the area under it (ROC AUC) is the probability that a
# random positive gets a higher score than a random negative. The
# **precision-recall curve** draws precision against recall. We compute the
# ROC curve from scratch: sort the test samples by score, and lower the
# threshold one sample at a time.

# %%
order = np.argsort(-eight_scores)  # highest score first
hits = y_eight_test[order]  # 1 where the next sample let through is a real 8
true_positive_rate = np.concatenate([[0.0], np.cumsum(hits) / hits.sum()])
false_positive_rate = np.concatenate([[0.0], np.cumsum(1 - hits) / (1 - hits).sum()])
precision_curve = np.cumsum(hits) / np.arange(1, len(hits) + 1)
auc_by_hand = np.trapezoid(true_positive_rate, false_positive_rate)
assert np.isclose(auc_by_hand, roc_auc_score(y_eight_test, eight_scores)), "our ROC AUC should match scikit-learn's"

# precision we pay to find at least 90 % of the 8s: the first cut-off with recall >= 0.9
first = int(np.argmax(true_positive_rate[1:] >= 0.9))
glue("eight_precision_at_90_recall", precision_curve[first], fmt=".1%");

# %% mystnb={"image": {"alt": "Left: ROC curves of the breast cancer and the digit-8 classifiers, both hugging the top-left corner with areas close to 1, above the diagonal of a random guess. Right: precision-recall curves; the breast cancer curve stays high, while the digit-8 curve drops well below it, and the chance levels are horizontal lines at the share of positives, much lower for the rare 8s."}}
fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(9, 3.8))
curves = {"breast cancer": (y_cancer_test, cancer_scores), f"is it an {TARGET_DIGIT}?": (y_eight_test, eight_scores)}
for i, (name, (y_true, scores)) in enumerate(curves.items()):
    last = i == len(curves) - 1
    RocCurveDisplay.from_predictions(y_true, scores, ax=ax_roc, name=name, plot_chance_level=last)
    PrecisionRecallDisplay.from_predictions(y_true, scores, ax=ax_pr, name=name, plot_chance_level=True)
ax_roc.set_title("ROC: recall against false positive rate")
ax_pr.set_title("precision against recall (dashed: chance)")
for ax in (ax_roc, ax_pr):
    ax.legend(fontsize="small", loc="lower left")
fig.tight_layout()
plt.show()

# %%
auc_cancer, auc_eight = roc_auc_score(y_cancer_test, cancer_scores), auc_by_hand
ap_cancer = metrics.score("average_precision", y_cancer_test, cancer_scores)
ap_eight = metrics.score("average_precision", y_eight_test, eight_scores)
assert auc_eight > 0.9 and ap_eight < auc_eight - 0.05, "ROC AUC should flatter the rare-class detector"
glue("auc_cancer", auc_cancer, fmt=".3f")
glue("auc_eight", auc_eight, fmt=".3f")
glue("ap_cancer", ap_cancer, fmt=".3f")
glue("ap_eight", ap_eight, fmt=".3f");

# %% [markdown]
# Both ROC curves look nearly perfect: the areas are
# {glue:text}`auc_cancer` (cancer) and {glue:text}`auc_eight` (8s). The
# precision-recall curves tell them apart: the area under them (**average
# precision**) is {glue:text}`ap_cancer` for cancer but
# {glue:text}`ap_eight` for the 8s, and to find 90 % of the 8s we must
# accept a precision of {glue:text}`eight_precision_at_90_recall`. The false
# positive rate divides by the many negatives, so even a few hundred false
# alarms barely move the ROC curve; precision counts them against the few
# positives. On imbalanced data the precision-recall curve is the more
# informative one {cite}`davis2006relationship,saito2015precision`, and its
# chance level is the share of positives (dashed lines), not 0.5.
#
# ## 4. Many classes: a PyTorch network on digits
#
# With ten classes, precision, recall and $F_1$ are computed per class
# (each class in turn is "positive") and averaged: the **macro** average
# gives each class the same weight. We train the course's MLP on the ten
# digits with `helpers.train.fit` and read its confusion matrix. Pixels go
# from 0 to 16; we divide them by 16.


# %%
def train_digit_mlp(X_train, y_train, val=None, *, epochs=EPOCHS, hidden=(64,), seed=SEED, restore_best=True):
    """An MLP on 8x8 digit images (pixels already scaled to [0, 1]), trained with helpers.train.fit."""
    torch.manual_seed(seed)
    model = mlp(64, list(hidden), 10)
    history = fit(model, (X_train.astype(np.float32), y_train), val, loss_fn=nn.CrossEntropyLoss(),
                  lr=3e-3, epochs=epochs, batch_size=64, device=DEVICE, restore_best=restore_best)
    return model, history


def mlp_probabilities(model, X):
    """Class probabilities (n, 10) of the MLP for pixels scaled to [0, 1]."""
    return torch.softmax(predict(model, X.astype(np.float32)), dim=1).numpy()


X_train_d, X_val_d, X_test_d = digits.train.X / 16, digits.val.X / 16, digits.test.X / 16
y_train_d, y_val_d, y_test_d = digits.train.y, digits.val.y, digits.test.y
digit_mlp, digit_history = train_digit_mlp(X_train_d, y_train_d, (X_val_d.astype(np.float32), y_val_d))
mlp_test_probs = mlp_probabilities(digit_mlp, X_test_d)
mlp_test_pred = mlp_test_probs.argmax(axis=1)

per_class = pd.DataFrame(
    precision_recall_fscore_support(y_test_d, mlp_test_pred, zero_division=0)[:3],
    index=["precision", "recall", "f1"], columns=digits.class_names,
).T
per_class.index.name = "digit"
digit_report = metrics.classification_report(y_test_d, mlp_test_pred)
per_class.round(3).T

# %% mystnb={"image": {"alt": "Ten-by-ten confusion matrix of the digit MLP on the test set: large counts on the diagonal and a few scattered confusions between similar digits."}}
plot_confusion_matrix(y_test_d, mlp_test_pred, digits.class_names, title="digits MLP, test set")
plt.show()

# %%
confusions = confusion_matrix(y_test_d, mlp_test_pred, labels=range(10))
np.fill_diagonal(confusions, 0)
true_digit, predicted_digit = np.unravel_index(confusions.argmax(), confusions.shape)
assert digit_report["accuracy"] > 0.9, "the MLP should read digits well"
glue("mlp_accuracy", digit_report["accuracy"], fmt=".1%")
glue("mlp_macro_f1", digit_report["f1"], fmt=".3f")
glue("mlp_worst_digit", str(per_class["recall"].idxmin()))
glue("mlp_worst_recall", per_class["recall"].min(), fmt=".1%")
glue("mlp_top_confusion", f"{true_digit} read as {predicted_digit} ({confusions.max()} times)");

# %% [markdown]
# The MLP is right on {glue:text}`mlp_accuracy` of the test digits, with a
# macro $F_1$ of {glue:text}`mlp_macro_f1`. The classes are balanced, so
# accuracy and the macro averages agree; the per-class table still shows
# where it struggles: digit {glue:text}`mlp_worst_digit` has the lowest
# recall ({glue:text}`mlp_worst_recall`), and the most frequent confusion is
# {glue:text}`mlp_top_confusion`.
#
# ## 5. Regression: MSE, MAE and $R^2$
#
# For a numeric target $y$ and a prediction $\hat y$:
#
# $$
# \text{MSE} = \frac1n \sum_i (y_i - \hat y_i)^2, \qquad
# \text{MAE} = \frac1n \sum_i |y_i - \hat y_i|, \qquad
# R^2 = 1 - \frac{\sum_i (y_i - \hat y_i)^2}{\sum_i (y_i - \bar y)^2}.
# $$
#
# They reward different things. Squaring makes **MSE** dominated by the
# largest errors, and the single number that minimises it is the **mean**
# of the targets. **MAE** weighs every unit of error the same, so a few
# large misses matter less, and its best constant is the **median**. $R^2$
# is MSE rescaled: 1 is perfect, 0 is what predicting the mean achieves, and
# it is negative for a model worse than that. We check these claims on the
# diabetes data (disease progression one year on, from ten measurements),
# whose targets are skewed, so mean and median differ.

# %%
diabetes = load("diabetes", seed=SEED)
y_reg_train, y_reg_test = diabetes.train.y.astype(float), diabetes.test.y.astype(float)
constants = np.linspace(y_reg_train.min(), y_reg_train.max(), 401)
mse_of_constant = np.array([metrics.mse(y_reg_train, np.full_like(y_reg_train, c)) for c in constants])
mae_of_constant = np.array([metrics.mae(y_reg_train, np.full_like(y_reg_train, c)) for c in constants])
mse_at_mean = metrics.mse(y_reg_train, np.full_like(y_reg_train, y_reg_train.mean()))
mae_at_median = metrics.mae(y_reg_train, np.full_like(y_reg_train, np.median(y_reg_train)))
assert mse_at_mean <= mse_of_constant.min() + 1e-9, "no constant beats the mean under MSE"
assert mae_at_median <= mae_of_constant.min() + 1e-9, "no constant beats the median under MAE"

# %% mystnb={"image": {"alt": "Two curves of the training error of a constant prediction as the constant varies: the MSE curve is a parabola with its minimum at the mean of the targets; the MAE curve is V-shaped with its minimum at the median, which lies to the left of the mean."}}
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
for ax, values, best, label, where in (
    (axes[0], mse_of_constant, y_reg_train.mean(), "MSE", "mean"),
    (axes[1], mae_of_constant, np.median(y_reg_train), "MAE", "median"),
):
    ax.plot(constants, values)
    ax.axvline(best, color="grey", linestyle=":", label=f"{where} of the targets ({best:.0f})")
    ax.set_xlabel("constant prediction")
    ax.set_ylabel(f"training {label}")
    ax.legend()
fig.tight_layout()
plt.show()

# %%
regressors = {
    "predict the training mean": np.full_like(y_reg_test, y_reg_train.mean()),
    "predict the training median": np.full_like(y_reg_test, np.median(y_reg_train)),
}
least_squares = make_pipeline(StandardScaler(), LinearRegression()).fit(diabetes.train.X, y_reg_train)
least_absolute = make_pipeline(StandardScaler(), QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs"))
least_absolute.fit(diabetes.train.X, y_reg_train)
regressors["linear, least squares (min. MSE)"] = least_squares.predict(diabetes.test.X)
regressors["linear, least absolute (min. MAE)"] = least_absolute.predict(diabetes.test.X)
regression_table = metrics.report_frame({name: metrics.regression_report(y_reg_test, p) for name, p in regressors.items()})

# %% tags=["nbval-check-output"]
print(regression_table.drop(columns="n").round(3).to_string())

# %%
errors = np.abs(y_reg_test - regressors["linear, least squares (min. MSE)"])
largest_tenth = np.sort(errors)[-max(1, len(errors) // 10):]
share_of_mse = (largest_tenth**2).sum() / (errors**2).sum()
share_of_mae = largest_tenth.sum() / errors.sum()
assert share_of_mse > share_of_mae, "squaring gives the largest errors more weight"
ls_row = regression_table.loc["linear, least squares (min. MSE)"]
assert ls_row["r2"] > 0.2, "a linear model explains part of the variation"
glue("reg_mean", y_reg_train.mean(), fmt=".0f")
glue("reg_median", np.median(y_reg_train), fmt=".0f")
glue("reg_r2", ls_row["r2"], fmt=".2f")
glue("reg_rmse", ls_row["rmse"], fmt=".0f")
glue("reg_mae", ls_row["mae"], fmt=".0f")
glue("reg_mean_r2", regression_table.loc["predict the training mean", "r2"], fmt=".3f")
glue("reg_share_mse", share_of_mse, fmt=".0%")
glue("reg_share_mae", share_of_mae, fmt=".0%");

# %% [markdown]
# The training targets have mean {glue:text}`reg_mean` and median
# {glue:text}`reg_median`, and the curves confirm that these are the best
# constants under MSE and MAE. The least-squares linear model reaches
# $R^2 =$ {glue:text}`reg_r2` on the test set, an RMSE of
# {glue:text}`reg_rmse` and an MAE of {glue:text}`reg_mae` (both in the
# target's units; MSE is in squared units, which is why we quote its square
# root). Predicting the training mean gives $R^2 =$ {glue:text}`reg_mean_r2`
# on the test set: about 0, and below 0 when the test mean differs from the
# training mean. The largest tenth of that model's errors make up
# {glue:text}`reg_share_mse` of its squared error but only
# {glue:text}`reg_share_mae` of its absolute error: choose MSE when large
# misses are disproportionately costly, MAE when every unit of error costs
# the same and outliers should not dominate. Each model in the table wins on
# the metric it was fitted to minimise on the training data; that need not
# carry over to the test set exactly.
#
# ## 6. Validation, test, and k-fold cross-validation
#
# Every choice made by looking at a score (which model, which
# hyperparameters, when to stop) fits the data that score was measured on,
# a little. So we keep three roles apart:
#
# - **training** data fit the parameters;
# - **validation** data guide choices: models, settings, early stopping;
# - **test** data are used once, at the end, to report how the *chosen*
#   model does on data that influenced nothing.
#
# One validation split of a few hundred samples gives a noisy score. **k-fold
# cross-validation** {cite}`hastie2009elements` uses the development data
# (training + validation) better: cut it into $k$ folds, train on $k-1$ of
# them, score on the one left out, and repeat so each fold is left out once.
# The mean of the $k$ scores estimates the model's accuracy, and their spread
# shows how much it depends on the particular split. Every model below sees
# the same five folds; the PyTorch MLP enters as a `fit_predict` function.


# %%
def mlp_fit_predict(X_train, y_train, X_val):
    """Train the digit MLP with helpers.train.fit on one fold; predict the left-out fold."""
    model, _ = train_digit_mlp(X_train / 16, y_train)
    return mlp_probabilities(model, X_val / 16).argmax(axis=1)


X_dev = np.concatenate([digits.train.X, digits.val.X])
y_dev = np.concatenate([digits.train.y, digits.val.y])
candidates = {
    "logistic regression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
    "k nearest neighbours (k=3)": KNeighborsClassifier(n_neighbors=3),
    "RBF support vector machine": make_pipeline(StandardScaler(), SVC()),
    "random forest": RandomForestClassifier(n_estimators=max(20, round(100 * BUDGET)), random_state=SEED),
    "MLP (PyTorch, helpers.train.fit)": mlp_fit_predict,
}
validation_accuracy = metrics.cross_validation_table(candidates, X_dev, y_dev, k=5, seed=SEED)
validation_accuracy = validation_accuracy.sort_values("mean", ascending=False)
validation_accuracy.round(3).style.set_caption("Validation Accuracy (5-fold cross-validation on the development set)")

# %%
chosen_name = validation_accuracy.index[0]
chosen = candidates[chosen_name]
if callable(chosen) and not hasattr(chosen, "fit"):
    chosen_test_pred = chosen(X_dev, y_dev, digits.test.X)
else:
    chosen_test_pred = chosen.fit(X_dev, y_dev).predict(digits.test.X)
chosen_test_accuracy = metrics.accuracy(y_test_d, chosen_test_pred)
fold_columns = [c for c in validation_accuracy.columns if c.startswith("fold")]
fold_range = validation_accuracy[fold_columns].max(axis=1) - validation_accuracy[fold_columns].min(axis=1)
assert abs(chosen_test_accuracy - validation_accuracy.loc[chosen_name, "mean"]) < 0.05, "CV should predict the test score"
glue("cv_best_model", chosen_name)
glue("cv_best_mean", validation_accuracy.loc[chosen_name, "mean"], fmt=".1%")
glue("cv_best_std", validation_accuracy.loc[chosen_name, "std"], fmt=".1%")
glue("cv_worst_model", validation_accuracy.index[-1])
glue("cv_worst_mean", validation_accuracy["mean"].iloc[-1], fmt=".1%")
glue("cv_largest_fold_range", fold_range.max(), fmt=".1%")
glue("chosen_test_accuracy", chosen_test_accuracy, fmt=".1%");

# %% [markdown]
# The best mean validation accuracy belongs to the
# {glue:text}`cv_best_model`: {glue:text}`cv_best_mean`, with a standard
# deviation of {glue:text}`cv_best_std` across folds. The
# {glue:text}`cv_worst_model` comes last at {glue:text}`cv_worst_mean`. For
# one model the folds differ by up to {glue:text}`cv_largest_fold_range`:
# differences between models smaller than the spread across folds are not
# worth acting on. Only now, with the choice made, do we refit the chosen
# model on all development data and touch the test set, once:
# {glue:text}`chosen_test_accuracy`, close to its cross-validated estimate.
#
# ### Why the test set must not be used for choosing
#
# Picking the best of many candidates by their validation scores favours the
# candidate that was *lucky* on that data, so the winner's validation score
# is optimistic {cite}`varma2006bias,cawley2010overfitting`. The effect is
# easiest to see when there is nothing to learn: we give the digit images
# **random** labels (coin flips), try 60 nearest-neighbour models on random
# pixel subsets, and keep the one with the best validation accuracy. Its true
# accuracy is 50 % by construction.

# %%
rng = np.random.default_rng(SEED)
X_all = np.concatenate([digits.train.X, digits.val.X, digits.test.X])
coin_flips = rng.integers(0, 2, size=len(X_all))
n_fit, n_val = 300, 100
fit_part, val_part, test_part = slice(0, n_fit), slice(n_fit, n_fit + n_val), slice(n_fit + n_val, None)
trials = []
for _ in range(60):
    pixels = rng.choice(64, size=10, replace=False)
    k = int(rng.integers(1, 26))
    model = KNeighborsClassifier(n_neighbors=k).fit(X_all[fit_part][:, pixels], coin_flips[fit_part])
    trials.append((model.score(X_all[val_part][:, pixels], coin_flips[val_part]), model, pixels))
best_val, best_model, best_pixels = max(trials, key=lambda t: t[0])
best_test = best_model.score(X_all[test_part][:, best_pixels], coin_flips[test_part])
mean_val = np.mean([t[0] for t in trials])
assert best_val > best_test + 0.04, "the selected model's validation score should be optimistic"
assert abs(best_test - 0.5) < 0.06, "on fresh data a model of coin flips is right half of the time"
glue("noise_best_val", best_val, fmt=".1%")
glue("noise_best_test", best_test, fmt=".1%")
glue("noise_mean_val", mean_val, fmt=".1%")
glue("noise_n_test", len(coin_flips[test_part]));

# %% [markdown]
# The 60 models average {glue:text}`noise_mean_val` on the validation set,
# as they should, but the best of them scores {glue:text}`noise_best_val`.
# On {glue:text}`noise_n_test` untouched test samples it scores
# {glue:text}`noise_best_test`. The validation score of a selected model is
# no longer an honest estimate; only data that played no part in the
# selection is. With real tuning the bias is smaller but of the same kind,
# which is why the test set is used once, after all choices, and why
# extensive tuning calls for **nested** cross-validation (an inner loop that
# selects, an outer loop that scores the whole selection procedure).
#
# ## 7. Overfitting seen as a train/validation gap
#
# A model that fits its training data much better than its validation data
# has learned features of *those* samples that do not generalise. The gap is
# easy to read off the learning curves. We train a wider MLP on only 150
# training images for many epochs (keeping the last weights, not the best)
# and compare it with the MLP of section 4, trained on all
# {glue:text}`n_train_digits` training images.

# %%
small = slice(0, 150)
small_mlp, small_history = train_digit_mlp(
    X_train_d[small], y_train_d[small], (X_val_d.astype(np.float32), y_val_d),
    epochs=max(75, round(150 * BUDGET)), hidden=(256,), restore_best=False,
)
gap_small = small_history.last("train_metric") - small_history.last("val_metric")
gap_full = digit_history.last("train_metric") - digit_history.last("val_metric")
best_val_loss_epoch = int(np.argmin(small_history.val_loss)) + 1
assert gap_small > 0.05 and gap_small > gap_full + 0.03, "less data should mean a larger generalisation gap"
assert small_history.val_loss[-1] > min(small_history.val_loss), "the validation loss should rise after its minimum"
glue("n_train_digits", len(y_train_d))
glue("small_train_acc", small_history.last("train_metric"), fmt=".1%")
glue("small_val_acc", small_history.last("val_metric"), fmt=".1%")
glue("small_gap", gap_small, fmt=".1%")
glue("full_gap", gap_full, fmt=".1%")
glue("small_best_epoch", best_val_loss_epoch)
glue("small_epochs", len(small_history));

# %% mystnb={"image": {"alt": "Learning curves of two MLPs. Top, trained on 150 images: training accuracy reaches 100 percent while validation accuracy levels off well below, and the validation loss turns upward after its minimum. Bottom, trained on all training images: training and validation curves stay close."}}
fig, axes = plt.subplots(2, 2, figsize=(9, 6))
plot_history(small_history, axes=axes[0])
plot_history(digit_history, axes=axes[1])
axes[0, 0].set_title("150 training images, wide MLP")
axes[1, 0].set_title(f"{len(y_train_d)} training images")
fig.tight_layout()
plt.show()

# %% [markdown]
# On 150 images the wider MLP ends at {glue:text}`small_train_acc` training
# accuracy but {glue:text}`small_val_acc` on validation data: a gap of
# {glue:text}`small_gap`, against {glue:text}`full_gap` for the MLP trained
# on all the data. Its validation loss was lowest at epoch
# {glue:text}`small_best_epoch` of {glue:text}`small_epochs` and then rose
# while the training loss kept falling, typically because the model grows
# ever more confident, including on the validation images it gets wrong. More data, a smaller model,
# regularisation and early stopping (later chapters) all shrink the gap.
#
# ## 8. How certain is a test score? The bootstrap
#
# The test set is a sample. Another test set of the same size would give a
# somewhat different accuracy. The **bootstrap** {cite}`efron1993introduction`
# estimates how different without collecting new data: draw $n$ test samples
# *with replacement* from the $n$ we have, score the model on this
# resampled set, repeat many times, and read off the middle 95 % of the
# scores. The model is not retrained; only the test set is resampled. Here
# it is from scratch for the MLP's test accuracy.

# %%
correct = (mlp_test_pred == y_test_d).astype(float)
rng = np.random.default_rng(SEED)
resampled_accuracies = np.array([correct[rng.integers(0, len(correct), len(correct))].mean() for _ in range(N_BOOT)])
low, high = np.percentile(resampled_accuracies, [2.5, 97.5])
p, n = correct.mean(), len(correct)
normal_half_width = 1.96 * np.sqrt(p * (1 - p) / n)  # the textbook interval for a proportion
helper_interval = metrics.bootstrap_ci(y_test_d, mlp_test_pred, "accuracy", n_boot=N_BOOT, seed=SEED)
f1_interval = metrics.bootstrap_ci(y_test_d, mlp_test_pred, "f1", n_boot=N_BOOT, seed=SEED)
assert abs((high - low) / 2 - normal_half_width) < 0.01, "bootstrap and normal intervals should agree here"
assert abs(helper_interval.low - low) < 0.01 and abs(helper_interval.high - high) < 0.01
print(f"accuracy {helper_interval}")
print(f"macro F1 {f1_interval}")
glue("boot_accuracy", p, fmt=".1%")
glue("boot_low", low, fmt=".1%")
glue("boot_high", high, fmt=".1%")
glue("boot_half_width", (high - low) / 2, fmt=".1%")
glue("normal_half_width", normal_half_width, fmt=".1%")
glue("boot_n_test", n)
glue("boot_n_resamples", N_BOOT);

# %% mystnb={"image": {"alt": "Histogram of the MLP's test accuracy over bootstrap resamples of the test set, a bell shape a few percentage points wide, with the 95 percent interval marked by two vertical lines."}}
fig, ax = plt.subplots(figsize=(5.5, 3))
ax.hist(resampled_accuracies, bins=30, color="#1f77b4", alpha=0.8)
for edge in (low, high):
    ax.axvline(edge, color="grey", linestyle=":")
ax.axvline(p, color="black", label="accuracy on the real test set")
ax.set_xlabel("accuracy on a resampled test set")
ax.set_ylabel("resamples")
ax.legend(loc="upper left")
plt.show()

# %% [markdown]
# The MLP's {glue:text}`boot_accuracy` on {glue:text}`boot_n_test` test
# images comes with a 95 % interval of {glue:text}`boot_low` to
# {glue:text}`boot_high` ({glue:text}`boot_n_resamples` resamples), a
# half-width of {glue:text}`boot_half_width`, close to the textbook
# formula for a proportion, $1.96\sqrt{p(1-p)/n}$ = {glue:text}`normal_half_width`. The bootstrap's value is that it works unchanged for any
# metric, such as macro $F_1$ above, where no simple formula exists. The
# width shrinks like $1/\sqrt{n}$: halving it takes four times as many test
# samples.
#
# ### Comparing two models fairly
#
# Is the MLP better than a logistic regression on these digits? Both are
# scored on the *same* test images, and many images are easy for both, so
# their errors are correlated. A **paired** bootstrap resamples the test set
# once per round and scores both models on it; the luck of the draw then
# cancels in the difference. Treating the two scores as independent
# (resampling each model's test set separately) ignores this and gives a
# wider, overly cautious interval {cite}`dietterich1998approximate`.

# %%
digit_logreg = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X_train_d, y_train_d)
logreg_test_pred = digit_logreg.predict(X_test_d)
paired = metrics.paired_bootstrap(y_test_d, mlp_test_pred, logreg_test_pred, "accuracy", n_boot=N_BOOT, seed=SEED)
mlp_alone = metrics.bootstrap_ci(y_test_d, mlp_test_pred, n_boot=N_BOOT, seed=SEED + 1)
logreg_alone = metrics.bootstrap_ci(y_test_d, logreg_test_pred, n_boot=N_BOOT, seed=SEED + 2)
unpaired_low, unpaired_high = np.percentile(mlp_alone.samples - logreg_alone.samples, [2.5, 97.5])
only_mlp_right = int(np.sum((mlp_test_pred == y_test_d) & (logreg_test_pred != y_test_d)))
only_logreg_right = int(np.sum((mlp_test_pred != y_test_d) & (logreg_test_pred == y_test_d)))
print(f"paired:   {paired}")
print(f"unpaired: A - B in [{unpaired_low:.3f}, {unpaired_high:.3f}]")
print(f"test images only the MLP gets right: {only_mlp_right}; only logistic regression: {only_logreg_right}")
assert paired.difference.width < unpaired_high - unpaired_low, "pairing should narrow the interval"
excludes_zero = paired.difference.low > 0 or paired.difference.high < 0
verdict = ("excludes 0: on this test set the difference is real" if excludes_zero
           else "includes 0: this test set cannot tell the two models apart")
glue("pair_mlp", paired.score_a, fmt=".1%")
glue("pair_logreg", paired.score_b, fmt=".1%")
glue("pair_low", paired.difference.low, fmt="+.1%")
glue("pair_high", paired.difference.high, fmt="+.1%")
glue("pair_width", paired.difference.width, fmt=".1%")
glue("unpaired_width", unpaired_high - unpaired_low, fmt=".1%")
glue("pair_verdict", verdict)
glue("pair_share", paired.share_a_higher, fmt=".0%")
glue("pair_only_mlp", only_mlp_right)
glue("pair_only_logreg", only_logreg_right);

# %% [markdown]
# The MLP scores {glue:text}`pair_mlp` and the logistic regression
# {glue:text}`pair_logreg`. The paired 95 % interval of the difference runs
# from {glue:text}`pair_low` to {glue:text}`pair_high` (width
# {glue:text}`pair_width`, against {glue:text}`unpaired_width` unpaired); it
# {glue:text}`pair_verdict`. The MLP scores higher in
# {glue:text}`pair_share` of the resampled test sets. Only the test images
# on which the two models *disagree* carry information about which is
# better: {glue:text}`pair_only_mlp` that only the MLP gets right,
# {glue:text}`pair_only_logreg` that only the logistic regression does
# (McNemar's test is built on exactly these two counts).
#
# ## 9. "A trained model works perfectly"? Distribution shift
#
# A test score describes data drawn *like the test set*. Deployed models
# meet data that drift: a new scanner, a different pen, another population.
# We keep the digit models exactly as trained and change only the test
# images: Gaussian noise on the pixels, images moved by one or two pixels,
# images rotated by 15 or 30 degrees. A person would still read nearly all of them.
# `helpers.data` has the transforms (`add_noise`, `shift_images`,
# `rotate_images`); benchmarks such as ImageNet-C do the same at scale
# {cite}`hendrycks2019benchmarking`.

# %%
shifts = {
    "clean": lambda X: X,
    "noise, std 4": lambda X: np.clip(add_noise(X, 4.0, seed=SEED), 0, 16),
    "noise, std 8": lambda X: np.clip(add_noise(X, 8.0, seed=SEED), 0, 16),
    "moved 1 pixel right": lambda X: shift_images(X, 1, 0),
    "moved 2 pixels right": lambda X: shift_images(X, 2, 0),
    "rotated 15 degrees": lambda X: rotate_images(X, 15),
    "rotated 30 degrees": lambda X: rotate_images(X, 30),
}
digit_svm = make_pipeline(StandardScaler(), SVC()).fit(X_train_d, y_train_d)
shifted_test = {name: transform(digits.test.X) / 16 for name, transform in shifts.items()}
shift_probs = {name: mlp_probabilities(digit_mlp, X) for name, X in shifted_test.items()}
shift_table = pd.DataFrame({
    "MLP": {name: metrics.accuracy(y_test_d, P.argmax(axis=1)) for name, P in shift_probs.items()},
    "logistic regression": {name: digit_logreg.score(X, y_test_d) for name, X in shifted_test.items()},
    "RBF SVM": {name: digit_svm.score(X, y_test_d) for name, X in shifted_test.items()},
})
shift_table.index.name = "test images"
shift_table.round(3).style.set_caption("Test accuracy under distribution shift (models trained on clean images)")

# %% mystnb={"image": {"alt": "The same test digit seven times: clean, with light and heavy pixel noise, moved one and two pixels to the right, and rotated by 15 and 30 degrees; it stays easy to read for a person in every version."}}
example = 0
fig, axes = plt.subplots(1, len(shifted_test), figsize=(1.35 * len(shifted_test), 1.8))
for ax, (name, X) in zip(axes, shifted_test.items()):
    ax.imshow(X[example].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(name.replace(", ", "\n").replace(" pixel", "\npixel").replace(" degrees", "°"), fontsize=7)
    ax.axis("off")
plt.show()

# %%
clean_acc = shift_table.loc["clean", "MLP"]
assert clean_acc - shift_table.loc["moved 1 pixel right", "MLP"] > 0.2, "a one-pixel move should hurt the MLP"
assert shift_table.drop(index="clean").min().max() < 0.7, "every model should fail on some shift"
assert (shift_table.loc["rotated 30 degrees"] < shift_table.loc["clean"] - 0.15).all()
glue("shift_clean", clean_acc, fmt=".1%")
glue("shift_noise8", shift_table.loc["noise, std 8", "MLP"], fmt=".1%")
glue("shift_move1", shift_table.loc["moved 1 pixel right", "MLP"], fmt=".1%")
glue("shift_move2", shift_table.loc["moved 2 pixels right", "MLP"], fmt=".1%")
glue("shift_rot30", shift_table.loc["rotated 30 degrees", "MLP"], fmt=".1%")
glue("shift_svm_move1", shift_table.loc["moved 1 pixel right", "RBF SVM"], fmt=".1%");

# %% [markdown]
# The MLP that reads {glue:text}`shift_clean` of the clean test digits reads
# {glue:text}`shift_move1` when they are moved by a single pixel,
# {glue:text}`shift_move2` when moved by two, {glue:text}`shift_rot30` when
# rotated by 30 degrees, and {glue:text}`shift_noise8` under heavy noise.
# The other models fail too (the SVM reads {glue:text}`shift_svm_move1`
# after a one-pixel move): none of them was ever shown a moved digit, and a
# model of 64 independent pixels has no notion that a stroke one pixel to
# the right is the same stroke. A test score is a promise about data like
# the test data, and nothing more. Convolutional networks and data
# augmentation (later chapters) build some of these invariances in.
#
# ## 10. Calibration: does 90 % confident mean 90 % right?
#
# A classifier's top probability is its **confidence**. It is **calibrated**
# if, among predictions made with confidence around 0.9, about 90 % are
# right. A **reliability diagram** bins the predictions by confidence and
# plots each bin's accuracy against its mean confidence; the **expected
# calibration error** (ECE) averages the gaps, weighted by the share of
# samples $|B_m|/n$ in each bin {cite}`naeini2015obtaining,guo2017calibration`:
#
# $$
# \text{ECE} = \sum_{m=1}^{M} \frac{|B_m|}{n}\,\bigl|\text{acc}(B_m) - \text{conf}(B_m)\bigr|.
# $$
#
# Modern neural networks are often over-confident {cite}`guo2017calibration`,
# and calibration tends to degrade under distribution shift
# {cite}`ovadia2019can`: the model is wrong more often but not less sure.

# %% mystnb={"image": {"alt": "Reliability diagram of the MLP: on clean test digits the points lie near the diagonal; on noisy and rotated digits they fall well below it, meaning the model is much less accurate than its confidence claims."}}
fig, ax = plt.subplots(figsize=(4.6, 4.2))
calibration = {}
for i, name in enumerate(["clean", "noise, std 8", "rotated 30 degrees"]):
    confidence, is_right = metrics.top_label_confidence(shift_probs[name], y_test_d)
    calibration[name] = {
        "accuracy": is_right.mean(), "mean confidence": confidence.mean(),
        "ECE": metrics.expected_calibration_error(confidence, is_right, n_bins=10),
    }
    metrics.plot_reliability_diagram(confidence, is_right, n_bins=10, ax=ax, label=name, diagonal=i == 0)
ax.set_title("MLP on digits: reliability diagram")
plt.show()

# %%
calibration = pd.DataFrame(calibration).T
ece_clean, ece_rotated = calibration.loc["clean", "ECE"], calibration.loc["rotated 30 degrees", "ECE"]
assert ece_clean < 0.08, "on data like its training data the MLP should be nearly calibrated"
assert ece_rotated > ece_clean + 0.05 and calibration.loc["noise, std 8", "ECE"] > ece_clean, "shift hurts calibration"
assert (calibration["mean confidence"] > calibration["accuracy"]).iloc[1:].all(), "over-confident under shift"
glue("ece_clean", ece_clean, fmt=".3f")
glue("ece_rotated", ece_rotated, fmt=".3f")
glue("ece_noise", calibration.loc["noise, std 8", "ECE"], fmt=".3f")
glue("rot_confidence", calibration.loc["rotated 30 degrees", "mean confidence"], fmt=".1%")
glue("rot_accuracy", calibration.loc["rotated 30 degrees", "accuracy"], fmt=".1%")
calibration.round(3)

# %% [markdown]
# On clean digits the MLP is close to calibrated (ECE
# {glue:text}`ece_clean`). On digits rotated by 30 degrees its mean
# confidence is {glue:text}`rot_confidence` while it is right
# {glue:text}`rot_accuracy` of the time, an ECE of {glue:text}`ece_rotated`
# (and {glue:text}`ece_noise` under heavy noise). Its probabilities can be
# trusted only where its accuracy can. Calibration can be repaired on
# validation data, e.g. by dividing the logits by a temperature fitted there
# {cite}`guo2017calibration`, but only for data like the validation data.
#
# ## 11. After deployment: what monitoring looks for
#
# In production the labels arrive late or never, so accuracy cannot be
# watched directly. Monitoring watches what is available at once
# {cite}`sculley2015hidden,rabanser2019failing`:
#
# - **inputs**: do the features still look like the training data (ranges,
#   means, missing values, new categories)? Two-sample tests per feature, or
#   on a model's internal representation, flag drift;
# - **outputs**: has the share of each predicted class changed? Has the
#   confidence dropped?
# - **performance**, once labels come in (audits, user corrections):
#   accuracy, per-class recall, calibration, with confidence intervals and by
#   subgroup;
# - and an agreed response: alert, investigate, collect and label new data,
#   retrain, re-evaluate on a fresh test set.
#
# Here are the label-free signals for each of our shifted test sets: the
# mean confidence, the share of predictions made with confidence below 0.7,
# and how far the predicted classes' shares are from the training classes'
# shares (total variation distance, from 0 for identical to 1 for disjoint),
# next to the accuracy that monitoring cannot see.

# %%
train_shares = np.bincount(y_train_d, minlength=10) / len(y_train_d)
monitor = {}
for name, P in shift_probs.items():
    predicted_shares = np.bincount(P.argmax(axis=1), minlength=10) / len(P)
    monitor[name] = {
        "mean confidence": P.max(axis=1).mean(),
        "share with confidence < 0.7": (P.max(axis=1) < 0.7).mean(),
        "predicted-class drift (TV)": 0.5 * np.abs(predicted_shares - train_shares).sum(),
        "accuracy (needs labels)": metrics.accuracy(y_test_d, P.argmax(axis=1)),
    }
monitor = pd.DataFrame(monitor).T
clean_row, shifted_rows = monitor.loc["clean"], monitor.drop(index="clean")
assert (shifted_rows["mean confidence"] < clean_row["mean confidence"] - 0.02).all(), "confidence should drop"
assert (shifted_rows["predicted-class drift (TV)"] > clean_row["predicted-class drift (TV)"]).all()
worst = shifted_rows["accuracy (needs labels)"].idxmin()
assert shifted_rows.loc[worst, "mean confidence"] > shifted_rows.loc[worst, "accuracy (needs labels)"] + 0.2
glue("monitor_clean_conf", clean_row["mean confidence"], fmt=".1%")
glue("monitor_min_conf", shifted_rows["mean confidence"].min(), fmt=".1%")
glue("monitor_min_acc", shifted_rows["accuracy (needs labels)"].min(), fmt=".1%")
monitor.round(3)

# %% [markdown]
# Every shift lowers the mean confidence (from {glue:text}`monitor_clean_conf`
# on clean data to as little as {glue:text}`monitor_min_conf`) and moves the
# predicted-class shares away from the training shares, so a monitor would
# have raised an alarm without a single label. But the signals understate
# the damage: where accuracy falls to {glue:text}`monitor_min_acc`,
# confidence stays far higher. Label-free signals say *that* something
# changed; only fresh labelled data say *how much* it costs.
#
# ## Exercises
#
# **[Do these exercises on Colab](https://colab.research.google.com/github/ai-training-course/ai-training-course/blob/main/notebooks/exercises/08_evaluation.ipynb)**: the student version, with stubs instead of solutions.
#
# Each exercise has a check: run it after your answer. `ex.q1.hint()` gives a
# hint (`ex.q1.hint(2)` a stronger one) and `ex.q1.solution()` shows a
# solution.
#
# ```{exercise} Precision, recall and F1 by hand
# :label: ch08-ex1
# Write `precision_recall_f1(y_true, y_pred)` for two NumPy arrays of 0/1
# labels (1 = positive). Return a tuple of three floats
# `(precision, recall, f1)`. When a ratio has a zero denominator (nothing
# predicted positive, or no positives at all), return 0.0 for it, and 0.0
# for $F_1$ when precision and recall are both 0.
# ```
#
# ```{solution-start} ch08-ex1
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch08-ex1-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def precision_recall_f1(y_true, y_pred):
    ### BEGIN SOLUTION
    tp = np.sum((y_pred == 1) & (y_true == 1))
    fp = np.sum((y_pred == 1) & (y_true == 0))
    fn = np.sum((y_pred == 0) & (y_true == 1))
    precision = tp / (tp + fp) if tp + fp > 0 else 0.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return float(precision), float(recall), float(f1)
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch08-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q1.check()

# %% [markdown]
# ```{exercise} k-fold indices
# :label: ch08-ex2
# Write `kfold_indices(n_samples, k)` returning a list of `k` pairs
# `(train_idx, val_idx)` of integer NumPy arrays. The validation parts must
# cover every index from 0 to `n_samples - 1` exactly once, their sizes must
# differ by at most one, and each `train_idx` holds all the indices not in
# its `val_idx`. (No shuffling needed: consecutive blocks are fine.)
# ```
#
# ```{solution-start} ch08-ex2
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch08-ex2-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def kfold_indices(n_samples, k):
    ### BEGIN SOLUTION
    indices = np.arange(n_samples)
    folds = []
    for val_idx in np.array_split(indices, k):
        train_idx = np.setdiff1d(indices, val_idx)
        folds.append((train_idx, val_idx))
    return folds
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch08-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q2.check()

# %% [markdown]
# ```{exercise} A bootstrap interval for accuracy
# :label: ch08-ex3
# Write `bootstrap_accuracy_interval(correct, n_boot=2000, seed=0)`, where
# `correct` is a NumPy array of 0/1 (was each test prediction right?). Draw
# `n_boot` resamples of the same length *with replacement* (use
# `np.random.default_rng(seed)`), compute the accuracy of each, and return
# the 2.5th and 97.5th percentiles as a tuple of two floats `(low, high)`.
# ```
#
# ```{solution-start} ch08-ex3
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch08-ex3-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def bootstrap_accuracy_interval(correct, n_boot=2000, seed=0):
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    n = len(correct)
    accuracies = [correct[rng.integers(0, n, size=n)].mean() for _ in range(n_boot)]
    low, high = np.percentile(accuracies, [2.5, 97.5])
    return float(low), float(high)
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch08-ex3-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q3.check()

# %% [markdown]
# ```{exercise} Expected calibration error
# :label: ch08-ex4
# Write `calibration_error(confidences, correct, n_bins=10)`: split $[0, 1]$
# into $M$ = `n_bins` bins of equal width, bin $m$ holding the confidences in
# $\left(\frac{m-1}{M}, \frac{m}{M}\right]$ (a confidence of exactly 0 goes
# to the first bin). Return the ECE of section 10 as a float; empty bins
# contribute nothing.
# ```
#
# ```{solution-start} ch08-ex4
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch08-ex4-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
def calibration_error(confidences, correct, n_bins=10):
    ### BEGIN SOLUTION
    confidences = np.asarray(confidences, dtype=float)
    correct = np.asarray(correct, dtype=float)
    bins = np.clip(np.ceil(confidences * n_bins) - 1, 0, n_bins - 1).astype(int)
    ece = 0.0
    for m in range(n_bins):
        inside = bins == m
        if inside.any():
            gap = abs(correct[inside].mean() - confidences[inside].mean())
            ece += inside.mean() * gap
    return float(ece)
    ### END SOLUTION


# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch08-ex4-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q4.check()

# %% [markdown]
# ## Summary
#
# - A score means little alone: compare it with a **trivial baseline**. On a
#   rare class, accuracy hides failure; report **precision, recall, $F_1$**
#   of that class or the balanced accuracy, and read the **confusion matrix**.
# - **ROC curves** ignore how rare the positives are; **precision-recall
#   curves** do not, and are more informative on imbalanced data.
# - **MSE** punishes large errors most and is minimised by the mean; **MAE**
#   weighs all errors alike and is minimised by the median; **$R^2$** compares
#   with predicting the mean.
# - **Validation** data (or **k-fold cross-validation**) choose; the **test**
#   set, used once, reports. Selecting on a score makes that score optimistic.
# - A large **train/validation gap** is overfitting.
# - A test score is an estimate: give it a **bootstrap confidence interval**,
#   and compare two models with a **paired** bootstrap on the same test set.
# - A model that is excellent on its test set can fail on slightly
#   **shifted** data, and become **over-confident** there (reliability
#   diagram, ECE). **Monitor** inputs, outputs and, when labels arrive,
#   performance.
#
# For the bootstrap, see {cite}`efron1993introduction`; for model
# assessment and selection, chapter 7 of {cite}`hastie2009elements`.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
