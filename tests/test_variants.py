"Fast checks of the variant kinds in `saebook.variants` (the trained demonstrations live in nbs/02a_variants.ipynb)."
import subprocess, sys
import pytest
import torch
from saebook.sae import make_sae
from saebook.io import save_sae, load_sae
import saebook.variants  # registers the variant kinds

KINDS = {'abstopk': dict(k=4), 'matryoshka': dict(k=4), 'topafa': {}, 'featurechoice': dict(k=4),
         'mutualchoice': dict(k=4), 'mp': dict(k=4), 'vsae': dict(k=4)}

def _trained_a_little(kind):
    sae = make_sae(kind, d_in=16, d_sae=64, device='cpu', seed=0, **KINDS[kind])
    opt = torch.optim.Adam(sae.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    for _ in range(3):   # a few steps so thresholds, EMAs and weights move away from their initial values
        x = torch.randn(32, 16, generator=g)
        loss = sum(sae.forward_loss(x, dead_mask=torch.arange(64) % 2 == 0).terms.values())
        opt.zero_grad(); loss.backward(); opt.step(); sae.normalize_decoder()
    return sae.eval()

@pytest.mark.parametrize('kind', sorted(KINDS))
def test_round_trip(kind, tmp_path):
    sae = _trained_a_little(kind)
    back = load_sae(save_sae(sae, tmp_path / kind), device='cpu')
    assert type(back) is type(sae) and back.cfg == sae.cfg
    for n, v in sae.state_dict().items(): assert torch.equal(v, back.state_dict()[n]), f"{kind}: {n} changed"
    x = torch.randn(8, 16)
    with torch.no_grad(): assert torch.equal(sae(x), back(x))

def test_load_in_fresh_process(tmp_path):
    "A fresh process loads a saved variant without importing `saebook.variants` (load_sae imports it on demand)."
    save_sae(_trained_a_little('mp'), tmp_path / 'mp')
    code = (f"from saebook.io import load_sae; "
            f"print(type(load_sae({str(tmp_path / 'mp')!r}, device='cpu')).__name__)")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == 'MPSAE'

def test_batch_allocation():
    x = torch.randn(64, 16)
    fc = make_sae('featurechoice', d_in=16, d_sae=64, k=4, device='cpu', seed=0)
    f = fc.forward_loss(x).feature_acts
    assert ((f != 0).sum(0) <= fc.budget(64)).all() and (f != 0).sum(0).max() == fc.budget(64)
    mc = make_sae('mutualchoice', d_in=16, d_sae=64, k=4, device='cpu', seed=0)
    assert (mc.forward_loss(x).feature_acts != 0).sum() == 4 * 64

def test_mp_residual_monotone():
    mp = make_sae('mp', d_in=16, d_sae=64, k=12, device='cpu', seed=0)
    _, R = mp.pursuit(torch.randn(128, 16), return_residuals=True)
    assert (R[1:] <= R[:-1] + 1e-5).all()

def test_bad_config():
    with pytest.raises(ValueError, match='residual_tol'): make_sae('mp', d_in=16, d_sae=64, residual_tol=1.5)
    with pytest.raises(TypeError, match='unknown option'): make_sae('abstopk', d_in=16, d_sae=64, kk=3)
