#!/bin/bash
# The peers' virtual environment (.venv-bench at the repo root), as shared/bench-peers/setup_env.sh builds it:
# torch 2.13.0 (CPU) first, then the peers pinned so pip never swaps torch for a CUDA build. Needs PyPI (or a cache).
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -m venv .venv-bench
echo "torch==2.13.0" > .venv-bench/pin.txt
.venv-bench/bin/pip install -q torch==2.13.0
.venv-bench/bin/pip install -q -c .venv-bench/pin.txt sae-lens==6.54.12 dictionary-learning==0.1.0 overcomplete==0.3.0
# PyPI's torchvision wheel links libtorch_cuda and breaks `import transformers` beside CPU torch; no SAE code needs it
.venv-bench/bin/pip uninstall -y -q torchvision || true
.venv-bench/bin/python -c "import torch, sae_lens, dictionary_learning; assert torch.__version__.startswith('2.13.0'); print('peers venv ok')"
