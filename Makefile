# minit5: the two commands a user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# Stamps record which extras are installed; they are redone when pyproject.toml changes.
STAMP  := $(VENV)/.stamp

.PHONY: demo experiments world-gates test golden book book-check lab lab-check notebooks bench gpu-check grade fixtures clean help

help:
	@echo "make demo    - set up .venv and run the main job (pre-train, fine-tune, compare) on a CPU"
	@echo "make experiments - run every paper-table miniature on a CPU (results in experiments/results/)"
	@echo "make world-gates - the world benchmark's gates and premise probes (hours on 2 cores; resumable)"
	@echo "make test    - set up .venv with the test extras and run the test suite"
	@echo "make golden  - live cross-check against transformers (installs torch CPU + transformers)"
	@echo "make book    - execute every chapter and build the book offline"
	@echo "make lab     - JupyterLab with jupytext: chapters/*.md open as notebooks to step through"
	@echo "make notebooks - write .ipynb copies of the chapters into notebooks/"
	@echo "make bench   - benchmarks against PyTorch (results in benchmarks/)"
	@echo "make gpu-check - on a GPU machine: GPU tests, kernel lab, bench vs PyTorch, 2-min training (< 8 min)"
	@echo "make grade EX=4.2 - grade one exercise"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(STAMP)-base: pyproject.toml | $(PY)
	$(PIP) install -q -e .
	touch $@

# The dist extra (mpi4py + the Open MPI wheel, ~10 MB) comes along so the mpiexec tests run, and
# the nvrtc extra (NVRTC, 25 MB) so that every CUDA kernel is compiled without a GPU.
$(STAMP)-test: pyproject.toml | $(PY)
	$(PIP) install -q -e ".[test,dist,nvrtc]"
	touch $@

# torch==2.13.0 first: on these machines that pin takes the local CPU wheel, and then
# transformers' own torch requirement is already satisfied (no multi-GB CUDA download).
$(STAMP)-golden: pyproject.toml $(STAMP)-test
	$(PIP) install -q "torch==2.13.0"
	$(PIP) install -q -e ".[test,golden]"
	touch $@

$(STAMP)-book: pyproject.toml $(STAMP)-test
	$(PIP) install -q -e ".[test,book]"
	touch $@

# JupyterLab's app-level settings (book/lab/overrides.json) make Markdown files open with the
# Jupytext Notebook viewer, so a chapter opens as a notebook on a double click.
$(STAMP)-lab: pyproject.toml book/lab/overrides.json $(STAMP)-test
	$(PIP) install -q -e ".[test,lab]"
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp book/lab/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $@

# One BLAS thread per process: the experiments fork one training run per core.
demo: $(STAMP)-base
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m minit5.demo

experiments: $(STAMP)-base
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m minit5.cli experiment all
	$(MAKE) world-gates

# Can the world benchmark see pre-training? The first design's gates, the premise probe of its
# checkpoints and of a run four times longer, then the third and fourth designs' gates and
# probes, and what each design's letters and pieces show of a form's number (each design's
# reasoning: minit5/experiments/world_gates.py; the second was superseded by the third after
# its first runs). Each step resumes from its cache in runs/.
world-gates: $(STAMP)-base
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m minit5.experiments.world_gates --design v1
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m minit5.experiments.world_probe
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m minit5.experiments.world_probe --longer 4 \
		--work-dir runs/world_long --out experiments/results/world/probe_longer.json
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m minit5.experiments.world_gates --design v3
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m minit5.experiments.world_probe --design v3
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m minit5.experiments.world_gates --design v4
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m minit5.experiments.world_probe --design v4
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m minit5.experiments.world_spelling

# ruff first (errors, unused imports, import order: pyproject.toml's [tool.ruff]), then pytest.
test: $(STAMP)-test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -p no:cacheprovider tests exercises/graders/test_graders_selfcheck.py

golden: $(STAMP)-golden
	$(PY) -m pytest -q -p no:cacheprovider -m golden_live --run-golden-live tests

fixtures: $(STAMP)-golden
	$(PY) tests/golden/make_fixtures.py

# The chapters' cells multiply small matrices: one BLAS thread is faster there than two.
book: $(STAMP)-book
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) book/build.py

book-check: book
	bash book/ensure_chromium.sh
	$(PY) book/check_render.py

lab: $(STAMP)-lab
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/chapters \
		$$([ "$$(id -u)" = 0 ] && echo --allow-root)

lab-check: $(STAMP)-lab
	$(PY) book/lab_check.py

notebooks: $(STAMP)-book
	mkdir -p notebooks
	for chapter in chapters/*.md; do \
		$(VENV)/bin/jupytext --quiet --to ipynb -o notebooks/$$(basename $$chapter .md).ipynb $$chapter; \
	done
	@echo "notebooks/: one .ipynb per chapter (without outputs; the book's pages offer executed ones)"

bench: $(STAMP)-golden
	$(PY) benchmarks/run.py

grade: $(STAMP)-test
	$(PY) -m minit5.cli grade $(EX)

clean:
	rm -rf $(VENV) book/_build notebooks .pytest_cache .hypothesis

# On a machine with one NVIDIA GPU (CuPy installed; torch + transformers for the benchmark):
# nvidia-smi, the gpu-marked tests, the kernel lab, the train-step benchmark at t5-small and two
# minutes of training, each step with its own timeout, under 8 minutes in all. Results in
# $(OUT) (default benchmarks/gpu_results). Uses $(PYTHON), not .venv: a GPU image brings its own.
gpu-check:
	PYTHON=$(PYTHON) bash benchmarks/gpu_check.sh
