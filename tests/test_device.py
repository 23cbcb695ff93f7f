"""Unit tests of helpers.device: device choice, seeding, and the GPU-only decisions, tested on a CPU."""

import random

import numpy as np
import pytest
import torch
from torch import nn

from helpers import device as dev
from helpers.device import (
    choose_device,
    describe,
    keep_on_device,
    mixed_precision_dtype,
    seed_everything,
    setup,
    use_channels_last,
)
from helpers.models import CNN1D, mlp

CUDA = torch.device("cuda")
CPU = torch.device("cpu")
MPS = torch.device("mps")


@pytest.fixture
def no_accelerator(monkeypatch):
    monkeypatch.delenv("HELPERS_DEVICE", raising=False)
    monkeypatch.setattr(dev, "_available", lambda kind: kind == "cpu")


@pytest.fixture
def fake_cuda(monkeypatch):
    """Pretend a CUDA GPU is present (only the decision functions look)."""
    monkeypatch.delenv("HELPERS_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)


# --------------------------------------------------------------------------
# choose_device
# --------------------------------------------------------------------------


def test_cpu_when_there_is_no_accelerator(no_accelerator):
    assert choose_device() == CPU


def test_cuda_is_preferred_when_present(fake_cuda):
    assert choose_device() == CUDA
    assert choose_device("cuda:1") == torch.device("cuda:1")


def test_mps_comes_after_cuda(monkeypatch):
    monkeypatch.delenv("HELPERS_DEVICE", raising=False)
    monkeypatch.setattr(dev, "_available", lambda kind: kind in ("mps", "cpu"))
    assert choose_device() == MPS


def test_environment_variable_and_explicit_choice(no_accelerator, monkeypatch):
    monkeypatch.setenv("HELPERS_DEVICE", "cpu")
    assert choose_device() == CPU
    assert choose_device(" CPU ") == CPU
    assert choose_device(torch.device("cpu")) == CPU


def test_asking_for_a_missing_or_unknown_device_is_a_clear_error(no_accelerator):
    with pytest.raises(ValueError, match="not available on this machine"):
        choose_device("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        choose_device("tpu")
    with pytest.raises(TypeError, match="device must be a string"):
        choose_device(0)


# --------------------------------------------------------------------------
# Precision: bfloat16 where the GPU has it, float16 (with a scaler) otherwise, none on CPU/MPS
# --------------------------------------------------------------------------


def test_no_mixed_precision_on_cpu_and_mps():
    assert mixed_precision_dtype(CPU) is None
    assert mixed_precision_dtype(MPS) is None


@pytest.mark.parametrize("bf16, expected", [(True, torch.bfloat16), (False, torch.float16)])
def test_cuda_precision_follows_bfloat16_support(monkeypatch, bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: bf16)
    assert mixed_precision_dtype(CUDA) == expected


# --------------------------------------------------------------------------
# Placement: on the device if it fits, else pinned CPU memory and one batch at a time
# --------------------------------------------------------------------------


def test_data_always_stays_where_it_is_on_cpu_and_mps():
    assert keep_on_device(10**15, CPU)
    assert keep_on_device(10**15, MPS, free_bytes=0)


def test_cuda_keeps_data_that_takes_at_most_half_the_free_memory():
    gib = 2**30
    assert keep_on_device(4 * gib, CUDA, free_bytes=8 * gib)
    assert not keep_on_device(4 * gib + 1, CUDA, free_bytes=8 * gib)
    assert keep_on_device(0, CUDA, free_bytes=0)


def test_cuda_asks_the_gpu_for_its_free_memory(monkeypatch):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (1000, 4000))
    assert keep_on_device(500, CUDA)
    assert not keep_on_device(501, CUDA)


@pytest.mark.parametrize("nbytes, error", [(-1, ValueError), (1.5, TypeError), (True, TypeError), ("10", TypeError)])
def test_keep_on_device_rejects_bad_sizes(nbytes, error):
    with pytest.raises(error, match="nbytes"):
        keep_on_device(nbytes, CPU)


# --------------------------------------------------------------------------
# Memory layout: channels_last for 2-D convolutions on CUDA only
# --------------------------------------------------------------------------


def test_channels_last_only_for_conv2d_models_on_cuda():
    conv2d = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten())
    assert use_channels_last(conv2d, CUDA)
    assert not use_channels_last(conv2d, CPU)
    assert not use_channels_last(conv2d, MPS)
    assert not use_channels_last(mlp(4, [8], 2), CUDA)
    assert not use_channels_last(CNN1D(), CUDA)  # 1-D signals have no channels-last layout


# --------------------------------------------------------------------------
# Seeding and reporting
# --------------------------------------------------------------------------


def test_seed_everything_makes_every_generator_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    seed_everything(3)
    first = draw()
    seed_everything(3)
    assert draw() == first
    seed_everything(4)
    assert draw() != first


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (1.5, TypeError), ("0", TypeError), (True, TypeError)])
def test_seed_everything_rejects_bad_seeds(seed, error):
    with pytest.raises(error, match="seed"):
        seed_everything(seed)


def test_describe_and_setup(no_accelerator, capsys):
    assert describe(CPU).startswith("cpu (") and "torch" in describe(CPU)
    assert setup(0) == CPU
    assert "device: cpu" in capsys.readouterr().out
    assert setup(0, verbose=False) == CPU and capsys.readouterr().out == ""
