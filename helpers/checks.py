"""Input checks shared by every helper: one place, one kind of message.

Every public function in ``helpers`` checks its arguments with these before it
computes anything, so careless input gets a ``TypeError`` (wrong kind of
thing) or a ``ValueError`` (right kind, wrong value) that names the argument,
says what was expected and shows what was given, instead of a cryptic error
from deep inside NumPy or torch, or worse, a silent wrong number.

- ``to_numpy``: a list, array, pandas object or torch tensor as a NumPy array;
- ``as_array`` / ``as_float_array`` / ``as_labels``: the same, checked (shape,
  numbers only, not empty, no NaN or infinity; labels are integers >= 0);
- ``check_same_length``: arrays that describe the same samples;
- ``check_features_and_targets``: ``X`` (n, ...) and ``y`` (n,) that fit together;
- ``check_tensor``, ``check_finite_tensor``: torch tensors;
- ``check_number``, ``check_positive``, ``check_probability``,
  ``check_positive_int``, ``check_positive_numbers``, ``check_choice``:
  hyperparameters and options;
- ``check_model``, ``check_model_factory``: a ``torch.nn.Module``, or a function making one.

Each returns the checked value (converted where that helps), so a call reads
``X = as_float_array(X, "X", ndim=2)``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np
import torch
from torch import nn

# --------------------------------------------------------------------------
# Arrays
# --------------------------------------------------------------------------


def to_numpy(values):
    """``values`` as a NumPy array when it is a torch tensor or a pandas object; anything else unchanged."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    if hasattr(values, "to_numpy"):  # pandas Series / DataFrame
        return values.to_numpy()
    return values


def _shape_name(ndim: int) -> str:
    return {1: "1-D (one value per sample)", 2: "2-D, shape (n_samples, n_features)"}.get(ndim, f"{ndim}-D")


def as_array(values, name: str, *, ndim: int | None = None, allow_empty: bool = False, allow_nan: bool = False) -> np.ndarray:
    """``values`` (list, array, Series, tensor) as a NumPy array of numbers, keeping its dtype.

    Raises ``TypeError`` for ``None``, strings and non-numbers, and
    ``ValueError`` for the wrong number of dimensions, an empty array (unless
    ``allow_empty``) and NaN or infinite values (unless ``allow_nan``).
    Booleans count as numbers (0 and 1).
    """
    if values is None:
        raise TypeError(f"{name} is None: expected an array of numbers")
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be an array of numbers, got a string")
    try:
        array = np.asarray(to_numpy(values))
    except (TypeError, ValueError) as error:  # ragged lists
        raise ValueError(f"{name} must be a rectangular array of numbers: {error}") from None
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be {_shape_name(ndim)}, got shape {array.shape}")
    if array.size == 0 and not allow_empty:
        raise ValueError(f"{name} is empty: need at least one sample")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {array.dtype}")
    if array.dtype.kind == "f" and not allow_nan and not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise ValueError(f"{name} contains {bad} NaN or infinite values; impute or drop them first")
    return array


def as_float_array(values, name: str, *, ndim: int | None = None, allow_empty: bool = False, allow_nan: bool = False) -> np.ndarray:
    """Like ``as_array``, converted to ``float64``."""
    return as_array(values, name, ndim=ndim, allow_empty=allow_empty, allow_nan=allow_nan).astype(np.float64, copy=False)


def as_labels(values, name: str = "y") -> np.ndarray:
    """``values`` as a 1-D array of integer class labels ``0, 1, ...`` (booleans allowed)."""
    labels = as_array(values, name, ndim=1)
    if labels.dtype.kind == "f":
        raise TypeError(f"{name} must hold integer class labels (integers 0..n_classes-1), got dtype {labels.dtype}")
    if labels.dtype.kind == "b":
        labels = labels.astype(np.int64)
    if labels.min() < 0:
        raise ValueError(f"{name} must hold labels 0..n_classes-1, found {labels.min()}")
    return labels


def check_same_length(first, second, first_name: str, second_name: str) -> None:
    """Raise ``ValueError`` unless ``first`` and ``second`` have as many rows."""
    if len(first) != len(second):
        raise ValueError(f"{first_name} and {second_name} have different lengths: {len(first)} vs {len(second)}")


def check_features_and_targets(X, y, *, allow_nan: bool = False) -> None:
    """Raise a clear error unless ``X`` (n, ...) and ``y`` (n,) fit together (tensors or arrays)."""
    if X is None or y is None:
        raise TypeError("expected features X and targets y, got None")
    X_shape, y_shape = tuple(np.shape(X)), tuple(np.shape(y))
    if len(X_shape) < 2:
        raise ValueError(f"X must have shape (n_samples, n_features, ...), got shape {X_shape}")
    if len(y_shape) != 1:
        raise ValueError(f"y must have shape (n_samples,), got shape {y_shape}")
    if X_shape[0] != y_shape[0]:
        raise ValueError(f"X and y have different lengths: {X_shape[0]} samples vs {y_shape[0]} targets")
    if X_shape[0] == 0:
        raise ValueError("the data is empty: X and y have 0 samples")
    if not allow_nan:
        X_values = np.asarray(to_numpy(X))
        if X_values.dtype.kind == "f" and not np.isfinite(X_values).all():
            bad = int((~np.isfinite(X_values)).sum())
            raise ValueError(
                f"X contains {bad} NaN or infinite values; impute or drop them first "
                "(see the data preparation chapter)"
            )


# --------------------------------------------------------------------------
# Tensors
# --------------------------------------------------------------------------


def check_tensor(x, name: str, *, floating: bool = False) -> torch.Tensor:
    """Raise ``TypeError`` unless ``x`` is a torch tensor (of a float dtype, with ``floating``)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if floating and not x.is_floating_point():
        raise TypeError(f"{name} must be a float tensor, got {x.dtype}")
    return x


def check_finite_tensor(x: torch.Tensor, name: str) -> torch.Tensor:
    """Raise ``ValueError`` if the tensor holds NaN or infinity (usually: diverged training)."""
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(
            f"{name} contains {bad} NaN or infinite values; check the data, "
            "or lower the learning rate if the model's outputs diverged"
        )
    return x


# --------------------------------------------------------------------------
# Numbers and options
# --------------------------------------------------------------------------


def check_number(value, name: str, *, low: float | None = None, high: float | None = None, low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite float within ``[low, high]`` (ends excluded with ``low_open`` / ``high_open``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    if too_low or too_high:
        bounds = []
        if low is not None:
            bounds.append(f"{'>' if low_open else '>='} {low:g}")
        if high is not None:
            bounds.append(f"{'<' if high_open else '<='} {high:g}")
        raise ValueError(f"{name} must be {' and '.join(bounds)}, got {value:g}")
    return value


def check_positive(value, name: str) -> float:
    """``value`` as a finite float > 0."""
    return check_number(value, name, low=0.0, low_open=True)


def check_probability(value, name: str, *, open_interval: bool = False) -> float:
    """``value`` as a float in ``[0, 1]`` (in ``(0, 1)`` with ``open_interval``, e.g. a confidence level)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    inside = 0.0 < value < 1.0 if open_interval else 0.0 <= value <= 1.0
    if not inside:  # NaN fails both comparisons
        where = "strictly between 0 and 1" if open_interval else "between 0 and 1"
        raise ValueError(f"{name} must be a fraction {where}, got {value}")
    return value


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    """``value`` as an int of at least ``minimum`` (booleans and floats rejected)."""
    expected = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {expected}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def check_positive_numbers(values, name: str, *, integer: bool = False) -> list:
    """A non-empty list of distinct finite numbers > 0 (whole numbers with ``integer``), e.g. a grid."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of numbers, got {type(values).__name__}")
    values = list(values)
    if not values:
        raise ValueError(f"{name} is empty: give at least one value to try")
    kind = numbers.Integral if integer else numbers.Real
    for v in values:
        if isinstance(v, bool) or not isinstance(v, kind):
            what = "positive integers" if integer else "positive numbers"
            raise TypeError(f"{name} must hold {what}, got {v!r}")
        if not (v > 0 and math.isfinite(v)):
            raise ValueError(f"{name} must hold finite numbers > 0, got {v!r}")
    if len(set(values)) != len(values):
        raise ValueError(f"{name} has repeated values: {values}")
    return [int(v) if integer else float(v) for v in values]


def check_choice(value, name: str, choices) -> str:
    """``value`` if it is one of ``choices`` (strings), else a ``ValueError`` listing them."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {name} {value!r}: expected one of {', '.join(map(repr, choices))}")
    return value


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------


def check_model(model, name: str = "model") -> nn.Module:
    """Raise ``TypeError`` unless ``model`` is a ``torch.nn.Module``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(model).__name__}")
    return model


def check_model_factory(make_model, name: str = "make_model") -> None:
    """Raise ``TypeError`` unless ``make_model`` is a function (not a model) that builds a fresh model."""
    if isinstance(make_model, nn.Module) or not callable(make_model):
        raise TypeError(f"{name} must be a function with no arguments that returns a new nn.Module, got {type(make_model).__name__}")
