"Fast checks of `saebook.analysis` (the trained demonstrations and the SmolLM2 numbers live in nbs/12_analysis.ipynb)."
import json, math, subprocess, sys
from types import SimpleNamespace
import pytest
import torch
import torch.nn.functional as F
from saebook.sae import make_sae
from saebook.io import save_sae, load_sae
from saebook.analysis import (ITDA, ITDAConfig, build_itda, itda_similarity, matching_pursuit, head_attribution,
                              dark_matter, top_token_share, twin_comparison, embed_documents, rank_by_concept,
                              diff_datasets)

HOOK = 'blocks.0.hook_resid_post'

class StubLM:
    "The parts of a TransformerBridge the analysis functions use: the activation is a fixed embedding of the token."
    def __init__(self, E, name='stub'):
        self.E, self.cfg, self.hook_dict = E, SimpleNamespace(device='cpu', model_name=name), {HOOK: None}
    def run_with_cache(self, toks, names_filter=None, stop_at_layer=None, return_cache_object=False):
        return None, {HOOK: self.E[toks]}

def _sparse_acts(n=2048, d=32, n_feat=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    feats = F.normalize(torch.randn(n_feat, d, generator=g), dim=-1)
    c = (torch.rand(n, n_feat, generator=g) < 3 / n_feat) * torch.rand(n, n_feat, generator=g)
    return c, feats

# --- matching pursuit and ITDA ------------------------------------------------------------------------------------
def test_matching_pursuit_residual_never_grows():
    g = torch.Generator().manual_seed(0)
    atoms, x = F.normalize(torch.randn(40, 8, generator=g), dim=-1), torch.randn(16, 8, generator=g)
    prev = x.norm(dim=-1)
    for k in range(1, 10):
        r = (x - matching_pursuit(x, atoms, k) @ atoms).norm(dim=-1)
        assert (r <= prev + 1e-5).all(); prev = r
    assert (matching_pursuit(x, atoms, 3) != 0).sum(-1).max() <= 3
    assert matching_pursuit(x, atoms[:0], 3).shape == (16, 0)

def test_build_itda_atoms_are_examples():
    c, feats = _sparse_acts()
    x = c @ feats
    itda = build_itda(x, k=4, threshold=0.2)
    keep = x.norm(dim=-1) > 0
    assert itda.d_sae == len(itda.cfg.example_ids) > 0 and keep[itda.example_ids].all()
    torch.testing.assert_close(itda.W_dec, F.normalize(x[itda.example_ids], dim=-1))
    with torch.no_grad():
        f = itda.encode(x)
        assert ((f != 0).sum(-1) <= 4).all()
        # every atom's own example is reconstructed exactly by one step
        torch.testing.assert_close(itda(x[itda.example_ids[:5]]), x[itda.example_ids[:5]], atol=1e-5, rtol=1e-5)
    assert itda.cfg.metadata['n_examples'] == x.shape[0]
    assert build_itda(x, k=4, threshold=0.2, max_atoms=10).d_sae == 10

def test_build_itda_from_batches_matches_tensor_ids():
    c, feats = _sparse_acts()
    x = c @ feats
    a = build_itda(x, k=4, threshold=0.2)
    b = build_itda(list(x.split(256)), k=4, threshold=0.2)   # same stream in batches: ids are stream positions
    assert a.cfg.example_ids == b.cfg.example_ids

def test_build_itda_bad_inputs():
    x = torch.randn(64, 8)
    with pytest.raises(ValueError, match='threshold'): build_itda(x, threshold=1.5)
    with pytest.raises(ValueError, match='no atoms'): build_itda(torch.zeros(10, 8))
    with pytest.raises(ValueError, match='must be activations'): build_itda(torch.randn(4, 4, 4))
    from saebook.toy import ToyData
    with pytest.raises(ValueError, match='endless'): build_itda(ToyData(n_features=16, d=8, n_active=2))
    from saebook.train import TensorSource
    with pytest.raises(ValueError, match='endless'): build_itda(TensorSource(x, 16))
    assert build_itda(ToyData(n_features=16, d=8, n_active=2, batch_size=32, n_batches=2), threshold=0.3).cfg.metadata['n_examples'] == 64
    with pytest.raises(ValueError, match='example_ids has 2 entries'):
        ITDAConfig(d_in=8, d_sae=3, kind='itda', example_ids=(0, 1))

def test_itda_round_trip(tmp_path):
    c, feats = _sparse_acts()
    itda = build_itda(c @ feats, k=4, threshold=0.3, center=True, hook_name=HOOK)
    back = load_sae(save_sae(itda, tmp_path / 'itda'), device='cpu')
    assert type(back) is ITDA and back.cfg == itda.cfg
    assert json.loads((tmp_path / 'itda' / 'cfg.json').read_text())['architecture'] == 'itda'
    for n, v in itda.state_dict().items(): assert torch.equal(v, back.state_dict()[n])
    x = torch.randn(8, 32)
    with torch.no_grad(): assert torch.equal(itda(x), back(x))

def test_itda_loads_in_fresh_process(tmp_path):
    c, feats = _sparse_acts()
    save_sae(build_itda(c @ feats, k=4, threshold=0.3), tmp_path / 'itda')
    code = f"from saebook.io import load_sae; s = load_sae({str(tmp_path / 'itda')!r}, device='cpu'); print(type(s).__name__, s.d_sae)"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == 'ITDA'

def test_itda_fold_act_scale():
    c, feats = _sparse_acts()
    x = c @ feats
    itda = build_itda(x * 3.0, k=4, threshold=0.3, center=True)
    itda.cfg.act_scale = 3.0
    with torch.no_grad(): want = itda(x * 3.0) / 3.0
    itda.fold_act_scale()
    with torch.no_grad(): torch.testing.assert_close(itda(x), want, atol=1e-5, rtol=1e-5)

def test_itda_similarity_rotation_invariant():
    c, feats = _sparse_acts(n=1024)
    Q = torch.linalg.qr(torch.randn(32, 32, generator=torch.Generator().manual_seed(1)))[0]
    a, b = build_itda(c @ feats, k=4, threshold=0.2), build_itda(c @ feats @ Q, k=4, threshold=0.2)
    assert itda_similarity(a, b) == 1.0
    other = build_itda(c @ _sparse_acts(n=1024, seed=5)[1], k=4, threshold=0.2)
    assert itda_similarity(a, other) < 0.9
    with pytest.raises(ValueError, match='must be an ITDA'): itda_similarity(a, make_sae('topk', 32, 64, k=4, device='cpu'))

# --- attention-output SAEs ------------------------------------------------------------------------------------------
def test_head_attribution_of_head_local_latents():
    n_heads, d_head = 3, 4
    sae = make_sae('relu', d_in=n_heads * d_head, d_sae=6, device='cpu')
    with torch.no_grad():
        W = torch.zeros(6, n_heads, d_head)
        for i in range(6): W[i, i % n_heads] = torch.randn(d_head)
        sae.W_dec.copy_(W.flatten(1)); sae.W_enc.copy_(W.flatten(1).T); sae.b_enc.fill_(-0.1); sae.b_dec.zero_()
    share = head_attribution(sae, n_heads)
    torch.testing.assert_close(share, torch.eye(n_heads)[torch.arange(6) % n_heads])
    x = torch.randn(256, n_heads * d_head).abs()
    act = head_attribution(sae, n_heads, x)
    fired = ~act[:, 0].isnan()
    assert fired.any()
    torch.testing.assert_close(act[fired], torch.eye(n_heads)[torch.arange(6) % n_heads][fired])
    with pytest.raises(ValueError, match='dividing'): head_attribution(sae, 5)

# --- dark matter ----------------------------------------------------------------------------------------------------
def _half_identity_sae(d=8):
    "A ReLU SAE that reconstructs the first half of the coordinates (their positive part) and misses the second half."
    sae = make_sae('relu', d_in=d, d_sae=d // 2, device='cpu', apply_b_dec_to_input=False)
    with torch.no_grad():
        E = torch.eye(d)[: d // 2]
        sae.W_dec.copy_(E); sae.W_enc.copy_(E.T); sae.b_enc.zero_(); sae.b_dec.zero_()
    return sae

def test_dark_matter_linear_error_is_found():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4000, 8, generator=g); x[:, :4] = x[:, :4].abs()   # the SAE's half is reconstructed exactly
    r = dark_matter(_half_identity_sae(), x)
    assert r['error_r2'] > 0.999 and r['fvu_nonlinear'] < 1e-3 and 0.5 < r['fvu'] < 0.9
    y = torch.randn(4000, 8, generator=g); y[:, :4] *= 3                # now ReLU drops negative parts: nonlinear error
    r2 = dark_matter(_half_identity_sae(), y)
    assert r2['error_r2'] < 0.9 and r2['fvu_nonlinear'] > 0.05
    with pytest.raises(ValueError, match='needs more than'): dark_matter(_half_identity_sae(), x[:5])

# --- random twin ----------------------------------------------------------------------------------------------------
def test_top_token_share():
    f = torch.tensor([[1., 0., 0.], [1., 2., 0.], [0., 2., 0.]])
    s = top_token_share(f, torch.tensor([5, 5, 7]))
    torch.testing.assert_close(s[:2], torch.tensor([1.0, 0.5])); assert s[2].isnan()
    with pytest.raises(ValueError, match='align'): top_token_share(f, torch.tensor([1, 2]))

def test_twin_comparison_with_stubs():
    g = torch.Generator().manual_seed(0)
    dirs = F.normalize(torch.randn(64, 32, generator=g), dim=-1)
    codes = (torch.rand(256, 64, generator=g) < 3 / 64) * (0.5 + torch.rand(256, 64, generator=g))
    trained, rand = StubLM(codes @ dirs, 'a'), StubLM(torch.randn(256, 32, generator=g), 'b')
    toks = torch.randint(1, 256, (40, 17), generator=g); toks[:, 0] = 0
    df = twin_comparison(trained, toks, HOOK, twin=rand, d_sae=128, k=4, n_steps=60, batch_size=128, ce_contexts=0)
    assert list(df.index) == ['trained', 'random']
    assert {'l0', 'fvu', 'dead_frac', 'top_token_share', 'dark_matter_r2'} <= set(df.columns)
    assert df.fvu['trained'] < df.fvu['random']
    with pytest.raises(ValueError, match='need at least 2'): twin_comparison(trained, toks[:1], HOOK, twin=rand)

# --- SAE embeddings -------------------------------------------------------------------------------------------------
def _concept_setup():
    E = torch.zeros(50, 8); E[1:6, 0] = 1; E[6:11, 1] = 1; E[11:, 4:] = torch.randn(39, 4) * 0.2
    sae = make_sae('relu', d_in=8, d_sae=2, device='cpu', apply_b_dec_to_input=False, hook_name=HOOK)
    with torch.no_grad():
        sae.W_dec.copy_(torch.eye(8)[:2]); sae.W_enc.copy_(torch.eye(8)[:, :2]); sae.b_enc.fill_(-0.5)
    return StubLM(E), sae

def test_embed_and_rank():
    model, sae = _concept_setup()
    docs = [[0, 1, 2, 3], [0, 12, 13, 14, 15, 16, 1], [0, 6, 7], [0, 20, 21, 22, 23, 24, 25, 26, 27]]
    emb = embed_documents(model, sae, docs, batch_size=2)
    torch.testing.assert_close(emb, torch.tensor([[0.5, 0.], [0.5, 0.], [0., 0.5], [0., 0.]]))
    mean = embed_documents(model, sae, docs, pool='mean', batch_size=4)      # padded batch
    torch.testing.assert_close(mean[1], torch.tensor([0.5 / 6, 0.]))
    torch.testing.assert_close(embed_documents(model, sae, docs[2:3], pool='mean'), mean[2:3])
    order, scores = rank_by_concept(emb, 0)
    assert set(order[:2].tolist()) == {0, 1} and scores[3] == 0
    assert rank_by_concept(emb, [0, 1])[0][-1].item() == 3
    assert rank_by_concept(mean, 0)[0][0].item() == 0                       # frequency beats a single mention
    d = diff_datasets(emb[:2], emb[2:], k=1)
    assert d.latent[0] == 0 and d['diff'][0] == 1.0

def test_embed_bad_inputs():
    model, sae = _concept_setup()
    with pytest.raises(ValueError, match='pool'): embed_documents(model, sae, [[0, 1]], pool='sum')
    with pytest.raises(ValueError, match='empty'): embed_documents(model, sae, [])
    with pytest.raises(ValueError, match='BOS and at least one'): embed_documents(model, sae, [[0]])
    with pytest.raises(TypeError, match='no tokenizer'): embed_documents(model, sae, ['some text'])
    with pytest.raises(ValueError, match='out of range'): rank_by_concept(torch.zeros(3, 2), 2)
