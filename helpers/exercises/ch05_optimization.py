"""Checks for the exercises of Chapter 5, "Optimization".

Each checker builds its own inputs, so it never depends on the notebook's state.
"""

from __future__ import annotations

import math

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


def _reference_adam(x0, grads, lr, beta1, beta2, eps):
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)
    path = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        path.append(p.detach().numpy().copy())
    return path


def _check_adam_step(adam_step) -> None:
    expect_callable(adam_step, "a function adam_step(x, m, s, grad, t, lr, beta1=0.9, beta2=0.999, eps=1e-8)")
    x0, *grads = _vectors(7, n=5)
    lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    expected = _reference_adam(x0, grads, lr, beta1, beta2, eps)
    x, m, s = x0.copy(), np.zeros_like(x0), np.zeros_like(x0)
    for t, (g, want) in enumerate(zip(grads, expected), start=1):
        result = call_answer(adam_step, x, m, s, g, t, lr, beta1, beta2, eps)
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            raise Incorrect(f"adam_step should return a triple (new_x, new_m, new_s), got {type(result).__name__}")
        x, m, s = (np.asarray(r, dtype=float) for r in result)
        if x.shape != x0.shape:
            raise Incorrect(f"new_x should have the shape of x, {x0.shape}; got {x.shape}")
        if t == 1:
            no_correction = x0 - lr * ((1 - beta1) * g) / (np.sqrt((1 - beta2) * g**2) + eps)
            if np.allclose(x, no_correction, rtol=1e-6):
                raise Incorrect("the first step is too small: m and s start at zero, so divide them by (1 - beta1**t) and (1 - beta2**t) (bias correction)")
        expect_close(x, want, rtol=1e-6, atol=1e-9, what=f"x after step {t}")
    # The defaults must be Adam's usual ones (two steps: the first one does not depend on the betas).
    x, m, s = x0.copy(), np.zeros_like(x0), np.zeros_like(x0)
    for t in (1, 2):
        x, m, s = (np.asarray(r, dtype=float) for r in call_answer(adam_step, x, m, s, grads[t - 1], t, lr))
    expect_close(x, expected[1], rtol=1e-6, atol=1e-9, what="x with the default beta1, beta2 and eps")


def _check_max_stable_lr(max_stable_lr) -> None:
    expect_callable(max_stable_lr, "a function max_stable_lr(curvatures)")
    cases = [[1.0, 20.0], [4.0], [0.5, 3.0, 8.0], [100.0, 1.0, 10.0]]
    for curvatures in cases:
        value = expect_number(call_answer(max_stable_lr, list(curvatures)), "the learning rate")
        if math.isclose(value, 1.0 / max(curvatures)):
            raise Incorrect("that rate is safe but not the limit: a step may overshoot the minimum, as long as it lands less far on the other side")
        if len(set(curvatures)) > 1 and math.isclose(value, 2.0 / min(curvatures)):
            raise Incorrect("at that rate the steepest direction diverges: which curvature limits the step?")
        expect_close(value, 2.0 / max(curvatures), what=f"max_stable_lr({curvatures})")
    # Confirm the meaning by simulation: just below converges, just above diverges.
    curvatures = np.array([1.0, 20.0])
    limit = expect_number(call_answer(max_stable_lr, [1.0, 20.0]))
    for factor, should_converge in ((0.98, True), (1.02, False)):
        theta = np.ones(2)
        for _ in range(2000):
            theta = theta - factor * limit * curvatures * theta
        if bool(np.abs(theta).max() < 1e-3) != should_converge:
            raise Incorrect("gradient descent does not behave as your limit predicts; check the formula")


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


q1 = Exercise(
    "Exercise 1 (momentum step)",
    answer_name="momentum_step",
    checker=_check_momentum_step,
    hints=[
        "Two lines: update the velocity, then move x against it.",
        "In torch.optim.SGD's convention the new velocity is the momentum times the old velocity plus the whole "
        "gradient (no 1 - momentum factor); x then moves against the new velocity, scaled by the learning rate.",
    ],
    success="your momentum step matches torch.optim.SGD(momentum=...).",
)

q2 = Exercise(
    "Exercise 2 (Adam step)",
    answer_name="adam_step",
    checker=_check_adam_step,
    hints=[
        "Update the two running averages first (m of the gradient, s of its square), then correct their bias, then step.",
        "m and s are moving averages with weights beta1 and beta2; dividing them by 1 - beta1^t and 1 - beta2^t "
        "corrects their bias; the step is lr times corrected m over (the square root of corrected s, plus eps). "
        "Return the uncorrected m and s.",
    ],
    success="your Adam steps match torch.optim.Adam's.",
)

q3 = Exercise(
    "Exercise 3 (largest stable learning rate)",
    answer_name="max_stable_lr",
    checker=_check_max_stable_lr,
    hints=[
        "Each coordinate evolves on its own: one step multiplies theta_i by (1 - lr * c_i). When does that shrink?",
        "|1 - lr * c| < 1 means 0 < lr < 2 / c, and it must hold for every curvature at once: the largest one decides.",
    ],
    success="the steepest direction sets the limit.",
)

q4 = Exercise(
    "Exercise 4 (warm-up then cosine)",
    answer_name="warmup_cosine_lr",
    checker=_check_warmup_cosine,
    hints=[
        "Two cases: `step < warmup_steps` (the linear rise) and the rest (the cosine).",
        "In the cosine part, count steps from the end of the warm-up, k = step - warmup_steps: the rate is "
        "peak_lr times half of (1 + the cosine of pi k / (total_steps - warmup_steps)).",
    ],
    success="your schedule rises linearly, peaks at peak_lr, and glides down along a cosine.",
)
