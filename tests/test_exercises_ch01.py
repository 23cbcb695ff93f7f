"""Chapter 1's checks reject plausible wrong answers and survive broken ones."""

import torch

from helpers.exercises import ch01_training_loop as ex


def test_mse_check_rejects_sum_and_absolute_error():
    assert ex.q1.evaluate(lambda p, t: ((p - t) ** 2).sum()).status == "incorrect"
    assert ex.q1.evaluate(lambda p, t: (p - t).abs().mean()).status == "incorrect"


def test_cross_entropy_check_rejects_probabilities_and_overflow():
    def naive(logits, labels):  # right formula, but exp overflows for big logits
        probabilities = logits.exp() / logits.exp().sum(dim=1, keepdim=True)
        return -probabilities[torch.arange(len(labels)), labels].log().mean()

    def forgot_the_log(logits, labels):
        return -logits.softmax(1)[torch.arange(len(labels)), labels].mean()

    result = ex.q2.evaluate(naive)
    assert result.status == "incorrect" and "logsumexp" in result.message
    assert ex.q2.evaluate(forgot_the_log).status == "incorrect"


def test_accuracy_check_rejects_counts_and_tensors():
    assert ex.q3.evaluate(lambda z, y: (z.argmax(1) == y).sum().item()).status == "incorrect"
    assert ex.q3.evaluate(lambda z, y: (z.argmax(1) == y).float().mean()).status == "incorrect"


def test_learning_rate_check_rejects_crawling_exploding_and_negative_rates():
    for wrong in (0.001, 1.0, -0.1):
        assert ex.q4.evaluate(wrong).status == "incorrect", wrong
    assert ex.q4.evaluate("0.2").status == "incorrect"  # a string is not a number


def test_broken_answers_get_feedback_not_a_crash():
    def raises(p, t):
        raise RuntimeError("boom")

    result = ex.q1.evaluate(raises)
    assert result.status == "incorrect" and "RuntimeError" in result.message
    assert ex.q1.evaluate(42).status == "incorrect"
    assert ex.q1.evaluate(lambda p, t: None).status == "not attempted"
    assert ex.q1.evaluate(lambda p, t: torch.zeros(3)).status == "incorrect"  # wrong shape
