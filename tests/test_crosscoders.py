"Crosscoders and variant kinds saved to disk load in a fresh process that never imported their modules."
import subprocess, sys, torch
from saebook.crosscoders import make_crosscoder, make_transcoder
from saebook.sae import make_sae
from saebook.io import save_sae


def test_extension_kinds_load_in_a_fresh_process(tmp_path):
    saes = {'cc': make_crosscoder('jumprelu', d=8, d_sae=16, n_sites=3, device='cpu', seed=0),
            'tc': make_transcoder('topk', d=8, d_sae=16, k=2, skip=True, device='cpu', seed=0),
            'abs': make_sae('abstopk', d_in=8, d_sae=16, k=2, device='cpu', seed=0)}
    x = {'cc': torch.randn(4, 3, 8), 'tc': torch.randn(4, 2, 8), 'abs': torch.randn(4, 8)}
    for name, s in saes.items():
        save_sae(s, tmp_path / name)
        torch.save(s(x[name]).detach(), tmp_path / f'{name}.out')
        torch.save(x[name], tmp_path / f'{name}.in')
    code = ("import sys, torch; from saebook.io import load_sae; p = sys.argv[1]\n"
            "for n in ('cc', 'tc', 'abs'):\n"
            "    s = load_sae(f'{p}/{n}', device='cpu')\n"
            "    x = torch.load(f'{p}/{n}.in', weights_only=True)\n"
            "    assert torch.equal(s(x), torch.load(f'{p}/{n}.out', weights_only=True)), n\n"
            "    print(type(s).__name__)")
    out = subprocess.run([sys.executable, '-c', code, str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ['CrosscoderJumpReLUSAE', 'CrosscoderTopKSAE', 'AbsTopKSAE']


def test_crosscoder_bad_inputs():
    import pytest
    cc = make_crosscoder('topk', d=8, d_sae=16, n_sites=2, k=2, device='cpu')
    with pytest.raises(ValueError, match='n_sites=2'): cc(torch.randn(4, 3, 8))
    with pytest.raises(ValueError, match='d_in=8'): cc(torch.randn(4, 2, 9))
    with pytest.raises(ValueError, match="norm='max'"): make_crosscoder('relu', d=8, d_sae=16, n_sites=2, norm='max')
