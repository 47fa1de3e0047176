"Property-based tests (hypothesis) of the activation rules, the data, the metrics and save/load."
import tempfile
import torch
from hypothesis import given, settings, strategies as st, HealthCheck
from saebook.sae import make_sae, topk_activation, batch_topk_activation
from saebook.toy import ToyData
from saebook.evals import evaluate, mmcs
from saebook.io import save_sae, load_sae

shapes = st.tuples(st.integers(1, 8), st.integers(1, 40))


@given(shapes, st.integers(1, 40), st.integers(0, 2**31 - 1))
def test_topk_keeps_the_k_largest_positive_values(shape, k, seed):
    B, d = shape; k = min(k, d)
    x = torch.randn(B, d, generator=torch.Generator().manual_seed(seed))
    f = topk_activation(x, k)
    assert ((f != 0).sum(-1) <= k).all()
    kept = f != 0
    assert torch.equal(f[kept], x[kept])                 # values pass through unchanged
    assert (f >= 0).all()
    for b in range(B):                                   # nothing dropped is larger than something kept
        if kept[b].any() and (~kept[b]).any():
            assert x[b][~kept[b]].max() <= x[b][kept[b]].min() or x[b][~kept[b]].max() <= 0


@given(shapes, st.floats(0.5, 8), st.integers(0, 2**31 - 1))
def test_batch_topk_budget_is_per_batch(shape, k, seed):
    B, d = shape
    x = torch.randn(B, d, generator=torch.Generator().manual_seed(seed))
    f = batch_topk_activation(x, k)
    assert (f != 0).sum() <= int(k * B)
    assert (f >= 0).all() and torch.equal(f[f != 0], x[f != 0])


@given(st.integers(0, 1000), st.integers(0, 50))
@settings(max_examples=20, deadline=None)
def test_toydata_is_a_pure_function_of_seed_and_index(seed, i):
    a = ToyData(n_features=32, d=8, n_active=3, batch_size=16, seed=seed)
    b = ToyData(n_features=32, d=8, n_active=3, batch_size=16, seed=seed)
    assert torch.equal(a.batch(i), b.batch(i))
    x, c = a.sample(i)
    assert torch.allclose(x, c @ a.features, atol=1e-5) and (c >= 0).all()


@given(st.sampled_from(['relu', 'gated', 'jumprelu', 'topk', 'batchtopk']), st.integers(1, 24), st.integers(1, 48),
       st.integers(0, 1000))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_save_load_round_trip_is_exact(kind, d_in, d_sae, seed):
    kw = {'k': min(3, d_sae)} if 'topk' in kind else {}
    sae = make_sae(kind, d_in=d_in, d_sae=d_sae, device='cpu', seed=seed, **kw)
    x = torch.randn(5, d_in, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        for p in sae.parameters(): p.add_(0.1 * torch.randn_like(p))
    if kind == 'batchtopk': sae.forward_loss(x)
    sae.eval()
    with tempfile.TemporaryDirectory() as d:
        save_sae(sae, d)
        back = load_sae(d, device='cpu')
    with torch.no_grad():
        torch.testing.assert_close(back.encode(x), sae.encode(x))
        torch.testing.assert_close(back(x), sae(x))
    assert back.cfg == sae.cfg


@given(st.integers(2, 16), st.integers(0, 1000))
@settings(max_examples=20, deadline=None)
def test_metrics_are_in_range(d, seed):
    sae = make_sae('relu', d_in=d, d_sae=2 * d, device='cpu', seed=seed)
    x = torch.randn(64, d, generator=torch.Generator().manual_seed(seed))
    m = evaluate(sae, x)
    assert 0 <= m['l0'] <= 2 * d and m['fvu'] >= 0 and 0 <= m['dead_frac'] <= 1 and 0 <= m['dense_frac'] <= 1
    assert -1 <= mmcs(sae, torch.randn(3, d)) <= 1
