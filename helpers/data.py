"""Offline data sets, split reproducibly into train / validation / test.

Nothing here touches the network. Every set ships with a package
(scikit-learn, palmerpenguins) or is generated locally (MNIST-1D, moons,
circles).

    >>> ds = load("digits", seed=0)
    >>> print(ds.summary())
    digits: classification, 64 features, 10 classes | train 1077, val 360, test 360

Why three splits?

- **train**: the model's parameters are fitted on it;
- **validation**: we compare models and settings on it (and stop early);
- **test**: touched once, at the end, to report how the chosen model does on
  data it has never influenced.

Splits of classification sets are stratified (each split keeps the class
proportions). Features are returned raw; ``DataSet.standardized()`` rescales
them with statistics of the *training* split only, so nothing leaks from the
validation and test sets into training.

Also here, for experiments that need data with a known flaw:

- ``labels_per_class``: a few labelled examples of every class (Chapters 9 and 10);
- ``make_outlier_regression``, ``make_imbalanced``: a line with gross
  outliers, a class made rare (Chapter 4);
- ``add_noise``, ``shift_images``, ``rotate_images``: distribution shifts
  that test whether a model still works on inputs unlike its training data
  (Chapter 8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pandas as pd
import torch
from sklearn import datasets as skdatasets
from sklearn.model_selection import train_test_split

from helpers.checks import as_array, check_features_and_targets, check_number, check_positive_int, check_same_length

# --------------------------------------------------------------------------
# Containers
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """One part of a data set: features ``X`` (n, ...) and targets ``y`` (n,)."""

    X: np.ndarray
    y: np.ndarray

    def __post_init__(self):
        check_features_and_targets(self.X, self.y)

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class DataSet:
    """A named data set with its three splits.

    ``task`` is ``"classification"`` (integer labels 0..n_classes-1) or
    ``"regression"`` (float targets).
    """

    name: str
    task: str
    train: Split
    val: Split
    test: Split
    feature_names: list[str] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)
    description: str = ""

    @property
    def n_features(self) -> int:
        return int(np.prod(self.train.X.shape[1:]))

    @property
    def n_classes(self) -> int:
        return len(self.class_names) if self.task == "classification" else 0

    def split(self, which: str) -> Split:
        """The split called ``which``: ``"train"``, ``"val"`` or ``"test"``."""
        if which not in ("train", "val", "test"):
            raise ValueError(f"unknown split {which!r}: expected 'train', 'val' or 'test'")
        return getattr(self, which)

    def summary(self) -> str:
        """One line: task, features, classes and split sizes."""
        classes = f", {self.n_classes} classes" if self.task == "classification" else ""
        return (
            f"{self.name}: {self.task}, {self.n_features} features{classes} | "
            f"train {len(self.train)}, val {len(self.val)}, test {len(self.test)}"
        )

    def table_row(self) -> dict:
        """The data set as one row of the course's "Data Set" table."""
        return {
            "data set": self.name,
            "task": self.task,
            "features": self.n_features,
            "classes": self.n_classes if self.task == "classification" else "-",
            "train": len(self.train),
            "validation": len(self.val),
            "test": len(self.test),
            "description": self.description,
        }

    def standardized(self) -> "DataSet":
        """A copy with every feature rescaled to mean 0, std 1 *on the training split*.

        The validation and test splits use the training mean and std: they
        are treated as data the model has not seen, so they must not shape
        the preprocessing either.
        """
        mean = self.train.X.mean(axis=0)
        std = self.train.X.std(axis=0)
        std = np.where(std > 0, std, 1.0)  # constant features stay constant

        def scale(s: Split) -> Split:
            return Split(((s.X - mean) / std).astype(np.float32), s.y)

        return replace(self, train=scale(self.train), val=scale(self.val), test=scale(self.test))

    def tensors(self, which: str, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """The split ``which`` as ``(X, y)`` tensors on ``device``."""
        s = self.split(which)
        return to_tensors(s.X, s.y, device=device, task=self.task)


# --------------------------------------------------------------------------
# Tensors
# --------------------------------------------------------------------------


def to_tensors(X, y, device: torch.device | str = "cpu", task: str = "classification"):
    """Convert arrays (or a DataFrame / Series) to ``(X float32, y)`` tensors on ``device``.

    Classification targets become ``int64`` (what cross-entropy expects),
    regression targets ``float32``.
    """
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    if isinstance(X, (pd.DataFrame, pd.Series)):
        X = X.to_numpy(copy=True)
    if isinstance(y, (pd.DataFrame, pd.Series)):
        y = y.to_numpy(copy=True)
    X = np.asarray(X) if not isinstance(X, torch.Tensor) else X
    y = np.asarray(y) if not isinstance(y, torch.Tensor) else y
    if not isinstance(X, torch.Tensor) and X.dtype == object:
        raise TypeError("X has non-numeric (object) columns; encode categorical columns first")
    check_features_and_targets(X, y)
    X_t = torch.as_tensor(X, dtype=torch.float32)
    y_dtype = torch.int64 if task == "classification" else torch.float32
    y_t = torch.as_tensor(y, dtype=y_dtype)
    return X_t.to(device), y_t.to(device)


# --------------------------------------------------------------------------
# Splitting
# --------------------------------------------------------------------------


def split_three_ways(X, y, *, seed: int = 0, val_size: float = 0.2, test_size: float = 0.2, stratify: bool = True):
    """Split arrays into train / validation / test parts (fractions of the whole).

    Returns ``(train, val, test)`` as :class:`Split` objects.
    """
    for name, frac in (("val_size", val_size), ("test_size", test_size)):
        if not 0 < frac < 1:
            raise ValueError(f"{name} must be a fraction between 0 and 1, got {frac}")
    if val_size + test_size >= 1:
        raise ValueError(f"val_size + test_size must leave data to train on, got {val_size} + {test_size}")
    check_features_and_targets(X, y)
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y if stratify else None
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest,
        y_rest,
        test_size=val_size / (1 - test_size),
        random_state=seed,
        stratify=y_rest if stratify else None,
    )
    return Split(X_train, y_train), Split(X_val, y_val), Split(X_test, y_test)


def labels_per_class(y, k: int, seed: int = 0) -> np.ndarray:
    """Indices (sorted) of ``k`` examples of every class in ``y`` (n,), drawn without replacement.

    The few-label training set of an augmentation or transfer experiment: ``X[idx], y[idx]``.
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ValueError(f"y must be a 1-D array of integer labels, got dtype {y.dtype} and shape {y.shape}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer (labels per class), got {k!r}")
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(y):
        where = np.flatnonzero(y == label)
        if len(where) < k:
            raise ValueError(f"class {label} has only {len(where)} examples, fewer than k = {k}")
        chosen.append(rng.choice(where, size=k, replace=False))
    return np.sort(np.concatenate(chosen))


# --------------------------------------------------------------------------
# Loaders: each returns (X, y, feature_names, class_names, description)
# --------------------------------------------------------------------------


def _from_sklearn(loader: Callable, description: str):
    bunch = loader()
    class_names = [str(c) for c in getattr(bunch, "target_names", [])]
    X = bunch.data.astype(np.float32)
    return X, bunch.target, list(map(str, bunch.feature_names)), class_names, description


def _digits(seed, n_samples):
    return _from_sklearn(skdatasets.load_digits, "8x8 grey images of handwritten digits (UCI), as 64 pixels")


def _iris(seed, n_samples):
    return _from_sklearn(skdatasets.load_iris, "Fisher's iris flowers: 4 measurements, 3 species")


def _wine(seed, n_samples):
    return _from_sklearn(skdatasets.load_wine, "chemical analysis of 3 Italian wine cultivars")


def _breast_cancer(seed, n_samples):
    return _from_sklearn(skdatasets.load_breast_cancer, "Wisconsin breast cancer cell nuclei, malignant vs benign")


def _diabetes(seed, n_samples):
    X, y, names, _, _ = _from_sklearn(skdatasets.load_diabetes, "")
    return X, y.astype(np.float32), names, [], "disease progression one year on, from 10 baseline variables"


def _moons(seed, n_samples):
    X, y = skdatasets.make_moons(n_samples=n_samples or 1000, noise=0.25, random_state=seed)
    return X.astype(np.float32), y, ["x1", "x2"], ["upper", "lower"], "two interleaving half-circles (generated)"


def _circles(seed, n_samples):
    X, y = skdatasets.make_circles(n_samples=n_samples or 1000, noise=0.1, factor=0.5, random_state=seed)
    return X.astype(np.float32), y, ["x1", "x2"], ["outer", "inner"], "a circle inside a ring (generated)"


PENGUIN_MEASUREMENTS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def load_penguins_frame(raw: bool = False) -> pd.DataFrame:
    """The Palmer penguins as a DataFrame, missing values and text columns included.

    ``raw=True`` gives the original 17-column field records; the default is
    the tidy 8-column version (species, island, four measurements, sex, year).
    """
    import palmerpenguins

    return palmerpenguins.load_penguins_raw() if raw else palmerpenguins.load_penguins()


def _penguins(seed, n_samples):
    frame = load_penguins_frame()
    # The two birds with no measurements at all cannot be used; a missing sex
    # becomes its own category, so no other row is thrown away.
    frame = frame.dropna(subset=PENGUIN_MEASUREMENTS)
    sex = frame["sex"].fillna("unknown")
    encoded = pd.concat(
        [
            frame[PENGUIN_MEASUREMENTS],
            pd.get_dummies(frame["island"], prefix="island"),
            pd.get_dummies(sex, prefix="sex"),
        ],
        axis=1,
    )
    species = sorted(frame["species"].unique())
    y = frame["species"].map({s: i for i, s in enumerate(species)}).to_numpy()
    description = "Palmer Archipelago penguins: measurements, island, sex (one-hot) -> species"
    return encoded.to_numpy(dtype=np.float32), y, list(encoded.columns), species, description


def _mnist1d(seed, n_samples):
    # make_dataset builds the set locally; mnist1d's get_dataset would try the network first.
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = 42 + seed  # seed 0 gives the published data set (its default seed is 42)
    data = make_dataset(args)
    X = np.concatenate([data["x"], data["x_test"]]).astype(np.float32)
    y = np.concatenate([data["y"], data["y_test"]])
    names = [f"t{i}" for i in range(X.shape[1])]
    description = "MNIST-1D (Greydanus 2020): 1-D signals of 40 points, 10 classes (generated)"
    return X, y, names, [str(i) for i in range(10)], description


LOADERS: dict[str, Callable] = {
    "digits": _digits,
    "iris": _iris,
    "wine": _wine,
    "breast_cancer": _breast_cancer,
    "diabetes": _diabetes,
    "penguins": _penguins,
    "mnist1d": _mnist1d,
    "moons": _moons,
    "circles": _circles,
}
REGRESSION_SETS = {"diabetes"}


def available() -> list[str]:
    """Names accepted by :func:`load`."""
    return sorted(LOADERS)


def load(
    name: str,
    *,
    seed: int = 0,
    val_size: float = 0.2,
    test_size: float = 0.2,
    n_samples: int | None = None,
) -> DataSet:
    """Load the offline data set ``name`` and split it reproducibly.

    ``seed`` fixes the split (and the generated sets). ``val_size`` and
    ``test_size`` are fractions of the whole set. ``n_samples`` sets the
    size of the generated sets (moons, circles; default 1000).

    MNIST-1D keeps its published split: the test split is the official 1000
    test signals, and ``val_size`` is taken from the 4000 training signals.
    """
    if not isinstance(name, str) or name not in LOADERS:
        raise ValueError(f"unknown data set {name!r}: expected one of {', '.join(available())}")
    if n_samples is not None and (not isinstance(n_samples, int) or n_samples < 10):
        raise ValueError(f"n_samples must be an integer of at least 10, got {n_samples!r}")
    X, y, feature_names, class_names, description = LOADERS[name](seed, n_samples)
    task = "regression" if name in REGRESSION_SETS else "classification"
    stratify = task == "classification"
    if name == "mnist1d":
        n_test = 1000
        X_rest, y_rest = X[:-n_test], y[:-n_test]
        X_train, X_val, y_train, y_val = train_test_split(
            X_rest, y_rest, test_size=val_size, random_state=seed, stratify=y_rest
        )
        train, val, test = Split(X_train, y_train), Split(X_val, y_val), Split(X[-n_test:], y[-n_test:])
    else:
        train, val, test = split_three_ways(
            X, y, seed=seed, val_size=val_size, test_size=test_size, stratify=stratify
        )
    return DataSet(name, task, train, val, test, feature_names, class_names, description)


def dataset_table(names: list[str] | None = None, seed: int = 0) -> pd.DataFrame:
    """The "Data Set" table: one row per data set, generated from the loaders."""
    rows = [load(n, seed=seed).table_row() for n in (names or available())]
    return pd.DataFrame(rows).set_index("data set")


# --------------------------------------------------------------------------
# Generated data sets for experiments (Chapter 4: outliers, class imbalance)
# --------------------------------------------------------------------------


def make_outlier_regression(
    n_samples: int = 200,
    outlier_fraction: float = 0.1,
    slope: float = 1.5,
    intercept: float = 0.5,
    noise: float = 0.3,
    outlier_shift: float = -6.0,
    seed: int = 0,
):
    """A straight line with Gaussian noise, plus a few gross outliers.

    x is uniform in [-2, 2]; y = slope x + intercept + noise. The outliers are
    taken among the points with the largest x and shifted by
    ``outlier_shift`` (like a sensor that fails when the signal is high), so
    they pull a least-squares line's slope and not just its height.
    Returns float32 arrays ``x`` (n,), ``y`` (n,) and a boolean mask
    ``is_outlier`` (n,).
    """
    check_positive_int(n_samples, "n_samples", minimum=10)
    check_number(outlier_fraction, "outlier_fraction", low=0.0, high=0.5, high_open=True)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, n_samples)
    y = slope * x + intercept + rng.normal(0, noise, n_samples)
    n_out = int(round(outlier_fraction * n_samples))
    candidates = np.argsort(x)[-max(3 * n_out, 1):]  # among the right-most 3 x n_out points
    chosen = rng.choice(candidates, size=n_out, replace=False)
    is_outlier = np.zeros(n_samples, dtype=bool)
    is_outlier[chosen] = True
    y[is_outlier] += outlier_shift + rng.normal(0, 1.0, n_out)
    return x.astype(np.float32), y.astype(np.float32), is_outlier


def make_imbalanced(X, y, minority_class: int = 1, keep_fraction: float = 0.1, seed: int = 0):
    """Keep only ``keep_fraction`` of the samples of ``minority_class`` (chosen at random with ``seed``).

    ``X`` (n, ...) and ``y`` (n,) arrays; returns the reduced ``(X, y)`` in the
    original order. Every other class is kept whole. At least one sample of
    the minority class is kept.
    """
    X, y = as_array(X, "X"), as_array(y, "y", ndim=1)
    check_same_length(X, y, "X", "y")
    check_number(keep_fraction, "keep_fraction", low=0.0, high=1.0, low_open=True)
    members = np.flatnonzero(y == minority_class)
    if len(members) == 0:
        raise ValueError(f"class {minority_class!r} does not occur in y")
    rng = np.random.default_rng(seed)
    n_keep = max(1, int(math.floor(keep_fraction * len(members))))
    dropped = rng.choice(members, size=len(members) - n_keep, replace=False)
    keep = np.ones(len(y), dtype=bool)
    keep[dropped] = False
    return X[keep], y[keep]


# --------------------------------------------------------------------------
# Distribution shift: the same inputs, a little different (Chapter 8)
# --------------------------------------------------------------------------


def _as_images(X, image_shape):
    X = as_array(X, "X", ndim=2)
    height, width = image_shape
    if X.shape[1] != height * width:
        raise ValueError(f"rows of X have {X.shape[1]} values, which is not an image of shape {image_shape}")
    return X.reshape(len(X), height, width)


def add_noise(X, std: float, seed: int = 0) -> np.ndarray:
    """``X`` plus Gaussian noise of standard deviation ``std`` (in the units of ``X``)."""
    X = as_array(X, "X", ndim=2)
    check_number(std, "std", low=0.0)
    rng = np.random.default_rng(seed)
    return (X + rng.normal(0.0, std, size=X.shape)).astype(X.dtype if X.dtype.kind == "f" else np.float32)


def shift_images(X, dx: int, dy: int, image_shape: tuple[int, int] = (8, 8), fill: float = 0.0) -> np.ndarray:
    """Move every flattened image ``dx`` pixels right and ``dy`` pixels down; new pixels get ``fill``."""
    for name, value in (("dx", dx), ("dy", dy)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be a whole number of pixels, got {value!r}")
    images = _as_images(X, image_shape)
    height, width = image_shape
    out = np.full_like(images, fill)
    src_rows = slice(max(0, -dy), min(height, height - dy))
    dst_rows = slice(max(0, dy), min(height, height + dy))
    src_cols = slice(max(0, -dx), min(width, width - dx))
    dst_cols = slice(max(0, dx), min(width, width + dx))
    if abs(dx) < width and abs(dy) < height:
        out[:, dst_rows, dst_cols] = images[:, src_rows, src_cols]
    return out.reshape(len(images), -1)


def rotate_images(X, degrees: float, image_shape: tuple[int, int] = (8, 8)) -> np.ndarray:
    """Rotate every flattened image by ``degrees`` about its centre (pixels leaving the frame are lost)."""
    from scipy.ndimage import rotate

    check_number(degrees, "degrees")
    images = _as_images(X, image_shape).astype(np.float32)
    rotated = rotate(images, degrees, axes=(1, 2), reshape=False, order=1, mode="constant", cval=0.0)
    return rotated.reshape(len(images), -1)
