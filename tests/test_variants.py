"Fast checks of the variant kinds in `saebook.variants` and `saebook.jacobian` (the trained demonstrations live in nbs/02a_variants.ipynb and nbs/02b_jacobian.ipynb)."
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


# --- p-annealing, bias adaptation (saebook.variants) and the kinds of saebook.jacobian (JSAE, g-SAE) ---------------
from saebook.variants import p_schedule, lp_penalty
from saebook.jacobian import FrozenMLP, make_jsae, split_pairs
from saebook.sae import topk_activation

MORE = {'panneal': dict(l1_coeff=0.3, anneal_start=0, anneal_end=3, n_p_updates=3, queue_length=2),
        'gba': dict(n_groups=4, taf_max=0.2, taf_min=0.02, update_every=2)}

def _more_trained(kind):
    "A few training steps of the newer kinds (JSAE: d_mlp=24 random MLP; g-SAE: (act, grad) pairs)."
    g = torch.Generator().manual_seed(0)
    if kind == 'jsae':
        sae = make_jsae(FrozenMLP.random(16, 24, act='gelu', seed=0), d_sae=64, k=4, d_sae_out=48, k_out=3, seed=0, device='cpu')
        batch = lambda: torch.randn(32, 16, generator=g)
    elif kind == 'gsae':
        sae = make_sae('gsae', d_in=16, d_sae=64, k=4, device='cpu', seed=0)
        batch = lambda: torch.randn(32, 2, 16, generator=g)
    else:
        sae = make_sae(kind, d_in=16, d_sae=64, device='cpu', seed=0, **MORE[kind])
        batch = lambda: torch.randn(32, 16, generator=g)
    opt = torch.optim.Adam(sae.parameters(), lr=1e-2)
    for _ in range(5):
        loss = sum(sae.forward_loss(batch(), dead_mask=torch.arange(64) % 2 == 0).terms.values())
        opt.zero_grad(); loss.backward(); opt.step(); sae.normalize_decoder()
    return sae.eval(), batch()

@pytest.mark.parametrize('kind', ['panneal', 'gba', 'jsae', 'gsae'])
def test_round_trip_more(kind, tmp_path):
    sae, x = _more_trained(kind)
    back = load_sae(save_sae(sae, tmp_path / kind), device='cpu')
    assert type(back) is type(sae) and back.cfg == sae.cfg
    assert sorted(sae.state_dict()) == sorted(back.state_dict())
    for n, v in sae.state_dict().items(): assert torch.equal(v, back.state_dict()[n]), f"{kind}: {n} changed"
    with torch.no_grad(): assert torch.equal(sae(x), back(x))
    assert (tmp_path / kind / 'cfg.json').exists() and (tmp_path / kind / 'sae_weights.safetensors').exists()

def test_jsae_loads_in_fresh_process(tmp_path):
    "A saved JSAE loads in a process that never imported saebook.jacobian (load_sae imports it on demand)."
    save_sae(_more_trained('jsae')[0], tmp_path / 'j')
    code = f"from saebook.io import load_sae; j = load_sae({str(tmp_path / 'j')!r}, device='cpu'); print(type(j).__name__, j.mlp.W_in.shape[1])"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ['JacobianSAE', '24']

def test_p_schedule_and_rescaling():
    sae = make_sae('panneal', d_in=16, d_sae=32, device='cpu', seed=0, l1_coeff=0.5, anneal_start=4, anneal_end=12,
                   n_p_updates=2, queue_length=3)
    steps, ps = p_schedule(1.0, 0.2, 4, 12, 2)
    assert steps == [8, 12] and ps[-1] == 0.2 and sae.schedule() == (steps, ps)
    g = torch.Generator().manual_seed(0)
    hist, queued = [], []
    for t in range(14):
        nxt = sae.next_p()
        out = sae.forward_loss(torch.randn(16, 16, generator=g))
        with torch.no_grad():
            f, n = out.feature_acts, sae.decoder_norms()
            queued.append((lp_penalty(f, n, sae.p.item()).item(), lp_penalty(f, n, nxt).item() if nxt else None))
        hist.append((sae.p.item(), sae.coeff.item()))
    assert [round(p, 6) for p, _ in hist] == [1.0] * 8 + [0.6] * 4 + [0.2] * 2
    for s in steps:   # lambda' = lambda * mean L_p / mean L_p' over the last queue_length batches
        cur = sum(q[0] for q in queued[s - 3:s]) / 3; nxt = sum(q[1] for q in queued[s - 3:s]) / 3
        assert hist[s][1] == pytest.approx(hist[s - 1][1] * cur / nxt, rel=1e-5)
    assert int(sae.step.item()) == 14

def test_lp_penalty_zero_safe():
    f = torch.tensor([[0.0, 2.0, 0.5]], requires_grad=True)
    v = lp_penalty(f, torch.ones(3), 0.3)
    assert v.item() == pytest.approx(2 ** 0.3 + 0.5 ** 0.3)
    v.backward(); assert torch.isfinite(f.grad).all() and f.grad[0, 0] == 0

def test_gba_rule():
    "Over-firing neurons get their bias lowered (not below -r), dead ones raised (not above 0), the rest unchanged."
    sae = make_sae('gba', d_in=4, d_sae=4, n_groups=2, taf_max=0.5, taf_min=0.1, gamma_dec=0.5, gamma_inc=0.5, device='cpu')
    with torch.no_grad():
        sae.b_enc.copy_(torch.tensor([0.0, -0.1, -0.2, -3.0]))
        sae.fires.copy_(torch.tensor([90., 10., 50., 0.])); sae.n_tokens.fill_(100)   # freq .9 .1 .5 0
        sae.max_pre.copy_(torch.tensor([1.0, 1.0, 0.3, 2.0]))
    sae.adapt_bias()
    # targets: group 0 (neurons 0, 1) 0.5, group 1 (neurons 2, 3) 0.1
    assert torch.allclose(sae.b_enc.detach(), torch.tensor([-0.5, -0.1, -0.3, -2.0]))
    assert sae.n_tokens.item() == 0 and sae.fires.sum() == 0
    assert torch.allclose(sae.target_freq, torch.tensor([0.5, 0.5, 0.1, 0.1]))

def test_gba_bias_gets_no_gradient():
    sae = make_sae('gba', d_in=8, d_sae=16, n_groups=2, device='cpu', seed=0)
    sum(sae.forward_loss(torch.randn(32, 8)).terms.values()).backward()
    assert sae.b_enc.grad is None and sae.W_enc.grad is not None

def test_jsae_jacobian_matches_autograd():
    j = make_jsae(FrozenMLP.random(12, 20, act='gelu', gain=2, bias=-0.2, seed=1), d_sae=30, k=3, k_out=4, d_sae_out=25, seed=0)
    x = torch.randn(4, 12)
    with torch.no_grad(): p = j.forward_pair(x)
    f_s = lambda s: j.sae_out.encode(j.mlp(j.decode(topk_activation(s, 3))))
    for t in range(4):
        full = torch.autograd.functional.jacobian(f_s, p['f'][t])
        assert torch.allclose(full[p['out_latents'][t]][:, p['in_latents'][t]], p['J'][t], atol=1e-5)
        assert p['J'][t].shape == (4, 3)

def test_gated_mlp_jacobian():
    m = FrozenMLP(6, 10, act='silu', gated=True).set_weights(W_in=torch.randn(6, 10), W_gate=torch.randn(6, 10), W_out=torch.randn(10, 6))
    x = torch.randn(6)
    J = sum((W * s[None]) @ m.W_out for W, s in m.jvp_factors(x)).T
    assert torch.allclose(J, torch.autograd.functional.jacobian(m, x), atol=1e-4)

def test_jsae_penalty_and_trainer():
    "The trainer trains a JSAE as any SAE; the Jacobian term is in the loss and lambda=0 removes it."
    from saebook.train import train
    mlp = FrozenMLP.random(16, 24, seed=0)
    x = torch.randn(512, 16)
    for lam in (0.0, 2.0):
        j, hist = train(make_jsae(mlp, d_sae=32, k=4, jac_coeff=lam, seed=0, device='cpu'), x, n_steps=5, batch_size=64,
                        progress=False, log_every=5)
        assert {'mse', 'mse_out', 'jacobian', 'auxk'} <= set(hist.columns)
        assert (hist.jacobian.iloc[-1] == 0) == (lam == 0) and j.out_b_dec_ready.item() == 1

def test_gsae_selection():
    gs = make_sae('gsae', d_in=2, d_sae=2, k=1, beta=3.0, grad_norm='none', device='cpu')
    with torch.no_grad():
        gs.W_dec.copy_(torch.eye(2)); gs.W_enc.copy_(torch.eye(2)); gs.b_dec.zero_()
        a, g = torch.tensor([[1.0, 0.6]]), torch.tensor([[0.0, 1.0]])
        assert gs.encode(a).tolist() == [[1.0, 0.0]]                       # without a gradient: TopK
        assert torch.allclose(gs.encode(torch.stack([a, g], 1)), torch.tensor([[0.0, 0.6]]))
        a2, g2 = split_pairs(torch.stack([a, g], 1))
        assert torch.equal(a2, a) and torch.equal(g2, g) and split_pairs(a)[1] is None

def test_bad_configs_more():
    with pytest.raises(ValueError, match='p_end'): make_sae('panneal', d_in=8, d_sae=16, p_start=0.5, p_end=0.8)
    with pytest.raises(ValueError, match='anneal_end'): make_sae('panneal', d_in=8, d_sae=16, anneal_start=10, anneal_end=5)
    with pytest.raises(ValueError, match='taf_min'): make_sae('gba', d_in=8, d_sae=16, taf_min=0.5, taf_max=0.1)
    with pytest.raises(ValueError, match='n_groups'): make_sae('gba', d_in=8, d_sae=16, n_groups=32)
    with pytest.raises(ValueError, match='d_mlp'): make_sae('jsae', d_in=8, d_sae=16, k=2)
    with pytest.raises(ValueError, match='mlp_act'): make_sae('jsae', d_in=8, d_sae=16, k=2, d_mlp=8, mlp_act='tanh')
    with pytest.raises(ValueError, match='grad_norm'): make_sae('gsae', d_in=8, d_sae=16, k=2, grad_norm='layer')
    with pytest.raises(ValueError, match='shape'): FrozenMLP(4, 8).set_weights(W_in=torch.zeros(8, 4))
    j = make_jsae(FrozenMLP.random(8, 8), d_sae=16, k=2, device='cpu')
    j.cfg.act_scale = 2.0
    with pytest.raises(ValueError, match='unscaled'): j.fold_act_scale()
