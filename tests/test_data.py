"""helpers.data: offline data sets, reproducible splits, clear errors."""

import numpy as np
import pandas as pd
import pytest
import torch

from helpers import data


@pytest.mark.parametrize("name", data.available())
def test_every_data_set_loads_offline_with_three_disjoint_splits(name):
    ds = data.load(name, seed=0)
    sizes = [len(ds.train), len(ds.val), len(ds.test)]
    assert min(sizes) > 0 and ds.train.X.shape[1:] == ds.test.X.shape[1:]
    assert np.isfinite(ds.train.X).all(), "loaders return data ready to train on"
    assert ds.name in ds.summary() and str(len(ds.train)) in ds.summary()
    if ds.task == "classification":
        assert set(np.unique(ds.train.y)) <= set(range(ds.n_classes))


def test_splits_are_reproducible_and_depend_on_the_seed():
    a, b, c = data.load("iris", seed=0), data.load("iris", seed=0), data.load("iris", seed=1)
    np.testing.assert_array_equal(a.train.X, b.train.X)
    assert not np.array_equal(a.train.X, c.train.X)


def test_classification_splits_are_stratified():
    ds = data.load("digits", seed=0)
    train_share = np.bincount(ds.train.y) / len(ds.train)
    test_share = np.bincount(ds.test.y) / len(ds.test)
    assert np.abs(train_share - test_share).max() < 0.02


def test_split_fractions_are_respected():
    ds = data.load("wine", seed=0, val_size=0.25, test_size=0.25)
    n = len(ds.train) + len(ds.val) + len(ds.test)
    assert abs(len(ds.test) / n - 0.25) < 0.02 and abs(len(ds.val) / n - 0.25) < 0.02


def test_mnist1d_keeps_its_published_test_split():
    ds = data.load("mnist1d")
    assert len(ds.test) == 1000 and len(ds.train) + len(ds.val) == 4000 and ds.n_features == 40


def test_standardized_uses_training_statistics_only():
    ds = data.load("wine").standardized()
    np.testing.assert_allclose(ds.train.X.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.train.X.std(axis=0), 1, atol=1e-4)
    assert np.abs(ds.test.X.mean(axis=0)).max() > 1e-3, "test data is scaled with the training mean, not its own"


def test_penguins_frame_keeps_missing_values_and_categories():
    frame = data.load_penguins_frame()
    assert frame.isna().any().any() and frame["island"].dtype == object or str(frame["island"].dtype) in ("str", "string")
    assert data.load_penguins_frame(raw=True).shape[1] > frame.shape[1]


def test_tensors_have_the_dtypes_losses_expect():
    X, y = data.load("digits").tensors("train")
    assert X.dtype == torch.float32 and y.dtype == torch.int64
    X, y = data.load("diabetes").tensors("val")
    assert y.dtype == torch.float32


def test_to_tensors_accepts_dataframes():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    X, y = data.to_tensors(frame, pd.Series([0, 1]))
    assert X.shape == (2, 2) and y.tolist() == [0, 1]


def test_dataset_table_has_a_row_per_data_set():
    table = data.dataset_table(["iris", "diabetes"])
    assert list(table.index) == ["iris", "diabetes"]
    assert table.loc["iris", "classes"] == 3 and table.loc["diabetes", "classes"] == "-"


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: data.load("imagenet"), ValueError, "unknown data set"),
        (lambda: data.load("iris", val_size=0.6, test_size=0.5), ValueError, "leave data to train"),
        (lambda: data.load("iris", test_size=1.5), ValueError, "between 0 and 1"),
        (lambda: data.load("moons", n_samples=3), ValueError, "n_samples"),
        (lambda: data.to_tensors(np.ones((3, 2)), np.ones(4)), ValueError, "different lengths"),
        (lambda: data.to_tensors(np.ones(3), np.ones(3)), ValueError, "n_samples, n_features"),
        (lambda: data.to_tensors(np.ones((3, 2)), np.ones((3, 1))), ValueError, r"shape \(n_samples,\)"),
        (lambda: data.to_tensors(np.ones((0, 2)), np.ones(0)), ValueError, "empty"),
        (lambda: data.to_tensors(np.array([[1.0, np.nan]]), np.ones(1)), ValueError, "NaN"),
        (lambda: data.to_tensors(np.array([["a", "b"]], dtype=object), np.ones(1)), TypeError, "categorical"),
        (lambda: data.to_tensors(np.ones((2, 2)), np.ones(2), task="ranking"), ValueError, "task"),
        (lambda: data.load("iris").split("holdout"), ValueError, "unknown split"),
    ],
)
def test_bad_input_gets_a_clear_error(call, error, words):
    with pytest.raises(error, match=words):
        call()
