"""helpers.checks: every validator accepts good input (and converts it) and rejects bad input clearly."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from helpers import checks

# --------------------------------------------------------------------------
# Arrays
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [[1.0, 2.0, 3.0], np.array([1.0, 2.0, 3.0]), pd.Series([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0])],
    ids=["list", "array", "series", "tensor"],
)
def test_as_array_accepts_lists_arrays_series_and_tensors(values):
    array = checks.as_array(values, "x", ndim=1)
    assert isinstance(array, np.ndarray) and array.tolist() == [1.0, 2.0, 3.0]


def test_as_array_keeps_the_dtype_and_as_float_array_converts():
    assert checks.as_array([1, 2], "x").dtype.kind == "i"
    assert checks.as_float_array([1, 2], "x").dtype == np.float64
    assert checks.as_array(np.array([True, False]), "x").dtype == bool


@pytest.mark.parametrize(
    "values, kwargs, error, words",
    [
        (None, {}, TypeError, "x is None"),
        ("abc", {}, TypeError, "got a string"),
        (["a", "b"], {}, TypeError, "must hold numbers"),
        ([object(), object()], {}, TypeError, "must hold numbers"),
        ([[1, 2], [3]], {}, ValueError, "rectangular"),
        ([], {}, ValueError, "x is empty"),
        (np.zeros((0, 3)), {"ndim": 2}, ValueError, "x is empty"),
        (np.zeros((2, 2)), {"ndim": 1}, ValueError, r"1-D \(one value per sample\), got shape \(2, 2\)"),
        (np.zeros(3), {"ndim": 2}, ValueError, r"shape \(n_samples, n_features\)"),
        ([1.0, np.nan], {}, ValueError, "1 NaN or infinite"),
        ([np.inf, 1.0, -np.inf], {}, ValueError, "2 NaN or infinite"),
    ],
)
def test_as_array_rejects_bad_input_with_a_message_naming_it(values, kwargs, error, words):
    with pytest.raises(error, match=words):
        checks.as_array(values, "x", **kwargs)
    with pytest.raises(error, match=words):
        checks.as_float_array(values, "x", **kwargs)


def test_empty_and_nan_can_be_allowed():
    assert checks.as_array([], "x", allow_empty=True).size == 0
    assert np.isnan(checks.as_float_array([np.nan], "x", allow_nan=True)).all()


def test_as_labels():
    assert checks.as_labels([0, 2, 1]).tolist() == [0, 2, 1]
    assert checks.as_labels(np.array([True, False])).tolist() == [1, 0]
    assert checks.as_labels(torch.tensor([1, 0])).dtype.kind == "i"
    with pytest.raises(TypeError, match="integer class labels"):
        checks.as_labels([0.0, 1.0], "labels")
    with pytest.raises(ValueError, match="found -1"):
        checks.as_labels([-1, 1])
    with pytest.raises(ValueError, match="1-D"):
        checks.as_labels([[0, 1]])


def test_check_same_length():
    checks.check_same_length([1, 2], np.zeros(2), "a", "b")
    with pytest.raises(ValueError, match="a and b have different lengths: 2 vs 3"):
        checks.check_same_length([1, 2], [1, 2, 3], "a", "b")


def test_check_features_and_targets():
    checks.check_features_and_targets(np.zeros((3, 2)), np.zeros(3))
    checks.check_features_and_targets(torch.zeros(3, 1, 4), torch.zeros(3))
    checks.check_features_and_targets(np.full((2, 2), np.nan), np.zeros(2), allow_nan=True)
    for X, y, error, words in [
        (None, np.zeros(3), TypeError, "got None"),
        (np.zeros(3), np.zeros(3), ValueError, "n_features"),
        (np.zeros((3, 2)), np.zeros((3, 1)), ValueError, r"y must have shape \(n_samples,\)"),
        (np.zeros((3, 2)), np.zeros(4), ValueError, "3 samples vs 4 targets"),
        (np.zeros((0, 2)), np.zeros(0), ValueError, "empty"),
        (np.array([[np.nan, 1.0]]), np.zeros(1), ValueError, "impute"),
    ]:
        with pytest.raises(error, match=words):
            checks.check_features_and_targets(X, y)


def test_to_numpy_leaves_other_things_alone():
    assert isinstance(checks.to_numpy(torch.ones(2, requires_grad=True)), np.ndarray)
    assert isinstance(checks.to_numpy(pd.Series([1])), np.ndarray)
    values = [1, 2]
    assert checks.to_numpy(values) is values


# --------------------------------------------------------------------------
# Tensors
# --------------------------------------------------------------------------


def test_tensor_checks():
    x = torch.zeros(2)
    assert checks.check_tensor(x, "x", floating=True) is x
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got ndarray"):
        checks.check_tensor(np.zeros(2), "x")
    with pytest.raises(TypeError, match="float tensor"):
        checks.check_tensor(torch.zeros(2, dtype=torch.long), "x", floating=True)
    assert checks.check_finite_tensor(x, "x") is x
    with pytest.raises(ValueError, match="1 NaN or infinite.*learning rate"):
        checks.check_finite_tensor(torch.tensor([0.0, float("nan")]), "logits")


# --------------------------------------------------------------------------
# Numbers and options
# --------------------------------------------------------------------------


def test_check_number_and_its_bounds():
    assert checks.check_number(np.float32(0.5), "x") == 0.5
    assert type(checks.check_number(3, "x")) is float
    assert checks.check_number(0, "x", low=0.0) == 0.0
    with pytest.raises(ValueError, match="x must be > 0, got 0"):
        checks.check_number(0, "x", low=0.0, low_open=True)
    with pytest.raises(ValueError, match="x must be >= 0 and < 1, got 1"):
        checks.check_number(1.0, "x", low=0.0, high=1.0, high_open=True)
    with pytest.raises(ValueError, match="finite"):
        checks.check_number(float("nan"), "x")
    for bad in ("0.1", None, True, [1]):
        with pytest.raises(TypeError, match="x must be a number"):
            checks.check_number(bad, "x")


def test_check_positive_and_probability():
    assert checks.check_positive(1e-3, "lr") == 1e-3
    for bad in (0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="lr must"):
            checks.check_positive(bad, "lr")
    assert checks.check_probability(0, "p") == 0.0 and checks.check_probability(1, "p") == 1.0
    with pytest.raises(ValueError, match="between 0 and 1"):
        checks.check_probability(1.5, "p")
    with pytest.raises(ValueError, match="between 0 and 1"):
        checks.check_probability(float("nan"), "p")
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        checks.check_probability(1.0, "level", open_interval=True)
    with pytest.raises(TypeError, match="number"):
        checks.check_probability("0.5", "p")


def test_check_positive_int():
    assert checks.check_positive_int(np.int64(3), "epochs") == 3
    with pytest.raises(ValueError, match="epochs must be a positive integer, got 0"):
        checks.check_positive_int(0, "epochs")
    with pytest.raises(ValueError, match="k must be an integer of at least 2"):
        checks.check_positive_int(1, "k", minimum=2)
    for bad in (2.5, True, "3", None):
        with pytest.raises(TypeError, match="epochs must be a positive integer"):
            checks.check_positive_int(bad, "epochs")


def test_check_positive_numbers():
    assert checks.check_positive_numbers((0.1, 1), "lrs") == [0.1, 1.0]
    assert checks.check_positive_numbers(np.array([8, 16]), "sizes", integer=True) == [8, 16]
    for bad, error, words in [
        (0.1, TypeError, "list of numbers"),
        ("abc", TypeError, "list of numbers"),
        ([], ValueError, "empty"),
        ([0.1, 0.1], ValueError, "repeated"),
        ([0.1, -1], ValueError, "> 0"),
        ([0.1, "x"], TypeError, "positive numbers"),
    ]:
        with pytest.raises(error, match=words):
            checks.check_positive_numbers(bad, "lrs")
    with pytest.raises(TypeError, match="positive integers"):
        checks.check_positive_numbers([8, 16.5], "sizes", integer=True)


def test_check_choice():
    assert checks.check_choice("adam", "optimizer", ("sgd", "adam")) == "adam"
    with pytest.raises(ValueError, match="unknown optimizer 'lion': expected one of 'sgd', 'adam'"):
        checks.check_choice("lion", "optimizer", ("sgd", "adam"))
    with pytest.raises(ValueError, match="unknown optimizer None"):
        checks.check_choice(None, "optimizer", ("sgd",))


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------


def test_model_checks():
    model = nn.Linear(2, 1)
    assert checks.check_model(model) is model
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got str"):
        checks.check_model("net")
    checks.check_model_factory(lambda: nn.Linear(2, 1))
    with pytest.raises(TypeError, match="make_model must be a function"):
        checks.check_model_factory(model)
    with pytest.raises(TypeError, match="make_model must be a function"):
        checks.check_model_factory(3)
