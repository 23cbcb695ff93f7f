"""The book builds with warnings as errors, with every page and a Colab link on every chapter.

The ``site`` fixture (conftest.py) builds the book once per session; tests/test_browser.py
opens the same build in a browser. Also: the page "Five beliefs about training, tested"
(book/beliefs.md) quotes, for every belief a chapter has tested, numbers from that chapter.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from conftest import NOTEBOOKS, ROOT, chapter_sources
from test_notebook_structure import _toc_files

BELIEFS = ROOT / "book" / "beliefs.md"
# The source document's five misconceptions, in its order (one "## " section each).
FIVE_BELIEFS = ["quick and easy", "works perfectly", "no human", "more data", "general intelligence"]
# A number pasted from a chapter: {glue:text}`../notebooks/NN_slug.ipynb::name:s`
CROSS_GLUE = re.compile(r"\{glue:text\}`\.\./notebooks/(\d\d_\w+)\.ipynb::(\w+)(?::[^`]*)?`")
CHAPTER_LINK = re.compile(r"\]\(\.\./notebooks/(\d\d_\w+)\.ipynb(?:#[^)]*)?\)")


@pytest.mark.site
def test_every_page_of_the_table_of_contents_is_built(site):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    for entry in [toc["root"], *_toc_files(toc)]:
        assert (site / f"{entry}.html").exists(), f"{entry} was not built"


SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)


@pytest.mark.site
def test_every_page_loads_each_script_once(site):
    # sphinx-thebe's configuration script was written twice into every page (a console error
    # in the browser); book/_ext/unique_scripts.py keeps the first copy.
    for page in sorted(site.rglob("*.html")):
        if "_static" in page.parts:
            continue
        scripts = [m.group(0) for m in SCRIPT.finditer(page.read_text()) if m.group(1).strip() or m.group(2).strip()]
        repeated = sorted({s[:80] for s in scripts if scripts.count(s) > 1})
        assert not repeated, f"{page.relative_to(site)} loads a script twice: {repeated}"


@pytest.mark.site
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


@pytest.mark.site
@pytest.mark.parametrize("source", chapter_sources(), ids=[p.stem for p in chapter_sources()])
def test_chapter_page_shows_glued_numbers_and_figures_with_alt_text(site, source):
    html = (site / "notebooks" / f"{source.stem}.html").read_text()
    assert "glue:" not in html, "a glue reference was not resolved"
    figures = re.findall(r'<img alt="([^"]*)"[^>]*src="[^"]*_images', html)
    assert figures and all(len(alt) > 20 for alt in figures), "every figure needs alt text"


def _belief_sections() -> list[tuple[str, str]]:
    """(title, markdown) of each "## " section of the beliefs page."""
    parts = re.split(r"^## (.+)$", BELIEFS.read_text(), flags=re.M)
    return list(zip(parts[1::2], parts[2::2]))


def _glued_names(chapter: str) -> set[str]:
    """The glue names recorded in a chapter's committed notebook."""
    notebook = json.loads((NOTEBOOKS / f"{chapter}.ipynb").read_text())
    return {
        output["metadata"]["scrapbook"]["name"]
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if "scrapbook" in output.get("metadata", {})
    }


def test_beliefs_page_is_in_the_book_with_one_section_per_belief():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert "book/beliefs" in _toc_files(toc)
    titles = [title.lower() for title, _ in _belief_sections()]
    assert len(titles) == len(FIVE_BELIEFS), titles
    for title, belief in zip(titles, FIVE_BELIEFS):
        assert belief in title, f"section {title!r} should be the belief {belief!r}"


@pytest.mark.parametrize("section", range(len(FIVE_BELIEFS)), ids=FIVE_BELIEFS)
def test_each_belief_quotes_a_measured_number_from_the_chapter_that_tested_it(section):
    title, text = _belief_sections()[section]
    linked = set(CHAPTER_LINK.findall(text))
    quoted = CROSS_GLUE.findall(text)
    if not linked:
        # No chapter has tested it yet: the section names the coming one instead.
        assert re.search(r"Chapter \d+ \(", text), f"{title}: no chapter tested, and no coming chapter named"
        return
    assert quoted, f"{title}: links to {sorted(linked)} but quotes no number from them"
    quoted_from = {chapter for chapter, _ in quoted}
    assert linked <= quoted_from, f"{title}: links to {sorted(linked - quoted_from)} without quoting a number"
    for chapter, name in quoted:
        assert (NOTEBOOKS / f"{chapter}.ipynb").exists(), f"{title}: no chapter {chapter}"
        assert name in _glued_names(chapter), f"{title}: {chapter} glues no {name!r}"


@pytest.mark.site
def test_beliefs_page_shows_the_quoted_numbers(site):
    html = (site / "book" / "beliefs.html").read_text()
    assert "glue:" not in html, "a glue reference was not resolved"
    sections = re.split(r'<span id="belief-', html)[1:]  # the (belief-...)= labels
    assert len(sections) == len(FIVE_BELIEFS)
    for (title, text), section in zip(_belief_sections(), sections):
        pasted = re.findall(r'<span class="pasted-text">([^<]*)</span>', section)
        assert len(pasted) == len(CROSS_GLUE.findall(text)), f"{title}: not every quoted number was pasted"
        assert all(re.search(r"\d", value) for value in pasted), f"{title}: a pasted value is not a number: {pasted}"
