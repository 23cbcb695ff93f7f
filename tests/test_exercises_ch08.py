"""Chapter 8's checks reject plausible wrong answers (broken ones: tests/test_exercises.py)."""

import numpy as np

from helpers.exercises import ch08_evaluation as ex
from notebook_support import chapter_solutions


SOLUTIONS = chapter_solutions("08_evaluation")  # the notebook's own solution cells


def test_prf_check_rejects_swapped_arithmetic_mean_and_crashing_answers():
    right = SOLUTIONS["precision_recall_f1"]

    def swapped(y_true, y_pred):
        precision, recall, f1 = right(y_true, y_pred)
        return recall, precision, f1

    def arithmetic(y_true, y_pred):
        precision, recall, _ = right(y_true, y_pred)
        return precision, recall, (precision + recall) / 2

    def divides_by_zero(y_true, y_pred):
        hits = np.count_nonzero(y_true * y_pred)
        with np.errstate(invalid="ignore", divide="ignore"):
            p, r = hits / np.count_nonzero(y_pred), hits / np.count_nonzero(y_true)
        return p, r, 2 * p * r / (p + r)

    result = ex.q1.evaluate(swapped)
    assert result.status == "incorrect" and "swapped" in result.message
    result = ex.q1.evaluate(arithmetic)
    assert result.status == "incorrect" and "harmonic" in result.message
    assert ex.q1.evaluate(divides_by_zero).status == "incorrect"  # NaN precision when nothing is predicted
    assert ex.q1.evaluate(lambda t, p: 0.5).status == "incorrect"


def test_kfold_check_rejects_overlaps_and_unequal_folds():
    def overlapping(n, k):
        indices = np.arange(n)
        return [(indices, part) for part in np.array_split(indices, k)]

    def last_fold_gets_the_rest(n, k):
        size = n // k
        folds = []
        for i in range(k):
            val = np.arange(i * size, n if i == k - 1 else (i + 1) * size)
            folds.append((np.setdiff1d(np.arange(n), val), val))
        return folds

    def float_indices(n, k):
        indices = np.arange(n)
        return [(np.setdiff1d(indices, v).astype(float), v.astype(float)) for v in np.array_split(indices, k)]

    assert "both" in ex.q2.evaluate(overlapping).message
    assert "differ by at most one" in ex.q2.evaluate(last_fold_gets_the_rest).message
    assert ex.q2.evaluate(float_indices).status == "incorrect"
    assert ex.q2.evaluate(lambda n, k: []).status == "incorrect"


def test_bootstrap_check_rejects_no_replacement_and_fixed_sizes():
    def without_replacement(correct, n_boot=2000, seed=0):
        rng = np.random.default_rng(seed)
        accs = [correct[rng.permutation(len(correct))].mean() for _ in range(n_boot)]
        return tuple(np.percentile(accs, [2.5, 97.5]))

    def fixed_size(correct, n_boot=2000, seed=0):
        rng = np.random.default_rng(seed)
        accs = [correct[rng.integers(0, len(correct), 1000)].mean() for _ in range(n_boot)]
        return tuple(np.percentile(accs, [2.5, 97.5]))

    def standard_deviation_not_percentiles(correct, n_boot=2000, seed=0):
        rng = np.random.default_rng(seed)
        accs = np.array([correct[rng.integers(0, len(correct), len(correct))].mean() for _ in range(n_boot)])
        return accs.mean() - accs.std(), accs.mean() + accs.std()

    assert "with replacement" in ex.q3.evaluate(without_replacement).message
    assert ex.q3.evaluate(fixed_size).status == "incorrect"
    assert ex.q3.evaluate(standard_deviation_not_percentiles).status == "incorrect"


def test_ece_check_rejects_unweighted_mean_of_gaps():
    def unweighted(confidences, correct, n_bins=10):
        confidences, correct = np.asarray(confidences, float), np.asarray(correct, float)
        bins = np.digitize(confidences, np.linspace(0, 1, n_bins + 1)[1:-1], right=True)
        gaps = [abs(correct[bins == m].mean() - confidences[bins == m].mean()) for m in range(n_bins) if (bins == m).any()]
        return float(np.mean(gaps))

    def accuracy_minus_confidence_overall(confidences, correct, n_bins=10):
        return float(abs(np.mean(correct) - np.mean(confidences)))

    result = ex.q4.evaluate(unweighted)
    assert result.status == "incorrect" and "share of samples" in result.message
    assert ex.q4.evaluate(accuracy_minus_confidence_overall).status == "incorrect"
