"Steering: vector files (no pickle, no silent overwrite) and hooks that never outlive their `with` block."
import pytest, torch
from safetensors.torch import save_file
from saebook.steering import SteeringVector, steer, clamp, ablate, generate, hook_count
from saebook.sae import make_sae


def test_vector_file_roundtrip_and_refusals(tmp_path):
    v = SteeringVector(torch.randn(576), 'blocks.6.hook_resid_post', {'method': 'caa', 'positive': ['a', 'b']})
    p = v.save(tmp_path / 'v.safetensors')
    assert b'pickle' not in p.read_bytes()[:200] and p.read_bytes()[:8] != b'\x80\x04\x95'   # safetensors, not a pickle
    w = SteeringVector.load(p)
    assert torch.equal(w.vector, v.vector) and w.hook_name == v.hook_name and w.provenance == v.provenance
    with pytest.raises(ValueError, match='overwrite=True'): v.save(p)
    v.save(p, overwrite=True)
    with pytest.raises(ValueError, match="end in '.safetensors'"): v.save(tmp_path / 'v.pt')
    save_file({'W_dec': torch.zeros(2, 2)}, str(tmp_path / 'other.safetensors'))
    with pytest.raises(ValueError, match='not a saebook steering vector'): SteeringVector.load(tmp_path / 'other.safetensors')
    with pytest.raises(TypeError, match='floating tensor'): SteeringVector(torch.arange(3), 'blocks.0.hook_resid_post')


@pytest.fixture(scope='module')
def model():
    from saebook.models import load_model
    return load_model()


def test_hooks_removed_on_every_exit(model):
    h = 'blocks.2.hook_resid_post'
    v = SteeringVector(torch.randn(576), h)
    sae = make_sae('topk', d_in=576, d_sae=32, k=4, hook_name=h, device='cpu')
    toks = model.to_tokens('Hello there, how are you?')
    assert hook_count(model) == 0
    with steer(model, v, 1.0):
        with clamp(model, sae, 3, 0.0), ablate(model, 'blocks.1.attn.hook_z', [0, 1]):
            assert hook_count(model) == 3
            model(toks)
        assert hook_count(model) == 1
    assert hook_count(model) == 0
    for exc in (RuntimeError, KeyboardInterrupt):
        with pytest.raises(exc):
            with steer(model, v, 1.0), ablate(model, 'blocks.1.mlp.hook_post', 5, 'mean', reference=['Some text here.']):
                assert hook_count(model) == 2
                raise exc('boom')
        assert hook_count(model) == 0
    with pytest.raises(ValueError, match='shape'):                  # a failed entry adds nothing
        with steer(model, torch.randn(10), 1.0, hook_name=h): pass
    assert hook_count(model) == 0


def test_zero_scale_is_a_no_op(model):
    v = SteeringVector(torch.randn(576), 'blocks.4.hook_resid_post')
    clean = generate(model, ['The cat sat on', 'Once upon a time there'], 6, progress=False)
    with steer(model, v, 0.0):
        assert generate(model, ['The cat sat on', 'Once upon a time there'], 6, progress=False) == clean
