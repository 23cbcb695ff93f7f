"""Every chapter is a synced .py/.ipynb pair, committed fully executed, with the chapter anatomy."""

from __future__ import annotations

import json
import re

import jupytext
import pytest
import yaml

from conftest import ROOT, chapter_sources
from helpers.student import is_solution_cell
from notebook_support import read_cells

CHAPTERS = chapter_sources()
IDS = [p.stem for p in CHAPTERS]
MAX_NOTEBOOK_BYTES = 1_500_000


def test_there_are_chapters():
    assert CHAPTERS, "no notebooks/NN_slug.py chapters found"


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_py_and_ipynb_have_the_same_cells(source):
    notebook = source.with_suffix(".ipynb")
    assert notebook.exists(), f"{source.name} has no paired {notebook.name}: run `make notebooks NB={source}`"
    assert read_cells(source) == read_cells(notebook), (
        f"{source.name} and {notebook.name} differ: run `make notebooks NB=notebooks/{source.name}`"
    )


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_committed_notebook_holds_one_full_in_order_run(source):
    notebook = json.loads(source.with_suffix(".ipynb").read_text())
    code_cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    counts = [c.get("execution_count") for c in code_cells]
    assert counts == list(range(1, len(code_cells) + 1)), f"execution counts {counts}: re-run top to bottom"
    errors = [o for c in code_cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"the committed run raised: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    assert source.with_suffix(".ipynb").stat().st_size < MAX_NOTEBOOK_BYTES, "committed notebook too large"


def _config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_bootstrap_cell_installs_helpers_from_the_configured_repository(source):
    repository = _config()["repository"]
    expected = f"git+{repository['url']}@{repository['branch']}"
    cells = jupytext.read(source).cells
    bootstrap = [c for c in cells if "remove-cell" in c.metadata.get("tags", []) and "google.colab" in c.source]
    assert len(bootstrap) == 1, "each chapter needs exactly one bootstrap cell tagged remove-cell"
    assert expected in bootstrap[0].source, f"the bootstrap cell must install {expected}"


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_exercises_section_opens_with_the_colab_link_to_the_student_version(source):
    from helpers.student import exercises_link_line

    expected = exercises_link_line(_config(), source.stem)
    text = source.read_text(encoding="utf-8")
    assert expected in text, (
        f"the Exercises section needs the line\n{expected}\n(run `python -m helpers.student --links`, then jupytext --sync)"
    )
    assert text.count("Do these exercises on Colab") == 1


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_parameters_cell_has_seed_and_budget(source):
    cells = [c for c in jupytext.read(source).cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "each chapter needs exactly one cell tagged parameters"
    assert re.search(r"^SEED = 0\b", cells[0].source, re.M), "the parameters cell must set SEED = 0"
    assert re.search(r"^BUDGET = 1(\.0)?\b", cells[0].source, re.M), "the parameters cell must set BUDGET = 1.0"


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_chapter_has_four_or_five_graded_exercises(source):
    cells = jupytext.read(source).cells
    solutions = [c for c in cells if is_solution_cell(c)]
    checks = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert 4 <= len(solutions) <= 5, f"expected 4 or 5 exercises, found {len(solutions)}"
    assert len(checks) == len(solutions), "every solution cell needs a check cell"
    ids = [c.metadata["nbgrader"]["grade_id"] for c in solutions + checks]
    assert len(ids) == len(set(ids)), "nbgrader grade_ids must be unique"
    for cell in solutions:
        assert cell.metadata.get("nbgrader", {}).get("solution") is True, "solution cells need nbgrader solution: true"
    for cell in checks:
        assert re.fullmatch(r"ex\.q\d\.check\(\)", cell.source.strip()), (
            "a check cell must be just `ex.qN.check()`, so it reports 'not attempted' in the student version"
        )
        assert cell.metadata["nbgrader"].get("locked") and cell.metadata["nbgrader"].get("points", 0) > 0


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_chapter_glues_numbers_and_cites_references(source):
    text = source.read_text()
    assert "{glue:text}`" in text, "prose must quote measured numbers with {glue:text}"
    assert "```{bibliography}" in text, "the chapter must end with its references"
    assert "## Summary" in text and "## Exercises" in text


def _toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(node["file"])
        for value in node.values():
            files += _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            files += _toc_files(item)
    return files


def test_every_chapter_is_in_the_table_of_contents():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = set(_toc_files(toc)) | {toc["root"]}
    for source in CHAPTERS:
        assert f"notebooks/{source.stem}" in listed, f"{source.stem} is missing from _toc.yml"
    for entry in listed:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), f"_toc.yml lists missing {entry}"


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_every_figure_is_in_the_outputs_and_has_alt_text(source):
    notebook = json.loads(source.with_suffix(".ipynb").read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        has_image = any("image/png" in o.get("data", {}) for o in cell.get("outputs", []))
        alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
        first_line = "".join(cell["source"]).splitlines()[0] if cell["source"] else ""
        if has_image:
            assert len(alt) > 20, f"a figure needs alt text (mystnb image alt metadata): {first_line}"
        elif alt:
            assert has_image, f"a cell with alt text drew no figure (was MPLBACKEND=Agg set?): {first_line}"
