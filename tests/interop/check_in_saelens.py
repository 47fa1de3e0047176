"""Check that SAE folders load in SAELens and reproduce their expected outputs.

Run with the SAELens virtualenv (not the project's python):

    /opt/saelens/venv/bin/python tests/interop/check_in_saelens.py FOLDER [FOLDER ...]

Each FOLDER must hold a SAELens-format SAE (cfg.json + sae_weights.safetensors)
and an expected.safetensors with tensors `x`, `feature_acts` and `sae_out`.
The folder is loaded with `SAE.load_from_disk(folder, device="cpu")`, then
feature_acts = sae.encode(x) and sae_out = sae.decode(feature_acts) are compared
with the expected tensors. A folder fails if it does not load, if shapes differ,
or if the max abs difference exceeds 1e-5. The last line printed is
`N passed, M failed`; the exit code is 1 if anything failed, else 0.
"""

import sys
import warnings
from pathlib import Path

import torch
from safetensors.torch import load_file

from sae_lens import SAE

TOLERANCE = 1e-5
EXPECTED_FILE = "expected.safetensors"


def max_abs_diff(actual: torch.Tensor, expected: torch.Tensor) -> float:
    return (actual.float() - expected.float()).abs().max().item()


def check_folder(folder: Path) -> tuple[list[str], str]:
    """Return (problems, summary) for one folder; no problems means it passed."""
    expected_path = folder / EXPECTED_FILE
    if not expected_path.is_file():
        return [f"missing {expected_path}"], ""
    expected = load_file(str(expected_path))
    missing = [key for key in ("x", "feature_acts", "sae_out") if key not in expected]
    if missing:
        return [f"{EXPECTED_FILE} lacks keys {missing}"], ""

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sae = SAE.load_from_disk(str(folder), device="cpu")
    except Exception as error:  # report any loading failure as a check failure
        return [f"SAE.load_from_disk failed: {type(error).__name__}: {error}"], ""
    sae.eval()

    x = expected["x"].to(sae.dtype)
    with torch.no_grad():
        feature_acts = sae.encode(x)
        sae_out = sae.decode(feature_acts)

    problems = []
    diffs = []
    for name, actual in (("feature_acts", feature_acts), ("sae_out", sae_out)):
        want = expected[name]
        if actual.shape != want.shape:
            problems.append(f"{name} shape {tuple(actual.shape)} != expected {tuple(want.shape)}")
            continue
        diff = max_abs_diff(actual, want)
        diffs.append(f"{name} max abs diff {diff:.1e}")
        if not diff <= TOLERANCE:  # also catches NaN
            problems.append(f"{name} max abs diff {diff:.3e} > {TOLERANCE:g}")
    summary = f"{type(sae).__name__} ({sae.cfg.architecture()}): " + ", ".join(diffs)
    return problems, summary


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2

    passed, failed = 0, 0
    for arg in argv:
        folder = Path(arg)
        problems, summary = check_folder(folder)
        if problems:
            failed += 1
            for problem in problems:
                print(f"FAIL {folder}: {problem}")
        else:
            passed += 1
            print(f"ok   {folder}: {summary}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
