# saebook: the README's two commands call `make demo` and `make test`.
PY ?= python
NBDEV_WORKERS ?= 2

.PHONY: demo test test-nbs test-py test-slow sync-check interop-venv docs bench

demo:            ## train an SAE and print its metrics (offline)
	saebook demo

test: test-nbs test-py   ## the whole default test suite: every notebook, then tests/

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
