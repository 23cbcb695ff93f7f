"""Saving and loading training state: checkpoints that resume exactly, and model weights.

``helpers.train.fit(..., checkpoint=path)`` calls :func:`save_checkpoint` at
the end of every epoch and, with ``resume=True``, :func:`load_checkpoint`
before the first one. The same functions are public, as are
:func:`save_weights` / :func:`load_weights` for a model's weights alone (e.g.
a pretrained backbone for the transfer-learning chapter).

Three promises, and how they are kept:

- **A crash never leaves a broken file.** The file is written to a temporary
  file in the same folder, flushed to disk (``fsync``) and only then renamed
  over the old one (``os.replace``, atomic on POSIX and Windows): a reader
  sees the old checkpoint or the new one, never half of one.
- **Files load with** ``torch.load(path, weights_only=True)``, which refuses
  to run code hidden in a file: everything stored is a tensor, a number, a
  string, or a list/dict/tuple of those (no pickled Python objects).
- **A wrong file is a clear** ``ValueError``: a truncated or garbage file, a
  checkpoint of another architecture (the mismatched parameter names and
  shapes are listed), or of another optimizer.
"""

from __future__ import annotations

import os
import random
import tempfile
from typing import Mapping

import numpy as np
import torch
from torch import nn

# Marks a file written by save_checkpoint, and the layout of what it holds.
FORMAT = "helpers.checkpoint/1"
MAX_LISTED = 5  # mismatched names listed in an error message, at most


# --------------------------------------------------------------------------
# Files: atomic writes, safe reads
# --------------------------------------------------------------------------


def _check_path(path) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a string or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    if path == "" or os.path.isdir(path):
        raise ValueError(f"path must name a file, got {path!r}")
    return path


def _atomic_save(obj, path: str) -> None:
    """``torch.save(obj, path)`` such that ``path`` is never left half-written."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with _suppress_os_error():
            os.unlink(temporary)
        raise
    with _suppress_os_error():  # make the rename itself durable (POSIX; not possible on Windows)
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


class _suppress_os_error:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        return kind is not None and issubclass(kind, OSError)


def _safe_load(path: str):
    """``torch.load(path, weights_only=True)`` onto the CPU, with a clear error for a bad file."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises RuntimeError, EOFError, UnpicklingError, ... for bad files
        raise ValueError(
            f"{path!r} could not be read as a torch file saved by save_checkpoint/save_weights "
            f"(truncated, corrupt, not a torch file, or holding objects that weights_only loading refuses): "
            f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        ) from error


def _to_cpu(value):
    """A copy of ``value`` with every tensor detached, cloned and on the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, Mapping):
        return {key: _to_cpu(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cpu(item) for item in value)
    return value


# --------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------


def save_checkpoint(path, **state) -> None:
    """Write ``state`` (tensors, numbers, strings, lists and dicts of them) to ``path``, atomically.

    Tensors are copied to the CPU first. The file loads with
    ``torch.load(path, weights_only=True)`` and with :func:`load_checkpoint`.
    """
    path = _check_path(path)
    if "format" in state:
        raise ValueError("'format' is reserved: save_checkpoint writes it itself")
    for key, value in state.items():
        _check_plain(value, key)
    _atomic_save({"format": FORMAT, **_to_cpu(state)}, path)


PLAIN_TYPES = (torch.Tensor, int, float, bool, str, bytes, type(None))


def _check_plain(value, where: str) -> None:
    """Refuse, at save time, what ``torch.load(weights_only=True)`` would refuse at load time."""
    if isinstance(value, PLAIN_TYPES):
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, (str, int)):
                raise TypeError(f"{where} has a key of type {type(key).__name__}; use strings or integers")
            _check_plain(item, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
    else:
        raise TypeError(
            f"{where} is a {type(value).__name__}: a checkpoint holds only tensors, numbers, strings, None "
            "and lists/tuples/dicts of those, so that it loads with weights_only=True"
        )


def load_checkpoint(path) -> dict:
    """The dict saved by :func:`save_checkpoint` at ``path`` (tensors on the CPU), without ``format``.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a
    file that is truncated, corrupt, or was not written by ``save_checkpoint``.
    """
    path = _check_path(path)
    state = _safe_load(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = f"a dict with keys {sorted(map(str, state))[:MAX_LISTED]}" if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"{path!r} is not a checkpoint written by save_checkpoint (found {found})")
    return {key: value for key, value in state.items() if key != "format"}


# --------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def weight_mismatches(model: nn.Module, weights: Mapping[str, torch.Tensor]) -> tuple[list[str], list[str], list[str]]:
    """``(missing, unexpected, wrong_shape)``: how ``weights`` differ from ``model.state_dict()``.

    ``wrong_shape`` entries read ``"name: checkpoint (3, 4) vs model (3, 5)"``.
    """
    expected = model.state_dict()
    missing = [name for name in expected if name not in weights]
    unexpected = [name for name in weights if name not in expected]
    wrong_shape = [
        f"{name}: file {tuple(weights[name].shape)} vs model {tuple(expected[name].shape)}"
        for name in expected
        if name in weights and isinstance(weights[name], torch.Tensor) and weights[name].shape != expected[name].shape
    ]
    return missing, unexpected, wrong_shape


def check_weights_match(model: nn.Module, weights, *, strict: bool = True, source: str = "the file") -> None:
    """Raise a ``ValueError`` listing the mismatches unless ``weights`` fit ``model``.

    Shapes must always agree; with ``strict=False`` names may be missing or
    unexpected (loading a backbone into a model with a new head).
    """
    if not isinstance(weights, Mapping) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        raise ValueError(f"{source} does not hold a model's weights (a dict of tensors by parameter name)")
    missing, unexpected, wrong_shape = weight_mismatches(model, weights)
    problems = []
    if wrong_shape:
        problems.append(f"shapes differ for {_listed(wrong_shape)}")
    if strict and missing:
        problems.append(f"the model has {len(missing)} tensors {source} lacks ({_listed(missing)})")
    if strict and unexpected:
        problems.append(f"{source} has {len(unexpected)} tensors the model lacks ({_listed(unexpected)})")
    if problems:
        raise ValueError(
            f"{source} was saved from a different architecture than this {type(model).__name__}: "
            + "; ".join(problems)
        )


def save_weights(model: nn.Module, path) -> None:
    """Write ``model.state_dict()`` to ``path`` atomically (a plain dict of CPU tensors).

    The file loads with ``model.load_state_dict(torch.load(path, weights_only=True))``
    or with :func:`load_weights`.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _atomic_save(_to_cpu(model.state_dict()), _check_path(path))


def load_weights(model: nn.Module, path, strict: bool = True):
    """Load the weights at ``path`` into ``model`` (in place); return the missing and unexpected names.

    ``path`` holds weights saved by :func:`save_weights` (or ``torch.save``
    of a ``state_dict``), or a checkpoint of ``fit``, whose current weights
    are used. With ``strict=False`` tensors the model lacks are ignored and
    tensors the file lacks keep their values (e.g. a new head on a pretrained
    backbone); shapes must match either way. Returns torch's
    ``(missing_keys, unexpected_keys)`` named tuple.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be True or False, got {strict!r}")
    path = _check_path(path)
    weights = _safe_load(path)
    if isinstance(weights, dict) and weights.get("format") == FORMAT:
        if "model" not in weights:
            raise ValueError(f"{path!r} is a checkpoint without model weights")
        weights = weights["model"]
    check_weights_match(model, weights, strict=strict, source=repr(path))
    return model.load_state_dict(weights, strict=strict)


# --------------------------------------------------------------------------
# Random number generators, as plain tensors and lists (for weights_only files)
# --------------------------------------------------------------------------


def rng_state(cuda: bool) -> dict:
    """The state of every random number generator a training run draws from."""
    kind, keys, position, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "position": int(position),
                  "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
    }
    if cuda:
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping) -> None:
    """Restore the generators saved by :func:`rng_state`."""
    torch.set_rng_state(state["torch"])
    numpy = state["numpy"]
    np.random.set_state((numpy["kind"], numpy["keys"].numpy().astype(np.uint32), numpy["position"],
                         numpy["has_gauss"], numpy["gauss"]))
    python = state["python"]
    random.setstate((python["version"], tuple(python["internal"]), python["gauss_next"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
