"""Chapter 1's checks reject plausible wrong answers (broken ones: tests/test_exercises.py)."""

import torch

from helpers.exercises import ch01_training_loop as ex


def test_mae_check_rejects_sum_and_squared_error():
    assert ex.q1.evaluate(lambda p, t: (p - t).abs().sum()).status == "incorrect"
    assert ex.q1.evaluate(lambda p, t: ((p - t) ** 2).mean()).status == "incorrect"


def test_softmax_check_rejects_columns_and_overflow():
    def naive(logits):  # right formula, but exp overflows for big logits
        return logits.exp() / logits.exp().sum(dim=1, keepdim=True)

    def columns(logits):
        shifted = (logits - logits.max()).exp()
        return shifted / shifted.sum(dim=0, keepdim=True)

    result = ex.q2.evaluate(naive)
    assert result.status == "incorrect" and "overflow" in result.message
    assert "row" in ex.q2.evaluate(columns).message
    assert ex.q2.evaluate(lambda z: z.exp().sum(1)).status == "incorrect"  # wrong shape


def test_training_loop_check_rejects_accumulated_gradients_and_ascent():
    def forgets_to_reset(x, y, learning_rate, steps):
        w, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
        for _ in range(steps):
            ((w * x + b - y) ** 2).mean().backward()
            with torch.no_grad():
                w -= learning_rate * w.grad
                b -= learning_rate * b.grad
        return w.item(), b.item()

    def climbs(x, y, learning_rate, steps):
        return forgets_to_reset(x, y, -learning_rate, 1)

    result = ex.q3.evaluate(forgets_to_reset)
    assert result.status == "incorrect" and "reset the gradients" in result.message
    assert ex.q3.evaluate(climbs).status == "incorrect"
    assert ex.q3.evaluate(lambda x, y, lr, s: 3.0).status == "incorrect"  # not a pair


def test_learning_rate_check_rejects_crawling_exploding_and_negative_rates():
    for wrong in (0.001, 1.0, -0.1):
        assert ex.q4.evaluate(wrong).status == "incorrect", wrong
    assert ex.q4.evaluate("0.2").status == "incorrect"  # a string is not a number
