"""Checks for the exercises of Chapter 8, "Evaluating a model".

Each checker builds its own inputs, so it never depends on the notebook's state.
"""

from __future__ import annotations

import numpy as np

from helpers.exercises import Exercise, Incorrect, call_answer, expect_callable, expect_close, expect_number
from helpers.metrics import expected_calibration_error

# --------------------------------------------------------------------------
# Exercise 1: precision, recall, F1
# --------------------------------------------------------------------------


def _prf_by_sklearn(y_true, y_pred):
    from sklearn.metrics import precision_recall_fscore_support

    scores = precision_recall_fscore_support(y_true, y_pred, average="binary", zero_division=0)
    return tuple(float(score) for score in scores[:3])  # precision, recall, F1


def _three_numbers(result, what):
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        raise Incorrect(f"{what} should return a tuple of three numbers (precision, recall, f1)")
    return tuple(expect_number(v, "each of precision, recall and f1") for v in result)


def _check_prf(precision_recall_f1) -> None:
    expect_callable(precision_recall_f1, "a function precision_recall_f1(y_true, y_pred)")
    # 3 true positives, 1 false positive, 2 false negatives, 4 true negatives
    y_true = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    y_pred = np.array([1, 1, 1, 0, 0, 1, 0, 0, 0, 0])
    result = _three_numbers(call_answer(precision_recall_f1, y_true, y_pred), "precision_recall_f1")
    precision, recall, f1 = _prf_by_sklearn(y_true, y_pred)
    if np.isclose(result[0], recall) and np.isclose(result[1], precision):
        raise Incorrect("precision and recall are swapped: precision divides by the predicted positives")
    expect_close(result[0], precision, what="the precision (3 true positives, 1 false positive)")
    expect_close(result[1], recall, what="the recall (3 true positives, 2 false negatives)")
    if np.isclose(result[2], (precision + recall) / 2):
        raise Incorrect("F1 is the harmonic mean of precision and recall, not their arithmetic mean")
    expect_close(result[2], f1, what="F1")
    rng = np.random.default_rng(8)
    y_true, y_pred = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    expect_close(_three_numbers(call_answer(precision_recall_f1, y_true, y_pred), "precision_recall_f1"),
                 _prf_by_sklearn(y_true, y_pred), what="the result on random labels")
    nothing_predicted = _three_numbers(
        call_answer(precision_recall_f1, np.array([1, 0, 1, 0]), np.zeros(4, dtype=int)), "precision_recall_f1"
    )
    expect_close(nothing_predicted, (0.0, 0.0, 0.0),
                 what="the result when nothing is predicted positive (zero denominators should give 0.0)")


# --------------------------------------------------------------------------
# Exercise 2: k-fold indices
# --------------------------------------------------------------------------


def _check_folds(kfold_indices, n_samples: int, k: int) -> None:
    folds = call_answer(kfold_indices, n_samples, k)
    if not isinstance(folds, (list, tuple)) or len(folds) != k:
        raise Incorrect(f"kfold_indices({n_samples}, {k}) should return a list of {k} pairs (train_idx, val_idx)")
    everything = np.arange(n_samples)
    seen = []
    for i, fold in enumerate(folds):
        if not isinstance(fold, (list, tuple)) or len(fold) != 2:
            raise Incorrect(f"fold {i} should be a pair (train_idx, val_idx)")
        train_idx, val_idx = (np.asarray(part) for part in fold)
        if train_idx.dtype.kind not in "iu" or val_idx.dtype.kind not in "iu":
            raise Incorrect("train_idx and val_idx should be arrays of integer indices")
        if np.intersect1d(train_idx, val_idx).size:
            raise Incorrect(f"fold {i}: some indices are in both train_idx and val_idx; the model would see them")
        if not np.array_equal(np.sort(np.concatenate([train_idx, val_idx])), everything):
            raise Incorrect(f"fold {i}: train_idx and val_idx together should hold every index 0..n_samples-1 once")
        seen.append(val_idx)
    all_val = np.sort(np.concatenate(seen))
    if not np.array_equal(all_val, everything):
        raise Incorrect("across the folds, every index should be in a validation part exactly once")
    sizes = [len(v) for v in seen]
    if max(sizes) - min(sizes) > 1:
        raise Incorrect(f"validation parts of sizes {sizes}: they should differ by at most one")


def _check_kfold(kfold_indices) -> None:
    expect_callable(kfold_indices, "a function kfold_indices(n_samples, k)")
    for n_samples, k in ((10, 5), (23, 4), (7, 7), (100, 3)):
        _check_folds(kfold_indices, n_samples, k)


# --------------------------------------------------------------------------
# Exercise 3: bootstrap interval
# --------------------------------------------------------------------------


def _check_bootstrap(bootstrap_accuracy_interval) -> None:
    expect_callable(bootstrap_accuracy_interval, "a function bootstrap_accuracy_interval(correct, n_boot, seed)")
    correct = np.zeros(400)
    correct[:340] = 1  # 85 % right
    result = call_answer(bootstrap_accuracy_interval, correct, n_boot=2000, seed=0)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise Incorrect("return a tuple of two numbers (low, high)")
    low, high = (expect_number(v, "the interval's ends") for v in result)
    if not 0 <= low <= high <= 1:
        raise Incorrect(f"an accuracy interval should satisfy 0 <= low <= high <= 1, got ({low}, {high})")
    if high - low < 1e-9:
        raise Incorrect("the interval has no width: are you resampling *with replacement* (rng.integers)?")
    if not low < 0.85 < high:
        raise Incorrect("the interval should contain the accuracy on the whole test set (0.85 here)")
    half_width = 1.96 * np.sqrt(0.85 * 0.15 / 400)  # about 0.035
    if abs((high - low) / 2 - half_width) > 0.008:
        raise Incorrect(
            f"the half-width is {(high - low) / 2:.3f}, but for 400 samples at 85 % it should be near "
            f"{half_width:.3f}: resample n indices per round and take the 2.5th and 97.5th percentiles"
        )
    small = np.array([1, 0, 1, 1, 0, 1, 1, 1, 0, 1], dtype=float)
    small_low, small_high = (expect_number(v) for v in call_answer(bootstrap_accuracy_interval, small, 2000, 1))
    if small_high - small_low < 0.3:
        raise Incorrect("with only 10 samples the interval should be wide; does your resample size follow len(correct)?")


# --------------------------------------------------------------------------
# Exercise 4: expected calibration error
# --------------------------------------------------------------------------


def _check_ece(calibration_error) -> None:
    expect_callable(calibration_error, "a function calibration_error(confidences, correct, n_bins)")
    # confidences 0.05, 0.15, ..., 0.95: one per bin, far from the bin edges
    rng = np.random.default_rng(0)
    confidences = rng.choice(np.arange(10) / 10 + 0.05 + rng.uniform(-0.03, 0.03, 10), size=300)
    correct = (rng.uniform(size=300) < confidences**2).astype(float)  # over-confident
    value = expect_number(call_answer(calibration_error, confidences, correct, 10), "the ECE (a number)")
    expected = expected_calibration_error(confidences, correct, 10)
    unweighted = np.nanmean(
        [abs(correct[(confidences > m / 10) & (confidences <= (m + 1) / 10)].mean()
             - confidences[(confidences > m / 10) & (confidences <= (m + 1) / 10)].mean())
         for m in range(10) if np.any((confidences > m / 10) & (confidences <= (m + 1) / 10))]
    )
    if not np.isclose(value, expected, atol=1e-6) and np.isclose(value, unweighted, atol=1e-6):
        raise Incorrect("weight each bin's gap by the share of samples in it (|B_m| / n), not equally")
    expect_close(value, expected, atol=1e-6, what="the ECE of an over-confident model")
    # a model right exactly as often as it says in every bin: ECE 0
    calibrated = np.repeat([0.25, 0.75], 4)
    right = np.array([1, 0, 0, 0, 1, 1, 1, 0], dtype=float)
    expect_close(call_answer(calibration_error, calibrated, right, 10), 0.0, atol=1e-9,
                 what="the ECE of a perfectly calibrated model")
    # empty bins and fewer bins
    few = np.array([0.95, 0.92, 0.97, 0.55])
    hits = np.array([1.0, 0.0, 1.0, 1.0])
    expect_close(call_answer(calibration_error, few, hits, 5), expected_calibration_error(few, hits, 5), atol=1e-9,
                 what="the ECE with 5 bins, most of them empty")


# --------------------------------------------------------------------------
# The exercises
# --------------------------------------------------------------------------

q1 = Exercise(
    "Exercise 1 (precision, recall, F1)",
    answer_name="precision_recall_f1",
    checker=_check_prf,
    hints=[
        "Count the true positives (predicted 1, truly 1), false positives (predicted 1, truly 0) and "
        "false negatives (predicted 0, truly 1) with boolean masks and np.sum.",
        "precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2PR / (P + R); test each denominator "
        "before dividing and use 0.0 when it is zero.",
    ],
    success="your three scores match.",
)

q2 = Exercise(
    "Exercise 2 (k-fold indices)",
    answer_name="kfold_indices",
    checker=_check_kfold,
    hints=[
        "Cut np.arange(n_samples) into k nearly equal consecutive blocks; each block is one validation part.",
        "NumPy can split an array into k blocks whose sizes differ by at most one (array_split); a fold's "
        "training indices are all the indices not in its block (setdiff1d).",
    ],
    success="every sample is validated on exactly once.",
)

q3 = Exercise(
    "Exercise 3 (bootstrap interval)",
    answer_name="bootstrap_accuracy_interval",
    checker=_check_bootstrap,
    hints=[
        "One bootstrap round: pick len(correct) random positions with replacement and average correct there.",
        "In each round draw n random integer positions in [0, n) with the seeded generator; collect the n_boot "
        "accuracies and take their 2.5th and 97.5th percentiles.",
    ],
    success="your interval has the right centre and width.",
)

q4 = Exercise(
    "Exercise 4 (expected calibration error)",
    answer_name="calibration_error",
    checker=_check_ece,
    hints=[
        "Give each confidence a bin number m from 0 to n_bins - 1, then for each non-empty bin compare the "
        "mean of correct with the mean of the confidences.",
        "A confidence c falls in bin ceil(c x n_bins) - 1 (clipped to the valid range); weight each bin's "
        "|accuracy - confidence| by the share of the samples in it, and add them up.",
    ],
    success="your ECE matches helpers.metrics.expected_calibration_error.",
)
