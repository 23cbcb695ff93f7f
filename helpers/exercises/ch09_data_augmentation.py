"""Checks for the exercises of Chapter 9, "Data augmentation".

Each checker builds its own inputs (and, for the experiments, trains its own
small models on the CPU with fixed seeds), so it never depends on the
notebook's state.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from helpers.exercises import Exercise, Incorrect, NotAttempted, call_answer, expect_callable, expect_number


# --------------------------------------------------------------------------
# Shared: a few labelled digits, split as the chapter does
# --------------------------------------------------------------------------


def _digits_split(k: int, seed: int):
    """k labelled digits per class for training and 300 validation digits, from a fixed split."""
    from sklearn.model_selection import train_test_split

    from helpers.augment import digits_images, labels_per_class

    X, y = digits_images()
    pool, rest = train_test_split(np.arange(len(y)), test_size=800, stratify=y.numpy(), random_state=123)
    chosen = pool[labels_per_class(y[pool].numpy(), k, seed=seed)]
    return (X[chosen], y[chosen]), (X[rest[:300]], y[rest[:300]])


# --------------------------------------------------------------------------
# Exercise 1: diagnose a label-breaking pipeline
# --------------------------------------------------------------------------


def broken_digit_pipeline():
    """The pipeline of Exercise 1: one of its transforms changes what digit an image shows."""
    from torchvision.transforms import v2

    return v2.Compose([
        v2.RandomRotation(10),
        v2.RandomAffine(degrees=0, translate=(0.1, 0.1)),
        v2.RandomVerticalFlip(p=0.5),
        v2.GaussianNoise(sigma=0.05),
    ])


def _check_fixed_pipeline(fixed_pipeline) -> None:
    from torchvision.transforms import v2

    if not isinstance(fixed_pipeline, v2.Compose):
        raise Incorrect(f"expected a v2.Compose of transforms, got {type(fixed_pipeline).__name__}")
    steps = list(fixed_pipeline.transforms)
    names = [type(t).__name__ for t in steps]
    if "RandomVerticalFlip" in names:
        raise Incorrect("the pipeline still flips images upside down: a flipped 6 looks like a 9 written "
                        "backwards, and a 2, 3, 5 or 7 becomes no digit at all")
    if "RandomHorizontalFlip" in names:
        raise Incorrect("a horizontal flip mirrors most digits into shapes that are no digit: it breaks labels too")
    for t in steps:
        if isinstance(t, v2.RandomRotation) and max(abs(d) for d in t.degrees) > 45:
            raise Incorrect("rotations that large turn a 6 towards a 9: keep the small rotation of the original")
    for needed in ("RandomRotation", "RandomAffine", "GaussianNoise"):
        if needed not in names:
            raise Incorrect(f"you removed {needed}, which keeps a digit a digit; remove only the transform "
                            "that changes the class")
    if len(steps) != 3:
        raise Incorrect(f"expected the three label-preserving transforms of the original, got {len(steps)}: {names}")
    torch.manual_seed(0)
    image = torch.rand(1, 8, 8)
    out = fixed_pipeline(image)
    if not isinstance(out, torch.Tensor) or out.shape != image.shape:
        raise Incorrect("the pipeline must map a (1, 8, 8) image to an image of the same shape")


# --------------------------------------------------------------------------
# Exercise 2: predict, then run: test-time augmentation with mirror images
# --------------------------------------------------------------------------


@lru_cache(maxsize=4)  # deterministic on the CPU: rerunning a check need not retrain
def flip_tta_experiment(k: int = 20, seed: int = 0) -> tuple[float, float]:
    """Validation accuracy of a digits CNN trained without augmentation: (plain, averaged with the mirror image)."""
    from helpers.augment import train_few_labels, tta_probabilities

    train, (X_val, y_val) = _digits_split(k, seed)
    model, _ = train_few_labels(train, seed=seed, device="cpu")
    plain = tta_probabilities(model, X_val, None).argmax(dim=1)
    # Two views: the image itself and its mirror image.
    mirrored = tta_probabilities(model, X_val, lambda X: torch.flip(X, dims=(3,)), n_views=2).argmax(dim=1)
    return float((plain == y_val).float().mean()), float((mirrored == y_val).float().mean())


_PREDICTIONS = {"higher": "higher", "up": "higher", "better": "higher",
                "lower": "lower", "down": "lower", "worse": "lower",
                "same": "same", "no change": "same", "unchanged": "same"}


def _check_flip_tta(flip_tta_prediction) -> None:
    if not isinstance(flip_tta_prediction, str):
        raise Incorrect(f"answer with one of the strings 'higher', 'same' or 'lower', got {type(flip_tta_prediction).__name__}")
    guess = _PREDICTIONS.get(flip_tta_prediction.strip().lower())
    if guess is None:
        raise Incorrect(f"answer 'higher', 'same' or 'lower', got {flip_tta_prediction!r}")
    plain, with_flip = flip_tta_experiment()
    # Differences under one point are within the seed spread of this experiment.
    outcome = "same" if abs(with_flip - plain) < 0.01 else ("higher" if with_flip > plain else "lower")
    if guess != outcome:
        raise Incorrect(
            f"the check's own run says otherwise: {plain:.3f} without TTA, {with_flip:.3f} averaging each image "
            "with its mirror image. Think about what the network has seen of mirrored digits in training"
        )


# --------------------------------------------------------------------------
# Exercise 3: implement a per-image random shift
# --------------------------------------------------------------------------


def _dot_images(n: int, row: int, col: int, size: int = 8) -> torch.Tensor:
    images = torch.zeros(n, 1, size, size)
    images[:, 0, row, col] = 1.0
    return images


def _dot_positions(out: torch.Tensor):
    """(row, col) of the single bright pixel of each image, or None where it is gone."""
    positions = []
    for image in out[:, 0]:
        bright = (image > 0.5).nonzero()
        positions.append(None if len(bright) == 0 else tuple(int(v) for v in bright[0]))
    return positions


def _check_random_shift(random_shift) -> None:
    expect_callable(random_shift, "a function random_shift(X, max_shift)")
    torch.manual_seed(0)
    dots = _dot_images(400, 4, 4)
    out = call_answer(random_shift, dots.clone(), 2)
    if not isinstance(out, torch.Tensor) or out.shape != dots.shape:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise Incorrect(f"return a tensor of the same shape as X, {tuple(dots.shape)}; got {got}")
    if not torch.equal(call_answer(random_shift, dots.clone(), 0), dots):
        raise Incorrect("with max_shift = 0 the images must come back unchanged")
    if ((out - out.round()).abs() > 1e-6).any() or (out.sum(dim=(1, 2, 3)) > 1).any():
        raise Incorrect("shift by whole pixels: an image of one bright pixel must stay an image of one bright "
                        "pixel (no interpolation)")
    positions = _dot_positions(out)
    if any(p is None or max(abs(p[0] - 4), abs(p[1] - 4)) > 2 for p in positions):
        raise Incorrect("some images moved by more than max_shift = 2 pixels (a pixel in the middle of an 8x8 "
                        "image landed too far away, or left the image)")
    moves = [(r - 4, c - 4) for r, c in positions]
    distinct = set(moves)
    if len(distinct) == 1:
        raise Incorrect("every image moved by the same amount: draw a shift for each image, not one per batch")
    if len(distinct) < 20:
        raise Incorrect(f"only {len(distinct)} of the 25 possible (row, column) shifts appeared in 400 images: "
                        "draw the row and column shifts independently, each from -max_shift to +max_shift")
    if not any(dr != 0 for dr, _ in moves) or not any(dc != 0 for _, dc in moves):
        raise Incorrect("shift both rows and columns")
    # A pixel pushed off the image must disappear, not come back on the other side.
    corner = call_answer(random_shift, _dot_images(400, 0, 0), 2)
    for position in _dot_positions(corner):
        if position is not None and (position[0] > 2 or position[1] > 2):
            raise Incorrect("a pixel pushed over the edge came back on the other side (torch.roll wraps around); "
                            "fill the uncovered border with zeros instead")
    if sum(p is None for p in _dot_positions(corner)) < 100:
        raise Incorrect("a pixel in the corner should leave the image for most shifts up or left")


# --------------------------------------------------------------------------
# Exercise 4: experiment: an augmentation strength for shifted test images
# --------------------------------------------------------------------------

SHIFT_MARGIN = 0.05  # the gain the check requires; its own runs vary by about 2 points between seeds


def _shifted(X: torch.Tensor, max_shift: int, seed: int) -> torch.Tensor:
    """Each image moved by whole pixels, its own random amount up to ``max_shift`` per axis, zeros filled in."""
    g = torch.Generator().manual_seed(seed)
    n, _, h, w = X.shape
    padded = torch.nn.functional.pad(X, (max_shift,) * 4)
    offsets = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=g)
    return torch.stack([padded[i, :, r : r + h, c : c + w] for i, (r, c) in enumerate(offsets.tolist())])


@lru_cache(maxsize=32)
def shift_experiment(translate: float, seeds=(0, 1)) -> tuple[float, float]:
    """Mean accuracy on validation digits shifted by up to 2 pixels: (no augmentation, random_affine(translate))."""
    from helpers.augment import accuracy, on_images, random_affine, train_few_labels

    plain, augmented = [], []
    for seed in seeds:
        train, (X_val, y_val) = _digits_split(10, seed)
        X_shifted = _shifted(X_val, 2, seed=100 + seed)
        model, _ = train_few_labels(train, seed=seed, device="cpu")
        plain.append(accuracy(model, X_shifted, y_val))
        model, _ = train_few_labels(train, on_images(random_affine, translate=translate), seed=seed, device="cpu")
        augmented.append(accuracy(model, X_shifted, y_val))
    return float(np.mean(plain)), float(np.mean(augmented))


def _check_translate(my_translate) -> None:
    value = expect_number(my_translate, "a number (the largest shift as a fraction of the image width)")
    if value < 0:
        raise Incorrect("a shift fraction cannot be negative")
    if value == 0:
        raise Incorrect("translate = 0 is no augmentation at all, so it cannot beat no augmentation")
    if value >= 1:
        raise Incorrect("translate is a fraction of the image width: 1 or more can push a digit out of the image")
    plain, augmented = shift_experiment(value)
    if augmented < plain + SHIFT_MARGIN:
        raise Incorrect(
            f"the check's own run: {plain:.3f} without augmentation, {augmented:.3f} with translate = {value}, on "
            f"validation digits shifted by up to 2 of 8 pixels; it asks for {SHIFT_MARGIN:.0%} more. "
            "Too small a shift does not cover the test shifts, too large a one loses the digit"
        )


# --------------------------------------------------------------------------

q1 = Exercise(
    "Exercise 1 (diagnose a label-breaking pipeline)",
    kind="diagnose",
    answer_name="fixed_pipeline",
    checker=_check_fixed_pipeline,
    hints=[
        "Go through the four transforms and ask of each: after it, would a person still read the same digit?",
        "Turning a digit upside down or mirroring it changes its class; small rotations, shifts and noise do not. "
        "Build a new v2.Compose from the other three transforms, in the same order.",
    ],
    success="the remaining transforms keep every digit the digit it was.",
)

q2 = Exercise(
    "Exercise 2 (predict, then run: mirror-image TTA)",
    kind="predict",
    answer_name="flip_tta_prediction",
    checker=_check_flip_tta,
    hints=[
        "TTA averages the model's probabilities over the views. What does this model predict for a view "
        "unlike anything in its training set?",
        "The model never saw a mirrored digit, and a mirrored 3 or 7 is not a digit. Averaging with a "
        "confused prediction pulls the average towards the confusion.",
    ],
    success="and the run agrees: views the model never saw in training add confusion, not information.",
)

q3 = Exercise(
    "Exercise 3 (a per-image random shift)",
    kind="implement",
    answer_name="random_shift",
    checker=_check_random_shift,
    hints=[
        "Pad every image with max_shift rows and columns of zeros on each side; a shift is then a crop of the "
        "padded image at an offset from 0 to 2 * max_shift.",
        "Draw one pair of offsets per image with torch.randint, then crop each padded image at its own offset "
        "(a loop over the batch is fine here) and stack the crops.",
    ],
    success="each image moves by its own whole-pixel shift, and nothing wraps around.",
)

q4 = Exercise(
    "Exercise 4 (experiment: augment for shifted test images)",
    kind="experiment",
    answer_name="my_translate",
    checker=_check_translate,
    hints=[
        "The validation digits are shifted by up to 2 pixels of 8 in each direction. What fraction of the "
        "image width is that?",
        "Try a few values around that fraction with shift_experiment(translate) and keep the best; "
        "very small values do not cover the shifts, values near 1 push digits out of the image.",
    ],
    success="augmenting with the shifts the test data will show gives a large, reliable gain.",
)
