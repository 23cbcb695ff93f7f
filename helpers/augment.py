"""Chapter 9: data augmentation, the chapter's toolkit.

Augmentation trains a model on label-preserving variations of its images.
Everything here works on batches of images ``X`` of shape
``(n, channels, height, width)`` (float, pixels in ``[0, 1]``) and integer
labels ``y`` of shape ``(n,)``; an *augment* is a function
``(X, y) -> (X, y)`` such as ``helpers.train.fit(augment=...)`` calls on
every training batch (MixUp and CutMix return soft labels ``(n, classes)``).

- ``SmallCNN``: a small convolutional network for small grey or colour images;
- ``random_affine``: one random rotation / shift / zoom *per image*, for a
  whole batch at once on its device (``F.affine_grid`` + ``F.grid_sample``);
- ``add_noise``, ``random_erasing``, ``rotate_180``, ``flip_horizontal``:
  other batched, per-image transforms;
- ``on_images``, ``per_image``, ``compose``, ``checked``, ``mixup_or_cutmix``:
  build augments for ``fit``; ``checked`` refuses one that changes the batch size or labels;
- ``PerSampleDataset``: the torchvision way, one ``v2`` transform call per
  image in a ``Dataset`` read by a ``DataLoader``;
- ``tta_probabilities``: test-time augmentation, predictions averaged over views;
- ``labels_per_class``: draw a few labelled examples of every class (from ``helpers.data``, re-exported here);
- ``load_torchvision_images``: Fashion-MNIST or CIFAR-10 through
  ``torchvision.datasets`` (a download only when asked).

A ``torchvision.transforms.v2`` transform called on a batched tensor draws
its random parameters *once* and applies them to every image of the batch;
the batched functions here draw them once per image.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers.data import labels_per_class  # noqa: F401 (re-exported: chapters import it from here)

Augment = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------


def check_images(X, what: str = "X") -> None:
    """Raise unless ``X`` is a float tensor of images ``(n, channels, height, width)`` with n > 0."""
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{what} must be a torch tensor of images, got {type(X).__name__}")
    if X.ndim != 4 or X.shape[0] == 0:
        raise ValueError(
            f"{what} must have shape (n_images, channels, height, width) with n_images > 0, got {tuple(X.shape)}; "
            "a single image (channels, height, width) needs X.unsqueeze(0), flat digits X.reshape(-1, 1, 8, 8)"
        )
    if not X.is_floating_point():
        raise ValueError(f"{what} must hold float pixels (e.g. in [0, 1]), got dtype {X.dtype}")


def check_probability(p, name: str = "p") -> float:
    """``p`` as a float, or a ValueError unless it is a probability in [0, 1]."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")
    return float(p)


def _check_non_negative(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or value < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return float(value)


def _uniform(n: int, low: float, high: float, like: torch.Tensor, generator) -> torch.Tensor:
    """``n`` uniform draws in [low, high) on the device of ``like``."""
    return low + (high - low) * torch.rand(n, device=like.device, generator=generator)


# --------------------------------------------------------------------------
# A small image classifier
# --------------------------------------------------------------------------


class SmallCNN(nn.Module):
    """Images ``(batch, channels, size, size)`` -> logits ``(batch, n_classes)``.

    Two 3x3 convolutions, a 2x2 max-pool, and a linear layer over the pooled
    feature map (so the position of a stroke still counts): about 14,000
    weights for 8x8 digits at ``width=16``.
    """

    def __init__(self, n_classes: int = 10, in_channels: int = 1, image_size: int = 8, width: int = 16):
        super().__init__()
        for name, value in (("n_classes", n_classes), ("in_channels", in_channels), ("width", width),
                            ("image_size", image_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if image_size % 2:
            raise ValueError(f"image_size must be even (it is halved by the pooling), got {image_size}")
        self.in_channels, self.image_size = in_channels, image_size
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.head = nn.Linear(width * (image_size // 2) ** 2, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        expected = (self.in_channels, self.image_size, self.image_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"SmallCNN expects images (batch, {', '.join(map(str, expected))}), got {tuple(x.shape)}")
        return self.head(self.features(x))


# --------------------------------------------------------------------------
# Batched transforms: one random draw per image
# --------------------------------------------------------------------------


def random_affine(
    X: torch.Tensor,
    degrees: float = 0.0,
    translate: float = 0.0,
    scale: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Rotate, shift and zoom every image by its own random amount; same shape as ``X``.

    Each image gets an angle uniform in ``[-degrees, degrees]``, a shift
    uniform in ``[-translate, translate]`` times its width (and height), and a
    zoom factor uniform in ``[1 - scale, 1 + scale]``. All images are
    resampled in one call: ``F.affine_grid`` turns the ``(n, 2, 3)`` matrices
    into sampling positions and ``F.grid_sample`` reads the pixels there
    (bilinear; outside the image is 0, the background of digits).
    """
    check_images(X)
    degrees = _check_non_negative(degrees, "degrees")
    translate = _check_non_negative(translate, "translate")
    scale = _check_non_negative(scale, "scale")
    if scale >= 1:
        raise ValueError(f"scale must be below 1 (zoom factors 1 - scale to 1 + scale), got {scale}")
    n = X.shape[0]
    angle = _uniform(n, -degrees, degrees, X, generator) * math.pi / 180
    zoom = _uniform(n, 1 - scale, 1 + scale, X, generator)
    # affine_grid maps output positions to input positions in [-1, 1] coordinates
    # (the image spans 2 units), so a shift of a fraction t of the width is 2 t.
    shift = _uniform(2 * n, -translate, translate, X, generator).reshape(n, 2) * 2
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], dim=1), torch.stack([sin, cos, shift[:, 1]], dim=1)], dim=1
    ).to(X.dtype)
    grid = F.affine_grid(theta, list(X.shape), align_corners=False)
    return F.grid_sample(X, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def add_noise(X: torch.Tensor, std: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """``X`` plus Gaussian noise of standard deviation ``std`` (in pixel units), new noise per pixel."""
    check_images(X)
    std = _check_non_negative(std, "std")
    noise = torch.randn(X.shape, device=X.device, dtype=X.dtype, generator=generator)
    return X + std * noise


def random_erasing(
    X: torch.Tensor,
    p: float = 0.5,
    area: tuple[float, float] = (0.05, 0.25),
    value: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """With probability ``p`` per image, set a random rectangle to ``value``.

    The rectangle covers a fraction of the image uniform in ``area``, with an
    aspect ratio between 1/2 and 2, at a random place (Zhong et al., 2020;
    ``torchvision.transforms.v2.RandomErasing`` does the same to one image).
    Built as a mask for the whole batch: no loop over images.
    """
    check_images(X)
    p = check_probability(p, "p")
    low, high = area
    if not 0.0 < low <= high <= 1.0:
        raise ValueError(f"area must be (low, high) with 0 < low <= high <= 1, got {area!r}")
    n, _, h, w = X.shape
    fraction = _uniform(n, low, high, X, generator)
    log_ratio = _uniform(n, math.log(0.5), math.log(2.0), X, generator)
    box_h = (torch.sqrt(fraction * torch.exp(log_ratio)) * h).round().clamp(1, h)
    box_w = (torch.sqrt(fraction / torch.exp(log_ratio)) * w).round().clamp(1, w)
    top = (torch.rand(n, device=X.device, generator=generator) * (h - box_h + 1)).floor()
    left = (torch.rand(n, device=X.device, generator=generator) * (w - box_w + 1)).floor()
    rows = torch.arange(h, device=X.device).view(1, h, 1)
    cols = torch.arange(w, device=X.device).view(1, 1, w)
    inside = (
        (rows >= top.view(n, 1, 1)) & (rows < (top + box_h).view(n, 1, 1))
        & (cols >= left.view(n, 1, 1)) & (cols < (left + box_w).view(n, 1, 1))
    )
    chosen = torch.rand(n, device=X.device, generator=generator) < p
    mask = (inside & chosen.view(n, 1, 1)).unsqueeze(1)  # (n, 1, h, w), the same for every channel
    return torch.where(mask, torch.as_tensor(value, dtype=X.dtype, device=X.device), X)


def _where_chosen(X, transformed, p, generator):
    chosen = torch.rand(X.shape[0], device=X.device, generator=generator) < p
    return torch.where(chosen.view(-1, 1, 1, 1), transformed, X)


def rotate_180(X: torch.Tensor, p: float = 0.5, generator: torch.Generator | None = None) -> torch.Tensor:
    """Turn each image upside down with probability ``p`` (a 6 becomes a 9)."""
    check_images(X)
    return _where_chosen(X, torch.rot90(X, 2, dims=(2, 3)), check_probability(p, "p"), generator)


def flip_horizontal(X: torch.Tensor, p: float = 0.5, generator: torch.Generator | None = None) -> torch.Tensor:
    """Mirror each image left-right with probability ``p``."""
    check_images(X)
    return _where_chosen(X, torch.flip(X, dims=(3,)), check_probability(p, "p"), generator)


# --------------------------------------------------------------------------
# Augments for fit: (X, y) -> (X, y)
# --------------------------------------------------------------------------


def on_images(transform: Callable[..., torch.Tensor], **kwargs) -> Augment:
    """An augment that applies ``transform(X, **kwargs)`` to the images and keeps the labels.

    ``on_images(random_affine, degrees=15)`` is ``lambda X, y: (random_affine(X, degrees=15), y)``,
    with a readable name.
    """
    if not callable(transform):
        raise TypeError(f"transform must be callable, got {type(transform).__name__}")

    def augment(X, y):
        return transform(X, **kwargs), y

    settings = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    augment.__name__ = f"{getattr(transform, '__name__', 'transform')}({settings})"
    return augment


def compose(*augments: Augment) -> Augment:
    """One augment that applies ``augments`` in order (``None`` entries are skipped)."""
    steps = [a for a in augments if a is not None]
    for a in steps:
        if not callable(a):
            raise TypeError(f"every augment must be callable (X, y) -> (X, y), got {type(a).__name__}")

    def augment(X, y):
        for step in steps:
            X, y = step(X, y)
        return X, y

    augment.__name__ = " + ".join(getattr(a, "__name__", "augment") for a in steps) or "identity"
    return augment


def checked(augment: Augment, n_classes: int | None = None) -> Augment:
    """``augment``, made to raise a clear ValueError when it breaks the batch.

    The images must keep their number and shape; the labels must stay one
    per image, either class indices ``(n,)`` or, with ``n_classes``, soft
    labels ``(n, n_classes)`` whose rows are probabilities summing to 1.
    """
    if not callable(augment):
        raise TypeError(f"augment must be callable (X, y) -> (X, y), got {type(augment).__name__}")

    def safe(X, y):
        check_images(X)
        out = augment(X, y)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise ValueError(f"an augment must return a pair (X, y), got {type(out).__name__}")
        X_new, y_new = out
        check_images(X_new, "the augmented images")
        if X_new.shape != X.shape:
            raise ValueError(
                f"the augment changed the images from {tuple(X.shape)} to {tuple(X_new.shape)}; "
                "it must keep the batch size and image size"
            )
        if not isinstance(y_new, torch.Tensor) or len(y_new) != len(y):
            got = len(y_new) if hasattr(y_new, "__len__") else type(y_new).__name__
            raise ValueError(f"the augment returned {got} labels for {len(y)} images: it must keep one per image")
        if y_new.ndim == 2:
            if n_classes is not None and y_new.shape[1] != n_classes:
                raise ValueError(f"soft labels must have shape (n, {n_classes}), got {tuple(y_new.shape)}")
            if not torch.allclose(y_new.sum(dim=1), torch.ones(len(y_new), device=y_new.device), atol=1e-4):
                raise ValueError("soft labels must be probabilities: every row must sum to 1")
        elif y_new.ndim != 1:
            raise ValueError(f"labels must be (n,) classes or (n, classes) soft labels, got {tuple(y_new.shape)}")
        return X_new, y_new

    safe.__name__ = getattr(augment, "__name__", "augment")
    return safe


def mixup_or_cutmix(n_classes: int, alpha: float = 1.0, kinds: tuple[str, ...] = ("mixup", "cutmix")) -> Augment:
    """torchvision's ``v2.MixUp`` / ``v2.CutMix`` (one chosen at random per batch) as an augment.

    Each pairs every image with its neighbour in the batch and mixes them
    with a weight ``lam ~ Beta(alpha, alpha)``: MixUp blends the pixels,
    CutMix pastes a box of area ``1 - lam``; the labels become the same mix
    of the two one-hot labels, shape ``(n, n_classes)``.
    """
    from torchvision.transforms import v2

    alpha = float(alpha)
    if not alpha > 0:
        raise ValueError(f"alpha must be positive, got {alpha!r}")
    makers = {"mixup": v2.MixUp, "cutmix": v2.CutMix}
    if not kinds or any(k not in makers for k in kinds):
        raise ValueError(f"kinds must be a non-empty subset of {tuple(makers)}, got {kinds!r}")
    transforms = [makers[k](alpha=alpha, num_classes=n_classes) for k in kinds]
    mixer = transforms[0] if len(transforms) == 1 else v2.RandomChoice(transforms)

    def augment(X, y):
        return mixer(X, y)

    augment.__name__ = f"{'/'.join(kinds)}(alpha={alpha})"
    return augment


def per_image(transform: Callable[[torch.Tensor], torch.Tensor], as_uint8: bool = False) -> Augment:
    """An augment that calls a torchvision ``transform`` once per image, so each image gets its own draw.

    This is the per-sample path inside ``fit``: a Python loop over the
    batch, much slower than the batched functions above. ``as_uint8=True``
    hands the transform 8-bit images (0..255), as the automatic policies
    (``v2.TrivialAugmentWide``, ``v2.RandAugment``) expect, and converts back.
    """
    if not callable(transform):
        raise TypeError(f"transform must be callable, got {type(transform).__name__}")

    def augment(X, y):
        check_images(X)
        images = (X.clamp(0, 1) * 255).round().to(torch.uint8) if as_uint8 else X
        out = torch.stack([transform(image) for image in images])
        if out.shape != X.shape:
            raise ValueError(f"the transform changed the images from {tuple(X.shape)} to {tuple(out.shape)}")
        return (out.to(X.dtype) / 255 if as_uint8 else out), y

    augment.__name__ = f"per_image({type(transform).__name__})"
    return augment


# --------------------------------------------------------------------------
# The per-sample path: a Dataset that calls a v2 transform for each image
# --------------------------------------------------------------------------


class PerSampleDataset(torch.utils.data.Dataset):
    """Images ``X`` (n, C, H, W) and labels ``y`` (n,), with ``transform`` applied to one image at a time.

    This is how torchvision pipelines usually run: a ``DataLoader`` asks for
    item ``i``, the transform draws its own random parameters for that image,
    and the loader stacks the results into a batch.
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor, transform: Callable | None = None):
        check_images(X)
        if not isinstance(y, torch.Tensor) or len(y) != len(X):
            raise ValueError(f"y must be a tensor with one label per image ({len(X)}), got {type(y).__name__}")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable, got {type(transform).__name__}")
        self.X, self.y, self.transform = X, y, transform

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i: int):
        image = self.X[i]
        if self.transform is not None:
            image = self.transform(image)
            if image.shape != self.X.shape[1:]:
                raise ValueError(f"the transform changed an image from {tuple(self.X.shape[1:])} to {tuple(image.shape)}")
        return image, self.y[i]


# --------------------------------------------------------------------------
# Test-time augmentation
# --------------------------------------------------------------------------


def tta_probabilities(
    model: nn.Module, X: torch.Tensor, transform: Callable[[torch.Tensor], torch.Tensor] | None, n_views: int = 8
) -> torch.Tensor:
    """Class probabilities ``(n, classes)`` averaged over ``n_views`` augmented copies of ``X``.

    The first view is the image itself; the others are ``transform(X)``
    (a batched transform such as ``lambda X: random_affine(X, degrees=10)``).
    With ``transform=None`` or ``n_views=1`` this is the plain softmax.
    """
    check_images(X)
    if isinstance(n_views, bool) or not isinstance(n_views, int) or n_views < 1:
        raise ValueError(f"n_views must be a positive integer, got {n_views!r}")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    X = X.to(device)
    with torch.no_grad():
        total = torch.softmax(model(X).float(), dim=1)
        if transform is not None:
            for _ in range(n_views - 1):
                view = transform(X)
                if view.shape != X.shape:
                    raise ValueError(f"the TTA transform changed the images from {tuple(X.shape)} to {tuple(view.shape)}")
                total += torch.softmax(model(view).float(), dim=1)
        else:
            n_views = 1
    model.train(was_training)
    return (total / n_views).cpu()


# --------------------------------------------------------------------------
# Few labels
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# Bigger data sets (downloaded only when asked)
# --------------------------------------------------------------------------

TORCHVISION_SETS = ("FashionMNIST", "CIFAR10")


def load_torchvision_images(name: str, root: str, train: bool = True, download: bool = False,
                            limit: int | None = None):
    """Fashion-MNIST or CIFAR-10 as tensors: images ``(n, C, H, W)`` in [0, 1] and labels ``(n,)``.

    Reads ``root`` through ``torchvision.datasets``; with ``download=True``
    it fetches the files first (about 30 MB / 170 MB). ``limit`` keeps the
    first ``limit`` images.
    """
    from torchvision import datasets

    if name not in TORCHVISION_SETS:
        raise ValueError(f"name must be one of {TORCHVISION_SETS}, got {name!r}")
    dataset = getattr(datasets, name)(root=root, train=train, download=download)
    data = dataset.data
    data = torch.as_tensor(np.asarray(data))
    images = data.unsqueeze(1) if data.ndim == 3 else data.permute(0, 3, 1, 2)  # CIFAR is stored (n, H, W, 3)
    labels = torch.as_tensor(np.asarray(dataset.targets), dtype=torch.int64)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return images.float() / 255.0, labels


# --------------------------------------------------------------------------
# The chapter's experiment: a small CNN on a few labelled digits
# --------------------------------------------------------------------------


def digits_images() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 1,797 digits as images ``(1797, 1, 8, 8)`` in [0, 1] and labels ``(1797,)``."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1), torch.tensor(digits.target)


def train_few_labels(train, augment: Augment | None = None, *, seed: int = 0, steps: int = 200,
                     batch_size: int = 32, lr: float = 3e-3, width: int = 16, device=None):
    """Train a fresh ``SmallCNN`` on ``train = (X, y)`` for about ``steps`` optimizer steps; return ``(model, history)``.

    The number of epochs is chosen so that every training-set size gets the
    same number of steps, and every run keeps its last weights: no
    validation data take part, so the same budget holds for every method and
    the validation set stays free to compare them. ``augment`` goes to
    ``fit(augment=...)``.
    """
    from helpers.train import fit

    X, y = train
    check_images(X)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    torch.manual_seed(seed)
    model = SmallCNN(n_classes=10, in_channels=X.shape[1], image_size=X.shape[2], width=width)
    epochs = max(1, math.ceil(steps / math.ceil(len(X) / batch_size)))
    history = fit(model, train, loss_fn=nn.CrossEntropyLoss(), lr=lr, epochs=epochs, batch_size=batch_size,
                  augment=augment, device=device, restore_best=False, progress=False)
    return model, history


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of images of ``X`` whose predicted class is ``y``."""
    from helpers.train import predict

    return float((predict(model, X).argmax(dim=1) == y.cpu()).float().mean())


def per_class_accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor, n_classes: int = 10) -> np.ndarray:
    """Accuracy on the images of each class, shape ``(n_classes,)``."""
    from helpers.train import predict

    predicted = predict(model, X).argmax(dim=1).numpy()
    y = y.cpu().numpy()
    return np.array([(predicted[y == c] == c).mean() for c in range(n_classes)])
