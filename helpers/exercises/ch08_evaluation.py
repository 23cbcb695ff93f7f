"""Checks for the exercises of Chapter 8, "Evaluating a model".

- q1 ``prediction_width`` (predict, then run): how a bootstrap interval grows on a quarter of the test set;
- q2 ``diagnosis`` (diagnose): a decision threshold tuned on the test set;
- q3 ``kfold_indices`` (implement): k-fold train/validation indices;
- q4 ``floor`` (experiment): a floor on the scaler's standard deviations that makes an SVM survive noise,
  verified by a run of the check's own;
- q5 ``calibration_error`` (implement): the expected calibration error.

Each checker builds its own inputs, so it never depends on the notebook's state.
"""

from __future__ import annotations

import functools

import numpy as np

from helpers.exercises import Exercise, Incorrect, call_answer, expect_callable, expect_close, expect_number
from helpers.metrics import expected_calibration_error

# --------------------------------------------------------------------------
# Exercise 1 (predict, then run): a quarter of the test set
# --------------------------------------------------------------------------

WIDTHS = ("same", "twice", "four times")


def _check_prediction(prediction_width) -> None:
    if not isinstance(prediction_width, str) or prediction_width.strip().lower() not in WIDTHS:
        raise Incorrect(f"set prediction_width to one of {', '.join(repr(w) for w in WIDTHS)}")
    answer = prediction_width.strip().lower()
    if answer == "same":
        raise Incorrect("the run below disagrees: fewer test images means more luck in which ones you drew, "
                        "so the interval widens. By how much? Think of the standard error of a mean.")
    if answer == "four times":
        raise Incorrect("the run below disagrees: the width does grow, but the standard error of a mean scales "
                        "with 1 / sqrt(n), not with 1 / n.")


# --------------------------------------------------------------------------
# Exercise 2 (diagnose): a threshold tuned on the test set
# --------------------------------------------------------------------------

WHY_NOT = {
    "A": "the costs are a business decision, given in the exercise; nothing in the run says they are wrong, "
         "and changing them would not explain why the colleague's number is lower than ours.",
    "C": "the colleague used the same grid of 99 thresholds as section 3. A finer grid would only let "
         "them fit the test set even more closely.",
    "D": "section 3 measured the opposite: averaged over the splits, 0.5 cost more on the test sets than "
         "a threshold chosen from the costs on validation data.",
}


def _check_diagnosis(diagnosis) -> None:
    if not isinstance(diagnosis, str) or diagnosis.strip().upper() not in ("A", "B", "C", "D"):
        raise Incorrect('set diagnosis to one letter: "A", "B", "C" or "D"')
    letter = diagnosis.strip().upper()
    if letter in WHY_NOT:
        raise Incorrect(f"not {letter}: {WHY_NOT[letter]}")


# --------------------------------------------------------------------------
# Exercise 3 (implement): k-fold indices
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
# Exercise 4 (experiment): a floor on the scaler, verified by the check's own run
# --------------------------------------------------------------------------

FLOOR_MIN_CLEAN = 0.97  # clean validation accuracy the SVM must keep
FLOOR_MIN_NOISY = 0.55  # validation accuracy required under noise of std 8 (of 16)
CHECK_SEEDS = (11, 12)  # the check's own splits, none of them the notebook's


def _floored_svm(floor_value):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    class _Floored(StandardScaler):
        def fit(self, X, y=None):
            super().fit(X)
            self.scale_ = np.maximum(self.scale_, floor_value)
            return self

    return make_pipeline(_Floored(), SVC())


@functools.lru_cache(maxsize=32)
def _floor_accuracies(floor_value: float) -> tuple[float, float]:
    """Mean (clean, noisy) validation accuracy of the floored-scaler SVM over the check's splits."""
    from helpers.data import add_noise, load

    clean, noisy = [], []
    for seed in CHECK_SEEDS:
        split = load("digits", seed=seed)
        model = _floored_svm(floor_value).fit(split.train.X / 16, split.train.y)
        clean.append(model.score(split.val.X / 16, split.val.y))
        noisy_X = np.clip(add_noise(split.val.X, 8.0, seed=seed), 0, 16) / 16
        noisy.append(model.score(noisy_X, split.val.y))
    return float(np.mean(clean)), float(np.mean(noisy))


def _check_floor(floor) -> None:
    value = expect_number(floor, "a floor (a number, in the units of pixels scaled to [0, 1])")
    if value < 0:
        raise Incorrect("a floor on a standard deviation cannot be negative")
    if value == 0:
        raise Incorrect("a floor of 0 is the plain StandardScaler of section 9, the one that noise breaks")
    clean, noisy = _floor_accuracies(value)
    if clean < FLOOR_MIN_CLEAN:
        raise Incorrect(f"with floor {value:g} the SVM reads only {clean:.1%} of clean validation images "
                        f"(the check's splits); it should keep at least {FLOOR_MIN_CLEAN:.0%}")
    if noisy < FLOOR_MIN_NOISY:
        hint = (" A floor this small still lets the near-constant pixels blow up: compare it with the "
                "standard deviations the scaler divides by (scale_)." if value < 0.2 else "")
        raise Incorrect(f"with floor {value:g} the SVM reads {noisy:.1%} of the noisy validation images on "
                        f"the check's splits; it should reach {FLOOR_MIN_NOISY:.0%}.{hint}")


# --------------------------------------------------------------------------
# Exercise 5 (implement): expected calibration error
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
    "Exercise 1 (predict, then run: a smaller test set)",
    kind="predict",
    answer_name="prediction_width",
    checker=_check_prediction,
    hints=[
        "A bootstrap interval measures how much the accuracy would change with another test set of the same "
        "size. Is an average over fewer images more or less variable?",
        "Accuracy is a mean of 0/1 values; the spread of a mean of n values shrinks in proportion to "
        "1 / sqrt(n). What happens when n is divided by 4?",
    ],
    success="the half-width grows like 1 / sqrt(n): a quarter of the images, twice the width. Run the next cell.",
)

q2 = Exercise(
    "Exercise 2 (diagnose: a cost that is too good to be true)",
    kind="diagnose",
    answer_name="diagnosis",
    checker=_check_diagnosis,
    hints=[
        "Look at which data the colleague used to pick the threshold, and which data they report the cost on.",
        "Section 6 showed what happens to the score of whatever was selected on that very score (the coin-flip "
        "experiment). The same bias applies to a threshold.",
    ],
    success="a threshold picked on the test set fits its luck; the reported cost is optimistic. Choose on "
            "validation data, report once on test.",
)

q3 = Exercise(
    "Exercise 3 (k-fold indices)",
    kind="implement",
    answer_name="kfold_indices",
    checker=_check_kfold,
    hints=[
        "Cut np.arange(n_samples) into k nearly equal consecutive blocks; each block is one validation part.",
        "NumPy can split an array into k blocks whose sizes differ by at most one (array_split); a fold's "
        "training indices are all the indices not in its block (setdiff1d).",
    ],
    success="every sample is validated on exactly once.",
)

q4 = Exercise(
    "Exercise 4 (experiment: a scaler that survives noise)",
    kind="experiment",
    answer_name="floor",
    checker=_check_floor,
    hints=[
        "Print the scaler's scale_ (the standard deviations it divides by) after fitting it on the training "
        "images: how small are the smallest, and how large the largest?",
        "Under noise of std 0.5 (in [0, 1] units), a pixel divided by 0.01 becomes about 50 standard deviations. "
        "Try floors spanning the range of scale_ and keep one that meets both requirements on validation data.",
    ],
    success="with the floor, light noise on near-blank pixels stays small after scaling. A floor above the "
            "standard deviations of all the pixels that vary divides them alike, so little is left of the "
            "standardisation; for pixels, which share one unit, that is no loss.",
)

q5 = Exercise(
    "Exercise 5 (expected calibration error)",
    kind="implement",
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
