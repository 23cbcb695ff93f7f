"""The package map in helpers/__init__.py lists every module; each chapter toolkit names its chapter."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import helpers

PACKAGE = Path(helpers.__file__).parent
MAP = helpers.__doc__
SHARED, TOOLKITS = MAP.split("Chapter toolkits", 1)
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__") + ["exercises"]
CHAPTER_TOOLKITS = re.findall(r"``helpers\.(\w+)``\s+ch(\d\d):", TOOLKITS)


@pytest.mark.parametrize("module", MODULES)
def test_every_module_is_on_the_map(module):
    assert f"``helpers.{module}``" in MAP, f"add helpers.{module} to the map in helpers/__init__.py"


def test_the_map_has_both_groups():
    assert "``helpers.train``" in SHARED and "``helpers.data``" in SHARED
    assert CHAPTER_TOOLKITS, "no chapter toolkits listed"


@pytest.mark.parametrize("module, chapter", CHAPTER_TOOLKITS, ids=[m for m, _ in CHAPTER_TOOLKITS])
def test_each_chapter_toolkit_opens_with_its_chapter(module, chapter):
    path = PACKAGE / f"{module}.py"
    if not path.exists():
        pytest.skip(f"helpers.{module} has not landed yet")
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring and re.match(rf"Chapter 0?{int(chapter)}: ", docstring), (
        f"helpers/{module}.py's docstring should open with 'Chapter {int(chapter)}: ...'"
    )


def test_glue_is_the_function_and_its_module_has_another_name():
    from helpers import glue
    from helpers.publish import glue as published

    assert callable(glue) and glue is published
