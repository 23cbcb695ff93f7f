"""Tests of helpers.compare: the model-comparison runner."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

from helpers.compare import (
    COLUMNS,
    TorchClassifier,
    compare,
    compare_by_training_size,
    fit_and_measure,
    model_size,
    prediction_ms_per_1000,
    side_by_side,
)
from helpers.data import load
from helpers.models import CNN1D, GRUClassifier, count_parameters, mlp


@pytest.fixture(scope="module")
def iris():
    return load("iris", seed=0).standardized()


@pytest.fixture(scope="module")
def signals():
    """A tiny 1-D signal set for the CNN and GRU: class = where the bump is."""
    rng = np.random.default_rng(0)
    n, length = 120, 12
    y = rng.integers(0, 3, n)
    X = rng.normal(0, 0.1, (n, length)).astype(np.float32)
    X[np.arange(n), 2 + 4 * y] += 2.0
    from helpers.data import DataSet, Split

    parts = [Split(X[i::3], y[i::3]) for i in range(3)]
    return DataSet("bumps", "classification", *parts, class_names=["a", "b", "c"])


def test_compare_returns_one_row_per_model_with_all_columns(iris):
    models = {
        "logistic": LogisticRegression(max_iter=500),
        "tree": DecisionTreeClassifier(max_depth=2, random_state=0),
        "mlp": TorchClassifier(mlp(4, [8], 3), epochs=5, lr=1e-2, device="cpu"),
    }
    table = compare(models, iris)
    assert list(table.index) == list(models)
    assert list(table.columns) == COLUMNS
    assert table["test accuracy"].between(0, 1).all()
    assert (table["train time (s)"] >= 0).all() and (table["predict time (ms / 1000)"] >= 0).all()
    assert table.loc["logistic", "test accuracy"] > 0.8
    # models are fitted in place
    assert models["mlp"].history is not None and len(models["mlp"].history) == 5
    assert table.loc["mlp", "parameters"] == count_parameters(models["mlp"].module) == 4 * 8 + 8 + 8 * 3 + 3


def test_torch_sequence_models_run_through_compare(signals):
    models = {
        "CNN": TorchClassifier(CNN1D(n_classes=3, channels=4), epochs=2, device="cpu"),
        "GRU": TorchClassifier(GRUClassifier(n_classes=3, hidden=4), epochs=2, device="cpu"),
    }
    table = compare(models, signals)
    assert table["parameters"].tolist() == [count_parameters(m.module) for m in models.values()]


def test_parameter_counts_of_sklearn_models(iris):
    X, y = iris.train.X, iris.train.y
    logistic = LogisticRegression(max_iter=500).fit(X, y)
    assert model_size(logistic) == (3 * 4 + 3, "weights")
    assert model_size(RidgeClassifier().fit(X, y))[0] == 3 * 4 + 3
    assert model_size(LinearSVC().fit(X, y))[0] == 3 * 4 + 3
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    assert model_size(tree) == (tree.tree_.node_count, "tree nodes")
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    assert model_size(forest)[0] == sum(t.tree_.node_count for t in forest.estimators_)
    boosted = HistGradientBoostingClassifier(max_iter=3).fit(X, y)
    count, what = model_size(boosted)
    assert what == "tree nodes" and count >= 3 * 3
    svm = SVC().fit(X, y)
    assert model_size(svm)[1] == "support vectors"
    assert model_size(svm)[0] >= svm.support_vectors_.size
    knn = KNeighborsClassifier().fit(X, y)
    assert model_size(knn) == (X.size, "stored training values")
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    assert model_size(pipeline) == (15, "weights")
    assert model_size(object()) == ("-", "")


def test_prediction_time_is_per_1000_samples():
    X = np.zeros((500, 2))
    ms = prediction_ms_per_1000(lambda X: np.zeros(len(X)), X)
    assert 0 <= ms < 1000
    with pytest.raises(ValueError, match="empty"):
        prediction_ms_per_1000(len, np.zeros((0, 2)))
    with pytest.raises(TypeError, match="function"):
        prediction_ms_per_1000("predict", X)
    with pytest.raises(ValueError, match="repeats"):
        prediction_ms_per_1000(len, X, repeats=0)


def test_side_by_side_and_compare_by_training_size(iris):
    a = compare({"logistic": LogisticRegression(max_iter=500)}, iris)
    b = compare({"tree": DecisionTreeClassifier(random_state=0), "logistic": LogisticRegression(max_iter=500)}, iris)
    table = side_by_side({"A": a, "B": b}, "test accuracy")
    assert list(table.columns) == ["A", "B"] and list(table.index) == ["logistic", "tree"]
    assert np.isnan(table.loc["tree", "A"])
    with pytest.raises(ValueError, match="no column"):
        side_by_side({"A": a}, "accuracy")
    with pytest.raises(TypeError, match="DataFrame"):
        side_by_side({"A": [1]}, "test accuracy")

    sizes_seen = []

    def make_tree(n):
        sizes_seen.append(n)
        return DecisionTreeClassifier(random_state=0)

    curve = compare_by_training_size({"tree": make_tree, "mlp": lambda n: TorchClassifier(mlp(4, [], 3), epochs=2)}, iris, [10, 40])
    assert sizes_seen == [10, 40]
    assert curve["training samples"].tolist() == [10, 10, 40, 40]
    assert curve["model"].tolist() == ["tree", "mlp", "tree", "mlp"]
    assert curve["test accuracy"].between(0, 1).all() and (curve["train time (s)"] >= 0).all()
    no_val = compare_by_training_size({"mlp": lambda n: TorchClassifier(mlp(4, [], 3), epochs=2)}, iris, [20], use_val=False)
    assert len(no_val) == 1
    with pytest.raises(ValueError, match="training size"):
        compare_by_training_size({"tree": DecisionTreeClassifier}, iris, [10_000])
    with pytest.raises(TypeError, match="function"):
        compare_by_training_size({"tree": DecisionTreeClassifier()}, iris, [10])


def test_bad_inputs_give_clear_errors(iris):
    with pytest.raises(TypeError, match="non-empty dict"):
        compare({}, iris)
    with pytest.raises(TypeError, match="non-empty dict"):
        compare([LogisticRegression()], iris)
    with pytest.raises(TypeError, match="TorchClassifier"):
        compare({"net": mlp(4, [], 3)}, iris)
    with pytest.raises(TypeError, match="fit"):
        compare({"x": 3}, iris)
    with pytest.raises(TypeError, match="names"):
        compare({"": LogisticRegression()}, iris)
    with pytest.raises(TypeError, match="DataSet"):
        compare({"lr": LogisticRegression()}, (iris.train.X, iris.train.y))
    with pytest.raises(ValueError, match="classification"):
        compare({"lr": LogisticRegression()}, load("diabetes"))
    with pytest.raises(TypeError, match="nn.Module"):
        TorchClassifier("not a model")
    with pytest.raises(ValueError, match="epochs"):
        TorchClassifier(mlp(4, [], 3), epochs=0)
    with pytest.raises(ValueError, match="lr"):
        TorchClassifier(mlp(4, [], 3), lr=-1)
    with pytest.raises(RuntimeError, match="not fitted"):
        TorchClassifier(mlp(4, [], 3)).predict(iris.test.X)
    with pytest.raises(TypeError, match="integer class labels"):
        TorchClassifier(mlp(4, [], 3)).fit(iris.train.X, iris.train.y.astype(float))


def test_fit_and_measure_without_validation(iris):
    torch.manual_seed(0)
    model = TorchClassifier(mlp(4, [8], 3), epochs=3, device="cpu")
    row = fit_and_measure(model, iris, use_val=False)
    assert set(row) == set(COLUMNS)
    assert model.history.val_loss == []
    assert isinstance(pd.Series(row)["test accuracy"], float)


# ---- choosing fairly: tune_by_cv, compare_cv, test_once ----

from helpers.compare import CV_COLUMNS, Standardized, compare_cv, describe_setting, development_folds, test_once, tune_by_cv  # noqa: E402


def test_development_folds_cover_train_and_val_once_and_never_test(iris):
    X, y, folds = development_folds(iris, n_folds=3, seed=0)
    assert len(X) == len(iris.train) + len(iris.val)
    held = np.concatenate([h for _, h in folds])
    assert sorted(held) == list(range(len(X)))
    for fit_rows, held_rows in folds:
        assert not set(fit_rows) & set(held_rows)
    with pytest.raises(ValueError):
        development_folds(iris, n_folds=1)


def test_standardized_uses_the_statistics_of_its_own_training_data():
    X = np.array([[0.0, 5.0], [2.0, 5.0], [4.0, 5.0]])
    model = Standardized(LogisticRegression()).fit(X, [0, 0, 1])
    np.testing.assert_allclose(model.mean_, [2.0, 5.0])
    assert model.std_[1] == 1.0  # a constant feature stays constant instead of dividing by zero
    with pytest.raises(RuntimeError):
        Standardized(LogisticRegression()).predict(X)


@pytest.mark.parametrize("select_on", ["all folds", "first fold"])
def test_tune_by_cv_picks_the_best_mean_and_flags_grid_edges(iris, select_on):
    result = tune_by_cv(lambda C: LogisticRegression(C=C, max_iter=500), {"C": [1e-4, 1.0, 1e4]}, iris,
                        n_folds=3, seed=0, select_on=select_on)
    assert list(result.scores.index) == ["C=0.0001", "C=1", "C=10000"]
    assert result.best["C"] != 1e-4  # a tiny C cannot fit iris
    best_row = result.scores.loc[describe_setting(result.best)]
    assert best_row.notna().all() and 0 <= result.sd and result.mean == pytest.approx(best_row.mean())
    if select_on == "first fold":
        assert result.scores.drop(describe_setting(result.best))[["fold 2", "fold 3"]].isna().all().all()
    edge = tune_by_cv(lambda C: LogisticRegression(C=C, max_iter=500), {"C": [1e-6, 1e-5, 1e-3]}, iris, n_folds=3)
    assert edge.on_edge() == ["C"]
    with pytest.raises(ValueError):
        tune_by_cv(lambda C: LogisticRegression(C=C), {"C": [1.0]}, iris, select_on="test")


def test_compare_cv_has_a_row_per_contender_and_test_once_scores_the_test_split(iris):
    from sklearn.dummy import DummyClassifier

    table, tuned = compare_cv({
        "dummy": (lambda: DummyClassifier(), {}),
        "tree": (lambda max_depth: DecisionTreeClassifier(max_depth=max_depth, random_state=0), {"max_depth": [1, 2, 3]}),
        "mlp": (lambda lr: TorchClassifier(mlp(4, [8], 3), epochs=3, lr=lr, device="cpu"), {"lr": [1e-2]}),
    }, iris, n_folds=3, seed=0)
    assert list(table.columns) == CV_COLUMNS and list(table.index) == ["dummy", "tree", "mlp"]
    assert table.loc["tree", "CV accuracy"] > table.loc["dummy", "CV accuracy"]
    assert table.loc["dummy", "setting"] == "defaults"
    accuracy, model = test_once(lambda max_depth: DecisionTreeClassifier(max_depth=max_depth, random_state=0),
                                tuned["tree"].best, iris)
    assert accuracy == pytest.approx(model.score(iris.test.X, iris.test.y))


def test_compare_by_training_size_can_score_on_validation(iris):
    curve = compare_by_training_size({"tree": lambda n: DecisionTreeClassifier(random_state=0)}, iris, [30, 60],
                                     use_val=False, score_on="val")
    assert "validation accuracy" in curve.columns
    with pytest.raises(ValueError):
        compare_by_training_size({"tree": lambda n: DecisionTreeClassifier()}, iris, [30], score_on="val")
