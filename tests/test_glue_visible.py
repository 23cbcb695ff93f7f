"""Every number the prose quotes is also readable in a visible output of the notebook.

On Colab and in Jupyter the ``{glue:text}`` roles show raw, so a learner can only read a glued
number if the code cell that glues it, or one of the two code cells after it, prints it too, verbatim or as a number that rounds to it (0.9612 for a glued 96.1%).
"""

from __future__ import annotations

import pytest

from conftest import chapter_sources
from notebook_support import glued_values_not_visible

PARAMS = [pytest.param(p.with_suffix(".ipynb"), id=p.stem) for p in chapter_sources()]


@pytest.mark.parametrize("notebook", PARAMS)
def test_every_glued_value_is_printed_near_where_it_is_computed(notebook):
    total, missing = glued_values_not_visible(notebook)
    assert total > 0, "the chapter glues no numbers"
    assert not missing, f"{len(missing)}/{total} glued values are visible nowhere: {', '.join(missing[:10])}"
