"""Unit tests of helpers.preprocessing."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import RidgeClassifier

from helpers.preprocessing import add_label_noise, learning_curve_with_label_noise, missing_report, selection_leakage

# --------------------------------------------------------------------------
# missing_report
# --------------------------------------------------------------------------


def test_missing_report_counts_and_orders_columns():
    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0], "b": [np.nan, np.nan, "x", "y"], "c": [1, 2, 3, 4]})
    report = missing_report(frame)
    assert list(report.index) == ["b", "a", "c"]
    assert report.loc["b", "missing"] == 2
    assert report.loc["a", "fraction"] == pytest.approx(0.25)
    assert report.loc["c", "missing"] == 0


def test_missing_report_rejects_bad_input():
    with pytest.raises(TypeError, match="DataFrame"):
        missing_report(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="no rows"):
        missing_report(pd.DataFrame({"a": []}))


# --------------------------------------------------------------------------
# add_label_noise
# --------------------------------------------------------------------------


@pytest.mark.parametrize("systematic", [False, True])
def test_label_noise_flips_exactly_the_asked_fraction(systematic):
    y = np.arange(1000) % 10
    noisy = add_label_noise(y, 0.3, systematic=systematic, seed=1)
    changed = noisy != y
    assert changed.sum() == 300
    assert noisy.min() >= 0 and noisy.max() <= 9
    assert np.array_equal(y, np.arange(1000) % 10), "the input must not be modified"
    if systematic:
        assert np.all(noisy[changed] == (y[changed] + 1) % 10)
    else:
        assert len(np.unique((noisy[changed] - y[changed]) % 10)) > 5  # many different wrong classes


def test_label_noise_is_reproducible_and_handles_edges():
    y = np.arange(50) % 5
    assert np.array_equal(add_label_noise(y, 0.2, seed=3), add_label_noise(y, 0.2, seed=3))
    assert np.array_equal(add_label_noise(y, 0.0), y)
    assert (add_label_noise(y, 1.0) != y).all()
    assert (add_label_noise(pd.Series(y), 0.2) != y).sum() == 10


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"y": np.array([0.5, 1.0]), "rate": 0.1}, TypeError, "integer class labels"),
        ({"y": np.zeros((3, 2), dtype=int), "rate": 0.1}, ValueError, "1-D"),
        ({"y": np.array([], dtype=int), "rate": 0.1}, ValueError, "empty"),
        ({"y": np.array([0, 1]), "rate": 1.5}, ValueError, "fraction between 0 and 1"),
        ({"y": np.array([0, 1]), "rate": 0.5, "n_classes": 1}, ValueError, "at least 2"),
        ({"y": np.array([0, 3]), "rate": 0.5, "n_classes": 2}, ValueError, "n_classes is 2"),
        ({"y": np.array([-1, 1]), "rate": 0.5}, ValueError, "0..n_classes-1"),
    ],
)
def test_label_noise_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        add_label_noise(**kwargs)


# --------------------------------------------------------------------------
# learning_curve_with_label_noise
# --------------------------------------------------------------------------


def _blobs(n, seed):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    X = rng.normal(size=(n, 2)) + 4.0 * np.eye(3)[y][:, :2]
    return X, y


def test_learning_curve_shape_and_noise_effect():
    train, val = _blobs(300, 0), _blobs(300, 1)
    clean = learning_curve_with_label_noise(RidgeClassifier, train, val, [20, 100, 300], repeats=2)
    assert list(clean.columns) == ["size", "repeat", "accuracy"]
    assert len(clean) == 6 and clean.accuracy.between(0, 1).all()
    assert clean.groupby("size").accuracy.mean().loc[300] > 0.85
    wrong = learning_curve_with_label_noise(RidgeClassifier, train, val, [300], label_noise=0.9, systematic=True, repeats=1)
    assert wrong.accuracy.iloc[0] < 0.5, "systematically wrong labels teach the wrong rule"


def test_learning_curve_records_fitted_attributes():
    from sklearn.linear_model import RidgeClassifierCV

    train, val = _blobs(100, 0), _blobs(100, 1)
    alphas = [0.1, 1.0, 10.0]
    curve = learning_curve_with_label_noise(lambda: RidgeClassifierCV(alphas=alphas), train, val, [50, 100],
                                            repeats=2, record=("alpha_",))
    assert list(curve.columns) == ["size", "repeat", "accuracy", "alpha_"]
    assert curve.alpha_.isin(alphas).all()
    with pytest.raises(AttributeError, match="no attribute 'alpha_'"):
        learning_curve_with_label_noise(RidgeClassifier, train, val, [50], repeats=1, record=("alpha_",))


def test_learning_curve_rejects_bad_input():
    train = _blobs(30, 0)
    with pytest.raises(TypeError, match="fresh model"):
        learning_curve_with_label_noise(RidgeClassifier(), train, train, [10])
    with pytest.raises(ValueError, match="sizes"):
        learning_curve_with_label_noise(RidgeClassifier, train, train, [10, 31])
    with pytest.raises(ValueError, match="repeats"):
        learning_curve_with_label_noise(RidgeClassifier, train, train, [10], repeats=0)
    with pytest.raises(TypeError, match="pair"):
        learning_curve_with_label_noise(RidgeClassifier, train[0], train, [10])
    with pytest.raises(ValueError, match="shape"):
        learning_curve_with_label_noise(RidgeClassifier, (train[0][:5], train[1]), train, [3])


# --------------------------------------------------------------------------
# selection_leakage
# --------------------------------------------------------------------------


def test_selection_leakage_inflates_only_the_leaky_score():
    scores = selection_leakage(n_samples=60, n_features=500, k=10, seed=0)
    assert scores["leaky"] > 0.7
    assert 0.25 < scores["honest"] < 0.75


def test_selection_leakage_rejects_bad_input():
    with pytest.raises(ValueError, match="n_samples"):
        selection_leakage(n_samples=5)
    with pytest.raises(ValueError, match="k must"):
        selection_leakage(n_features=10, k=11)
    with pytest.raises(ValueError, match="folds"):
        selection_leakage(folds=1)
