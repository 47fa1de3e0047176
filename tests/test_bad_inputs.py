"""Every bad input gets a clear error naming the problem (and, where there is one, the fix).

`python tests/test_bad_inputs.py` prints the cases and their messages as a markdown table."""
import json, tempfile
from pathlib import Path
import pytest, torch
from saebook.sae import make_sae
from saebook.train import train
from saebook.toy import ToyData
from saebook.evals import evaluate, mmcs
from saebook.io import save_sae, load_sae

_tmp = Path(tempfile.mkdtemp())
_sae = make_sae('topk', d_in=8, d_sae=16, k=2, seed=0)


def _saved(name, edit_cfg=None, weights=None):
    f = save_sae(_sae, _tmp / name, overwrite=True)
    if edit_cfg:
        d = json.loads((f / 'cfg.json').read_text()); edit_cfg(d); (f / 'cfg.json').write_text(json.dumps(d))
    if weights is not None: (f / 'sae_weights.safetensors').write_bytes(weights)
    return f


def _nan_batch():
    x = torch.randn(4, 8); x[1, 3] = float('inf'); return x


def _broken_json():
    f = _saved('badjson'); (f / 'cfg.json').write_text('{"d_in": 8,'); return f


def _kind_junk(d): d['metadata']['saebook_config']['kind'] = 'resnet'
def _k_str(d): d['metadata']['saebook_config']['k'] = 'eight'
def _d_mismatch(d): d['d_sae'] = 32
def _arch(d): d['metadata'].pop('saebook_config'); d['architecture'] = 'transcoder_v9'


CASES = [  # (case, callable, exception type, substring of the message)
    ('unknown SAE kind', lambda: make_sae('topkk', d_in=8, d_sae=16), ValueError, "did you mean ['topk'"),
    ('k > d_sae', lambda: make_sae('topk', d_in=8, d_sae=16, k=32), ValueError, 'k=32 must be in [1, d_sae=16]'),
    ('negative coefficient', lambda: make_sae('relu', d_in=8, d_sae=16, l1_coeff=-1), ValueError, '`l1_coeff` must be a non-negative'),
    ('zero width', lambda: make_sae('relu', d_in=0, d_sae=16), ValueError, '`d_in` must be a positive int'),
    ('unknown option', lambda: make_sae('topk', d_in=8, d_sae=16, kk=3), TypeError, "unknown option(s) ['kk']"),
    ('wrong option type', lambda: make_sae('topk', d_in=8, d_sae=16, k=2.5), TypeError, 'option `k` must be int, got 2.5'),
    ('wrong activation width', lambda: _sae(torch.randn(4, 9)), ValueError, 'expects d_in=8; did you pick the right hook_name'),
    ('integer activations', lambda: _sae(torch.ones(4, 8, dtype=torch.long)), TypeError, 'must be floating point'),
    ('dtype mismatch', lambda: _sae(torch.randn(4, 8, dtype=torch.float64)), TypeError, "this SAE's weights are torch.float32"),
    ('NaN/inf activations', lambda: _sae(_nan_batch()), ValueError, 'contains 1 NaN/inf value(s)'),
    ('NaN in training data', lambda: train(make_sae('topk', d_in=8, d_sae=16, k=2), [torch.randn(4, 8), _nan_batch()], n_steps=2, progress=False),
     ValueError, 'step 1: `batch` contains 1 NaN/inf'),
    ('source runs out', lambda: train(make_sae('topk', d_in=8, d_sae=16, k=2), iter([torch.randn(4, 8)]), n_steps=3, progress=False),
     ValueError, 'ran out after 1 steps'),
    ('negative learning rate', lambda: train(_sae, torch.randn(64, 8), n_steps=1, lr=-1), ValueError, 'lr=-1 must be positive'),
    ('checkpoints without a folder', lambda: train(_sae, torch.randn(64, 8), n_steps=1, ckpt_every=1), ValueError, 'ckpt_dir is not'),
    ('empty eval source', lambda: evaluate(_sae, []), ValueError, 'yielded no activations'),
    ('mismatched MMCS widths', lambda: mmcs(torch.randn(4, 8), torch.randn(4, 9)), ValueError, 'must be [n, d] with equal d'),
    ('save into non-empty folder', lambda: save_sae(_sae, _saved('full')), ValueError, 'pass overwrite=True'),
    ('load a missing folder', lambda: load_sae(_tmp / 'nope'), ValueError, 'is not a folder'),
    ('cfg.json not JSON', lambda: load_sae(_broken_json()), ValueError, 'is not valid JSON'),
    ('unregistered kind in cfg.json', lambda: load_sae(_saved('kind', _kind_junk)), ValueError, "saebook kind 'resnet' is not registered"),
    ('wrong type in cfg.json', lambda: load_sae(_saved('kstr', _k_str)), ValueError, "option `k` must be int, got 'eight'"),
    ('cfg.json disagrees with itself', lambda: load_sae(_saved('dm', _d_mismatch)), ValueError, 'the file was edited inconsistently'),
    ('unsupported SAELens architecture', lambda: load_sae(_saved('arch', _arch)), ValueError, "architecture 'transcoder_v9' is not supported"),
    ('truncated weights file', lambda: load_sae(_saved('trunc', weights=(_tmp / 'full' / 'sae_weights.safetensors').read_bytes()[:100])),
     ValueError, 'could not be read as safetensors'),
    ('huge declared shape', lambda: load_sae(_saved('huge', lambda d: (d.update(d_sae=2**40), d['metadata']['saebook_config'].update(d_sae=2**40))))
     , ValueError, 'far beyond any SAE'),
]


@pytest.mark.parametrize('case,fn,exc,msg', CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_error(case, fn, exc, msg):
    with pytest.raises(exc) as e: fn()
    assert msg in str(e.value), f"{case}: {e.value}"


if __name__ == '__main__':
    print('| case | error |\n|---|---|')
    for case, fn, exc, msg in CASES:
        try: fn(); out = 'NO ERROR'
        except Exception as e: out = f"{type(e).__name__}: {e}".replace('|', '\\|').replace('\n', ' ')
        print(f"| {case} | {out} |")
