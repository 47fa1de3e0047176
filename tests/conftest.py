import os, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / 'tests' / 'fixtures'


def saelens_python() -> str | None:
    "The python of a virtual environment with SAELens 6.x (SAEBOOK_SAELENS_PYTHON, else .venv-saelens), or None."
    for cand in (os.environ.get('SAEBOOK_SAELENS_PYTHON'), ROOT / '.venv-saelens' / 'bin' / 'python'):
        if cand and Path(cand).exists(): return str(cand)
    return None
