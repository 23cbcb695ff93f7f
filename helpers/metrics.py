"""Chapter 8: measuring a model: scores, how certain they are, and calibration.

- ``score(name, y_true, y_pred)`` and ``METRICS``: any metric by name
  (accuracy, precision, recall, F1, MSE, MAE, R^2, ROC AUC, ...);
- ``classification_report`` / ``regression_report``: the usual numbers as one
  dict, ``report_frame`` turns several into a table;
- ``bootstrap_ci``: a confidence interval for any metric on a test set;
- ``paired_bootstrap``: is model A really better than model B on the same
  test set?
- ``cross_validation_table``: k-fold scores of several models (scikit-learn
  estimators or your own ``fit_predict`` functions), with mean and spread;
- ``top_label_confidence``, ``reliability_table``, ``expected_calibration_error``,
  ``plot_reliability_diagram``: is a 90 % confident model right 90 % of the time?

The distribution shifts the chapter tests models on (``add_noise``,
``shift_images``, ``rotate_images``) are in ``helpers.data``.

Every function checks its inputs (with ``helpers.checks``) and says what it
expected: labels and predictions are 1-D, equally long, non-empty and free
of NaN; arrays, lists, pandas Series and torch tensors are all accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from helpers.checks import as_array, check_positive_int, check_probability, check_same_length, to_numpy

# --------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------


def check_pair(y_true, y_pred, what: str = "y_pred") -> tuple[np.ndarray, np.ndarray]:
    """Both arrays as NumPy, 1-D, equally long, non-empty and free of NaN (else a clear error)."""
    y_true = as_array(y_true, "y_true", ndim=1)
    y_pred = as_array(y_pred, what, ndim=1)
    check_same_length(y_true, y_pred, "y_true", what)
    return y_true, y_pred


# --------------------------------------------------------------------------
# Metrics by name
# --------------------------------------------------------------------------


def _class_1_or_macro(sklearn_score, y_true, y_pred) -> float:
    """``sklearn_score`` about class 1 when every label is 0 or 1, else averaged over the classes (macro)."""
    y_true, y_pred = check_pair(y_true, y_pred)
    binary = set(np.unique(np.concatenate([y_true, y_pred])).tolist()) <= {0, 1}
    return float(sklearn_score(y_true, y_pred, average="binary" if binary else "macro", zero_division=0))


def accuracy(y_true, y_pred) -> float:
    """Fraction of correct predictions."""
    y_true, y_pred = check_pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def precision(y_true, y_pred) -> float:
    """Of the samples predicted positive, the fraction truly positive (macro average over classes if not 0/1)."""
    return _class_1_or_macro(skm.precision_score, y_true, y_pred)


def recall(y_true, y_pred) -> float:
    """Of the truly positive samples, the fraction found (macro average over classes if not 0/1)."""
    return _class_1_or_macro(skm.recall_score, y_true, y_pred)


def f1(y_true, y_pred) -> float:
    """Harmonic mean of precision and recall (macro average over classes if not 0/1)."""
    return _class_1_or_macro(skm.f1_score, y_true, y_pred)


def balanced_accuracy(y_true, y_pred) -> float:
    """Mean recall over the classes: a majority-class guess scores 1 / n_classes."""
    y_true, y_pred = check_pair(y_true, y_pred)
    return float(skm.balanced_accuracy_score(y_true, y_pred))


def mse(y_true, y_pred) -> float:
    """Mean squared error (units of the target, squared)."""
    y_true, y_pred = check_pair(y_true, y_pred)
    return float(np.mean((y_true.astype(float) - y_pred) ** 2))


def rmse(y_true, y_pred) -> float:
    """Root mean squared error (units of the target)."""
    return float(np.sqrt(mse(y_true, y_pred)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error (units of the target)."""
    y_true, y_pred = check_pair(y_true, y_pred)
    return float(np.mean(np.abs(y_true.astype(float) - y_pred)))


def r2(y_true, y_pred) -> float:
    """1 - MSE / variance of the targets: 0 for predicting the mean, 1 for perfect."""
    y_true, y_pred = check_pair(y_true, y_pred)
    y_true = y_true.astype(float)
    total = np.sum((y_true - y_true.mean()) ** 2)
    if total == 0:
        return 0.0  # a constant target: nothing to explain
    return float(1 - np.sum((y_true - y_pred) ** 2) / total)


def roc_auc(y_true, scores) -> float:
    """Area under the ROC curve of a binary 0/1 problem, from real-valued scores."""
    y_true, scores = check_pair(y_true, scores, "scores")
    if len(np.unique(y_true)) < 2:
        raise ValueError("ROC AUC needs both classes in y_true")
    return float(skm.roc_auc_score(y_true, scores))


def average_precision(y_true, scores) -> float:
    """Area under the precision-recall curve (average precision) of a binary 0/1 problem."""
    y_true, scores = check_pair(y_true, scores, "scores")
    if not np.any(y_true == 1):
        raise ValueError("average precision needs at least one positive (1) in y_true")
    return float(skm.average_precision_score(y_true, scores))


METRICS: dict[str, Callable] = {
    "accuracy": accuracy,
    "balanced_accuracy": balanced_accuracy,
    "precision": precision,
    "recall": recall,
    "f1": f1,
    "mse": mse,
    "rmse": rmse,
    "mae": mae,
    "r2": r2,
    "roc_auc": roc_auc,
    "average_precision": average_precision,
}
LOWER_IS_BETTER = {"mse", "rmse", "mae"}


def get_metric(metric) -> tuple[str, Callable]:
    """``(name, function)`` for a metric name in ``METRICS`` or a callable ``f(y_true, y_pred)``."""
    if callable(metric):
        return getattr(metric, "__name__", "metric"), metric
    if not isinstance(metric, str) or metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}: expected one of {', '.join(METRICS)} or a function")
    return metric, METRICS[metric]


def score(metric, y_true, y_pred) -> float:
    """The value of ``metric`` (a name or a function) for these labels and predictions."""
    name, function = get_metric(metric)
    y_true, y_pred = check_pair(y_true, y_pred)
    return float(function(y_true, y_pred))


def classification_report(y_true, y_pred) -> dict:
    """Accuracy, precision, recall and F1 (about class 1 for 0/1 labels, macro-averaged otherwise)."""
    y_true, y_pred = check_pair(y_true, y_pred)
    names = ("accuracy", "precision", "recall", "f1")
    report = {name: METRICS[name](y_true, y_pred) for name in names}
    report["n"] = len(y_true)
    return report


def regression_report(y_true, y_pred) -> dict:
    """MSE, RMSE, MAE and R^2 of real-valued predictions."""
    y_true, y_pred = check_pair(y_true, y_pred)
    report = {name: METRICS[name](y_true, y_pred) for name in ("mse", "rmse", "mae", "r2")}
    report["n"] = len(y_true)
    return report


def report_frame(reports: dict[str, dict]) -> pd.DataFrame:
    """Several reports ``{model name: report}`` as one table, a row per model."""
    if not isinstance(reports, dict) or not reports:
        raise ValueError("expected a non-empty dict {model name: report dict}")
    return pd.DataFrame.from_dict(reports, orient="index")


# --------------------------------------------------------------------------
# How certain is a score? The bootstrap
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A score on the whole test set and a bootstrap interval around it."""

    estimate: float
    low: float
    high: float
    level: float
    samples: np.ndarray = field(repr=False, compare=False)

    @property
    def width(self) -> float:
        return self.high - self.low

    def __str__(self) -> str:
        return f"{self.estimate:.3f} [{self.low:.3f}, {self.high:.3f}] ({self.level:.0%} CI)"


def _check_bootstrap_args(n_boot, level) -> None:
    check_positive_int(n_boot, "n_boot", minimum=10)
    check_probability(level, "level (e.g. 0.95)", open_interval=True)


def _percentiles(samples: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_ci(y_true, y_pred, metric="accuracy", *, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> Interval:
    """Percentile bootstrap interval of ``metric`` on a test set (Efron & Tibshirani 1993).

    Draw ``n_boot`` test sets of the same size *with replacement* from the
    ``n`` samples, score each, and report the central ``level`` share of
    those scores. ``y_pred`` may be labels or scores, whatever ``metric``
    expects.
    """
    _, function = get_metric(metric)
    y_true, y_pred = check_pair(y_true, y_pred)
    _check_bootstrap_args(n_boot, level)
    rng = np.random.default_rng(seed)
    n = len(y_true)
    samples = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, n, size=n)
        samples[b] = function(y_true[idx], y_pred[idx])
    low, high = _percentiles(samples, level)
    return Interval(float(function(y_true, y_pred)), low, high, level, samples)


@dataclass(frozen=True)
class Comparison:
    """Model A against model B on the same test set: ``difference = score_a - score_b``."""

    score_a: float
    score_b: float
    difference: Interval
    share_a_higher: float  # fraction of bootstrap test sets where A scored higher than B

    def __str__(self) -> str:
        return (
            f"A {self.score_a:.3f}, B {self.score_b:.3f}, A - B = {self.difference} "
            f"| A higher in {self.share_a_higher:.1%} of resamples"
        )


def paired_bootstrap(
    y_true, pred_a, pred_b, metric="accuracy", *, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> Comparison:
    """Bootstrap the *difference* of two models' scores on the same resampled test sets.

    Both models are scored on each resample, so the luck of the draw (easy or
    hard test samples) affects them alike and cancels in the difference. If
    the interval excludes 0, the test set supports a real difference.
    """
    _, function = get_metric(metric)
    y_true, pred_a = check_pair(y_true, pred_a, "pred_a")
    _, pred_b = check_pair(y_true, pred_b, "pred_b")
    _check_bootstrap_args(n_boot, level)
    rng = np.random.default_rng(seed)
    n = len(y_true)
    differences = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, n, size=n)
        differences[b] = function(y_true[idx], pred_a[idx]) - function(y_true[idx], pred_b[idx])
    score_a, score_b = float(function(y_true, pred_a)), float(function(y_true, pred_b))
    low, high = _percentiles(differences, level)
    interval = Interval(score_a - score_b, low, high, level, differences)
    return Comparison(score_a, score_b, interval, float(np.mean(differences > 0)))


# --------------------------------------------------------------------------
# k-fold cross-validation of several models
# --------------------------------------------------------------------------


def cross_validation_table(models: dict, X, y, *, k: int = 5, metric="accuracy", seed: int = 0, stratify: bool = True) -> pd.DataFrame:
    """Score every model on each of ``k`` folds; one row per model with ``mean`` and ``std``.

    ``models`` maps a name to either a scikit-learn estimator (cloned and
    fitted afresh on each fold) or a function
    ``fit_predict(X_train, y_train, X_val) -> predictions`` (e.g. one that
    trains a PyTorch model with ``helpers.train.fit``). Every model sees the
    same folds. ``std`` is the spread across folds (``ddof=1``).
    """
    from sklearn.base import clone
    from sklearn.model_selection import KFold, StratifiedKFold

    if not isinstance(models, dict) or not models:
        raise ValueError("models must be a non-empty dict {name: estimator or fit_predict function}")
    check_positive_int(k, "k", minimum=2)
    metric_name, function = get_metric(metric)
    X = np.asarray(to_numpy(X))
    y = as_array(y, "y", ndim=1)
    if X.ndim < 2 or len(X) != len(y):
        raise ValueError(f"X must have shape (n_samples, n_features) matching y, got {X.shape} and {y.shape}")
    if len(y) < k:
        raise ValueError(f"cannot make {k} folds from {len(y)} samples")
    splitter = (StratifiedKFold if stratify else KFold)(n_splits=k, shuffle=True, random_state=seed)
    folds = list(splitter.split(X, y))
    rows = {}
    for name, model in models.items():
        scores = []
        for train_idx, val_idx in folds:
            if hasattr(model, "fit") and hasattr(model, "predict"):
                fitted = clone(model).fit(X[train_idx], y[train_idx])
                predictions = fitted.predict(X[val_idx])
            elif callable(model):
                predictions = model(X[train_idx], y[train_idx], X[val_idx])
            else:
                raise TypeError(f"model {name!r} must be a scikit-learn estimator or a fit_predict function")
            scores.append(score(function, y[val_idx], predictions))
        rows[name] = {f"fold {i + 1}": s for i, s in enumerate(scores)}
        rows[name]["mean"] = float(np.mean(scores))
        rows[name]["std"] = float(np.std(scores, ddof=1))
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    table.attrs["metric"] = metric_name
    return table


# --------------------------------------------------------------------------
# Calibration: reliability diagram and expected calibration error
# --------------------------------------------------------------------------


def top_label_confidence(probabilities, y_true) -> tuple[np.ndarray, np.ndarray]:
    """From class probabilities (n, n_classes): the top probability (n,) and whether that class is right (n,)."""
    probabilities = np.asarray(to_numpy(probabilities), dtype=float)
    if probabilities.ndim != 2 or probabilities.shape[0] == 0:
        raise ValueError(f"probabilities must have shape (n_samples, n_classes), got {probabilities.shape}")
    y_true = as_array(y_true, "y_true", ndim=1)
    check_same_length(probabilities, y_true, "probabilities", "y_true")
    if not np.isfinite(probabilities).all() or probabilities.min() < 0 or probabilities.max() > 1:
        raise ValueError("probabilities must be finite numbers in [0, 1] (apply softmax to logits first)")
    return probabilities.max(axis=1), probabilities.argmax(axis=1) == y_true


def _check_calibration_inputs(confidences, correct, n_bins):
    confidences, correct = check_pair(confidences, correct, "correct")
    confidences = confidences.astype(float)
    if confidences.min() < 0 or confidences.max() > 1:
        raise ValueError("confidences must lie in [0, 1]")
    if not set(np.unique(correct).tolist()) <= {0, 1}:
        raise ValueError("correct must hold booleans or 0/1 (was each prediction right?)")
    check_positive_int(n_bins, "n_bins")
    return confidences, correct.astype(float)


def reliability_table(confidences, correct, n_bins: int = 10) -> pd.DataFrame:
    """Confidence and accuracy per bin of equal width on [0, 1] (Guo et al. 2017).

    Bin ``m`` holds the predictions with confidence in ``((m-1)/M, m/M]``
    (confidence 0 goes to the first bin). Columns: ``low``, ``high``,
    ``count``, ``confidence`` (mean), ``accuracy`` and ``gap`` =
    accuracy - confidence (negative: over-confident). Empty bins have NaN means.
    """
    confidences, correct = _check_calibration_inputs(confidences, correct, n_bins)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # the number of inner edges strictly below a confidence is its bin: (edges[m], edges[m+1]] -> m
    which = np.searchsorted(edges[1:-1], confidences, side="left")
    rows = []
    for m in range(n_bins):
        inside = which == m
        count = int(inside.sum())
        mean_conf = float(confidences[inside].mean()) if count else np.nan
        acc = float(correct[inside].mean()) if count else np.nan
        rows.append({"low": edges[m], "high": edges[m + 1], "count": count,
                     "confidence": mean_conf, "accuracy": acc, "gap": acc - mean_conf})
    return pd.DataFrame(rows)


def expected_calibration_error(confidences, correct, n_bins: int = 10) -> float:
    """ECE = sum over bins of (share of samples in the bin) x |accuracy - mean confidence|."""
    table = reliability_table(confidences, correct, n_bins)
    filled = table[table["count"] > 0]
    weights = filled["count"] / filled["count"].sum()
    return float((weights * (filled["accuracy"] - filled["confidence"]).abs()).sum())


def plot_reliability_diagram(
    confidences, correct, n_bins: int = 10, ax=None, label: str | None = None, title: str | None = None,
    diagonal: bool = True,
):
    """Accuracy against mean confidence per bin; a calibrated model follows the diagonal.

    Call it several times on the same ``ax`` (with ``diagonal=False`` after
    the first) to compare models or conditions; the legend gives each ECE.
    """
    import matplotlib.pyplot as plt

    table = reliability_table(confidences, correct, n_bins)
    ece = expected_calibration_error(confidences, correct, n_bins)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.8, 3.6))
    if diagonal:
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    filled = table[table["count"] > 0]
    name = f"{label}, " if label else ""
    ax.plot(filled["confidence"], filled["accuracy"], marker="o", label=f"{name}ECE {ece:.3f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top class probability)")
    ax.set_ylabel("accuracy")
    ax.legend(loc="upper left", fontsize="small")
    if title:
        ax.set_title(title)
    return ax.figure
