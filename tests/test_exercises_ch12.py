"""Chapter 12's checks accept the notebook's solutions and reject plausible wrong answers."""

from pathlib import Path

import pytest

from helpers.exercises import ch12_training_at_scale as ex
from notebook_support import solution_namespace

SOURCE = Path(__file__).resolve().parents[1] / "notebooks" / "12_training_at_scale.py"


@pytest.fixture(scope="module")
def reference():
    return solution_namespace(SOURCE)


def test_reference_solutions_pass(reference):
    for exercise in (ex.q1, ex.q2, ex.q4):
        assert exercise.evaluate(reference[exercise.answer_name]).correct
    assert ex.q3.evaluate(reference["best_throughput"]).correct


def test_speedup_prediction_rejects_too_optimistic_and_nonsense():
    assert "start" in ex.q1.evaluate(1.8).message
    assert ex.q1.evaluate(1.0).status == "incorrect"
    assert "positive" in ex.q1.evaluate(-0.5).message
    assert ex.q1.evaluate("fast").status == "incorrect"
    assert ex.q1.evaluate(0.5).correct


def test_diagnosis_has_a_specific_message_for_each_wrong_letter():
    assert "identical losses" in ex.q2.evaluate("a").message
    assert "doubled learning rate" in ex.q2.evaluate("c").message
    assert "copies rank 0" in ex.q2.evaluate("d").message
    assert "one of the letters" in ex.q2.evaluate("e").message
    assert ex.q2.evaluate(2).status == "incorrect"
    assert ex.q2.evaluate(" B ").correct


def test_throughput_check_rejects_wrong_units_and_a_slow_batch(reference):
    right = reference["best_throughput"]
    assert "dict" in ex.q3.evaluate(right["batch_size"]).message
    assert "one of the measured" in ex.q3.evaluate({"batch_size": 100, "examples_per_second": 1e5}).message
    assert "seconds per step" in ex.q3.evaluate({"batch_size": right["batch_size"], "examples_per_second": 0.001}).message
    wrong_value = {"batch_size": right["batch_size"], "examples_per_second": 100 * right["examples_per_second"]}
    assert "re-measured" in ex.q3.evaluate(wrong_value).message
    # batch 8 is far below the best throughput of a width-256 MLP on any CPU (per-step overhead)
    slow = ex.q3.evaluate({"batch_size": 8, "examples_per_second": right["examples_per_second"] / 30})
    assert slow.status == "incorrect"


def test_flop_check_names_each_mistake():
    def forward_only(sizes, batch_size):
        return sum(2 * batch_size * a * b for a, b in zip(sizes[:-1], sizes[1:]))

    def input_gradient_everywhere(sizes, batch_size):
        return 3 * forward_only(sizes, batch_size)

    def with_biases(sizes, batch_size):
        return 6 * batch_size * sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))

    def no_input_gradients(sizes, batch_size):
        return 2 * forward_only(sizes, batch_size)

    def per_example(sizes, batch_size):
        return reference_count(sizes, 1)

    def reference_count(sizes, batch_size):
        total = forward_only(sizes, batch_size) * 2
        return total + sum(2 * batch_size * a * b for a, b in list(zip(sizes[:-1], sizes[1:]))[1:])

    assert "forward pass only" in ex.q4.evaluate(forward_only).message
    assert "network's input" in ex.q4.evaluate(input_gradient_everywhere).message
    assert "biases" in ex.q4.evaluate(with_biases).message
    assert "later layers" in ex.q4.evaluate(no_input_gradients).message
    assert "every example" in ex.q4.evaluate(per_example).message
    assert ex.q4.evaluate(lambda sizes, batch_size: None).status == "not attempted"
    assert ex.q4.evaluate(lambda sizes, batch_size: 1 / 0).status == "incorrect"
