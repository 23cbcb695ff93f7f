"""Measuring a model: scores, how certain they are, calibration, and shift.

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
- ``add_noise``, ``shift_images``, ``rotate_images``: distribution shifts that
  test whether a model still works on data unlike its training data.

The reports, ``score``, the bootstrap and the calibration functions check
their inputs and say what they expected: labels and predictions are 1-D,
equally long, non-empty and free of NaN; arrays, lists, pandas Series and
torch tensors are all accepted. The plain metric functions (``accuracy``,
``mse``, ...) skip the checks: call them with NumPy arrays, or use
``score(name, y_true, y_pred)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from sklearn import metrics as skm

# --------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------


def as_1d_array(values, what: str = "values") -> np.ndarray:
    """``values`` (list, array, Series, tensor) as a 1-D NumPy array; clear errors otherwise."""
    if values is None:
        raise TypeError(f"{what} is None: expected a 1-D array of numbers")
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{what} must be a 1-D array of numbers, got a string")
    if hasattr(values, "detach"):  # a torch tensor
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{what} must be 1-D (one value per sample), got shape {array.shape}")
    if len(array) == 0:
        raise ValueError(f"{what} is empty: need at least one sample")
    if array.dtype == object or array.dtype.kind in "USV":
        raise TypeError(f"{what} must hold numbers, got dtype {array.dtype}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise ValueError(f"{what} contains {bad} NaN or infinite values")
    return array


def check_pair(y_true, y_pred, what: str = "y_pred") -> tuple[np.ndarray, np.ndarray]:
    """Both arrays, 1-D, equally long, non-empty and finite."""
    y_true = as_1d_array(y_true, "y_true")
    y_pred = as_1d_array(y_pred, what)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true and {what} have different lengths: {len(y_true)} vs {len(y_pred)}")
    return y_true, y_pred


# --------------------------------------------------------------------------
# Metrics by name
# --------------------------------------------------------------------------


def _is_binary(*arrays) -> bool:
    """True when every label is 0 or 1 (then precision etc. are about class 1)."""
    labels = np.unique(np.concatenate(arrays))
    return set(labels.tolist()) <= {0, 1}


def accuracy(y_true, y_pred) -> float:
    """Fraction of correct predictions."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def precision(y_true, y_pred) -> float:
    """Of the samples predicted positive, the fraction truly positive (macro average over classes if not 0/1)."""
    average = "binary" if _is_binary(y_true, y_pred) else "macro"
    return float(skm.precision_score(y_true, y_pred, average=average, zero_division=0))


def recall(y_true, y_pred) -> float:
    """Of the truly positive samples, the fraction found (macro average over classes if not 0/1)."""
    average = "binary" if _is_binary(y_true, y_pred) else "macro"
    return float(skm.recall_score(y_true, y_pred, average=average, zero_division=0))


def f1(y_true, y_pred) -> float:
    """Harmonic mean of precision and recall (macro average over classes if not 0/1)."""
    average = "binary" if _is_binary(y_true, y_pred) else "macro"
    return float(skm.f1_score(y_true, y_pred, average=average, zero_division=0))


def balanced_accuracy(y_true, y_pred) -> float:
    """Mean recall over the classes: a majority-class guess scores 1 / n_classes."""
    return float(skm.balanced_accuracy_score(y_true, y_pred))


def mse(y_true, y_pred) -> float:
    """Mean squared error (units of the target, squared)."""
    return float(np.mean((np.asarray(y_true, float) - y_pred) ** 2))


def rmse(y_true, y_pred) -> float:
    """Root mean squared error (units of the target)."""
    return float(np.sqrt(mse(y_true, y_pred)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error (units of the target)."""
    return float(np.mean(np.abs(np.asarray(y_true, float) - y_pred)))


def r2(y_true, y_pred) -> float:
    """1 - MSE / variance of the targets: 0 for predicting the mean, 1 for perfect."""
    y_true = np.asarray(y_true, float)
    total = np.sum((y_true - y_true.mean()) ** 2)
    if total == 0:
        return 0.0  # a constant target: nothing to explain
    return float(1 - np.sum((y_true - y_pred) ** 2) / total)


def roc_auc(y_true, scores) -> float:
    """Area under the ROC curve of a binary 0/1 problem, from real-valued scores."""
    if len(np.unique(y_true)) < 2:
        raise ValueError("ROC AUC needs both classes in y_true")
    return float(skm.roc_auc_score(y_true, scores))


def average_precision(y_true, scores) -> float:
    """Area under the precision-recall curve (average precision) of a binary 0/1 problem."""
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
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 10:
        raise ValueError(f"n_boot must be an integer of at least 10, got {n_boot!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}")


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
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k must be an integer of at least 2, got {k!r}")
    metric_name, function = get_metric(metric)
    X = np.asarray(X)
    y = as_1d_array(y, "y")
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
    if hasattr(probabilities, "detach"):
        probabilities = probabilities.detach().cpu().numpy()
    probabilities = np.asarray(probabilities, dtype=float)
    if probabilities.ndim != 2 or probabilities.shape[0] == 0:
        raise ValueError(f"probabilities must have shape (n_samples, n_classes), got {probabilities.shape}")
    y_true = as_1d_array(y_true, "y_true")
    if len(y_true) != len(probabilities):
        raise ValueError(f"probabilities and y_true have different lengths: {len(probabilities)} vs {len(y_true)}")
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
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
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


# --------------------------------------------------------------------------
# Distribution shift: the same inputs, a little different
# --------------------------------------------------------------------------


def _check_features(X, what: str = "X") -> np.ndarray:
    if hasattr(X, "detach"):
        X = X.detach().cpu().numpy()
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"{what} must have shape (n_samples, n_features) with n_samples > 0, got {X.shape}")
    if X.dtype.kind not in "fiu":
        raise TypeError(f"{what} must hold numbers, got dtype {X.dtype}")
    return X


def _as_images(X, image_shape):
    X = _check_features(X)
    height, width = image_shape
    if X.shape[1] != height * width:
        raise ValueError(f"rows of X have {X.shape[1]} values, which is not an image of shape {image_shape}")
    return X.reshape(len(X), height, width)


def add_noise(X, std: float, seed: int = 0) -> np.ndarray:
    """``X`` plus Gaussian noise of standard deviation ``std`` (in the units of ``X``)."""
    X = _check_features(X)
    if not np.isfinite(std) or std < 0:
        raise ValueError(f"std must be a finite number >= 0, got {std!r}")
    rng = np.random.default_rng(seed)
    return (X + rng.normal(0.0, std, size=X.shape)).astype(X.dtype if X.dtype.kind == "f" else np.float32)


def shift_images(X, dx: int, dy: int, image_shape: tuple[int, int] = (8, 8), fill: float = 0.0) -> np.ndarray:
    """Move every flattened image ``dx`` pixels right and ``dy`` pixels down; new pixels get ``fill``."""
    for name, value in (("dx", dx), ("dy", dy)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be a whole number of pixels, got {value!r}")
    images = _as_images(X, image_shape)
    height, width = image_shape
    out = np.full_like(images, fill)
    src_rows = slice(max(0, -dy), min(height, height - dy))
    dst_rows = slice(max(0, dy), min(height, height + dy))
    src_cols = slice(max(0, -dx), min(width, width - dx))
    dst_cols = slice(max(0, dx), min(width, width + dx))
    if abs(dx) < width and abs(dy) < height:
        out[:, dst_rows, dst_cols] = images[:, src_rows, src_cols]
    return out.reshape(len(images), -1)


def rotate_images(X, degrees: float, image_shape: tuple[int, int] = (8, 8)) -> np.ndarray:
    """Rotate every flattened image by ``degrees`` about its centre (pixels leaving the frame are lost)."""
    from scipy.ndimage import rotate

    if not np.isfinite(degrees):
        raise ValueError(f"degrees must be a finite number, got {degrees!r}")
    images = _as_images(X, image_shape).astype(np.float32)
    rotated = rotate(images, degrees, axes=(1, 2), reshape=False, order=1, mode="constant", cval=0.0)
    return rotated.reshape(len(images), -1)
