"""Chapter 10: transfer learning, the toolkit.

Reuse a network trained on one task (the *source*) for another (the
*target*) that has only a few labels:

- ``new_templates`` / ``make_signals``: MNIST-1D signals built locally, from
  the original ten digit templates or from ten new ones (the target task);
- ``labels_per_class``: the indices of ``k`` labelled examples per class (from ``helpers.data``, re-exported here);
- ``target_task`` / ``split_digits``: the target tasks of the chapter, as
  ``helpers.data.DataSet`` objects (MNIST-1D from new templates; digits
  0-4 -> 5-9);
- ``TransferNet``: a small 1-D CNN, ``backbone`` (signals -> features) then
  ``head`` (features -> class scores); ``MLPNet``: the same split for flat
  inputs;
- ``features``: the backbone's output for many signals, as a NumPy array;
- ``linear_probe``: logistic regression on frozen features;
- ``param_groups`` / ``fine_tune``: train backbone and head, each with its own
  learning rate (a backbone rate of 0 freezes it);
- ``FewLabelSetup`` / ``run_method`` / ``tune``: the few-label experiment,
  every method trained on the same labelled examples and tuned on
  validation data over several seeds;
- ``linear_cka``: how similar two representations of the same inputs are;
- ``resnet18_for``: the practitioner's code for a real pretrained image model
  (torchvision's ResNet-18 with a new last layer).

Shapes: signals ``(n, 40)`` float32, labels ``(n,)`` int64, features
``(n, d)``. Nothing here downloads anything unless asked to
(``resnet18_for(..., weights="DEFAULT")``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from helpers.data import labels_per_class  # noqa: F401 (re-exported: chapters import it from here)

SIGNAL_LENGTH = 40


# --------------------------------------------------------------------------
# Data: MNIST-1D from old and new templates
# --------------------------------------------------------------------------


def new_templates(seed: int = 0, n_classes: int = 10) -> dict:
    """Ten new 12-point templates in the format of ``mnist1d.data.get_templates()``.

    Each is a smooth random curve (a random walk, smoothed), normalised like
    MNIST-1D's digits: mean 0, std 1, starting at 0, divided by 6. Returns
    ``{"x": (n_classes, 12), "t": (12,), "y": (n_classes,)}``.
    """
    from mnist1d.data import get_templates

    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer of at least 2, got {n_classes!r}")
    original = get_templates()
    rng = np.random.default_rng(1000 + seed)
    walks = np.cumsum(rng.normal(size=(n_classes, 14)), axis=1)
    x = np.stack([np.convolve(w, np.ones(3) / 3, mode="valid") for w in walks])  # (n_classes, 12)
    x = x - x.mean(1, keepdims=True)
    x = x / x.std(1, keepdims=True)
    x = x - x[:, :1]
    return {"x": x / 6.0, "t": original["t"].copy(), "y": np.arange(n_classes)}


def make_signals(n_samples: int, templates: dict | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n_samples`` MNIST-1D signals ``(n, 40)`` and labels ``(n,)``, generated locally.

    ``templates=None`` uses MNIST-1D's ten digits; pass ``new_templates()``
    for the target task. Classes are balanced; ``seed`` fixes the noise.
    Uses ``mnist1d.data.make_dataset`` (never ``get_dataset``, which tries
    the network).
    """
    from mnist1d.data import get_dataset_args, make_dataset

    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 10:
        raise ValueError(f"n_samples must be an integer of at least 10, got {n_samples!r}")
    if templates is not None and (not isinstance(templates, dict) or not {"x", "t", "y"} <= set(templates)):
        raise TypeError("templates must be a dict with keys 'x', 't', 'y' like mnist1d.data.get_templates()")
    args = get_dataset_args()
    args.num_samples, args.train_split, args.seed = n_samples, 1.0, seed
    data = make_dataset(args, template=templates)
    return data["x"].astype(np.float32), data["y"].astype(np.int64)


# --------------------------------------------------------------------------
# The network: backbone + head
# --------------------------------------------------------------------------


class TransferNet(nn.Module):
    """A 1-D CNN for signals ``(batch, 40)``: ``backbone`` -> features ``(batch, 4 * channels)`` -> ``head``.

    The backbone is three convolutions (the last two halve the length) and
    an average pooling to 4 positions; the head is one linear layer. Reusing
    the network for a new task means keeping ``backbone`` and giving it a
    new ``head``.
    """

    def __init__(self, n_classes: int = 10, channels: int = 32):
        super().__init__()
        for name, value in (("n_classes", n_classes), ("channels", channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.backbone = nn.Sequential(
            nn.Unflatten(1, (1, SIGNAL_LENGTH)),  # (batch, 40) -> (batch, 1, 40)
            nn.Conv1d(1, channels, 5, padding=2),
            nn.ReLU(),
            nn.Conv1d(channels, channels, 5, padding=2, stride=2),
            nn.ReLU(),
            nn.Conv1d(channels, channels, 5, padding=2, stride=2),
            nn.ReLU(),
            nn.AdaptiveAvgPool1d(4),
            nn.Flatten(),  # (batch, 4 * channels)
        )
        self.head = nn.Linear(4 * channels, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != SIGNAL_LENGTH:
            raise ValueError(f"TransferNet expects signals of shape (batch, {SIGNAL_LENGTH}), got {tuple(x.shape)}")
        return self.head(self.backbone(x))


class MLPNet(nn.Module):
    """A multi-layer perceptron for flat inputs ``(batch, n_inputs)``, split into ``backbone`` and ``head``."""

    def __init__(self, n_inputs: int, hidden: int, n_classes: int):
        super().__init__()
        for name, value in (("n_inputs", n_inputs), ("hidden", hidden), ("n_classes", n_classes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.backbone = nn.Sequential(nn.Linear(n_inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def features(backbone: nn.Module, X, batch_size: int = 1024) -> np.ndarray:
    """The backbone's output for ``X`` (n, ...), in evaluation mode, as a NumPy array ``(n, d)``."""
    if not isinstance(backbone, nn.Module):
        raise TypeError(f"backbone must be a torch.nn.Module, got {type(backbone).__name__}")
    X = torch.as_tensor(np.asarray(X, dtype=np.float32)) if not isinstance(X, torch.Tensor) else X
    device = next(backbone.parameters()).device
    was_training = backbone.training
    backbone.eval()
    with torch.no_grad():
        out = torch.cat([backbone(X[i : i + batch_size].to(device)).flatten(1).cpu() for i in range(0, len(X), batch_size)])
    backbone.train(was_training)
    return out.numpy()


# --------------------------------------------------------------------------
# Ways to reuse a backbone
# --------------------------------------------------------------------------


def linear_probe(train_features, y_train, C: float = 1.0):
    """Logistic regression on frozen features (standardised on the training set); a fitted sklearn pipeline.

    ``C`` is the inverse strength of the L2 penalty: tune it on validation data.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if not isinstance(C, (int, float)) or isinstance(C, bool) or not C > 0:
        raise ValueError(f"C must be a positive number, got {C!r}")
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000, tol=1e-3)).fit(train_features, y_train)


def param_groups(model: nn.Module, head_lr: float, backbone_lr: float) -> list[dict]:
    """Optimizer parameter groups: ``model.head`` at ``head_lr``, ``model.backbone`` at ``backbone_lr``.

    ``backbone_lr = 0`` freezes the backbone (its parameters are left out and
    stop requiring gradients). Pass the result to e.g. ``torch.optim.Adam``.
    """
    for part in ("backbone", "head"):
        if not isinstance(getattr(model, part, None), nn.Module):
            raise TypeError(f"model must have a `{part}` sub-module (like TransferNet)")
    for name, value in (("head_lr", head_lr), ("backbone_lr", backbone_lr)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    if head_lr == 0:
        raise ValueError("head_lr must be > 0: a new head has to learn")
    groups = [{"params": list(model.head.parameters()), "lr": float(head_lr)}]
    for p in model.backbone.parameters():
        p.requires_grad_(backbone_lr > 0)
    if backbone_lr > 0:
        groups.append({"params": list(model.backbone.parameters()), "lr": float(backbone_lr)})
    return groups


def fine_tune(
    model: nn.Module,
    train,
    val,
    *,
    head_lr: float,
    backbone_lr: float,
    epochs: int,
    batch_size: int = 32,
    weight_decay: float = 0.0,
    device=None,
):
    """Train ``model`` (backbone + head) on ``train = (X, y)`` with :func:`param_groups`; return its History.

    AdamW with one learning rate per part. With ``val = (X, y)``, ``fit``
    keeps the weights of the epoch with the lowest validation loss; with
    ``val=None`` the model keeps its last weights. ``backbone_lr == head_lr``
    is plain fine-tuning, ``backbone_lr = 0`` trains the head alone.
    """
    from helpers.train import fit

    optimizer = torch.optim.AdamW(param_groups(model, head_lr, backbone_lr), weight_decay=weight_decay)
    history = fit(model, train, val, loss_fn=nn.CrossEntropyLoss(), optimizer=optimizer, epochs=epochs,
                  batch_size=batch_size, device=device, restore_best=val is not None, progress=False)
    for p in model.parameters():
        p.requires_grad_(True)
    return history


# --------------------------------------------------------------------------
# The few-label experiment: every method, tuned on validation, several seeds
# --------------------------------------------------------------------------

METHODS = ("logistic regression on the inputs", "scratch", "linear probe", "fine-tune", "fine-tune, backbone lr / 10")
HYPERPARAMETER = {"logistic regression on the inputs": "C", "scratch": "lr", "linear probe": "C", "fine-tune": "lr",
                  "fine-tune, backbone lr / 10": "head lr"}


def target_task(per_class: tuple[int, int, int] = (40, 20, 100), templates_seed: int = 0, seed: int = 0):
    """The target task: MNIST-1D signals from :func:`new_templates`, as a ``helpers.data.DataSet``.

    ``per_class = (pool, val, test)`` examples of each of the 10 classes. The
    few-label training sets are drawn from the pool with :func:`labels_per_class`.
    """
    from helpers.data import DataSet, Split

    if len(per_class) != 3 or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in per_class):
        raise ValueError(f"per_class must be three positive integers (pool, val, test), got {per_class!r}")
    total = sum(per_class)
    X, y = make_signals(10 * total + 10 * 2, new_templates(templates_seed), seed=seed)  # a few spare per class
    rng = np.random.default_rng(seed)
    parts = [[], [], []]
    for label in range(10):
        where = rng.permutation(np.flatnonzero(y == label))
        if len(where) < total:
            raise ValueError(f"class {label} has {len(where)} signals, fewer than {total}")
        bounds = np.cumsum((0,) + tuple(per_class))
        for i in range(3):
            parts[i].append(where[bounds[i] : bounds[i + 1]])
    pool, val, test = (np.sort(np.concatenate(p)) for p in parts)
    names = [str(c) for c in range(10)]
    return DataSet("MNIST-1D, new templates", "classification", Split(X[pool], y[pool]), Split(X[val], y[val]),
                   Split(X[test], y[test]), [f"t{i}" for i in range(X.shape[1])], names,
                   "MNIST-1D signals generated from ten new templates (the target task)")


def split_digits(seed: int = 0, per_class: tuple[int, int] = (20, 30)):
    """Scikit-learn's 8x8 digits cut in two tasks: ``(source, target)`` ``helpers.data.DataSet`` objects.

    The source task is digits 0-4 (80 % train, 20 % validation, no test);
    the target task is digits 5-9, relabelled 0-4, with ``per_class = (pool,
    val)`` examples per class and every other image in the test split.
    Pixels are divided by 16, so they lie in [0, 1].
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from helpers.data import DataSet, Split

    digits = load_digits()
    X, y = (digits.data / 16.0).astype(np.float32), digits.target
    names = [f"pixel{i}" for i in range(64)]
    low = y < 5
    X_tr, X_va, y_tr, y_va = train_test_split(X[low], y[low], test_size=0.2, random_state=seed, stratify=y[low])
    source = DataSet("digits 0-4", "classification", Split(X_tr, y_tr), Split(X_va, y_va), Split(X_va[:1], y_va[:1]),
                     names, [str(c) for c in range(5)], "8x8 digits 0-4 (the source task; no test split)")
    rng = np.random.default_rng(seed)
    parts = [[], [], []]
    for label in range(5, 10):
        where = rng.permutation(np.flatnonzero(y == label))
        parts[0].append(where[: per_class[0]])
        parts[1].append(where[per_class[0] : sum(per_class)])
        parts[2].append(where[sum(per_class) :])
    pool, val, test = (np.sort(np.concatenate(p)) for p in parts)
    target = DataSet("digits 5-9", "classification", Split(X[pool], y[pool] - 5), Split(X[val], y[val] - 5),
                     Split(X[test], y[test] - 5), names, [str(c) for c in range(5, 10)],
                     "8x8 digits 5-9, relabelled 0-4 (the target task)")
    return source, target


@dataclass
class FewLabelSetup:
    """What every run of the few-label experiment shares.

    ``target`` is a ``helpers.data.DataSet`` whose ``train`` split is the pool
    the few labels are drawn from; ``make_model()`` builds a fresh network
    with ``backbone`` and ``head`` (e.g. ``lambda: TransferNet(10, 24)``);
    ``backbone_file`` holds the pretrained backbone's weights
    (``helpers.checkpoint.save_weights(model.backbone, path)``); ``steps`` is
    the number of optimizer steps of every training run, so every method and
    every k gets the same budget.
    """

    target: object
    backbone_file: str
    make_model: Callable[[], nn.Module]
    steps: int = 80
    batch_size: int = 32
    device: str = "cpu"  # tiny networks and batches: the CPU is as fast as a GPU here
    _features: dict = field(default_factory=dict, repr=False)

    def pretrained_model(self) -> nn.Module:
        """A new network whose backbone holds the saved weights; its head is new (random)."""
        from helpers.checkpoint import load_weights

        model = self.make_model()
        load_weights(model.backbone, self.backbone_file)
        return model

    def frozen_features(self, which: str) -> np.ndarray:
        """The pretrained backbone's features of the target split ``which`` (computed once)."""
        if which not in self._features:
            self._features[which] = features(self.pretrained_model().backbone, self.target.split(which).X)
        return self._features[which]


@dataclass
class Run:
    """One training run: method, labels per class, seed, hyperparameter value, and the result."""

    method: str
    k: int
    seed: int
    value: float
    val_accuracy: float
    predict: Callable = field(repr=False)  # split name -> predicted labels (n,)
    model: nn.Module | None = field(default=None, repr=False)  # the trained network (None for a probe)


def run_method(setup: FewLabelSetup, method: str, k: int, seed: int, value: float) -> Run:
    """Train ``method`` on ``k`` labels per class (drawn with ``seed``) at hyperparameter ``value``.

    ``value`` is the learning rate (scratch, fine-tune), the head's learning
    rate (fine-tune with the backbone at a tenth of it) or the inverse
    penalty ``C`` (linear probe). The seed fixes both the labelled examples
    and the new weights, so two methods with the same seed see the same data.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: expected one of {METHODS}")
    target = setup.target
    idx = labels_per_class(target.train.y, k, seed)
    if method in ("linear probe", "logistic regression on the inputs"):
        inputs = setup.frozen_features if method == "linear probe" else (lambda which: _flat(target.split(which).X))
        probe = linear_probe(inputs("train")[idx], target.train.y[idx], C=value)
        val_accuracy = float(probe.score(inputs("val"), target.val.y))
        return Run(method, k, seed, value, val_accuracy, lambda which: probe.predict(inputs(which)))
    torch.manual_seed(seed)
    if method == "scratch":
        model, head_lr, backbone_lr = setup.make_model(), value, value
    else:
        model = setup.pretrained_model()
        head_lr, backbone_lr = value, (value if method == "fine-tune" else value / 10)
    steps_per_epoch = math.ceil(len(idx) / setup.batch_size)
    fine_tune(model, (target.train.X[idx], target.train.y[idx]), None, head_lr=head_lr, backbone_lr=backbone_lr,
              epochs=max(1, round(setup.steps / steps_per_epoch)), batch_size=setup.batch_size, device=setup.device)

    def predict(which):
        with torch.no_grad():
            model.eval()
            return model(torch.as_tensor(target.split(which).X).to(setup.device)).argmax(1).cpu().numpy()

    val_accuracy = accuracy(predict("val"), target.val.y)
    return Run(method, k, seed, value, val_accuracy, predict, model)


def tune(setup: FewLabelSetup, method: str, k: int, seeds, grid, max_widen: int = 2) -> tuple[float, list[Run]]:
    """Run ``method`` at every value of the geometric ``grid`` for every seed; choose by mean validation accuracy.

    If the best value is at an end of the grid, the grid is widened by one
    more step in that direction (at most ``max_widen`` times), so the choice
    is never on the edge of what was tried. Returns ``(best value, all runs)``.
    """
    grid = sorted(float(v) for v in grid)
    if len(grid) < 3 or any(v <= 0 for v in grid):
        raise ValueError(f"grid must hold at least 3 positive values, got {grid!r}")
    seeds = list(seeds)
    runs = [run_method(setup, method, k, s, v) for v in grid for s in seeds]
    for _ in range(max_widen + 1):
        means = {v: np.mean([r.val_accuracy for r in runs if r.value == v]) for v in grid}
        best = max(grid, key=lambda v: (means[v], -abs(math.log(v / grid[len(grid) // 2]))))
        if best not in (grid[0], grid[-1]) or _ >= max_widen:
            break
        step = (grid[-1] / grid[0]) ** (1 / (len(grid) - 1))  # the grid's mean ratio between neighbours
        new = best * step if best == grid[-1] else best / step
        grid = sorted(grid + [new])
        runs += [run_method(setup, method, k, s, new) for s in seeds]
    return best, runs


def _flat(X) -> np.ndarray:
    return np.asarray(X, dtype=np.float32).reshape(len(X), -1)


def accuracy(predicted, y) -> float:
    """The share of ``predicted`` labels equal to ``y``, as a plain float."""
    return float(np.mean(np.asarray(predicted) == np.asarray(y)))


# --------------------------------------------------------------------------
# Similarity of representations
# --------------------------------------------------------------------------


def linear_cka(X, Y) -> float:
    """Linear centred kernel alignment of two representations ``X`` (n, d1), ``Y`` (n, d2) of the same n inputs.

    ``||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F)`` with column-centred
    ``Xc``, ``Yc`` (Kornblith et al. 2019): 1 for representations that differ
    by a rotation and a scale, near 0 for unrelated ones, and 0 by convention
    when either is constant over the inputs (a network whose units all died).
    """
    X, Y = (np.asarray(a.detach().cpu() if isinstance(a, torch.Tensor) else a, dtype=np.float64) for a in (X, Y))
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y):
        raise ValueError(f"X and Y must be (n, d) arrays with the same n, got shapes {X.shape} and {Y.shape}")
    if len(X) < 2:
        raise ValueError("linear_cka needs at least 2 inputs")
    X, Y = X - X.mean(0), Y - Y.mean(0)
    denominator = np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y)
    if denominator == 0:  # a constant representation (e.g. every unit dead) says nothing about its inputs
        return 0.0
    return float(np.linalg.norm(Y.T @ X) ** 2 / denominator)


# --------------------------------------------------------------------------
# A real pretrained model: torchvision's ResNet-18
# --------------------------------------------------------------------------


def resnet18_for(n_classes: int, weights: str | None = None, freeze_backbone: bool = True):
    """ResNet-18 with a new last layer for ``n_classes``, and the transform its inputs need.

    ``weights="DEFAULT"`` downloads torchvision's ImageNet weights (about
    45 MB, once); ``weights=None`` builds the same network with random
    weights (offline, for tests). Returns ``(model, transform)``: the
    transform (resize, crop to 224, normalise with ImageNet statistics) takes
    a uint8 or float image tensor ``(3, H, W)`` or batch ``(n, 3, H, W)``.
    With ``freeze_backbone`` only the new ``model.fc`` trains.
    """
    from torchvision.models import ResNet18_Weights, resnet18

    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer of at least 2, got {n_classes!r}")
    if weights not in (None, "DEFAULT"):
        raise ValueError(f"weights must be None (random, offline) or 'DEFAULT' (download ImageNet weights), got {weights!r}")
    chosen = ResNet18_Weights.DEFAULT if weights == "DEFAULT" else None
    model = resnet18(weights=chosen)
    if freeze_backbone:
        for p in model.parameters():
            p.requires_grad_(False)
    model.fc = nn.Linear(model.fc.in_features, n_classes)  # new layers require gradients
    transform = ResNet18_Weights.DEFAULT.transforms()  # the preprocessing is code: no download
    return model, transform


