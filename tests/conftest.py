"""Shared fixtures and settings for the course's tests."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Before any notebook or helper runs: no progress bars.
os.environ.setdefault("HELPERS_PROGRESS", "0")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def chapter_sources() -> list[Path]:
    """Every chapter's .py source, in order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The book built once per session, with warnings as errors: its ``_build/html`` folder.

    ``COURSE_SITE=path/to/_build/html`` reuses a site built earlier (to iterate on the
    site tests without rebuilding; CI never sets it).
    """
    if os.environ.get("COURSE_SITE"):
        html = Path(os.environ["COURSE_SITE"]).resolve()
        assert (html / "index.html").exists(), f"COURSE_SITE={html} holds no built site"
        return html
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
