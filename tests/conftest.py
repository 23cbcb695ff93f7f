"""Shared fixtures and settings for the course's tests."""

import os
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
