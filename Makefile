# The course's commands. Each installs what it needs into .venv first.
#   make site       build the book into _build/html
#   make test       run every test (unit, pairing, nbval, papermill, exercises, site)
#   make student    write the student versions (notebooks/exercises, committed), answer keys (_build/exercises)
#                   and the instructors' catalogue of exercises (book/exercises.md)
#   make grade-all  run the nbgrader round trip on every chapter (the test suite does chapter 1)
#   make notebooks  sync each .py/.ipynb pair and re-run the notebooks (NB=... for one)
#   make bench      run the training-loop benchmark (bench/README.md)
#   make budget     time every notebook at default parameters (the book's cost table)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NB ?= $(wildcard notebooks/[0-9][0-9]_*.py)

# No progress bars in executed notebooks.
export HELPERS_PROGRESS := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: install site test student grade-all notebooks bench budget clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)

site: $(STAMP)
	$(BIN)/jupyter-book build . -W --keep-going --path-output .

test: $(STAMP)
	$(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg

student: $(STAMP)
	$(BIN)/python -m helpers.student --links
	$(BIN)/jupytext --sync $(wildcard notebooks/[0-9][0-9]_*.py)
	$(BIN)/python -m helpers.student
	$(BIN)/python -m helpers.student --catalog

grade-all: $(STAMP)
	HELPERS_GRADE_ALL=1 $(BIN)/python -m pytest tests/test_nbgrader.py

notebooks: $(STAMP)
	$(BIN)/python -m helpers.student --links
	$(BIN)/jupytext --sync $(NB)
	$(BIN)/python -m helpers.exercises.solutions notebooks
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.kernel_name=python3 --ExecutePreprocessor.record_timing=False $(NB:.py=.ipynb)
	$(BIN)/python -m helpers.student

bench: $(STAMP)
	$(BIN)/python -m bench

budget: $(STAMP)
	$(BIN)/python -m bench.budget

clean:
	rm -rf _build
