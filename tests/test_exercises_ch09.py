"""Chapter 9's checks accept the notebook's reference answers and reject plausible wrong ones."""

from __future__ import annotations

from pathlib import Path

import torch
from torchvision.transforms import v2

import helpers.exercises.ch09_data_augmentation as ex
from helpers.augment import random_affine
from notebook_support import solution_namespace

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "09_data_augmentation.py"
_SOLUTIONS = solution_namespace(NOTEBOOK)


def _message(q, answer):
    result = q.evaluate(answer)
    assert result.status == "incorrect", result
    return result.message


def test_fixed_pipeline_check():
    assert ex.q1.evaluate(_SOLUTIONS["fixed_pipeline"]).correct
    assert "upside down" in _message(ex.q1, ex.broken_digit_pipeline())
    mirrored = v2.Compose([v2.RandomRotation(10), v2.RandomAffine(degrees=0, translate=(0.1, 0.1)),
                           v2.RandomHorizontalFlip(p=0.5), v2.GaussianNoise(sigma=0.05)])
    assert "horizontal flip" in _message(ex.q1, mirrored)
    too_much = v2.Compose([v2.RandomAffine(degrees=0, translate=(0.1, 0.1)), v2.GaussianNoise(sigma=0.05)])
    assert "removed RandomRotation" in _message(ex.q1, too_much)
    big_turn = v2.Compose([v2.RandomRotation(180), v2.RandomAffine(degrees=0, translate=(0.1, 0.1)),
                           v2.GaussianNoise(sigma=0.05)])
    assert "6 towards a 9" in _message(ex.q1, big_turn)
    assert "v2.Compose" in _message(ex.q1, [v2.RandomRotation(10)])


def test_flip_tta_check_runs_its_own_experiment():
    plain, mirrored = ex.flip_tta_experiment()
    assert mirrored < plain - 0.01  # the premise of the exercise, in the check's own run
    assert ex.q2.evaluate(_SOLUTIONS["flip_tta_prediction"]).correct
    assert ex.q2.evaluate("Down").correct  # synonyms and case are accepted
    assert "own run says otherwise" in _message(ex.q2, "higher")
    assert "own run says otherwise" in _message(ex.q2, "same")
    assert "'higher', 'same' or 'lower'" in _message(ex.q2, "sideways")
    assert "strings" in _message(ex.q2, -1)


def _wraps_around(X, max_shift):
    shifts = torch.randint(-max_shift, max_shift + 1, (len(X), 2))
    return torch.stack([torch.roll(x, (int(r), int(c)), dims=(1, 2)) for x, (r, c) in zip(X, shifts)])


def _one_shift_per_batch(X, max_shift):
    r, c = (int(v) for v in torch.randint(-max_shift, max_shift + 1, (2,)))
    return _SOLUTIONS["random_shift"](X[:1], max_shift).repeat(len(X), 1, 1, 1) if max_shift else X


def _rows_only(X, max_shift):
    padded = torch.nn.functional.pad(X, (0, 0, max_shift, max_shift))
    offsets = torch.randint(0, 2 * max_shift + 1, (len(X),))
    return torch.stack([padded[i, :, o : o + X.shape[2]] for i, o in enumerate(offsets.tolist())])


def _too_far(X, max_shift):
    return _SOLUTIONS["random_shift"](X, 2 * max_shift)


def test_random_shift_check():
    assert ex.q3.evaluate(_SOLUTIONS["random_shift"]).correct
    assert "wraps around" in _message(ex.q3, _wraps_around)
    assert "same amount" in _message(ex.q3, _one_shift_per_batch)
    assert "more than max_shift" in _message(ex.q3, _too_far)
    assert "of the 25 possible" in _message(ex.q3, _rows_only)
    assert "whole pixels" in _message(ex.q3, lambda X, m: random_affine(X, translate=m / 8))
    assert "same shape" in _message(ex.q3, lambda X, m: X[:, 0])
    assert ex.q3.evaluate(lambda X, m: None).status == "not attempted"


def test_translate_check_runs_its_own_experiment():
    plain, augmented = ex.shift_experiment(_SOLUTIONS["my_translate"])
    # The reference answer clears the required margin with room to spare (seed spread about 2 points).
    assert augmented > plain + ex.SHIFT_MARGIN + 0.02
    assert ex.q4.evaluate(_SOLUTIONS["my_translate"]).correct
    assert "asks for" in _message(ex.q4, 0.01)
    assert "no augmentation" in _message(ex.q4, 0)
    assert "fraction of the image width" in _message(ex.q4, 1.5)
    assert "negative" in _message(ex.q4, -0.2)
    assert "number" in _message(ex.q4, "0.25")


def test_broken_answers_get_feedback_not_a_crash():
    def raises(*args):
        raise RuntimeError("boom")

    assert "RuntimeError" in ex.q3.evaluate(raises).message
    for q in (ex.q1, ex.q2, ex.q3, ex.q4):
        assert q.evaluate(None).status == "not attempted"
        assert q.evaluate(object()).status == "incorrect"
