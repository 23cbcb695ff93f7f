"""Checks for the exercises of Chapter 5, "Optimization".

- q1 ``momentum_limit_guess`` (predict, then run): is momentum's largest stable rate smaller, the same or larger than 2/b?
- q2 ``momentum_step`` (implement): one heavy-ball step in torch.optim.SGD's convention;
- q3 ``diagnosis`` (diagnose): what is wrong with a learning-rate sweep;
- q4 ``warmup_cosine_lr`` (implement): the warm-up then cosine schedule.

Each checker builds its own inputs, so it never depends on the notebook's state.
"""

from __future__ import annotations

import numpy as np
import torch

from helpers.exercises import Exercise, Incorrect, call_answer, expect_callable, expect_close, expect_number


def _vectors(seed: int, n: int = 3, size: int = 4):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=size) for _ in range(n)]


def _as_pair(result, what: str):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise Incorrect(f"{what} should return a pair (new_x, new_velocity), got {type(result).__name__}")
    return result


def _check_momentum_step(momentum_step) -> None:
    expect_callable(momentum_step, "a function momentum_step(x, velocity, grad, lr, momentum)")
    x0, g1, g2 = _vectors(5)
    lr, mu = 0.1, 0.8
    # Our reference: torch.optim.SGD with momentum, fed the same gradients.
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=mu)
    expected = []
    for g in (g1, g2):
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        expected.append(p.detach().numpy().copy())
    x, v = x0.copy(), np.zeros_like(x0)
    for step, (g, want) in enumerate(zip((g1, g2), expected), start=1):
        x, v = _as_pair(call_answer(momentum_step, x, v, g, lr, mu), "momentum_step")
        x, v = np.asarray(x, dtype=float), np.asarray(v, dtype=float)
        if x.shape != x0.shape or v.shape != x0.shape:
            raise Incorrect(f"new_x and new_velocity should have the shape of x, {x0.shape}; got {x.shape} and {v.shape}")
        if step == 1 and np.allclose(v, (1 - mu) * g1):
            raise Incorrect("your velocity is an average, mu * v + (1 - mu) * g; torch.optim.SGD adds the whole gradient: mu * v + g")
        if step == 2:
            if np.allclose(x, x0 - lr * g1 - lr * g2):
                raise Incorrect("the second step ignores the velocity: multiply the old velocity by the momentum before adding the gradient")
        expect_close(x, want, rtol=1e-7, atol=1e-9, what=f"x after step {step}")


# --------------------------------------------------------------------------
# Predict, then run: where does momentum diverge?
# --------------------------------------------------------------------------

LIMIT_CHOICES = ("smaller", "same", "larger")


def _check_momentum_limit(guess) -> None:
    if not isinstance(guess, str) or guess.strip().lower() not in LIMIT_CHOICES:
        raise Incorrect(f"set momentum_limit_guess to one of {', '.join(repr(c) for c in LIMIT_CHOICES)}")
    guess = guess.strip().lower()
    if guess == "smaller":
        raise Incorrect("momentum does overshoot more, but the velocity also averages the flip-flopping gradient "
                        "across the valley; run the next cell and see where it blows up")
    if guess == "same":
        raise Incorrect("the limit 2/b comes from one step's factor 1 - lr*b; with momentum each step also carries "
                        "mu times the last one, which changes the factor; run the next cell")


# --------------------------------------------------------------------------
# Diagnose: a learning-rate sweep
# --------------------------------------------------------------------------

DIAGNOSES = ("A", "B", "C", "D")


def _check_sweep_diagnosis(diagnosis) -> None:
    if not isinstance(diagnosis, str) or diagnosis.strip().upper() not in DIAGNOSES:
        raise Incorrect("set diagnosis to one letter: 'A', 'B', 'C' or 'D'")
    letter = diagnosis.strip().upper()
    if letter == "A":
        raise Incorrect("Adam's loss falls at every step of the sweep: nothing says it suits this surface badly; "
                        "look at where in the grid the best rate sits")
    if letter == "C":
        raise Incorrect("longer runs might help, but the sweep itself says more: the loss is still falling as the rate "
                        "grows, at the last rate tried")
    if letter == "D":
        raise Incorrect("there is no held-out data on a fixed surface, and nothing was chosen on a test set; "
                        "look at where in the grid the best rate sits")


def _warmup_cosine_by_torch(total_steps, warmup_steps, peak_lr) -> list[float]:
    """The rate at every step, from torch's own schedulers: LinearLR for the rise, then CosineAnnealingLR."""
    from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR

    def rates(make_scheduler, steps):
        optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=peak_lr)
        scheduler, out = make_scheduler(optimizer), []
        for _ in range(steps):
            out.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
        return out

    rise = rates(lambda o: LinearLR(o, 1 / warmup_steps, 1.0, total_iters=max(warmup_steps - 1, 1)), warmup_steps)
    fall = rates(lambda o: CosineAnnealingLR(o, T_max=total_steps - warmup_steps), total_steps - warmup_steps)
    return rise + fall


def _check_warmup_cosine(warmup_cosine_lr) -> None:
    expect_callable(warmup_cosine_lr, "a function warmup_cosine_lr(step, total_steps, warmup_steps, peak_lr)")
    total, warm, peak = 100, 10, 0.3
    values = [expect_number(call_answer(warmup_cosine_lr, step, total, warm, peak), f"the rate at step {step}") for step in range(total)]
    if values[0] == 0:
        raise Incorrect("the first step has a learning rate of 0, so it is wasted: the warm-up uses (step + 1) / warmup_steps")
    if max(values) > peak * (1 + 1e-9):
        raise Incorrect("the rate goes above peak_lr; it should peak exactly at peak_lr")
    expected = _warmup_cosine_by_torch(total, warm, peak)
    expect_close(values[:warm], expected[:warm], what="the warm-up part")
    if not all(a >= b - 1e-12 for a, b in zip(values[warm:], values[warm + 1 :])):
        raise Incorrect("after the warm-up the rate should only go down")
    expect_close(values, expected, what="the cosine part")
    expect_close(call_answer(warmup_cosine_lr, 3, 40, 5, 1.0), _warmup_cosine_by_torch(40, 5, 1.0)[3], what="warmup_cosine_lr(3, 40, 5, 1.0)")


q2 = Exercise(
    "Exercise 2 (momentum step)",
    kind="implement",
    answer_name="momentum_step",
    checker=_check_momentum_step,
    hints=[
        "Two lines: update the velocity, then move x against it.",
        "In torch.optim.SGD's convention the new velocity is the momentum times the old velocity plus the whole "
        "gradient (no 1 - momentum factor); x then moves against the new velocity, scaled by the learning rate.",
    ],
    success="your momentum step matches torch.optim.SGD(momentum=...).",
)

q4 = Exercise(
    "Exercise 4 (warm-up then cosine)",
    kind="implement",
    answer_name="warmup_cosine_lr",
    checker=_check_warmup_cosine,
    hints=[
        "Two cases: `step < warmup_steps` (the linear rise) and the rest (the cosine).",
        "In the cosine part, count steps from the end of the warm-up, k = step - warmup_steps: the rate is "
        "peak_lr times half of (1 + the cosine of pi k / (total_steps - warmup_steps)).",
    ],
    success="your schedule rises linearly, peaks at peak_lr, and glides down along a cosine.",
)

q1 = Exercise(
    "Exercise 1 (momentum's largest stable learning rate)",
    kind="predict",
    answer_name="momentum_limit_guess",
    checker=_check_momentum_limit,
    hints=[
        "Momentum adds to each step a fraction mu of the previous one. Along the steep direction the gradient flips "
        "sign every step: what does adding the previous step do to a flip-flopping direction?",
        "Write the steep coordinate's update as a two-term recurrence in theta_t and theta_(t-1), and ask when both "
        "roots of its characteristic polynomial stay inside the unit circle.",
    ],
    success="with momentum mu the limit grows to 2 (1 + mu) / b; the next cell measures it.",
)

q3 = Exercise(
    "Exercise 3 (diagnose a learning-rate sweep)",
    kind="diagnose",
    answer_name="diagnosis",
    checker=_check_sweep_diagnosis,
    hints=[
        "Where, in the sweep, is the lowest loss?",
        "A best value at the end of a grid says only that the optimum lies there or beyond; the standard of this "
        "course asks for an optimum inside the grid.",
    ],
    success="the best rate is the largest one tried, so the grid must grow upwards until the loss rises again.",
)
