"""Where tensors live, and how to make a run repeatable.

``choose_device()`` prefers CUDA, then Apple's MPS, then the CPU. You can
force a choice with an argument (``choose_device("cpu")``) or for a whole
session with the environment variable ``HELPERS_DEVICE=cpu``.

``seed_everything(seed)`` seeds Python's, NumPy's and PyTorch's random
number generators (CUDA included) in one call, so the same notebook gives the
same numbers every time it runs on the same machine.

``helpers.train.fit`` asks three questions of this module, one per speed-up
that only pays off on a GPU:

- ``mixed_precision_dtype``: compute in bfloat16 or float16?
- ``keep_on_device``: does the data set fit in the device's memory, or does
  it stay in the computer's memory and travel there one batch at a time?
- ``use_channels_last``: store image batches pixel by pixel, all channels
  together (what the GPU's convolution kernels prefer)?

On the CPU every answer is "no": there these tricks are slower.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from helpers.checks import check_positive_int

DEVICE_ENV_VAR = "HELPERS_DEVICE"
KNOWN_DEVICES = ("cuda", "mps", "cpu")


def _available(kind: str) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    return True  # the CPU is always there


def choose_device(name: str | torch.device | None = None) -> torch.device:
    """Return the device to train on.

    ``name`` may be ``"cuda"``, ``"cuda:1"``, ``"mps"``, ``"cpu"``, a
    ``torch.device`` or ``None``. With ``None`` the environment variable
    ``HELPERS_DEVICE`` is used if set, else the best available device.
    Asking for a device that this machine lacks raises ``ValueError``.
    """
    if isinstance(name, torch.device):
        name = str(name)
    if name is None:
        name = os.environ.get(DEVICE_ENV_VAR) or None
    if name is None:
        for kind in KNOWN_DEVICES:
            if _available(kind):
                return torch.device(kind)
    if not isinstance(name, str):
        raise TypeError(f"device must be a string such as 'cpu' or a torch.device, got {type(name).__name__}")
    kind = name.split(":")[0].strip().lower()
    if kind not in KNOWN_DEVICES:
        raise ValueError(f"unknown device {name!r}: expected one of {', '.join(KNOWN_DEVICES)} (e.g. 'cuda:0')")
    if not _available(kind):
        raise ValueError(f"device {name!r} was asked for but is not available on this machine; use 'cpu'")
    return torch.device(name.strip().lower())


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (all CUDA devices too) with ``seed``."""
    check_positive_int(seed, "seed", minimum=0)
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))  # also seeds every CUDA device


def describe(device: torch.device) -> str:
    """One line naming the device, e.g. ``'cpu (2 threads), torch 2.13.0'``."""
    if device.type == "cuda":
        what = torch.cuda.get_device_name(device)
    elif device.type == "mps":
        what = "Apple GPU"
    else:
        what = f"{torch.get_num_threads()} threads"
    return f"{device.type} ({what}), torch {torch.__version__.split('+')[0]}"


def mixed_precision_dtype(device: torch.device) -> torch.dtype | None:
    """The autocast dtype worth using on ``device``, or ``None`` for full float32.

    On CUDA, bfloat16 where the GPU supports it (no loss scaling needed),
    float16 otherwise. On the CPU and MPS autocast is slower than float32 for
    the small models of this course, so we do not use it.
    """
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


# Leave at least half of the free GPU memory for the model, its gradients and activations.
DATA_SHARE_OF_FREE_MEMORY = 0.5


def keep_on_device(nbytes: int, device: torch.device, free_bytes: int | None = None) -> bool:
    """Whether a data set of ``nbytes`` should be copied to ``device`` once, up front.

    Always on the CPU and MPS (the data is already in that memory). On CUDA,
    when it takes at most half of the free GPU memory (``free_bytes``, asked
    of the GPU when not given). Otherwise ``fit`` keeps it in page-locked
    ("pinned") CPU memory and copies each batch with ``non_blocking=True``,
    so the copy of one batch overlaps the computation on the previous one.
    """
    check_positive_int(nbytes, "nbytes", minimum=0)
    if device.type != "cuda":
        return True
    if free_bytes is None:
        free_bytes, _total = torch.cuda.mem_get_info(device)
    return nbytes <= DATA_SHARE_OF_FREE_MEMORY * free_bytes


def use_channels_last(model: torch.nn.Module, device: torch.device) -> bool:
    """Whether to store ``model``'s image tensors channels-last (NHWC).

    Only for 2-D convolutions on CUDA, whose fast kernels (tensor cores)
    expect that layout; on the CPU it brings nothing for models this size.
    """
    return device.type == "cuda" and any(isinstance(m, torch.nn.Conv2d) for m in model.modules())


def setup(seed: int = 0, device: str | torch.device | None = None, *, verbose: bool = True) -> torch.device:
    """Seed everything, choose the device and print the choice in one line."""
    seed_everything(seed)
    chosen = choose_device(device)
    if verbose:
        print(f"device: {describe(chosen)} | seed: {seed}")
    return chosen
