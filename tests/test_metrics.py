"""helpers.metrics: scores agree with scikit-learn, intervals behave, bad input gets a clear error."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

from helpers import metrics


@pytest.fixture
def binary():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 300)
    y_pred = np.where(rng.uniform(size=300) < 0.8, y_true, 1 - y_true)
    return y_true, y_pred


# --------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------


def test_classification_report_matches_sklearn_binary(binary):
    y_true, y_pred = binary
    report = metrics.classification_report(y_true, y_pred)
    assert report["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert report["precision"] == pytest.approx(skm.precision_score(y_true, y_pred))
    assert report["recall"] == pytest.approx(skm.recall_score(y_true, y_pred))
    assert report["f1"] == pytest.approx(skm.f1_score(y_true, y_pred))
    assert report["n"] == 300


def test_classification_report_macro_averages_many_classes():
    y_true = np.array([0, 1, 2, 2, 1, 0, 2])
    y_pred = np.array([0, 2, 2, 2, 1, 1, 0])
    report = metrics.classification_report(y_true, y_pred)
    assert report["f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
    assert report["recall"] == pytest.approx(skm.recall_score(y_true, y_pred, average="macro"))


def test_no_positive_prediction_gives_zero_not_a_warning():
    report = metrics.classification_report([1, 0, 1, 0], [0, 0, 0, 0])
    assert report["precision"] == 0 and report["recall"] == 0 and report["f1"] == 0
    assert report["accuracy"] == 0.5


def test_regression_report_matches_sklearn():
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.normal(size=50), rng.normal(size=50)
    report = metrics.regression_report(y_true, y_pred)
    assert report["mse"] == pytest.approx(skm.mean_squared_error(y_true, y_pred))
    assert report["mae"] == pytest.approx(skm.mean_absolute_error(y_true, y_pred))
    assert report["r2"] == pytest.approx(skm.r2_score(y_true, y_pred))
    assert report["rmse"] == pytest.approx(np.sqrt(report["mse"]))


def test_r2_of_the_mean_is_zero_and_of_perfect_is_one():
    y = np.array([1.0, 2.0, 4.0, 7.0])
    assert metrics.r2(y, np.full(4, y.mean())) == pytest.approx(0.0)
    assert metrics.r2(y, y) == pytest.approx(1.0)
    assert metrics.r2(np.ones(3), np.ones(3)) == 0.0  # constant target: defined, no division by zero


def test_score_accepts_names_callables_tensors_and_series(binary):
    y_true, y_pred = binary
    expected = skm.accuracy_score(y_true, y_pred)
    assert metrics.score("accuracy", torch.tensor(y_true), pd.Series(y_pred)) == pytest.approx(expected)
    assert metrics.score(lambda t, p: float(np.mean(t == p)), list(y_true), y_pred) == pytest.approx(expected)


def test_ranking_metrics_match_sklearn(binary):
    y_true, _ = binary
    scores = y_true + np.random.default_rng(2).normal(size=len(y_true))
    assert metrics.score("roc_auc", y_true, scores) == pytest.approx(skm.roc_auc_score(y_true, scores))
    assert metrics.score("average_precision", y_true, scores) == pytest.approx(
        skm.average_precision_score(y_true, scores)
    )


def test_report_frame_has_a_row_per_model(binary):
    y_true, y_pred = binary
    table = metrics.report_frame({"a": metrics.classification_report(y_true, y_pred),
                                  "b": metrics.classification_report(y_true, y_true)})
    assert list(table.index) == ["a", "b"] and table.loc["b", "accuracy"] == 1.0


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "y_true, y_pred, error, words",
    [
        ([0, 1, 1], [0, 1], ValueError, "different lengths"),
        ([], [], ValueError, "empty"),
        ([0.0, np.nan], [0.0, 1.0], ValueError, "NaN"),
        ([[0, 1]], [[0, 1]], ValueError, "1-D"),
        (None, [0, 1], TypeError, "None"),
        (["a", "b"], [0, 1], TypeError, "numbers"),
    ],
)
def test_bad_labels_get_clear_errors(y_true, y_pred, error, words):
    with pytest.raises(error, match=words):
        metrics.classification_report(y_true, y_pred)


@pytest.mark.parametrize("name", sorted(metrics.METRICS))
@pytest.mark.parametrize(
    "y_true, y_pred, error, words",
    [
        ([], [], ValueError, "empty"),
        ([0.0, 1.0, np.nan], [0.0, 1.0, 1.0], ValueError, "y_true contains 1 NaN"),
        ([0.0, 1.0, 1.0], [0.0, np.inf, 1.0], ValueError, "NaN or infinite"),
        ([0, 1, 1], [0, 1], ValueError, "different lengths: 3 vs 2"),
        ([0, 1], "01", TypeError, "string"),
    ],
)
def test_every_metric_function_rejects_bad_input(name, y_true, y_pred, error, words):
    """The plain functions check too: metrics.accuracy([], []) or r2 with a NaN never return a number."""
    with pytest.raises(error, match=words):
        metrics.METRICS[name](y_true, y_pred)


def test_plain_metric_functions_accept_lists_and_tensors():
    assert metrics.accuracy([0, 1, 1], [0, 1, 0]) == pytest.approx(2 / 3)
    assert metrics.accuracy(torch.tensor([0, 1]), torch.tensor([0, 1])) == 1.0
    assert metrics.r2(pd.Series([1.0, 2.0, 3.0]), [1.0, 2.0, 3.0]) == 1.0
    assert metrics.mae([1, 2], [2, 2]) == 0.5


def test_unknown_metric_names_the_known_ones(binary):
    with pytest.raises(ValueError, match="unknown metric 'acuracy'.*accuracy"):
        metrics.score("acuracy", *binary)
    with pytest.raises(ValueError, match="unknown metric"):
        metrics.bootstrap_ci(*binary, metric="nope")


def test_ranking_metrics_need_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        metrics.score("roc_auc", [1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="positive"):
        metrics.score("average_precision", [0, 0], [0.1, 0.2])


def test_report_frame_rejects_empty():
    with pytest.raises(ValueError, match="non-empty dict"):
        metrics.report_frame({})


# --------------------------------------------------------------------------
# Bootstrap
# --------------------------------------------------------------------------


def test_bootstrap_interval_contains_estimate_and_matches_normal_width():
    correct = np.r_[np.ones(850), np.zeros(150)].astype(int)
    y_true = np.zeros(1000, dtype=int)
    y_pred = 1 - correct  # right exactly where correct == 1
    interval = metrics.bootstrap_ci(y_true, y_pred, n_boot=2000, seed=0)
    assert interval.estimate == pytest.approx(0.85)
    assert interval.low < 0.85 < interval.high
    assert interval.width / 2 == pytest.approx(1.96 * np.sqrt(0.85 * 0.15 / 1000), abs=0.004)
    assert len(interval.samples) == 2000 and "95% CI" in str(interval)


def test_bootstrap_is_reproducible_and_seed_dependent(binary):
    a = metrics.bootstrap_ci(*binary, metric="f1", n_boot=200, seed=3)
    b = metrics.bootstrap_ci(*binary, metric="f1", n_boot=200, seed=3)
    c = metrics.bootstrap_ci(*binary, metric="f1", n_boot=200, seed=4)
    assert (a.low, a.high) == (b.low, b.high) and not np.array_equal(a.samples, c.samples)


def test_bootstrap_rejects_bad_settings(binary):
    with pytest.raises(ValueError, match="n_boot"):
        metrics.bootstrap_ci(*binary, n_boot=5)
    with pytest.raises(ValueError, match="level"):
        metrics.bootstrap_ci(*binary, level=95)


def test_paired_bootstrap_is_narrower_than_unpaired_for_correlated_models(binary):
    y_true, y_pred = binary
    other = y_pred.copy()
    other[:10] = y_true[:10]  # B fixes a few of A's mistakes, otherwise identical
    comparison = metrics.paired_bootstrap(y_true, y_pred, other, n_boot=500, seed=0)
    assert comparison.score_b >= comparison.score_a
    assert comparison.difference.high <= 0 + 1e-12  # A is never better on any resample
    a = metrics.bootstrap_ci(y_true, y_pred, n_boot=500, seed=1)
    b = metrics.bootstrap_ci(y_true, other, n_boot=500, seed=2)
    unpaired = np.percentile(a.samples - b.samples, [2.5, 97.5])
    assert comparison.difference.width < unpaired[1] - unpaired[0]
    assert 0 <= comparison.share_a_higher <= 1 and "A - B" in str(comparison)


def test_paired_bootstrap_checks_both_prediction_lengths(binary):
    y_true, y_pred = binary
    with pytest.raises(ValueError, match="pred_b"):
        metrics.paired_bootstrap(y_true, y_pred, y_pred[:-1])


# --------------------------------------------------------------------------
# Cross-validation
# --------------------------------------------------------------------------


def test_cross_validation_table_with_estimator_and_function():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] > 0).astype(int)

    def majority(X_train, y_train, X_val):
        return np.full(len(X_val), np.bincount(y_train).argmax())

    table = metrics.cross_validation_table({"logreg": LogisticRegression(), "majority": majority}, X, y, k=4)
    assert list(table.columns) == ["fold 1", "fold 2", "fold 3", "fold 4", "mean", "std"]
    assert table.loc["logreg", "mean"] > table.loc["majority", "mean"] + 0.2
    assert table.loc["logreg", "mean"] == pytest.approx(table.iloc[0, :4].mean())


def test_cross_validation_table_bad_input():
    X, y = np.zeros((10, 2)), np.zeros(10, dtype=int)
    with pytest.raises(ValueError, match="non-empty dict"):
        metrics.cross_validation_table({}, X, y)
    with pytest.raises(ValueError, match="k must be"):
        metrics.cross_validation_table({"m": LogisticRegression()}, X, y, k=1)
    with pytest.raises(ValueError, match="shape"):
        metrics.cross_validation_table({"m": LogisticRegression()}, X[:5], y)
    with pytest.raises(TypeError, match="estimator or a fit_predict"):
        metrics.cross_validation_table({"m": 3}, X, np.r_[np.zeros(5), np.ones(5)].astype(int), k=2)


# --------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------


def test_perfectly_calibrated_predictions_have_zero_ece():
    confidences = np.repeat([0.25, 0.75], 4)
    correct = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    assert metrics.expected_calibration_error(confidences, correct) == pytest.approx(0.0)


def test_ece_by_hand_and_bin_edges():
    confidences = np.array([0.9, 0.9, 0.6, 0.1])
    correct = np.array([1, 0, 1, 1])
    # bins: 0.9 -> (0.8, 0.9]: acc 0.5 vs 0.9; 0.6 -> (0.5, 0.6]: acc 1 vs 0.6; 0.1 -> (0, 0.1]: acc 1 vs 0.1
    expected = 0.5 * 0.4 + 0.25 * 0.4 + 0.25 * 0.9
    assert metrics.expected_calibration_error(confidences, correct, n_bins=10) == pytest.approx(expected)
    table = metrics.reliability_table(np.array([0.0, 0.1, 0.1000001, 1.0]), np.ones(4), n_bins=10)
    assert table["count"].tolist() == [2, 1, 0, 0, 0, 0, 0, 0, 0, 1]


def test_top_label_confidence_and_calibration_bad_input():
    probs = np.array([[0.7, 0.3], [0.2, 0.8]])
    confidence, correct = metrics.top_label_confidence(torch.tensor(probs), [0, 0])
    assert confidence.tolist() == [0.7, 0.8] and correct.tolist() == [True, False]
    with pytest.raises(ValueError, match="softmax"):
        metrics.top_label_confidence(np.array([[2.0, -1.0]]), [0])
    with pytest.raises(ValueError, match="shape"):
        metrics.top_label_confidence(np.array([0.5, 0.5]), [0])
    with pytest.raises(ValueError, match="different lengths"):
        metrics.top_label_confidence(probs, [0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.expected_calibration_error([1.5], [1])
    with pytest.raises(ValueError, match="booleans or 0/1"):
        metrics.expected_calibration_error([0.5], [2])
    with pytest.raises(ValueError, match="n_bins"):
        metrics.reliability_table([0.5], [1], n_bins=0)


def test_plot_reliability_diagram_draws_on_given_axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.5, 1, 100)
    returned = metrics.plot_reliability_diagram(confidence, rng.uniform(size=100) < confidence, ax=ax, label="m")
    metrics.plot_reliability_diagram(confidence, np.ones(100), ax=ax, diagonal=False)
    assert returned is fig and len(ax.lines) == 3
    assert "ECE" in ax.get_legend().get_texts()[1].get_text()


def test_calibration_of_class_probabilities():
    """From probabilities (n, classes): always 100% sure and always right is calibrated; right half the time is not."""
    p = np.eye(3)[[0, 1, 2, 0]]
    assert metrics.expected_calibration_error(*metrics.top_label_confidence(p, [0, 1, 2, 0])) == pytest.approx(0.0)
    assert metrics.expected_calibration_error(*metrics.top_label_confidence(p, [0, 1, 0, 1])) == pytest.approx(0.5)
