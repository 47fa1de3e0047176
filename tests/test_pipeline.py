"""The real-model loop end to end on the offline default (SmolLM2-135M-Instruct + KJV), at a small size:
train -> save (SAELens format) -> load -> the same outputs; spliced CE sane; the CLI's errors are clear."""
import json, subprocess
import pytest, torch
from saebook.cli import train_on_model
from saebook.io import load_sae
from saebook.models import load_model


@pytest.fixture(scope='module')
def model():
    return load_model()


def test_train_on_model_small(model, tmp_path):
    sae, m, hist, _, eval_toks = train_on_model(model, corpus='kjv', hook_name='blocks.3.hook_resid_post', d_sae=1152,
                                                n_tokens=16_384, epochs=2, batch_size=512, n_eval_contexts=8,
                                                out=tmp_path, progress=False, k=32)
    assert m['l0'] <= 32.0 + 1e-6
    assert m['ce_clean'] < m['ce_spliced'] < m['ce_zero'], m
    assert m['ce_recovered'] > 0.5, f"even a small SAE should recover most of the CE loss at layer 3: {m}"
    assert m['fvu'] < 0.6 and hist.loss.iloc[-1] < hist.loss.iloc[0]
    assert sae.cfg.act_scale == 1.0, "the normalisation must be folded in before saving"
    back = load_sae(tmp_path / 'sae', device='cpu')
    x = torch.randn(4, 576) * 50
    with torch.no_grad(): torch.testing.assert_close(back(x), sae(x))
    assert back.cfg.hook_name == 'blocks.3.hook_resid_post'
    assert json.loads((tmp_path / 'metrics.json').read_text())['kind'] == 'topk'


def test_cli_train_bad_hook_is_clear(tmp_path):
    r = subprocess.run(['saebook', 'train', '--hook', 'blocks.3.hook_resid_pots', '--tokens', '4096', '--out', str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2
    assert "did you mean ['blocks.3.hook_resid_post'" in r.stderr, r.stderr


def test_spliced_eval_rejects_an_sae_of_the_wrong_width(model):
    from saebook.evals import spliced_ce_loss
    from saebook.models import tokenize_corpus, load_corpus
    from saebook.sae import make_sae
    toks = tokenize_corpus(model, load_corpus('kjv'), context_size=16, max_tokens=32)
    sae = make_sae('topk', d_in=64, d_sae=128, k=4, device='cpu', hook_name='blocks.3.hook_resid_post')
    with pytest.raises(ValueError, match='expects d_in=64'):
        spliced_ce_loss(model, sae, toks)
