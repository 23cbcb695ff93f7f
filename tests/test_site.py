"""The book builds with warnings as errors, with every page and a Colab link on every chapter."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, chapter_sources
from test_notebook_structure import _toc_files


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "-W", "--keep-going", "--path-output", str(out)],
        capture_output=True,
        text=True,
    )
    warnings = [line for line in result.stdout.splitlines() + result.stderr.splitlines() if "WARNING" in line]
    assert result.returncode == 0, "the book does not build cleanly:\n" + "\n".join(warnings or [result.stdout[-3000:]])
    return out / "_build" / "html"


def test_every_page_of_the_table_of_contents_is_built(site):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    for entry in [toc["root"], *_toc_files(toc)]:
        assert (site / f"{entry}.html").exists(), f"{entry} was not built"


@pytest.mark.parametrize("source", chapter_sources(), ids=[p.stem for p in chapter_sources()])
def test_chapter_page_links_to_its_notebook_on_colab(site, source):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    expected = (
        f"https://colab.research.google.com/github/{repo}/blob/{config['repository']['branch']}"
        f"/notebooks/{source.stem}.ipynb"
    )
    html = (site / "notebooks" / f"{source.stem}.html").read_text()
    assert expected in html, f"no Colab link {expected}"


@pytest.mark.parametrize("source", chapter_sources(), ids=[p.stem for p in chapter_sources()])
def test_chapter_page_shows_glued_numbers_and_figures_with_alt_text(site, source):
    html = (site / "notebooks" / f"{source.stem}.html").read_text()
    assert "glue:" not in html, "a glue reference was not resolved"
    figures = re.findall(r'<img alt="([^"]*)"[^>]*src="[^"]*_images', html)
    assert figures and all(len(alt) > 20 for alt in figures), "every figure needs alt text"
