"""Write the student version and the answer key of chapter notebooks.

    python -m helpers.student notebooks/01_training_loop.ipynb   # one chapter
    python -m helpers.student                                    # every chapter
    python -m helpers.student --links        # only rewrite the Colab links in notebooks/NN_slug.py
    python -m helpers.student --catalog      # only rewrite book/exercises.md, the instructors' catalogue

writes ``notebooks/exercises/NN_slug.ipynb`` (the student version, committed, so
that the chapter's "Do these exercises on Colab" link opens it) and
``_build/exercises/answers/NN_slug.ipynb`` (the answer key: the chapter as
committed, outputs included).

``--links`` rewrites, in every ``notebooks/NN_slug.py``, the line under the
"## Exercises" heading that links to the student version on Colab, from
``_config.yml``'s ``repository`` (url and branch): one setting moves every link.

How a chapter marks its exercises (see the contributors' page):

- the solution is a code cell tagged ``solution`` whose answer sits between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers), with
  nbgrader metadata (``solution: true``, a unique ``grade_id``);
- the solution cell is wrapped in sphinx-exercise's ``solution-start`` /
  ``solution-end`` markdown cells, so the site shows it in a dropdown;
- the check cell (``ex.q1.check()``) carries nbgrader metadata
  (``grade: true``, ``points``, ``locked: true``).

The student version replaces each solution block with a stub, drops the
solution dropdown markers, and clears every output (outputs would give the
answers away). Its nbgrader metadata is kept, so an instructor can feed the
answer key to ``nbgrader generate_assignment`` and autograde with
``HELPERS_GRADING=1``. The answer key is the committed notebook as it is,
outputs included.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat
import yaml

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = "# YOUR CODE HERE\n..."
SOLUTION_TAG = "solution"
DROPDOWN_MARKERS = ("{solution-start}", "{solution-end}")
STUDENT_DIR = Path("notebooks/exercises")
ANSWERS_DIR = Path("_build/exercises/answers")
LINK_TEXT = "Do these exercises on Colab"
EXERCISES_HEADING = "# ## Exercises"
_BLOCK = re.compile(rf"^([ \t]*){re.escape(BEGIN)}[^\n]*\n(.*?)^[ \t]*{re.escape(END)}[^\n]*(\n|$)", re.M | re.S)


def strip_solution(source: str) -> str:
    """Replace every BEGIN/END SOLUTION block in ``source`` by an indented stub."""
    if BEGIN not in source:
        raise ValueError(f"a cell tagged {SOLUTION_TAG!r} has no {BEGIN!r} ... {END!r} block:\n{source}")

    def stub(match: re.Match) -> str:
        indent = match.group(1)
        return "".join(f"{indent}{line}\n" for line in STUB.splitlines())

    stripped = _BLOCK.sub(stub, source)
    if BEGIN in stripped or END in stripped:
        raise ValueError(f"unbalanced solution markers in:\n{source}")
    return stripped.rstrip("\n")


def is_solution_cell(cell) -> bool:
    return cell.cell_type == "code" and SOLUTION_TAG in cell.metadata.get("tags", [])


def is_dropdown_marker(cell) -> bool:
    return cell.cell_type == "markdown" and any(marker in cell.source for marker in DROPDOWN_MARKERS)


def student_version(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with solutions stubbed and outputs cleared."""
    student = copy.deepcopy(notebook)
    # Not a jupytext pair: a learner's Jupyter must not write a .py beside it.
    student.metadata.pop("jupytext", None)
    cells = []
    for cell in student.cells:
        if is_dropdown_marker(cell):
            continue
        if is_solution_cell(cell):
            cell.source = strip_solution(cell.source)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    student.cells = cells
    return student


def write_versions(notebook_path: Path, student_dir: Path = STUDENT_DIR, answers_dir: Path = ANSWERS_DIR) -> tuple[Path, Path]:
    """Write the student version and answer key of one notebook; return their paths."""
    notebook = nbformat.read(notebook_path, as_version=4)
    if not any(is_solution_cell(c) for c in notebook.cells):
        raise ValueError(f"{notebook_path} has no cells tagged {SOLUTION_TAG!r}")
    student_path = Path(student_dir) / notebook_path.name
    answers_path = Path(answers_dir) / notebook_path.name
    for path, version in ((student_path, student_version(notebook)), (answers_path, notebook)):
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(version, path)
    return student_path, answers_path


def colab_url(config: dict, path: str) -> str:
    """The Colab address of ``path`` (e.g. ``notebooks/exercises/01_x.ipynb``) on the book's repository."""
    repository = config["repository"]
    repo = repository["url"].removeprefix("https://github.com/").rstrip("/")
    return f"https://colab.research.google.com/github/{repo}/blob/{repository.get('branch', 'main')}/{path}"


def exercises_link_line(config: dict, stem: str) -> str:
    """The markdown line (as a py:percent comment) that opens a chapter's student version on Colab."""
    url = colab_url(config, f"{STUDENT_DIR.as_posix()}/{stem}.ipynb")
    return f"# **[{LINK_TEXT}]({url})**: the student version, with stubs instead of solutions."


def with_exercises_link(source: str, link_line: str) -> str:
    """``source`` (a chapter's py:percent text) with ``link_line`` right under its Exercises heading."""
    lines = source.splitlines()
    try:
        heading = lines.index(EXERCISES_HEADING)
    except ValueError:
        raise ValueError(f"no {EXERCISES_HEADING!r} line: every chapter needs an Exercises section") from None
    after = lines[heading + 1 : heading + 3]
    if len(after) == 2 and after[0] == "#" and LINK_TEXT in after[1]:
        lines[heading + 2] = link_line  # already there: refresh it
    else:
        lines[heading + 1 : heading + 1] = ["#", link_line]
    return "\n".join(lines) + ("\n" if source.endswith("\n") else "")


def rewrite_links(config_path: Path = Path("_config.yml"), root: Path = Path("notebooks")) -> list[Path]:
    """Refresh the "Do these exercises on Colab" link of every chapter source; return those changed."""
    config = yaml.safe_load(Path(config_path).read_text())
    changed = []
    for source in sorted(Path(root).glob("[0-9][0-9]_*.py")):
        text = source.read_text(encoding="utf-8")
        new = with_exercises_link(text, exercises_link_line(config, source.stem))
        if new != text:
            source.write_text(new, encoding="utf-8")
            changed.append(source)
    return changed


CATALOG = Path("book/exercises.md")
_EXERCISE_TITLE = re.compile(r"^# `{3,4}\{exercise\}\s*(.*)$", re.M)


def exercise_titles(source: str) -> list[str]:
    """The titles of the ``{exercise}`` directives in a chapter's py:percent text, in order."""
    return [title.strip() for title in _EXERCISE_TITLE.findall(source)]


def catalog_markdown(config: dict, root: Path = Path("notebooks")) -> str:
    """The instructors' catalogue of every chapter's exercises: title, kind, and the student version's link."""
    import importlib

    from helpers.exercises import KINDS

    lines = [
        "# All exercises, by chapter",
        "",
        "<!-- generated by `python -m helpers.student --catalog` (part of `make student`); do not edit -->",
        "",
        "Each chapter's exercises rise in difficulty and are of at least three kinds:",
        "",
        *[f"- **{kind}**: {meaning};" for kind, meaning in KINDS.items()],
        "",
        "Each check runs in seconds on a laptop CPU and is worth one point under nbgrader",
        "({doc}`instructors`).",
        "",
    ]
    for source in sorted(Path(root).glob("[0-9][0-9]_*.py")):
        module = importlib.import_module(f"helpers.exercises.ch{source.stem}")
        exercises = sorted((getattr(module, n) for n in dir(module) if n[:1] == "q" and n[1:].isdigit()),
                           key=lambda e: e.name)
        titles = exercise_titles(source.read_text(encoding="utf-8"))
        if len(titles) != len(exercises):
            raise ValueError(f"{source}: {len(titles)} exercise directives but {len(exercises)} checks")
        heading = source.read_text(encoding="utf-8").split("\n# # ", 1)[1].split("\n", 1)[0]
        link = colab_url(config, f"{STUDENT_DIR.as_posix()}/{source.stem}.ipynb")
        lines += [f"## {heading}", "", f"[Student version on Colab]({link}) · "
                  f"answer key: [the chapter](../notebooks/{source.stem}.ipynb)", "",
                  "| # | exercise | kind |", "|---|---|---|"]
        lines += [f"| {i} | {title} | {exercise.kind} |" for i, (title, exercise) in enumerate(zip(titles, exercises), 1)]
        lines.append("")
    return "\n".join(lines)


def write_catalog(config_path: Path = Path("_config.yml"), path: Path = CATALOG) -> Path:
    config = yaml.safe_load(Path(config_path).read_text())
    Path(path).write_text(catalog_markdown(config), encoding="utf-8")
    return Path(path)


def chapter_notebooks(root: Path = Path("notebooks")) -> list[Path]:
    """Every chapter notebook (``NN_slug.ipynb``) under ``root``."""
    return sorted(p for p in root.glob("[0-9][0-9]_*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write student versions and answer keys of chapter notebooks.")
    parser.add_argument("notebooks", nargs="*", type=Path, help="chapter .ipynb files (default: all)")
    parser.add_argument("--student-dir", type=Path, default=STUDENT_DIR, help="where student versions go")
    parser.add_argument("--answers-dir", type=Path, default=ANSWERS_DIR, help="where answer keys go")
    parser.add_argument("--links", action="store_true", help="only rewrite each chapter's Colab exercises link")
    parser.add_argument("--catalog", action="store_true", help=f"only rewrite {CATALOG}, the catalogue of exercises")
    args = parser.parse_args(argv)
    if args.catalog:
        print(f"catalogue of exercises: {write_catalog()}")
        return 0
    if args.links:
        for source in rewrite_links():
            print(f"{source}: exercises link updated (sync its .ipynb with jupytext --sync)")
        return 0
    notebooks = args.notebooks or chapter_notebooks()
    if not notebooks:
        parser.error("no notebooks given and none found under notebooks/")
    for path in notebooks:
        if path.suffix != ".ipynb" or not path.exists():
            parser.error(f"{path} is not an existing .ipynb file")
        student, answers = write_versions(path, args.student_dir, args.answers_dir)
        print(f"{path.name}: student version {student}, answer key {answers}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
