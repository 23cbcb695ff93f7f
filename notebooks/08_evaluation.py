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
# # Chapter 8: Evaluating a model
#
# A high accuracy on the test set sounds like the end of a project. It is
# the start of a set of questions. Accurate compared with what: would a model
# that always gives the same answer score nearly as well (section 2 meets
# exactly that case)? Which mistakes does it make, which ones matter, and
# what do they cost? Was the score measured on data that played no part in
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
# - read ROC and precision-recall curves and choose between them; choose a
#   decision threshold from the costs of the two kinds of error;
# - find and sort a model's most confident mistakes;
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
N_SPLITS = 5  # data splits (seeds) for the threshold experiment (cheap: logistic regressions)
N_SHIFT_SPLITS = max(3, round(3 * BUDGET))  # data splits for the distribution-shift experiment (trains MLPs)

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
glue("cancer_false_alarms", fp)
print(f"{len(y_cancer_test)} test tumours, {y_cancer_test.mean():.0%} malignant; missed {fn}, false alarms {fp}")
print(f"accuracy {accuracy_by_hand:.1%}, precision {precision_by_hand:.1%}, recall {recall_by_hand:.1%}")

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
glue("cancer_dummy_accuracy", misleading.loc[("breast cancer (malignant?)", "always the majority class"), "accuracy"], fmt=".1%")
print(misleading.loc[:, ["accuracy", "precision", "recall", "f1"]].round(3).to_string())
print(f"8s in the test set: {int(y_eight_test.sum())} of {len(y_eight_test)} "
      f"({y_eight_test.mean():.1%}); logistic regression misses {int(np.sum((eight_pred == 0) & (y_eight_test == 1)))}; "
      f"its accuracy is {100 * (logreg_rare['accuracy'] - dummy_rare['accuracy']):.1f} points above the dummy's")

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
glue("eight_precision_at_90_recall", precision_curve[first], fmt=".1%")
print(f"ROC AUC {auc_by_hand:.3f}; precision at the first cut-off with recall >= 90 %: {precision_curve[first]:.1%}")

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
glue("ap_eight", ap_eight, fmt=".3f")
print(pd.DataFrame({"ROC AUC": [auc_cancer, auc_eight], "average precision": [ap_cancer, ap_eight]},
                   index=["breast cancer", f"is it an {TARGET_DIGIT}?"]).round(3).to_string())

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
# ### Choosing the threshold from costs
#
# A curve shows every threshold; a deployed model needs one. The default,
# a probability of 0.5, is right only when both kinds of error cost the
# same. Suppose a missed 8 costs {glue:text}`cost_fn` (someone must find it
# by hand later) and a false alarm costs {glue:text}`cost_fp` (a quick
# second look). The cost of a threshold $t$ on $n$ samples is
#
# $$
# \text{cost}(t) = c_{FN} \cdot FN(t) + c_{FP} \cdot FP(t).
# $$
#
# For calibrated probabilities, decision theory says: flag a sample when
# $p \, c_{FN} > (1 - p) \, c_{FP}$, i.e. when $p > c_{FP} / (c_{FP} + c_{FN})$
# {cite}`elkan2001foundations`. Our probabilities need not be calibrated, so
# we do not trust the formula blindly: we **choose the threshold on the
# validation set** (the one with the lowest validation cost on a grid from
# 0.01 to 0.99), then evaluate it **once on the test set** beside the
# default 0.5 and the two do-nothing rules (never flag, always flag). A
# threshold fitted on one validation set is noisy, so we repeat the whole
# procedure on {glue:text}`cost_n_splits` different splits of the data.

# %%
COST_FN, COST_FP = 5, 1  # a missed 8 costs five times a false alarm
THRESHOLDS = np.round(np.arange(0.01, 1.0, 0.01), 2)


def total_cost(y_true, probabilities, threshold):
    """c_FN * (missed positives) + c_FP * (false alarms) when flagging probabilities >= threshold."""
    flagged = probabilities >= threshold
    return COST_FN * int(np.sum(~flagged & (y_true == 1))) + COST_FP * int(np.sum(flagged & (y_true == 0)))


cost_rows = {}
for split_seed in range(SEED, SEED + N_SPLITS):
    split = digits if split_seed == SEED else load("digits", seed=split_seed)
    is_eight = {part: (getattr(split, part).y == TARGET_DIGIT).astype(int) for part in ("train", "val", "test")}
    detector = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(split.train.X, is_eight["train"])
    p_val, p_test = (detector.predict_proba(getattr(split, part).X)[:, 1] for part in ("val", "test"))
    val_costs = np.array([total_cost(is_eight["val"], p_val, t) for t in THRESHOLDS])
    chosen_threshold = float(np.median(THRESHOLDS[val_costs == val_costs.min()]))  # middle of the best plateau
    y_test_eight = is_eight["test"]
    cost_rows[split_seed] = {
        "chosen threshold": chosen_threshold,
        "validation cost at chosen": val_costs.min(),
        "validation cost at 0.5": total_cost(is_eight["val"], p_val, 0.5),
        "test cost at chosen": total_cost(y_test_eight, p_test, chosen_threshold),  # the test set, touched once
        "test cost at 0.5": total_cost(y_test_eight, p_test, 0.5),
        "test cost, never flag": COST_FN * int(y_test_eight.sum()),
        "test cost, always flag": COST_FP * int((1 - y_test_eight).sum()),
    }
cost_table = pd.DataFrame(cost_rows).T
cost_table.index.name = "split seed"
cost_table.loc["mean"] = cost_table.mean()
cost_table.loc["sd"] = cost_table.drop(index="mean").std()
print(cost_table.round(2).to_string())

# %%
per_split = cost_table.drop(index=["mean", "sd"])
saving = per_split["test cost at 0.5"] - per_split["test cost at chosen"]
bayes_threshold = COST_FP / (COST_FP + COST_FN)
# the saving varies a lot between splits (sd printed below), so we assert only its sign on average,
# and that every split's chosen threshold sits below 0.5, where the costs say it should
assert saving.mean() > 0, "a threshold chosen from the costs should cost less on test than 0.5, on average"
assert (per_split["chosen threshold"] < 0.5).all(), "missed 8s cost more, so the threshold should drop"
assert (per_split["test cost at chosen"] < per_split[["test cost, never flag", "test cost, always flag"]].min(axis=1)).all()
glue("cost_fn", COST_FN)
glue("cost_fp", COST_FP)
glue("cost_bayes_threshold", bayes_threshold, fmt=".2f")
glue("cost_threshold_mean", per_split["chosen threshold"].mean(), fmt=".2f")
glue("cost_threshold_min", per_split["chosen threshold"].min(), fmt=".2f")
glue("cost_threshold_max", per_split["chosen threshold"].max(), fmt=".2f")
glue("cost_test_chosen", per_split["test cost at chosen"].mean(), fmt=".1f")
glue("cost_test_half", per_split["test cost at 0.5"].mean(), fmt=".1f")
glue("cost_saving_mean", saving.mean(), fmt=".1f")
glue("cost_saving_sd", saving.std(), fmt=".1f")
glue("cost_splits_saved", int((saving > 0).sum()))
glue("cost_n_splits", len(saving))
glue("cost_never_flag", per_split["test cost, never flag"].mean(), fmt=".1f")
print(f"formula threshold c_FP / (c_FP + c_FN) = {bayes_threshold:.2f}; chosen thresholds "
      f"{per_split['chosen threshold'].min():.2f} to {per_split['chosen threshold'].max():.2f} "
      f"(mean {per_split['chosen threshold'].mean():.2f})")
print(f"mean test cost: chosen threshold {per_split['test cost at chosen'].mean():.1f}, 0.5 "
      f"{per_split['test cost at 0.5'].mean():.1f}, never flag {per_split['test cost, never flag'].mean():.1f}")
print(f"test cost saved by the chosen threshold against 0.5: {saving.mean():.1f} +- {saving.std():.1f} "
      f"(lower cost on {int((saving > 0).sum())} of {len(saving)} splits)")

# %% [markdown]
# With a missed 8 five times as costly as a false alarm, the validation
# set picks thresholds between {glue:text}`cost_threshold_min` and
# {glue:text}`cost_threshold_max` (mean {glue:text}`cost_threshold_mean`),
# around the formula's {glue:text}`cost_bayes_threshold` and far below 0.5.
# On the test sets they cost {glue:text}`cost_test_chosen` on average
# against {glue:text}`cost_test_half` for the default threshold: a saving of
# {glue:text}`cost_saving_mean` ± {glue:text}`cost_saving_sd` (mean ± sd
# over {glue:text}`cost_n_splits` splits), with a lower cost on
# {glue:text}`cost_splits_saved` of them. Never flagging anything would
# cost {glue:text}`cost_never_flag`. The saving is real but uneven: the
# spread across splits is as large as the mean, because the validation set
# holds only a few dozen 8s to place the threshold with. Note what was
# *not* done: the threshold was never tuned on the test set, where it would
# look better than it is (section 6).
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
digit_dummy = DummyClassifier(strategy="most_frequent").fit(X_train_d, y_train_d)
digit_dummy_accuracy = metrics.accuracy(y_test_d, digit_dummy.predict(X_test_d))
assert digit_report["accuracy"] > digit_dummy_accuracy + 0.7, "the MLP should read digits far better than a guess"
glue("mlp_accuracy", digit_report["accuracy"], fmt=".1%")
glue("mlp_macro_f1", digit_report["f1"], fmt=".3f")
glue("mlp_dummy_accuracy", digit_dummy_accuracy, fmt=".1%")
glue("mlp_worst_digit", str(per_class["recall"].idxmin()))
glue("mlp_worst_recall", per_class["recall"].min(), fmt=".1%")
glue("mlp_top_confusion", f"{true_digit} read as {predicted_digit} ({confusions.max()} times)")
print(f"MLP: accuracy {digit_report['accuracy']:.1%}, macro F1 {digit_report['f1']:.3f}; "
      f"most-frequent-class dummy: accuracy {digit_dummy_accuracy:.1%}")
print(f"lowest recall: digit {per_class['recall'].idxmin()} ({per_class['recall'].min():.1%}); "
      f"most frequent confusion: {true_digit} read as {predicted_digit} ({confusions.max()} times)")

# %% [markdown]
# The MLP is right on {glue:text}`mlp_accuracy` of the test digits, with a
# macro $F_1$ of {glue:text}`mlp_macro_f1`; always guessing the most frequent
# digit would score {glue:text}`mlp_dummy_accuracy`. The classes are balanced, so
# accuracy and the macro averages agree; the per-class table still shows
# where it struggles: digit {glue:text}`mlp_worst_digit` has the lowest
# recall ({glue:text}`mlp_worst_recall`), and the most frequent confusion is
# {glue:text}`mlp_top_confusion`.
#
# ### Error analysis: the most confident mistakes
#
# Counts say *how often* a model errs; looking at the mistakes says *why*,
# and what to do next. Error analysis steers the next change to the model,
# so it belongs on **validation** data, not on the test set (the validation
# images chose this MLP's stopping epoch, but none of them was trained on).
# We list the MLP's wrong answers sorted by confidence, the worst first: a
# model that is *sure* and wrong is the most dangerous kind of error. To
# sort them into kinds without judging each image by eye, we ask two models
# of a different family (an RBF SVM and 3 nearest neighbours, both trained on
# the same images):
#
# - **all agree on the same wrong digit**: the image looks like that digit to
#   every model; it is badly written, ambiguous, or mislabelled; a better
#   model will not fix it, a look at the labels might;
# - **the others are wrong too, differently**: a hard image;
# - **only the MLP is wrong**: a weakness of this model, which a different
#   model, more data or augmentation can fix.

# %%
val_probs = mlp_probabilities(digit_mlp, X_val_d)
val_pred, val_confidence = val_probs.argmax(axis=1), val_probs.max(axis=1)
others = {
    "RBF SVM": SVC().fit(X_train_d, y_train_d).predict(X_val_d),
    "3 nearest neighbours": KNeighborsClassifier(n_neighbors=3).fit(X_train_d, y_train_d).predict(X_val_d),
}


def kind_of_mistake(i):
    """Sort one MLP mistake (validation index i) by what the two other models answer."""
    answers = [pred[i] for pred in others.values()]
    if all(a == val_pred[i] for a in answers):
        return "all agree on the same wrong digit"
    if all(a != y_val_d[i] for a in answers):
        return "the others are wrong too, differently"
    if all(a == y_val_d[i] for a in answers):
        return "only the MLP is wrong"
    return "one other model is wrong too"


wrong = np.flatnonzero(val_pred != y_val_d)
wrong = wrong[np.argsort(-val_confidence[wrong])]  # the most confident mistakes first
second_choice = np.argsort(-val_probs, axis=1)[:, 1]
mistakes = pd.DataFrame({
    "true": y_val_d[wrong], "predicted": val_pred[wrong], "confidence": val_confidence[wrong].round(3),
    "true is 2nd choice": second_choice[wrong] == y_val_d[wrong],
    "kind": [kind_of_mistake(i) for i in wrong],
}, index=pd.Index(wrong, name="validation image"))
print(f"{len(wrong)} mistakes on {len(y_val_d)} validation images; the 8 most confident:")
print(mistakes.head(8).to_string())
print()
print(mistakes["kind"].value_counts().to_string())

# %% mystnb={"image": {"alt": "The eight validation digits the MLP gets wrong with the highest confidence, each titled with its true label, the MLP's answer and its confidence, and the kind of mistake; several are badly written or look like the predicted digit."}}
short = {"all agree on the same wrong digit": "all agree", "the others are wrong too, differently": "hard",
         "only the MLP is wrong": "MLP only", "one other model is wrong too": "one other wrong"}
shown = wrong[:8]
fig, axes = plt.subplots(1, len(shown), figsize=(1.25 * len(shown), 2.0), squeeze=False)
for ax, i in zip(axes[0], shown):
    ax.imshow(X_val_d[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"{y_val_d[i]} -> {val_pred[i]}\n{val_confidence[i]:.0%}\n{short[kind_of_mistake(i)]}", fontsize=7)
    ax.axis("off")
plt.show()

# %%
kinds = mistakes["kind"].value_counts()
glue("err_n_wrong", len(wrong))
glue("err_n_val", len(y_val_d))
glue("err_top_confidence", val_confidence[wrong[0]], fmt=".1%")
glue("err_n_confident", int(np.sum(val_confidence[wrong] > 0.9)))
glue("err_second_choice", int(mistakes["true is 2nd choice"].sum()))
glue("err_mlp_only", int(kinds.get("only the MLP is wrong", 0)))
glue("err_all_agree", int(kinds.get("all agree on the same wrong digit", 0)))
print(f"{len(wrong)} mistakes on {len(y_val_d)} validation images; only the MLP wrong: "
      f"{int(kinds.get('only the MLP is wrong', 0))}; all three agree on the same wrong digit: "
      f"{int(kinds.get('all agree on the same wrong digit', 0))}")
print(f"most confident mistake: {val_confidence[wrong[0]]:.1%}; mistakes made with more than 90 % confidence: "
      f"{int(np.sum(val_confidence[wrong] > 0.9))}; true digit is the MLP's second choice in "
      f"{int(mistakes['true is 2nd choice'].sum())} of {len(wrong)}")

# %% [markdown]
# The MLP makes {glue:text}`err_n_wrong` mistakes on
# {glue:text}`err_n_val` validation images. The worst is made with
# {glue:text}`err_top_confidence` confidence, and
# {glue:text}`err_n_confident` of them with more than 90 %. In
# {glue:text}`err_second_choice` of them the true digit is the MLP's second
# choice. {glue:text}`err_mlp_only` are
# mistakes of the MLP alone (both other models read them right), the kind a
# better model would fix; on {glue:text}`err_all_agree` all three models agree
# on the same wrong digit: look at those images above and ask whether you
# would have read them right, or whether the label itself is doubtful. The
# counts change with the seed, but the habit does not: read your model's
# worst mistakes before deciding what to improve.
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
glue("reg_share_mae", share_of_mae, fmt=".0%")
print(f"training targets: mean {y_reg_train.mean():.0f}, median {np.median(y_reg_train):.0f}")
print(f"least squares on test: R^2 {ls_row['r2']:.2f}, RMSE {ls_row['rmse']:.0f}, MAE {ls_row['mae']:.0f}; "
      f"predicting the training mean: R^2 {regression_table.loc['predict the training mean', 'r2']:.3f}")
print(f"the largest tenth of the errors: {share_of_mse:.0%} of the squared error, {share_of_mae:.0%} of the absolute error")

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
    "most frequent class (dummy)": DummyClassifier(strategy="most_frequent"),
    "logistic regression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
    "k nearest neighbours (k=3)": KNeighborsClassifier(n_neighbors=3),
    "RBF support vector machine": make_pipeline(StandardScaler(), SVC()),
    "random forest": RandomForestClassifier(n_estimators=max(20, round(100 * BUDGET)), random_state=SEED),
    "MLP (PyTorch, helpers.train.fit)": mlp_fit_predict,
}
validation_accuracy = metrics.cross_validation_table(candidates, X_dev, y_dev, k=5, seed=SEED)
validation_accuracy = validation_accuracy.sort_values("mean", ascending=False)
print("validation accuracy, 5-fold cross-validation on the development set (training + validation data):")
print(validation_accuracy.round(3).to_string())

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
assert validation_accuracy.index[-1] == "most frequent class (dummy)", "every model should beat the dummy"
glue("cv_best_model", chosen_name)
glue("cv_best_mean", validation_accuracy.loc[chosen_name, "mean"], fmt=".1%")
glue("cv_best_std", validation_accuracy.loc[chosen_name, "std"], fmt=".1%")
glue("cv_worst_model", validation_accuracy.index[-1])
glue("cv_worst_mean", validation_accuracy["mean"].iloc[-1], fmt=".1%")
glue("cv_largest_fold_range", fold_range.max(), fmt=".1%")
glue("chosen_test_accuracy", chosen_test_accuracy, fmt=".1%")
second = validation_accuracy.iloc[1]
glue("cv_second_model", validation_accuracy.index[1])
glue("cv_second_gap", validation_accuracy["mean"].iloc[0] - second["mean"], fmt=".1%")
print(f"chosen: {chosen_name} (CV {validation_accuracy.loc[chosen_name, 'mean']:.1%} "
      f"+- {validation_accuracy.loc[chosen_name, 'std']:.1%}); runner-up {validation_accuracy.index[1]}, "
      f"{validation_accuracy['mean'].iloc[0] - second['mean']:.1%} behind")
print(f"last: {validation_accuracy.index[-1]} ({validation_accuracy['mean'].iloc[-1]:.1%}); "
      f"largest range across folds for one model: {fold_range.max():.1%}")
print(f"test accuracy of the chosen model, refitted on all development data: {chosen_test_accuracy:.1%}")

# %% [markdown]
# The best mean validation accuracy belongs to the
# {glue:text}`cv_best_model`: {glue:text}`cv_best_mean`, with a standard
# deviation of {glue:text}`cv_best_std` across folds; the runner-up, the
# {glue:text}`cv_second_model`, is {glue:text}`cv_second_gap` behind. The
# {glue:text}`cv_worst_model` comes last at {glue:text}`cv_worst_mean`, the
# floor every model must clear. For one model the folds differ by up to
# {glue:text}`cv_largest_fold_range`: differences between models smaller
# than the spread across folds are not worth acting on. Note also what the
# table compares: each model at its library's default settings. A claim
# about model *families* ("SVMs beat forests on digits") would need each one
# tuned on its own grid inside the folds (nested cross-validation, below;
# chapter 7 tunes). Here the candidates are six fixed recipes (the dummy
# included), and we pick the best recipe. Only now, with the choice made, do we refit the chosen
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
glue("noise_n_test", len(coin_flips[test_part]))
print(f"60 models on coin-flip labels: mean validation accuracy {mean_val:.1%}, best {best_val:.1%}; "
      f"the best one on {len(coin_flips[test_part])} fresh test samples: {best_test:.1%}")

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
glue("small_epochs", len(small_history))
print(f"150 images, wide MLP: train {small_history.last('train_metric'):.1%}, validation "
      f"{small_history.last('val_metric'):.1%}, gap {gap_small:.1%}; validation loss lowest at epoch "
      f"{best_val_loss_epoch} of {len(small_history)}")
print(f"{len(y_train_d)} images: gap {gap_full:.1%}")

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
glue("boot_n_resamples", N_BOOT)
print(f"{N_BOOT} resamples of {n} test images: 95 % interval {low:.1%} to {high:.1%}, half-width "
      f"{(high - low) / 2:.1%}; normal approximation half-width {normal_half_width:.1%}")

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
glue("pair_only_logreg", only_logreg_right)
print(f"paired interval of MLP - logistic regression: {paired.difference.low:+.1%} to {paired.difference.high:+.1%} "
      f"(width {paired.difference.width:.1%}; unpaired width {unpaired_high - unpaired_low:.1%}); "
      f"MLP higher in {paired.share_a_higher:.0%} of resamples: the interval {verdict}")

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
#
# The models are the MLP, the logistic regression and the RBF SVM of the
# sections above, next to the dummy. Both scikit-learn models sit behind a
# `StandardScaler`, as is customary; since that choice will matter, each
# also appears a second time without it, on the raw pixels scaled to
# $[0, 1]$ (as the MLP sees them). To see how much of each drop is luck, the
# whole experiment runs on several different splits of the data (a new
# training set, new models, a new test set, new noise each time).

# %%
shifts = {
    "clean": lambda X, seed: X,
    "noise, std 4": lambda X, seed: np.clip(add_noise(X, 4.0, seed=seed), 0, 16),
    "noise, std 8": lambda X, seed: np.clip(add_noise(X, 8.0, seed=seed), 0, 16),
    "moved 1 pixel right": lambda X, seed: shift_images(X, 1, 0),
    "moved 2 pixels right": lambda X, seed: shift_images(X, 2, 0),
    "rotated 15 degrees": lambda X, seed: rotate_images(X, 15),
    "rotated 30 degrees": lambda X, seed: rotate_images(X, 30),
}
shift_models = {
    "dummy (most frequent)": lambda: DummyClassifier(strategy="most_frequent"),
    "logistic regression, standardised": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
    "logistic regression, raw [0, 1]": lambda: LogisticRegression(max_iter=2000),
    "RBF SVM, standardised": lambda: make_pipeline(StandardScaler(), SVC()),
    "RBF SVM, raw [0, 1]": lambda: SVC(),
}
shift_rows = []
for split_seed in range(SEED, SEED + N_SHIFT_SPLITS):
    split = digits if split_seed == SEED else load("digits", seed=split_seed)
    X_tr, X_va = split.train.X / 16, split.val.X / 16
    shifted = {name: transform(split.test.X, split_seed) / 16 for name, transform in shifts.items()}
    if split_seed == SEED:
        net = digit_mlp  # the MLP of section 4; its probabilities feed sections 10 and 11
        shifted_test, y_shifted = shifted, split.test.y
    else:
        net, _ = train_digit_mlp(X_tr, split.train.y, (X_va.astype(np.float32), split.val.y), seed=split_seed)
    fitted = {name: make().fit(X_tr, split.train.y) for name, make in shift_models.items()}
    for shift_name, X in shifted.items():
        row = {"split seed": split_seed, "test images": shift_name,
               "MLP, raw [0, 1]": metrics.accuracy(split.test.y, mlp_probabilities(net, X).argmax(axis=1))}
        row.update({name: model.score(X, split.test.y) for name, model in fitted.items()})
        shift_rows.append(row)
shift_probs = {name: mlp_probabilities(digit_mlp, X) for name, X in shifted_test.items()}  # sections 10, 11
shift_runs = pd.DataFrame(shift_rows)
shift_mean = shift_runs.groupby("test images", sort=False).mean().drop(columns="split seed")
shift_sd = shift_runs.groupby("test images", sort=False).std().drop(columns="split seed")
shift_mean = shift_mean[["dummy (most frequent)", "MLP, raw [0, 1]"] + list(shift_models)[1:]]
shift_sd = shift_sd[shift_mean.columns]
print(f"test accuracy, mean over {N_SHIFT_SPLITS} splits (models trained on clean images):")
print(shift_mean.round(3).T.to_string())
print(f"\nstandard deviation over the {N_SHIFT_SPLITS} splits:")
print(shift_sd.round(3).T.to_string())

mlp_col, svm_std, svm_raw = "MLP, raw [0, 1]", "RBF SVM, standardised", "RBF SVM, raw [0, 1]"
lr_std, lr_raw = "logistic regression, standardised", "logistic regression, raw [0, 1]"
moved, rotated, noisy = "moved 1 pixel right", "rotated 30 degrees", "noise, std 8"
worst_sd = float(shift_sd.drop(columns="dummy (most frequent)").max().max())  # the largest spread in the table
# margins: the asserted gaps (0.2 to 0.3) are 2 to 3 times the largest sd over splits (printed, up to about 0.1)
assert shift_mean.loc["clean", mlp_col] - shift_mean.loc[moved, mlp_col] > 0.2, "a one-pixel move should hurt the MLP"
assert (shift_mean.loc[rotated] < shift_mean.loc["clean"] - 0.15).drop("dummy (most frequent)").all()
assert shift_mean.loc[noisy, svm_raw] > shift_mean.loc[noisy, svm_std] + 0.3, "standardising makes noise fatal"
assert shift_mean.loc[noisy, lr_raw] > shift_mean.loc[noisy, lr_std] + 0.2
assert shift_mean.loc[moved, svm_raw] < shift_mean.loc["clean", svm_raw] - 0.3, "without the scaler, moves still hurt"
glue("shift_n_splits", N_SHIFT_SPLITS)
glue("shift_clean", shift_mean.loc["clean", mlp_col], fmt=".1%")
glue("shift_noise8", shift_mean.loc[noisy, mlp_col], fmt=".1%")
glue("shift_move1", shift_mean.loc[moved, mlp_col], fmt=".1%")
glue("shift_move2", shift_mean.loc["moved 2 pixels right", mlp_col], fmt=".1%")
glue("shift_rot30", shift_mean.loc[rotated, mlp_col], fmt=".1%")
glue("shift_worst_sd", worst_sd, fmt=".1%")
for key, column in (("svm_std", svm_std), ("svm_raw", svm_raw), ("lr_std", lr_std), ("lr_raw", lr_raw)):
    for shift_key, shift_name in (("clean", "clean"), ("noise4", "noise, std 4"), ("noise8", noisy), ("move1", moved)):
        glue(f"shift_{key}_{shift_key}", shift_mean.loc[shift_name, column], fmt=".1%")
print(f"largest sd over splits: {worst_sd:.1%}")

# %% mystnb={"image": {"alt": "The same test digit seven times: clean, with light and heavy pixel noise, moved one and two pixels to the right, and rotated by 15 and 30 degrees; it stays easy to read for a person in every version."}}
example = 0
fig, axes = plt.subplots(1, len(shifted_test), figsize=(1.35 * len(shifted_test), 1.8))
for ax, (name, X) in zip(axes, shifted_test.items()):
    ax.imshow(X[example].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(name.replace(", ", "\n").replace(" pixel", "\npixel").replace(" degrees", "°"), fontsize=7)
    ax.axis("off")
plt.show()

# %% [markdown]
# The MLP that reads {glue:text}`shift_clean` of the clean test digits
# (mean over {glue:text}`shift_n_splits` splits; no standard deviation in
# the table exceeds {glue:text}`shift_worst_sd`) reads
# {glue:text}`shift_move1` when they are moved by a single pixel,
# {glue:text}`shift_move2` when moved by two, {glue:text}`shift_rot30` when
# rotated by 30 degrees, and {glue:text}`shift_noise8` under heavy noise.
#
# The standardised SVM looks far worse under noise: from
# {glue:text}`shift_svm_std_clean` to {glue:text}`shift_svm_std_noise4` with
# light noise, and {glue:text}`shift_svm_std_noise8` with heavy noise, the
# level of the dummy. The same SVM without the scaler keeps
# {glue:text}`shift_svm_raw_noise4` and {glue:text}`shift_svm_raw_noise8`;
# the logistic regression tells the same story
# ({glue:text}`shift_lr_std_noise8` standardised, {glue:text}`shift_lr_raw_noise8`
# raw, under heavy noise). So most of the noise collapse is not the model,
# it is the **scaler**. `StandardScaler` divides each pixel by its standard
# deviation on the training images, and the pixels at the border of the
# 8×8 image are almost always blank: their standard deviation is tiny, so a
# little noise there becomes tens of standard deviations, far outside
# anything the model has seen (the next cell measures it). A preprocessing
# step fitted on clean data is part of the model, and it can be the least
# robust part.
#
# Moving and rotating are different: without the scaler the SVM still falls
# from {glue:text}`shift_svm_raw_clean` to {glue:text}`shift_svm_raw_move1`
# after a one-pixel move. That drop is the model's: none of these models
# was ever shown a moved digit, and a model of 64 separate pixels has no
# notion that a stroke one pixel to the right is the same stroke. A test
# score is a promise about data like the test data, and nothing more.
# Convolutional networks and data augmentation (later chapters) build some
# of these invariances in.

# %%
scaler = StandardScaler().fit(X_train_d)
# pixels whose training standard deviation is below 0.05 of the [0, 1] range (constant pixels get scale 1 in sklearn)
near_constant = scaler.scale_ < 0.05
z_scores = np.abs(scaler.transform(shifted_test[noisy]))
glue("scaler_n_small", int(near_constant.sum()))
glue("scaler_mean_z_small", float(np.mean(z_scores[:, near_constant])), fmt=".0f")
glue("scaler_mean_z_other", float(np.mean(z_scores[:, ~near_constant])), fmt=".1f")
print(f"{int(near_constant.sum())} of 64 pixels have a training standard deviation below 0.05 "
      f"(smallest non-zero: {scaler.scale_[scaler.scale_ > 1e-6].min():.4f})")
print(f"mean |standardised value| under heavy noise: {np.mean(z_scores[:, near_constant]):.0f} on those pixels, "
      f"{np.mean(z_scores[:, ~near_constant]):.1f} on the others (about 1 on clean training data)")

# %% [markdown]
# {glue:text}`scaler_n_small` of the 64 pixels have a training standard
# deviation below 0.05. Under heavy noise their standardised values are
# {glue:text}`scaler_mean_z_small` standard deviations from the mean on
# average, against {glue:text}`scaler_mean_z_other` on the other pixels: the
# standardised models see inputs unlike any in training on exactly the
# pixels that carried no information. Exercise 4 asks what to do about it.
#
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
# ```{exercise} Predict, then run: a smaller test set
# :label: ch08-ex1
# Section 8 put a 95 % bootstrap interval on an accuracy measured on
# {glue:text}`boot_n_test` test images. Suppose you had only a quarter of
# those images. Will the interval's half-width be about the `"same"`, about
# `"twice"` as large, or about `"four times"` as large? Set
# `prediction_width` to one of the three,
# *then* run the check and the experiment after it.
# ```
#
# ```{solution-start} ch08-ex1
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch08-ex1-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
prediction_width = "twice"
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch08-ex1-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q1.check()


# %%
def mean_half_width(correct, size, n_subsets=20, n_boot=N_BOOT, seed=SEED):
    """Mean bootstrap half-width of the accuracy on random test subsets of `size` images."""
    rng = np.random.default_rng(seed)
    widths = []
    for _ in range(n_subsets):
        subset = correct[rng.choice(len(correct), size=size, replace=False)]
        accuracies = subset[rng.integers(0, size, size=(n_boot, size))].mean(axis=1)
        low, high = np.percentile(accuracies, [2.5, 97.5])
        widths.append((high - low) / 2)
    return float(np.mean(widths))


# the MLP on digits rotated by 15 degrees (section 9): an accuracy far from 100 %, so that a quarter
# of the images still holds enough mistakes for the bootstrap to see
right_rotated = (shift_probs["rotated 15 degrees"].argmax(axis=1) == y_test_d).astype(float)
full_width = mean_half_width(right_rotated, len(right_rotated), n_subsets=1)
quarter_width = mean_half_width(right_rotated, len(right_rotated) // 4)
print(f"accuracy {right_rotated.mean():.1%}; half-width on all {len(right_rotated)} test images: {full_width:.1%}; "
      f"on a quarter ({len(right_rotated) // 4} images, mean over 20 random quarters): {quarter_width:.1%}; "
      f"ratio {quarter_width / full_width:.2f}")
assert 1.6 < quarter_width / full_width < 2.5, "the width grows like 1 / sqrt(n): about twice for a quarter"

# %% [markdown]
# ```{exercise} Diagnose: a cost that is too good to be true
# :label: ch08-ex2
# A colleague chooses the threshold of the 8-detector from the same costs
# as in section 3, on the split of this run, and reports the cost below as
# what the detector will cost on new data. Their number is no higher than
# ours, and usually lower.
# Read their code: what is wrong? Set `diagnosis` to one letter:
#
# - `"A"`: the costs are wrong: a false alarm should cost more than a missed 8;
# - `"B"`: the threshold was chosen on the test set, so its test cost is an optimistic estimate;
# - `"C"`: the grid of thresholds is too coarse to find the best one;
# - `"D"`: a threshold below 0.5 makes the detector worse; 0.5 should be kept.
# ```

# %%
colleague_detector = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(digits.train.X, y_eight_train)
colleague_p = colleague_detector.predict_proba(digits.test.X)[:, 1]
colleague_costs = np.array([total_cost(y_eight_test, colleague_p, t) for t in THRESHOLDS])
colleague_threshold = float(THRESHOLDS[colleague_costs.argmin()])
print(f"colleague: threshold {colleague_threshold:.2f}, cost {colleague_costs.min()} on the {len(y_eight_test)} test images")
print(f"section 3, same split: threshold {cost_table.loc[SEED, 'chosen threshold']:.2f}, "
      f"test cost {cost_table.loc[SEED, 'test cost at chosen']:.0f}")

# %% [markdown]
# ```{solution-start} ch08-ex2
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch08-ex2-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
diagnosis = "B"
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch08-ex2-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q2.check()

# %% [markdown]
# ```{exercise} k-fold indices
# :label: ch08-ex3
# Section 6 let scikit-learn cut the folds. Write `kfold_indices(n_samples, k)`
# returning a list of `k` pairs `(train_idx, val_idx)` of integer NumPy
# arrays. The validation parts must cover every index from 0 to
# `n_samples - 1` exactly once, their sizes must differ by at most one, and
# each `train_idx` holds all the indices not in its `val_idx`. (No
# shuffling needed: consecutive blocks are fine.)
# ```
#
# ```{solution-start} ch08-ex3
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch08-ex3-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
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

# %% nbgrader={"grade": true, "grade_id": "ch08-ex3-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q3.check()

# %% [markdown]
# ```{exercise} Experiment: a scaler that survives noise
# :label: ch08-ex4
# Section 9 showed that `StandardScaler` turns light noise on near-constant
# pixels into huge inputs. Keep the standardisation, but never divide by
# less than a floor: `FloorScaler(floor)` below divides each pixel by
# $\max(\sigma_j, \text{floor})$, with pixels in $[0, 1]$. Try floors with
# the RBF SVM and find one for which the SVM keeps at least
# {glue:text}`floor_min_clean` accuracy on clean **validation** images and
# at least {glue:text}`floor_min_noisy` on validation images with heavy
# noise (std 8 of 16). Set `floor` to it. The check trains the same
# pipeline with your floor on two splits of its own and measures both.
# ```

# %%
class FloorScaler(StandardScaler):
    """StandardScaler that divides by max(standard deviation, floor): near-constant inputs stay small."""

    def __init__(self, floor=0.0):
        super().__init__()
        self.floor = floor

    def fit(self, X, y=None):
        super().fit(X)
        self.scale_ = np.maximum(self.scale_, self.floor)
        return self


X_val_noisy = np.clip(add_noise(digits.val.X, 8.0, seed=SEED), 0, 16) / 16
glue("floor_min_clean", ex.FLOOR_MIN_CLEAN, fmt=".0%")
glue("floor_min_noisy", ex.FLOOR_MIN_NOISY, fmt=".0%")
print(f"requirements: clean validation accuracy >= {ex.FLOOR_MIN_CLEAN:.0%}, noisy >= {ex.FLOOR_MIN_NOISY:.0%}")
for trial_floor in (0.0, 0.01):  # try your own
    trial = make_pipeline(FloorScaler(trial_floor), SVC()).fit(X_train_d, y_train_d)
    print(f"floor {trial_floor}: clean validation {trial.score(X_val_d, y_val_d):.3f}, "
          f"noisy validation {trial.score(X_val_noisy, y_val_d):.3f}")

# %% [markdown]
# ```{solution-start} ch08-ex4
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch08-ex4-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
### BEGIN SOLUTION
# Add 0.1, 0.2, 0.3 and 0.5 to the trial floors above: the noisy accuracy climbs with the floor, and
# levels off once the floor passes the largest standard deviations (print the scaler's scale_ to see them).
floor = 0.5
### END SOLUTION

# %% [markdown]
# ```{solution-end}
# ```

# %% nbgrader={"grade": true, "grade_id": "ch08-ex4-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q4.check()

# %% [markdown]
# ```{exercise} Expected calibration error
# :label: ch08-ex5
# Write `calibration_error(confidences, correct, n_bins=10)`: split $[0, 1]$
# into $M$ = `n_bins` bins of equal width, bin $m$ holding the confidences in
# $\left(\frac{m-1}{M}, \frac{m}{M}\right]$ (a confidence of exactly 0 goes
# to the first bin). Return the ECE of section 10 as a float; empty bins
# contribute nothing.
# ```
#
# ```{solution-start} ch08-ex5
# :class: dropdown
# ```

# %% nbgrader={"grade": false, "grade_id": "ch08-ex5-answer", "locked": false, "schema_version": 3, "solution": true} tags=["solution"]
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

# %% nbgrader={"grade": true, "grade_id": "ch08-ex5-check", "locked": true, "points": 1, "schema_version": 3, "solution": false} tags=["nbval-check-output"]
ex.q5.check()

# %% [markdown]
# ## Summary
#
# - A score means little alone: compare it with a **trivial baseline**. On a
#   rare class, accuracy hides failure; report **precision, recall, $F_1$**
#   of that class or the balanced accuracy, and read the **confusion matrix**.
# - **ROC curves** ignore how rare the positives are; **precision-recall
#   curves** do not, and are more informative on imbalanced data.
# - When errors have different **costs**, choose the decision threshold that
#   minimises the cost on validation data, and report its cost once on test;
#   0.5 is right only for equal costs.
# - **Read the worst mistakes** (most confident first, on validation data) and
#   sort them: the model's own weaknesses call for a better model, ambiguous
#   or mislabelled images do not.
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
#   diagram, ECE). Before blaming the model, check the preprocessing: a
#   `StandardScaler` fitted on clean data made noise fatal for the SVM and
#   the logistic regression; moved and rotated digits defeat the models
#   themselves. **Monitor** inputs, outputs and, when labels arrive,
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
