"""Chapter 10: transfer learning, the toolkit.

Reuse a network trained on one task (the *source*) for another (the
*target*) that has only a few labels:

- ``new_templates`` / ``make_signals``: MNIST-1D signals built locally, from
  the original ten digit templates or from ten new ones (the target task);
- ``labels_per_class``: the indices of ``k`` labelled examples per class;
- ``TransferNet``: a small 1-D CNN, ``backbone`` (signals -> features) then
  ``head`` (features -> class scores);
- ``features``: the backbone's output for many signals, as a NumPy array;
- ``linear_probe``: logistic regression on frozen features;
- ``param_groups`` / ``fine_tune``: train backbone and head, each with its own
  learning rate (a backbone rate of 0 freezes it);
- ``linear_cka``: how similar two representations of the same inputs are;
- ``resnet18_for``: the practitioner's code for a real pretrained image model
  (torchvision's ResNet-18 with a new last layer).

Shapes: signals ``(n, 40)`` float32, labels ``(n,)`` int64, features
``(n, d)``. Nothing here downloads anything unless asked to
(``resnet18_for(..., weights="DEFAULT")``).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

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


def labels_per_class(y, k: int, seed: int = 0) -> np.ndarray:
    """Indices of ``k`` examples of every class in ``y`` (n,), drawn without replacement.

    The few-label training set of a transfer experiment: ``X[idx], y[idx]``.
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
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000)).fit(train_features, y_train)


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

    AdamW with one learning rate per part; ``fit`` keeps the weights of the
    epoch with the lowest validation loss. ``backbone_lr == head_lr`` is plain
    fine-tuning, ``backbone_lr = 0`` trains the head alone.
    """
    from helpers.train import fit

    optimizer = torch.optim.AdamW(param_groups(model, head_lr, backbone_lr), weight_decay=weight_decay)
    history = fit(model, train, val, loss_fn=nn.CrossEntropyLoss(), optimizer=optimizer, epochs=epochs,
                  batch_size=batch_size, device=device, progress=False)
    for p in model.parameters():
        p.requires_grad_(True)
    return history


# --------------------------------------------------------------------------
# Similarity of representations
# --------------------------------------------------------------------------


def linear_cka(X, Y) -> float:
    """Linear centred kernel alignment of two representations ``X`` (n, d1), ``Y`` (n, d2) of the same n inputs.

    ``||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F)`` with column-centred
    ``Xc``, ``Yc`` (Kornblith et al. 2019): 1 for representations that differ
    by a rotation and a scale, near 0 for unrelated ones.
    """
    X, Y = (np.asarray(a.detach().cpu() if isinstance(a, torch.Tensor) else a, dtype=np.float64) for a in (X, Y))
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y):
        raise ValueError(f"X and Y must be (n, d) arrays with the same n, got shapes {X.shape} and {Y.shape}")
    if len(X) < 2:
        raise ValueError("linear_cka needs at least 2 inputs")
    X, Y = X - X.mean(0), Y - Y.mean(0)
    denominator = np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y)
    if denominator == 0:
        raise ValueError("a representation is constant over the inputs; CKA is undefined")
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


def clone(model: nn.Module) -> nn.Module:
    """An independent copy of ``model`` (weights included)."""
    return copy.deepcopy(model)
