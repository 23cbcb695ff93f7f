"""Checks for the exercises of Chapter 12, "What training costs, and training on more than one process".

Each checker builds its own inputs, so it never depends on the notebook's state.
"""

from __future__ import annotations

import math

import torch

from helpers.exercises import Exercise, Incorrect, call_answer, expect_callable, expect_number

# --------------------------------------------------------------------------
# q1: predict the speed-up of two processes for a tiny model (start-up included)
# --------------------------------------------------------------------------


def _check_predicted_speedup(predicted_speedup) -> None:
    value = expect_number(predicted_speedup, "a speed-up (a number, e.g. 1.5)")
    if value <= 0:
        raise Incorrect("a speed-up is a ratio of two times, so it is positive")
    if value >= 1:
        raise Incorrect(
            "you predicted that two processes are at least as fast as one. Compare two durations: "
            "starting a torchrun job (new Python processes, importing torch, meeting at the rendezvous) "
            "and training a 64-wide MLP for 3 epochs on about a thousand images in one process"
        )


q1 = Exercise(
    "Exercise 1 (predict: two processes for a tiny model)",
    kind="predict",
    answer_name="predicted_speedup",
    checker=_check_predicted_speedup,
    hints=[
        "The whole job counts: before the first step, each process has to start and import torch.",
        "Section 1 measured how long a whole training run of this size takes; compare it with the "
        "time it takes to start Python and import torch (a second or more per process).",
    ],
    success="below 1. Now run the next cell to see by how much: start-up dwarfs the training of a tiny model.",
)

# --------------------------------------------------------------------------
# q2: diagnose a DDP run whose data was not sharded
# --------------------------------------------------------------------------

_WRONG_DIAGNOSES = {
    "a": "an unscaled learning rate changes how far each step goes, but it would not make both ranks "
         "print identical losses, nor double the steps per epoch",
    "c": "summing instead of averaging acts like a doubled learning rate; it would not make the two ranks "
         "see identical losses step after step, nor double the number of steps",
    "d": "DDP copies rank 0's weights to every process when the model is wrapped, so the starting weights "
         "agree; and different weights would give different losses, not identical ones",
}


def _check_diagnosis(diagnosis) -> None:
    if not isinstance(diagnosis, str):
        raise Incorrect(f"answer with one letter as a string, e.g. 'a'; got a {type(diagnosis).__name__}")
    letter = diagnosis.strip().lower().strip("()*.")
    if letter in _WRONG_DIAGNOSES:
        raise Incorrect(_WRONG_DIAGNOSES[letter])
    if letter != "b":
        raise Incorrect(f"answer with one of the letters a, b, c, d; got {diagnosis!r}")


q2 = Exercise(
    "Exercise 2 (diagnose: a DDP run that learns no faster)",
    kind="diagnose",
    answer_name="diagnosis",
    checker=_check_diagnosis,
    hints=[
        "Two ranks printed the same losses at every step. When do two processes with the same weights "
        "compute the same loss?",
        "Look at the steps per epoch too: a correct run with 2 processes takes half the steps of one "
        "process with the same per-process batch. Which sampler decides what each process sees?",
    ],
    success="without a DistributedSampler every process walks through all the data in the same order: "
            "twice the work, and the result of a single process with the small batch.",
)

# --------------------------------------------------------------------------
# q3: the batch size with the best training throughput
# --------------------------------------------------------------------------

_BATCHES = [8, 16, 32, 64, 128, 256, 512, 1024]


def _throughputs(batch_sizes) -> dict:
    """Examples per second of a width-256 MLP on the digits, one thread, measured here."""
    from helpers import scaling
    from helpers.data import load
    from helpers.models import mlp

    digits = load("digits").standardized()
    X, y = digits.tensors("train")
    result = {}
    with scaling.threads(1):
        for b in batch_sizes:
            torch.manual_seed(0)
            result[b] = b / scaling.seconds_per_step(mlp(64, [256], 10), X, y, batch_size=b, steps=6)
    return result


def _check_best_throughput(best_throughput) -> None:
    if not isinstance(best_throughput, dict) or set(best_throughput) != {"batch_size", "examples_per_second"}:
        raise Incorrect('expected a dict {"batch_size": b, "examples_per_second": v}')
    b = best_throughput["batch_size"]
    if isinstance(b, bool) or not isinstance(b, int) or b not in _BATCHES:
        raise Incorrect(f"batch_size should be one of the measured sizes {_BATCHES}, got {b!r}")
    v = expect_number(best_throughput["examples_per_second"], "examples per second")
    if v < 50:
        raise Incorrect(f"{v:.3g} examples per second is far too slow: did you report seconds per step "
                        "instead of batch size / seconds per step?")
    candidates = sorted({b, 64, 256, 1024})
    measured = _throughputs(candidates)
    if not measured[b] / 3 <= v <= measured[b] * 3:
        raise Incorrect(f"re-measured at batch {b}: about {measured[b]:.3g} examples per second, and you "
                        f"report {v:.3g}; compute batch size / seconds per step")
    best = max(measured.values())
    if measured[b] < 0.5 * best:  # timings vary by tens of percent on a busy machine: a loose margin
        faster = max(measured, key=measured.get)
        raise Incorrect(f"re-measured, batch {faster} gives {best / measured[b]:.1f} times the throughput "
                        f"of batch {b}; measure each batch size with a few steps and take the largest")


q3 = Exercise(
    "Exercise 3 (experiment: the batch size with the most examples per second)",
    kind="experiment",
    answer_name="best_throughput",
    checker=_check_best_throughput,
    hints=[
        "Throughput is examples per second: a step processes batch_size examples in seconds_per_step.",
        "Loop over the batch sizes, make a fresh model each time, call scaling.seconds_per_step with that "
        "batch size, store batch_size / seconds in a dict, and take the key of the largest value.",
    ],
    success="on a CPU, throughput rises with the batch until the matrix products keep the core busy, "
            "then flattens; an epoch gets faster, but larger batches need their own learning rate.",
)

# --------------------------------------------------------------------------
# q4: the exact FLOPs of an MLP's forward and backward pass
# --------------------------------------------------------------------------


def _counted(sizes, batch_size) -> int:
    from helpers import scaling
    from helpers.models import mlp

    torch.manual_seed(0)
    model = mlp(sizes[0], list(sizes[1:-1]), sizes[-1])
    X = torch.randn(batch_size, sizes[0])
    y = torch.randint(sizes[-1], (batch_size,))
    return scaling.counted_flops(model, X, y)


def _weights(sizes) -> int:
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def _check_mlp_training_flops(mlp_training_flops) -> None:
    expect_callable(mlp_training_flops, "a function mlp_training_flops(sizes, batch_size)")
    for sizes, batch_size in (([64, 128, 10], 32), ([10, 7, 5, 3], 5), ([20, 4], 3), ([8, 16, 16, 16, 2], 11)):
        value = expect_number(call_answer(mlp_training_flops, list(sizes), batch_size), "a number of FLOPs")
        exact = _counted(sizes, batch_size)
        if math.isclose(value, exact, rel_tol=1e-9):
            continue
        weights, n_params = _weights(sizes), _weights(sizes) + sum(sizes[1:])
        where = f"for sizes={sizes}, batch_size={batch_size}"
        if math.isclose(value, 2 * weights * batch_size):
            raise Incorrect(f"{where} you counted the forward pass only; the backward pass has matrix products too")
        if math.isclose(value, 6 * weights * batch_size):
            raise Incorrect(f"{where} you counted an input gradient for every layer, but autograd does not "
                            "compute the gradient with respect to the network's input")
        if math.isclose(value, 6 * n_params * batch_size):
            raise Incorrect(f"{where} you used 6 x parameters x batch: biases are not matrix products, and the "
                            "first layer needs no input gradient")
        if math.isclose(value, 4 * weights * batch_size):
            raise Incorrect(f"{where} you left out the gradients with respect to the inputs of the later layers")
        if math.isclose(value, exact / 2) or math.isclose(value, exact / batch_size):
            raise Incorrect(f"{where} the count is off by a factor: a multiply-add is 2 FLOPs, for every example")
        raise Incorrect(f"{where} your count differs from FlopCounterMode's by a factor of {value / exact:.3g}")


q4 = Exercise(
    "Exercise 4 (implement: the exact FLOPs of an MLP's training step)",
    kind="implement",
    answer_name="mlp_training_flops",
    checker=_check_mlp_training_flops,
    hints=[
        "A linear layer on a batch of B examples does 2 * B * n_in * n_out FLOPs forward. The backward pass "
        "needs the same product once for the weight gradient and once for the input gradient.",
        "Sum over consecutive pairs of sizes; every layer counts its forward product and its weight-gradient "
        "product, and every layer except the first also its input-gradient product.",
    ],
    success="so 6ND is an upper bound for an MLP; for deep networks the first layer's saving vanishes.",
)
