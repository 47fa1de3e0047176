"""Reliability: a training run killed with SIGKILL resumes to the same weights; malformed SAE folders only ever raise
a clean `ValueError` (fuzzed with hypothesis), with bounded memory."""
import json, os, resource, signal, struct, subprocess, sys, textwrap, time
from pathlib import Path
import pytest, torch
from hypothesis import given, settings, strategies as st, HealthCheck
from safetensors.torch import load_file
from saebook.sae import make_sae
from saebook.io import save_sae, load_sae, CFG_FILE, WEIGHTS_FILE

# ---------------------------------------------------------------------------------------------------------------
# SIGKILL mid-run, then resume=True: the final weights equal an uninterrupted run's, bit for bit (CPU)

TRAIN_SCRIPT = textwrap.dedent('''
    import sys, time, torch
    torch.set_num_threads(1)
    from saebook.toy import ToyData
    from saebook.sae import make_sae
    from saebook.train import train
    from saebook.io import save_sae
    ckpt_dir, out, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
    data = ToyData(n_features=64, d=16, batch_size=256, seed=1)
    class Slow:   # the same batches, slowed down so the parent can kill the run mid-way
        def iter_from(self, start=0):
            for x in data.iter_from(start):
                time.sleep(delay); yield x
    sae = make_sae('topk', d_in=16, d_sae=64, k=4, seed=0)
    train(sae, Slow(), n_steps=40, ckpt_every=5, ckpt_dir=ckpt_dir, keep_last=2, resume=True, progress=False)
    save_sae(sae, out)
''')


def _run(args, **kw):
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    return subprocess.Popen([sys.executable, '-c', TRAIN_SCRIPT, *map(str, args)], env=env, **kw)


def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path):
    ref = _run([tmp_path / 'ref_ckpt', tmp_path / 'ref', 0])
    assert ref.wait(timeout=300) == 0
    p = _run([tmp_path / 'ckpt', tmp_path / 'killed', 0.05])
    deadline = time.time() + 300
    while not (tmp_path / 'ckpt' / 'step_0000015').exists():          # let it write a few checkpoints
        assert p.poll() is None and time.time() < deadline, "the run ended before it could be killed"
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL); p.wait()
    assert p.returncode == -signal.SIGKILL and not (tmp_path / 'killed').exists()
    steps = sorted(d.name for d in (tmp_path / 'ckpt').iterdir())
    assert len(steps) <= 3 and steps[-1] < 'step_0000040', steps          # rotation kept at most keep_last (+1 in flight)
    assert _run([tmp_path / 'ckpt', tmp_path / 'killed', 0]).wait(timeout=300) == 0   # resume=True picks the latest
    a, b = load_file(str(tmp_path / 'ref' / WEIGHTS_FILE)), load_file(str(tmp_path / 'killed' / WEIGHTS_FILE))
    assert a.keys() == b.keys()
    for k in a: assert torch.equal(a[k], b[k]), k


# ---------------------------------------------------------------------------------------------------------------
# Fuzz: thousands of malformed SAE folders; load_sae may succeed (a harmless change) or raise ValueError, nothing else

KINDS = ('relu', 'gated', 'jumprelu', 'topk', 'batchtopk')


def _valid_folder(kind, root: Path) -> tuple[dict, bytes]:
    sae = make_sae(kind, d_in=6, d_sae=12, seed=0, **({'k': 3} if 'topk' in kind else {}))
    f = save_sae(sae, root / kind)
    return json.loads((f / CFG_FILE).read_text()), (f / WEIGHTS_FILE).read_bytes()


@pytest.fixture(scope='module')
def originals(tmp_path_factory):
    root = tmp_path_factory.mktemp('valid')
    return {k: _valid_folder(k, root) for k in KINDS}


junk = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True), st.text(max_size=8),
                 st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
HUGE = 2**40


def _header(w: bytes) -> dict:
    n = struct.unpack('<Q', w[:8])[0]
    return json.loads(w[8:8 + n])


def _with_header(w: bytes, h: dict) -> bytes:
    n = struct.unpack('<Q', w[:8])[0]
    hb = json.dumps(h).encode()
    return struct.pack('<Q', len(hb)) + hb + w[8 + n:]


@st.composite
def malformed(draw, originals):
    kind = draw(st.sampled_from(KINDS))
    cfg, w = originals[kind]
    cfg = json.loads(json.dumps(cfg))
    sc = cfg['metadata']['saebook_config']
    what = draw(st.sampled_from(['cfg_key_junk', 'saebook_key_junk', 'cfg_drop', 'saebook_drop', 'cfg_not_json',
                                 'cfg_truncated', 'cfg_not_object', 'w_truncated', 'w_flip', 'w_header_shape',
                                 'w_header_dtype', 'w_header_offsets', 'w_header_len', 'w_drop_tensor', 'huge_dims',
                                 'missing_file', 'arch_unknown', 'saelens_only']))
    cfg_text = None
    if what == 'cfg_key_junk': cfg[draw(st.sampled_from(sorted(cfg)))] = draw(junk)
    elif what == 'saebook_key_junk': sc[draw(st.sampled_from(sorted(sc)))] = draw(junk)
    elif what == 'cfg_drop': cfg.pop(draw(st.sampled_from(sorted(cfg))))
    elif what == 'saebook_drop': sc.pop(draw(st.sampled_from(sorted(sc))))
    elif what == 'cfg_not_json': cfg_text = draw(st.text(max_size=40)) + '{'
    elif what == 'cfg_truncated':
        t = json.dumps(cfg); cfg_text = t[:draw(st.integers(0, len(t) - 1))]
    elif what == 'cfg_not_object': cfg_text = json.dumps(draw(junk))
    elif what == 'w_truncated': w = w[:draw(st.integers(0, len(w) - 1))]
    elif what == 'w_flip':
        i = draw(st.integers(0, len(w) - 1)); b = bytearray(w); b[i] ^= draw(st.integers(1, 255)); w = bytes(b)
    elif what in ('w_header_shape', 'w_header_dtype', 'w_header_offsets', 'w_drop_tensor'):
        h = _header(w); name = draw(st.sampled_from(sorted(k for k in h if k != '__metadata__')))
        if what == 'w_header_shape': h[name]['shape'] = draw(st.lists(st.sampled_from([0, 1, 6, 12, 7, HUGE]), max_size=3))
        elif what == 'w_header_dtype': h[name]['dtype'] = draw(st.sampled_from(['I64', 'U8', 'BOOL', 'F16', 'F64', 'XX']))
        elif what == 'w_header_offsets':
            h[name]['data_offsets'] = [draw(st.integers(0, HUGE)), draw(st.integers(0, HUGE))]
        else: h.pop(name)
        w = _with_header(w, h)
    elif what == 'w_header_len': w = struct.pack('<Q', draw(st.sampled_from([0, 7, 10**9, 2**63]))) + w[8:]
    elif what == 'huge_dims':   # a config and an honest-looking header declaring a dictionary too big to allocate
        cfg['d_sae'] = sc['d_sae'] = HUGE
        h = _header(w)
        for k, v in h.items():
            if k != '__metadata__': v['shape'] = [HUGE if s == 12 else s for s in v['shape']]
        w = _with_header(w, h)
    elif what == 'arch_unknown': cfg['metadata'].pop('saebook_config'); cfg['architecture'] = draw(st.text(max_size=10))
    elif what == 'saelens_only':   # a SAELens-written folder (no saebook_config) with one junk key
        cfg['metadata'].pop('saebook_config'); cfg[draw(st.sampled_from(sorted(cfg)))] = draw(junk)
    return kind, what, (cfg_text if cfg_text is not None else json.dumps(cfg)), (None if what == 'missing_file' else w)


COUNT = {'cases': 0, 'loaded': 0, 'value_error': 0}
N_CASES = int(os.environ.get('SAEBOOK_FUZZ_CASES', 2000))


def test_fuzz_malformed_folders_raise_only_valueerror(originals, tmp_path):
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    @settings(max_examples=N_CASES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(malformed(originals))
    def check(case):
        kind, what, cfg_text, w = case
        folder = tmp_path / 'case'
        folder.mkdir(exist_ok=True)
        (folder / CFG_FILE).write_text(cfg_text)
        if w is None: (folder / WEIGHTS_FILE).unlink(missing_ok=True)
        else: (folder / WEIGHTS_FILE).write_bytes(w)
        COUNT['cases'] += 1
        try:
            sae = load_sae(folder, device='cpu')
        except ValueError as e:
            COUNT['value_error'] += 1
            assert str(e), (what, 'empty message')
            return
        COUNT['loaded'] += 1
        x = torch.randn(4, sae.d_in)                 # whatever loaded must be a working SAE
        assert sae(x).shape == x.shape

    check()
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024   # KiB -> MiB on Linux
    print(f"fuzz: {COUNT} ; peak RSS grew {grown:.0f} MiB")
    assert COUNT['cases'] >= min(1000, N_CASES) and COUNT['value_error'] > COUNT['cases'] // 2
    assert grown < 300, f"peak RSS grew by {grown:.0f} MiB"
