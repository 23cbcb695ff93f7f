"""Chapter 5's checks accept the notebook's solutions and reject plausible wrong answers."""

import math

import numpy as np

from helpers.exercises import ch05_optimization as ex
from notebook_support import chapter_solutions


SOLUTIONS = chapter_solutions("05_optimization")  # the notebook's own solution cells
right_adam = SOLUTIONS["adam_step"]
right_schedule = SOLUTIONS["warmup_cosine_lr"]


def test_checks_accept_right_answers():
    for q in (ex.q1, ex.q2, ex.q3, ex.q4):
        assert q.evaluate(SOLUTIONS[q.answer_name]).correct, q.name
    assert ex.q3.evaluate(lambda c: 2 / max(c)).correct  # the rule written another way


def test_momentum_check_rejects_averaged_velocity_and_missing_momentum():
    def averaged(x, v, g, lr, mu):
        v = mu * v + (1 - mu) * g
        return x - lr * v, v

    def forgets_velocity(x, v, g, lr, mu):
        return x - lr * g, g

    result = ex.q1.evaluate(averaged)
    assert result.status == "incorrect" and "whole gradient" in result.message
    assert "velocity" in ex.q1.evaluate(forgets_velocity).message
    assert ex.q1.evaluate(lambda x, v, g, lr, mu: x).status == "incorrect"  # not a pair


def test_adam_check_rejects_missing_bias_correction_and_wrong_defaults():
    def no_correction(x, m, s, grad, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        m = beta1 * m + (1 - beta1) * grad
        s = beta2 * s + (1 - beta2) * grad**2
        return x - lr * m / (np.sqrt(s) + eps), m, s

    def wrong_default(x, m, s, grad, t, lr, beta1=0.5, beta2=0.999, eps=1e-8):
        return right_adam(x, m, s, grad, t, lr, beta1, beta2, eps)

    result = ex.q2.evaluate(no_correction)
    assert result.status == "incorrect" and "bias correction" in result.message
    assert ex.q2.evaluate(wrong_default).status == "incorrect"
    assert ex.q2.evaluate(lambda *a, **k: (1, 2)).status == "incorrect"


def test_stable_lr_check_rejects_common_mistakes():
    assert "overshoot" in ex.q3.evaluate(lambda c: 1 / max(c)).message
    assert "steepest" in ex.q3.evaluate(lambda c: 2 / min(c)).message
    assert ex.q3.evaluate(lambda c: 2 / (sum(c) / len(c))).status == "incorrect"
    assert ex.q3.evaluate(lambda c: "0.1").status == "incorrect"


def test_schedule_check_rejects_zero_start_and_wrong_cosine():
    def starts_at_zero(step, total, warm, peak):
        if step < warm:
            return peak * step / warm
        return right_schedule(step, total, warm, peak)

    def cosine_from_zero(step, total, warm, peak):
        if step < warm:
            return peak * (step + 1) / warm
        return peak * (1 + math.cos(math.pi * step / total)) / 2

    assert "wasted" in ex.q4.evaluate(starts_at_zero).message
    assert ex.q4.evaluate(cosine_from_zero).status == "incorrect"
    assert ex.q4.evaluate(lambda *a: 0.3).status == "incorrect"
