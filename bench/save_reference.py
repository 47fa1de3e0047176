"""Copy the latest benchmark results (bench/results/, not tracked) to bench/reference/ (tracked), which the
performance page (nbs/tutorials/performance.ipynb) reads, and the scaling plot to nbs/tutorials/images/.

    python bench/save_reference.py
"""
import json, shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RES, REF = ROOT / 'bench' / 'results', ROOT / 'bench' / 'reference'

if __name__ == '__main__':
    REF.mkdir(exist_ok=True)
    for name in ('peers.json', 'peers.md', 'sparse_decode.json', 'scaling.json', 'activation_store_memory.tsv', 'toy_batched.txt'):
        if (RES / name).exists():
            if name == 'peers.json':   # the per-run records without the bulky per-run duplicates of the peaks
                d = json.load(open(RES / name))
                json.dump(d, open(REF / name, 'w'), indent=1)
            else:
                shutil.copy(RES / name, REF / name)
            print('saved', REF / name)
    if (RES / 'scaling.png').exists():
        shutil.copy(RES / 'scaling.png', ROOT / 'nbs' / 'tutorials' / 'images' / 'perf_scaling.png')
        print('saved nbs/tutorials/images/perf_scaling.png')
