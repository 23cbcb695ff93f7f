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


# --------------------------------------------------------------------------
# Generated data sets (Chapter 4)
# --------------------------------------------------------------------------


def test_make_outlier_regression_is_reproducible():
    x, y, out = data.make_outlier_regression(n_samples=100, outlier_fraction=0.1, seed=3)
    x2, y2, out2 = data.make_outlier_regression(n_samples=100, outlier_fraction=0.1, seed=3)
    assert x.shape == y.shape == out.shape == (100,) and x.dtype == np.float32
    np.testing.assert_array_equal(y, y2)
    np.testing.assert_array_equal(out, out2)
    assert out.sum() == 10
    assert x[out].min() > np.median(x)  # outliers sit on the right
    assert np.all(y[out] < 1.5 * x[out] + 0.5 - 2)  # and well below the line


def test_make_imbalanced():
    X = np.arange(200).reshape(100, 2)
    y = np.array([0, 1] * 50)
    X_small, y_small = data.make_imbalanced(X, y, minority_class=1, keep_fraction=0.1, seed=0)
    assert (y_small == 1).sum() == 5 and (y_small == 0).sum() == 50
    assert len(X_small) == len(y_small) == 55
    again = data.make_imbalanced(X, y, minority_class=1, keep_fraction=0.1, seed=0)
    np.testing.assert_array_equal(X_small, again[0])


def test_generators_reject_bad_arguments():
    with pytest.raises(ValueError, match="outlier_fraction"):
        data.make_outlier_regression(outlier_fraction=0.7)
    with pytest.raises(ValueError, match="does not occur"):
        data.make_imbalanced(np.zeros((4, 1)), np.zeros(4, dtype=int), minority_class=1)
    with pytest.raises(ValueError, match="different lengths"):
        data.make_imbalanced(np.zeros((4, 1)), np.zeros(3, dtype=int))


# --------------------------------------------------------------------------
# Distribution shift
# --------------------------------------------------------------------------


def test_add_noise_has_the_asked_spread_and_is_reproducible():
    X = np.zeros((2000, 4), dtype=np.float32)
    noisy = data.add_noise(X, 2.0, seed=0)
    assert noisy.dtype == np.float32 and noisy.std() == pytest.approx(2.0, rel=0.05)
    assert np.array_equal(noisy, data.add_noise(X, 2.0, seed=0))
    assert np.array_equal(data.add_noise(X, 0.0), X)
    with pytest.raises(ValueError, match="std"):
        data.add_noise(X, -1.0)


def test_shift_images_moves_pixels_and_fills():
    image = np.zeros((1, 9))
    image[0, 4] = 1.0  # centre of a 3x3 image
    right = data.shift_images(image, 1, 0, image_shape=(3, 3)).reshape(3, 3)
    assert right[1, 2] == 1.0 and right.sum() == 1.0
    down_left = data.shift_images(image, -1, 1, image_shape=(3, 3)).reshape(3, 3)
    assert down_left[2, 0] == 1.0
    gone = data.shift_images(image, 2, 0, image_shape=(3, 3))
    assert gone.sum() == 0.0
    assert data.shift_images(image, 5, 0, image_shape=(3, 3)).sum() == 0.0
    with pytest.raises(ValueError, match="not an image"):
        data.shift_images(image, 1, 0, image_shape=(2, 2))
    with pytest.raises(TypeError, match="whole number"):
        data.shift_images(image, 0.5, 0, image_shape=(3, 3))


def test_rotate_images_keeps_shape_and_a_full_turn_is_identity():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(5, 64))
    assert data.rotate_images(X, 0).shape == (5, 64)
    assert np.allclose(data.rotate_images(X, 0), X, atol=1e-6)
    quarter = data.rotate_images(X, 90)
    assert np.allclose(data.rotate_images(quarter, -90), X, atol=1e-5)
    assert not np.allclose(quarter, X)
    with pytest.raises(ValueError, match="finite"):
        data.rotate_images(X, np.nan)
    with pytest.raises(ValueError, match="empty"):
        data.rotate_images(np.zeros((0, 64)), 10)
