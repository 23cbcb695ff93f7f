"""The built site as readers see it: every page opened in Chromium, with the network closed.

The site is served from 127.0.0.1 by a thread in this process; every request to any
other host is aborted and counted as a failure, so a page that passes needs nothing
from outside (MathJax included). The browser is Debian's ``chromium`` (``apt-get install
chromium``; ``CHROMIUM=/path`` for another), driven by the ``playwright`` package; no
browser is downloaded. Each page is visited once (the ``visits`` fixture) and the tests
below check what was recorded; one screenshot per chapter is written to
``_build/screenshots/NN_slug.png`` for a person to look at.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from conftest import ROOT, chapter_sources
from test_notebook_structure import _toc_files

pytestmark = pytest.mark.site

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need the playwright package")

SCREENSHOTS = ROOT / "_build" / "screenshots"
# Without these the browser phones home (updates, sync, QUIC probes) and, the network
# being closed, fills the console with errors that are not the site's.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
# A laptop's window; the screenshot is its first screen (a taller window costs the browser a
# third more CPU time, and a whole chapter is ~25,000 px tall, 5 MB and seconds to encode).
VIEWPORT = {"width": 1280, "height": 1000}
# TeX that MathJax should have replaced; code cells and their outputs are left out.
RAW_TEX = ("\\(", "\\[", "\\frac")
# A word every reader might search for, and the chapter that must come up.
SEARCH_WORD, SEARCH_CHAPTER = "momentum", "notebooks/05_optimization.html"

# Runs in the page once it has loaded: waits for images and MathJax, then reports.
REPORT_JS = """
async () => {
  for (const img of document.images) img.loading = "eager";
  await Promise.all([...document.images].map(img => img.complete ? null :
      new Promise(done => { img.addEventListener("load", done); img.addEventListener("error", done); })));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const text = document.body.cloneNode(true);
  text.querySelectorAll("pre, code, script, style, mjx-container").forEach(e => e.remove());
  return {
    images: [...document.images].map(img => ({src: img.currentSrc || img.src, alt: img.alt,
                                            width: img.naturalWidth})),
    links: [...document.querySelectorAll("a[href]")].map(a => a.href),
    mathSources: document.querySelectorAll(".math").length,
    mathRendered: document.querySelectorAll("mjx-container").length,
    text: text.textContent,
    widgetViews: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
  };
}
"""


@dataclass
class Visit:
    """What one page did in the browser."""

    status: int | None = None
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    report: dict = field(default_factory=dict, repr=False)
    dropdowns: list[tuple[bool, bool]] = field(default_factory=list)  # (visible before, after a click)


def _pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"], *_toc_files(toc)]


PAGES = _pages()
CHAPTERS = [f"notebooks/{source.stem}" for source in chapter_sources()]


def _chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(f"no Chromium at {path}: install Debian's (apt-get install chromium) or set CHROMIUM=/path")
    return path


@pytest.fixture(scope="module")
def server(site):
    """The built site on http://127.0.0.1:<free port>/, served by a thread."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def context(server):
    """A browser context whose network ends at 127.0.0.1; ``context.blocked`` lists what it refused."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport=VIEWPORT)
        ctx.blocked = []

        def only_local(route):
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                ctx.blocked.append(route.request.url)
                route.abort()

        ctx.route("**/*", only_local)
        yield ctx
        ctx.close()
        browser.close()


def _visit(ctx, url: str, screenshot: Path | None) -> Visit:
    visit = Visit()
    page = ctx.new_page()
    page.on("console", lambda m: m.type == "error" and visit.console_errors.append(m.text))
    page.on("pageerror", lambda e: visit.console_errors.append(f"uncaught: {e.name}: {e.message}"))
    page.on("requestfailed", lambda r: visit.failed_requests.append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and visit.failed_requests.append(f"{r.url} (HTTP {r.status})"))
    blocked_before = len(ctx.blocked)
    response = page.goto(url, wait_until="load")
    visit.status = response.status if response else None
    visit.report = page.evaluate(REPORT_JS)
    if screenshot is not None:
        page.screenshot(path=str(screenshot))
    for solution in page.locator("div.solution.dropdown").all():
        content = solution.locator("> :not(.admonition-title)").first
        before = content.is_visible()
        solution.locator("button.toggle-button").click()
        try:
            content.wait_for(state="visible", timeout=2000)
        except sync_api.TimeoutError:
            pass  # recorded as not opening
        visit.dropdowns.append((before, content.is_visible()))
    visit.failed_requests += [f"{u} (outside 127.0.0.1: blocked)" for u in ctx.blocked[blocked_before:]]
    page.close()
    return visit


@pytest.fixture(scope="module")
def visits(context, server) -> dict[str, Visit]:
    """Every page of the table of contents, opened once."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return {
        page: _visit(
            context,
            f"{server}/{page}.html",
            SCREENSHOTS / f"{Path(page).name}.png" if page in CHAPTERS else None,
        )
        for page in PAGES
    }


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_without_errors_or_network(visits, page):
    visit = visits[page]
    assert visit.status == 200, f"HTTP {visit.status}"
    assert not visit.failed_requests, "failed requests:\n" + "\n".join(visit.failed_requests)
    errors = list(visit.console_errors)
    assert not errors, "console errors:\n" + "\n".join(errors)


@pytest.mark.parametrize("page", PAGES)
def test_every_image_loads_and_has_alt_text(visits, page):
    for image in visits[page].report["images"]:
        assert image["width"] > 0, f"image did not load: {image['src']}"
        assert image["alt"].strip(), f"image without alt text: {image['src']}"


def _ids(path: Path, cache: dict = {}) -> set[str]:  # noqa: B006 (a cache across calls)
    if path not in cache:
        cache[path] = set(re.findall(r'\sid="([^"]+)"', path.read_text(errors="replace")))
    return cache[path]


@pytest.mark.parametrize("page", PAGES)
def test_every_internal_link_resolves(visits, page, site, server):
    broken = []
    for href in visits[page].report["links"]:
        if not href.startswith(server + "/"):
            continue
        url = urlsplit(href)
        target = site / unquote(url.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            broken.append(f"{href}: no such file")
        elif url.fragment and target.suffix == ".html" and unquote(url.fragment) not in _ids(target):
            broken.append(f"{href}: no id {url.fragment!r} in {target.relative_to(site)}")
    assert not broken, "broken links:\n" + "\n".join(sorted(set(broken)))


@pytest.mark.parametrize("page", PAGES)
def test_math_is_rendered(visits, page):
    report = visits[page].report
    raw = [tex for tex in RAW_TEX if tex in report["text"]]
    assert not raw, f"raw TeX left in the page text: {raw}"
    if report["mathSources"]:
        assert report["mathRendered"] >= report["mathSources"], (
            f"{report['mathSources']} math elements, {report['mathRendered']} rendered by MathJax"
        )


@pytest.mark.parametrize("page", PAGES)
def test_no_widget_is_left_without_its_scripts(visits, page):
    # The site loads no ipywidgets scripts (_config.yml: nb_ipywidgets_js), so a widget
    # output on a page would show nothing: tag its cell remove-output, as Chapter 5 does.
    assert visits[page].report["widgetViews"] == 0, "a widget output is on the page; tag its cell remove-output"


@pytest.mark.parametrize("page", CHAPTERS)
def test_solutions_are_closed_until_clicked(visits, page):
    dropdowns = visits[page].dropdowns
    assert dropdowns, "no solution dropdowns"
    for number, (before, after) in enumerate(dropdowns, 1):
        assert not before, f"solution {number} is open before a click"
        assert after, f"solution {number} does not open when clicked"


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_has_its_colab_launch_link_and_a_screenshot(visits, page):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    expected = (
        f"https://colab.research.google.com/github/{repo}/blob/{config['repository']['branch']}/{page}.ipynb"
    )
    assert expected in visits[page].report["links"], f"no Colab launch link {expected}"
    screenshot = SCREENSHOTS / f"{Path(page).name}.png"
    assert screenshot.exists() and screenshot.stat().st_size > 10_000, f"no screenshot {screenshot}"


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_links_to_its_exercises_on_colab(visits, page):
    from helpers.student import STUDENT_DIR, colab_url

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    expected = colab_url(config, f"{STUDENT_DIR.as_posix()}/{Path(page).name}.ipynb")
    assert expected in visits[page].report["links"], f"no 'Do these exercises on Colab' link {expected}"


def test_search_finds_a_chapter(context, server):
    page = context.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(f"{server}/search.html?q={SEARCH_WORD}", wait_until="load")
    # Sphinx lists the results one by one: wait for the chapter (or the end of the search).
    try:
        page.wait_for_function(
            """chapter => [...document.querySelectorAll("#search-results ul.search li a")]
                           .some(a => new URL(a.href).pathname.endsWith(chapter))""",
            arg=SEARCH_CHAPTER,
            timeout=15_000,
        )
    except sync_api.TimeoutError:
        pass  # reported below with what was found
    results = page.locator("#search-results ul.search li a")
    found = [urlsplit(href).path.lstrip("/") for href in results.evaluate_all("els => els.map(a => a.href)")]
    page.close()
    assert SEARCH_CHAPTER in found, f"searching {SEARCH_WORD!r} found {found}, not {SEARCH_CHAPTER}"
    assert not errors, "console errors on the search page:\n" + "\n".join(errors)
