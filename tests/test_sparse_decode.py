"""The sparse fast paths of `saebook.sae` compute what the dense paths compute.

For random shapes, seeds, dtypes and SAE kinds, `forward_loss` with `sparse_path=True` (embedding_bag decoder,
gradients built from the active latents only) and with `sparse_path=False` (dense matmuls, plain autograd) must
give the same loss terms, reconstruction, code and gradient of every parameter, up to float rounding (the two paths
add the same numbers in a different order). Nothing here is timed: speed is measured by `bench/` (see
nbs/tutorials/performance.ipynb)."""
import copy
import pytest
import torch
from hypothesis import given, settings, strategies as st
from saebook.sae import (make_sae, SparseCode, sparse_decode, encode_at, sparse_view, fired_latents)

TOL = {torch.float64: 1e-10, torch.float32: 2e-4}


def _grads(sae, x, dead=None):
    out = sae.forward_loss(x, 0.7, dead)
    sae.zero_grad(set_to_none=True)
    sum(out.terms.values()).backward()
    return out, {n: p.grad.clone() for n, p in sae.named_parameters() if p.grad is not None}


def _pair(kind, d_in, d_sae, dtype, seed, **kw):
    "The same SAE twice: one on the fast path, one forced onto the dense path."
    fast = make_sae(kind, d_in=d_in, d_sae=d_sae, device='cpu', seed=seed, **kw).to(dtype)
    with torch.no_grad():   # non-trivial biases, so b_dec's and b_enc's gradients are exercised
        fast.b_dec.normal_(std=0.5); fast.b_enc.normal_(std=0.2)
    dense = copy.deepcopy(fast); dense.sparse_path = False
    return fast, dense


def _close(a, b, dtype, what):
    scale = max(1.0, b.abs().max().item())
    err = (a - b).abs().max().item()
    assert err <= TOL[dtype] * scale, f"{what}: max |sparse - dense| = {err:.3g} (scale {scale:.3g})"


def _check_same(fast, dense, x, dtype, dead=None, steps=2):
    for _ in range(steps):   # twice: the second step reuses the fast path's buffers
        (o1, g1), (o2, g2) = _grads(fast, x, dead), _grads(dense, x, dead)
    assert sparse_view(o2.feature_acts) is None
    _close(o1.sae_out.detach(), o2.sae_out.detach(), dtype, 'reconstruction')
    assert torch.equal(o1.feature_acts.detach(), o2.feature_acts.detach()), "feature_acts differ"
    assert set(o1.terms) == set(o2.terms)
    for t in o2.terms: _close(o1.terms[t].detach(), o2.terms[t].detach(), dtype, f"loss term {t}")
    assert set(g1) == set(g2)
    for n in g2: _close(g1[n], g2[n], dtype, f"grad of {n}")
    assert torch.equal(fired_latents(o1.feature_acts), (o2.feature_acts != 0).any(0))
    return o1


@given(st.sampled_from(['topk', 'batchtopk']), st.integers(1, 24), st.sampled_from([1, 7, 32]),
       st.integers(0, 2**31 - 1), st.sampled_from([torch.float64, torch.float32]), st.booleans())
@settings(max_examples=40, deadline=None)
def test_topk_family_sparse_path_matches_dense(kind, k, batch, seed, dtype, with_dead):
    d_in, d_sae = 16, 96
    fast, dense = _pair(kind, d_in, d_sae, dtype, seed, k=k)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, d_in, generator=g).to(dtype)
    dead = (torch.rand(d_sae, generator=g) < 0.3) if with_dead else None   # AuxK on the dead latents
    o = _check_same(fast, dense, x, dtype, dead)
    assert sparse_view(o.feature_acts) is not None, "the fast path was not taken"
    if kind == 'batchtopk': assert torch.equal(fast.threshold, dense.threshold)   # the inference threshold too


@given(st.integers(0, 2**31 - 1), st.sampled_from([torch.float64, torch.float32]), st.floats(-3.0, 0.5))
@settings(max_examples=25, deadline=None)
def test_relu_sparse_and_dense_paths_match_generic(seed, dtype, bias):
    d_in, d_sae = 16, 128
    fast, dense = _pair('relu', d_in, d_sae, dtype, seed, l1_coeff=0.3)
    with torch.no_grad(): fast.b_enc.fill_(bias); dense.b_enc.fill_(bias)   # from dense to very sparse codes
    x = torch.randn(32, d_in, generator=torch.Generator().manual_seed(seed)).to(dtype)
    fast.sparse_max_density = 0.15
    o = _check_same(fast, dense, x, dtype)
    density = (o.feature_acts != 0).double().mean().item()
    assert (sparse_view(o.feature_acts) is not None) == (density <= 0.15)


def test_bench_size_topk_matches_dense():
    "The benchmark's shape (k=32 of d_sae=8192) on a smaller batch, float32."
    fast, dense = _pair('topk', 512, 8192, torch.float32, 0, k=32)
    x = torch.randn(256, 512, generator=torch.Generator().manual_seed(1))
    _check_same(fast, dense, x, torch.float32, steps=1)


@given(st.integers(1, 12), st.integers(1, 20), st.integers(0, 2**31 - 1))
@settings(max_examples=30, deadline=None)
def test_sparse_decode_and_encode_at_match_dense_autograd(batch, k, seed):
    "The two building blocks on their own, against `code.to_dense(vals) @ W` and `pre.gather` under plain autograd."
    d_in, d_sae = 8, 40
    k = min(k, d_sae)
    g = torch.Generator().manual_seed(seed)
    sae = make_sae('topk', d_in=d_in, d_sae=d_sae, k=k, device='cpu', seed=seed).double()
    with torch.no_grad(): sae.b_dec.normal_(generator=g); sae.b_enc.normal_(generator=g)
    x = torch.randn(batch, d_in, generator=g, dtype=torch.float64, requires_grad=True)
    pre = sae.pre_acts(x)
    code = SparseCode.from_topk(pre.detach().topk(k, dim=-1).indices, d_sae)
    w = torch.randn(batch, d_in, generator=g, dtype=torch.float64)           # a random linear loss on the output
    y_sparse = (sparse_decode(encode_at(pre, code), code, sae.W_dec) * w).sum()
    ps = list(sae.parameters()) + [x]
    gs = torch.autograd.grad(y_sparse, ps)
    pre2 = sae.pre_acts(x).clone()                                            # a clone: no sparse metadata
    y_dense = ((code.to_dense(code.gather(pre2)) @ sae.W_dec) * w).sum()
    gd = torch.autograd.grad(y_dense, ps)
    torch.testing.assert_close(y_sparse, y_dense)
    for a, b in zip(gs, gd): torch.testing.assert_close(a, b)


def test_variable_rows_codes():
    "Codes with a different number of latents per row (BatchTopK, ReLU), including empty rows."
    f = torch.tensor([[0., 2., 0., 1.], [0., 0., 0., 0.], [3., 0., 0., 0.]], dtype=torch.float64)
    code = SparseCode.from_mask(f)
    assert code.offsets.tolist() == [0, 2, 2, 3] and code.idx.tolist() == [1, 3, 0]
    vals = code.gather(f)
    assert torch.equal(code.to_dense(vals), f)
    W = torch.randn(4, 5, dtype=torch.float64)
    torch.testing.assert_close(sparse_decode(vals, code, W), f @ W)
    flat = SparseCode.from_flat(torch.tensor([8, 3, 1]), 3, 4)
    assert flat.offsets.tolist() == [0, 2, 2, 3] and flat.idx.tolist() == [1, 3, 0]


def test_dense_fallbacks():
    "Variants the sparse path does not cover still train (dense), and sparse_path=False is honoured."
    x = torch.randn(16, 8)
    for kind, kw in [('abstopk', dict(k=3)), ('featurechoice', dict(k=3)), ('jumprelu', {}), ('gated', {})]:
        sae = make_sae(kind, d_in=8, d_sae=32, device='cpu', seed=0, **kw)
        out = sae.forward_loss(x)
        assert sparse_view(out.feature_acts) is None
        sum(out.terms.values()).backward()
        assert sae.W_enc.grad is not None and sae.W_dec.grad is not None
    sae = make_sae('topk', d_in=8, d_sae=32, k=3, device='cpu', seed=0); sae.sparse_path = False
    assert sparse_view(sae.forward_loss(x).feature_acts) is None


def test_feature_acts_buffer_is_not_overwritten_while_held():
    "The fast path reuses its code buffer across steps, but never one that a caller still holds."
    sae = make_sae('topk', d_in=8, d_sae=32, k=3, device='cpu', seed=0)
    x1, x2 = torch.randn(4, 8), torch.randn(4, 8)
    f1 = sae.forward_loss(x1).feature_acts.detach().clone()
    held = sae.forward_loss(x1).feature_acts
    sae.forward_loss(x2); sae.forward_loss(x2)
    assert torch.equal(held.detach(), f1)
    sae.eval()
    assert '_workspace' not in sae.__dict__, "eval() should free the buffers"


def test_remove_parallel_decoder_grad():
    "The in-place projection equals the textbook formula, on unit and non-unit decoder rows."
    sae = make_sae('topk', d_in=8, d_sae=32, k=3, device='cpu', seed=0)
    with torch.no_grad(): sae.W_dec.mul_(torch.rand(32, 1) + 0.5)     # rows not unit norm
    for normalise in (False, True):
        if normalise: sae.normalize_decoder()
        G = torch.randn(32, 8); sae.W_dec.grad = G.clone()
        sae.remove_parallel_decoder_grad()
        W = sae.W_dec.detach()
        expect = G - (G * W).sum(-1, keepdim=True) * W / W.pow(2).sum(-1, keepdim=True)
        torch.testing.assert_close(sae.W_dec.grad, expect)
        torch.testing.assert_close((sae.W_dec.grad * W).sum(-1), torch.zeros(32), atol=1e-5, rtol=0)
