"""helpers.publish: glue() publishes plain values under a name."""

import numpy as np
import pytest

from helpers.publish import as_plain, glue


def test_numpy_and_torch_scalars_become_plain_numbers():
    import torch

    assert type(as_plain(np.float32(0.5))) is float
    assert type(as_plain(torch.tensor(3))) is int


def test_glue_formats_numbers_and_returns_what_was_published(capsys):
    assert glue("accuracy", np.float64(0.9123), fmt=".1%") == "91.2%"
    assert glue("count", 3) == 3


@pytest.mark.parametrize("name, value, fmt", [("bad name", 1, None), ("x", "text", ".2f")])
def test_glue_bad_input(name, value, fmt):
    with pytest.raises((ValueError, TypeError)):
        glue(name, value, fmt=fmt)
