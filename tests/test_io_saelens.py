"""saebook <-> SAELens on-disk interop.

1. Folders written by SAELens 6.54.12 (tests/fixtures/saelens/, made by tests/interop/make_saelens_fixtures.py)
   load in saebook and give SAELens's encode/decode outputs.
2. Folders written by saebook load in SAELens with saebook's outputs. SAELens lives in its own virtual
   environment (`make interop-venv` builds .venv-saelens; or set SAEBOOK_SAELENS_PYTHON); without one these tests skip.
"""
import json, shutil, subprocess
from pathlib import Path
import pytest, torch
from safetensors.torch import load_file, save_file
from saebook.io import load_sae, save_sae
from saebook.sae import make_sae
from conftest import FIXTURES, ROOT, saelens_python

SAELENS_DIRS = sorted((FIXTURES / 'saelens').iterdir())
KINDS = ['relu', 'gated', 'jumprelu', 'topk', 'batchtopk']


def test_fixtures_present():
    assert {d.name for d in SAELENS_DIRS} == {'standard', 'gated', 'jumprelu', 'topk'}


@pytest.mark.parametrize('folder', SAELENS_DIRS, ids=lambda p: p.name)
def test_saelens_folder_loads_with_identical_outputs(folder):
    exp = load_file(str(folder / 'expected.safetensors'))
    sae = load_sae(folder, device='cpu')
    cfg = json.loads((folder / 'cfg.json').read_text())
    assert sae.saelens_architecture == cfg['architecture']
    assert sae.cfg.hook_name == 'blocks.0.hook_resid_post' and sae.cfg.model_name == 'toy'
    with torch.no_grad():
        f = sae.encode(exp['x'])
        out = sae.decode(f)
    assert torch.equal(f != 0, exp['feature_acts'] != 0), f"{folder.name}: a different set of latents fires than in SAELens"
    torch.testing.assert_close(f, exp['feature_acts'], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out, exp['sae_out'], atol=1e-5, rtol=1e-5)


def test_saelens_topk_with_decoder_norm_rescaling(tmp_path):
    "rescale_acts_by_decoder_norm=True is folded into the weights on load: same reconstruction, same latents."
    src = FIXTURES / 'saelens' / 'topk'
    shutil.copytree(src, tmp_path / 'topk')
    cfg = json.loads((src / 'cfg.json').read_text()); cfg['rescale_acts_by_decoder_norm'] = True
    (tmp_path / 'topk' / 'cfg.json').write_text(json.dumps(cfg))
    sd = load_file(str(src / 'sae_weights.safetensors'))
    x = load_file(str(src / 'expected.safetensors'))['x']
    n = sd['W_dec'].norm(dim=-1)   # SAELens's formula, written out: topk on h*|d|, decode (f/|d|) @ W_dec + b_dec
    h = (x - sd['b_dec']) @ sd['W_enc'] + sd['b_enc']
    v, i = (h * n).topk(4, dim=-1)
    f_ref = torch.zeros_like(h).scatter_(-1, i, v.relu())
    out_ref = (f_ref / n) @ sd['W_dec'] + sd['b_dec']
    sae = load_sae(tmp_path / 'topk', device='cpu')
    with torch.no_grad(): f = sae.encode(x); out = sae.decode(f)
    torch.testing.assert_close(f, f_ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out, out_ref, atol=1e-5, rtol=1e-5)


def _saebook_folders(root: Path) -> list[Path]:
    "Save one SAE of every kind (weights moved off their init) with its expected outputs."
    torch.manual_seed(0)
    x = torch.randn(6, 12)
    out = []
    for kind in KINDS:
        sae = make_sae(kind, d_in=12, d_sae=24, device='cpu', seed=1, hook_name='blocks.1.hook_resid_post', model_name='toy',
                       **({'k': 5} if 'topk' in kind else {}))
        with torch.no_grad():
            for p in sae.parameters(): p.add_(0.2 * torch.randn_like(p))
        if kind == 'batchtopk': sae.forward_loss(x)   # learn an inference threshold
        sae.eval()
        d = save_sae(sae, root / kind)
        with torch.no_grad(): f = sae.encode(x); save_file({'x': x, 'feature_acts': f, 'sae_out': sae.decode(f)}, str(d / 'expected.safetensors'))
        out.append(d)
    return out


def test_saebook_folders_round_trip_in_saebook(tmp_path):
    for d in _saebook_folders(tmp_path):
        exp = load_file(str(d / 'expected.safetensors'))
        sae = load_sae(d, device='cpu')
        with torch.no_grad():
            torch.testing.assert_close(sae.encode(exp['x']), exp['feature_acts'])
            torch.testing.assert_close(sae(exp['x']), exp['sae_out'])


@pytest.mark.skipif(saelens_python() is None, reason='no SAELens virtual environment (make interop-venv)')
def test_saebook_folders_load_in_saelens(tmp_path):
    folders = _saebook_folders(tmp_path)
    r = subprocess.run([saelens_python(), str(ROOT / 'tests' / 'interop' / 'check_in_saelens.py'), *map(str, folders)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"SAELens could not load saebook's folders identically:\n{r.stdout}\n{r.stderr}"
    assert r.stdout.strip().splitlines()[-1] == f'{len(KINDS)} passed, 0 failed', r.stdout
