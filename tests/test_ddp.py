"""Data-parallel training: `torchrun --nproc_per_node 2` on CPU (gloo) reaches the weights of one process on the same
global batches, writes one set of checkpoints, resumes exactly, and shards activation caching across ranks.

This file is also the worker script: pytest launches `torchrun ... tests/test_ddp.py OUT`, which runs `worker(OUT)`
in each of the two ranks; the test then compares what they wrote with one-process runs done here."""
import json, os, subprocess, sys, time, types
from pathlib import Path
import torch
from safetensors.torch import save_file, load_file

KINDS = {'topk': dict(k=4), 'relu': dict(l1_coeff=1e-3)}
TRAIN = dict(n_steps=40, lr=3e-3, dead_tokens=2048, log_every=10, progress=False)
N_CTX, CTX_LEN = 40, 9


def toy():
    from saebook.toy import ToyData
    return ToyData(n_features=64, d=32, n_active=3, batch_size=256, seed=0)


def new_sae(kind, seed=0):
    from saebook.sae import make_sae
    return make_sae(kind, d_in=32, d_sae=128, device='cpu', seed=seed, **KINDS.get(kind, dict(k=4)))


class FakeModel:
    "A stand-in for a TransformerBridge: the activation of a token is its embedding plus its position's; it logs what it ran."
    def __init__(self, vocab=64, d=8, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.E, self.P = torch.randn(vocab, d, generator=g), torch.randn(CTX_LEN, d, generator=g)
        self.cfg = types.SimpleNamespace(device='cpu', model_name='fake')
        self.hook_dict = {'blocks.0.hook_resid_post': None}
        self.seen = []
    def run_with_cache(self, toks, names_filter=None, stop_at_layer=None, return_cache_object=False):
        self.seen += toks[:, 1].tolist()                       # token 1 of a context is its id (see `fake_store`)
        return None, {'blocks.0.hook_resid_post': self.E[toks] + self.P[:toks.shape[1]]}


def fake_store():
    from saebook.activations import ActivationStore
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, 64, (N_CTX, CTX_LEN), generator=g)
    tokens[:, 0], tokens[:, 1] = 0, torch.arange(N_CTX)        # BOS, then the context's id
    model = FakeModel()
    store = ActivationStore(model, tokens, 'blocks.0.hook_resid_post', batch_size=16, buffer_batches=2, seed=0)
    model.seen.clear()                                         # the constructor ran one context to learn d_in
    return store, model


def worker(out: Path):
    "What each torchrun rank runs."
    torch.set_num_threads(1)
    from saebook.train import train, setup_distributed, cleanup_distributed
    from saebook.activations import cache_activations
    rank, world, dev = setup_distributed()
    assert world == 2 and dev.type == 'cpu', (world, dev)
    data = toy()
    for kind in KINDS:
        t0 = time.perf_counter()
        sae, hist = train(new_sae(kind), data, ckpt_every=20, ckpt_dir=str(out / f'ckpt_{kind}'), **TRAIN)
        save_file(sae.state_dict(), str(out / f'{kind}_rank{rank}.safetensors'))
        if rank == 0:
            hist.to_json(out / f'{kind}_hist.json')
            (out / f'{kind}_seconds.txt').write_text(str(time.perf_counter() - t0))
    # resume the 2-rank run from its step-20 checkpoint, in 2 ranks, into a differently initialised SAE
    sae, _ = train(new_sae('topk', seed=7), data, resume=str(out / 'ckpt_topk' / 'step_0000020'), **TRAIN)
    save_file(sae.state_dict(), str(out / f'topk_resumed_rank{rank}.safetensors'))
    # BatchTopK selects per rank (documented); the ranks must still hold identical weights
    sae, _ = train(new_sae('batchtopk'), data, **{**TRAIN, 'n_steps': 10})
    save_file(sae.state_dict(), str(out / f'batchtopk_rank{rank}.safetensors'))
    # a disk cache computed by both ranks together, each running the model on its own contexts only
    store, model = fake_store()
    cache_activations(store, out / 'cache', n_batches=8)
    (out / f'seen_rank{rank}.json').write_text(json.dumps(model.seen))
    cleanup_distributed()


def _launch(out: Path):
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'OMP_WAIT_POLICY': 'PASSIVE'}
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
           __file__, str(out)]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"torchrun failed:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}"


def _max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a)


def test_two_ranks_match_one_process(tmp_path):
    from saebook.train import train, latest_checkpoint
    from saebook.activations import CachedActivations
    t0 = time.perf_counter()
    _launch(tmp_path)
    launch_s = time.perf_counter() - t0
    data = toy()
    for kind in KINDS:
        one, hist = train(new_sae(kind), data, ckpt_every=40, ckpt_dir=str(tmp_path / f'one_{kind}'), **TRAIN)  # one process
        r0, r1 = (load_file(str(tmp_path / f'{kind}_rank{r}.safetensors')) for r in (0, 1))
        assert _max_diff(r0, r1) == 0, f"{kind}: the two ranks' weights differ: gradients were not synchronised"
        diff = _max_diff(r0, one.state_dict())
        print(f"{kind}: max |w(2 ranks) - w(1 process)| = {diff:.2e}, "
              f"2-rank train {float((tmp_path / f'{kind}_seconds.txt').read_text()):.2f} s")
        assert diff < 1e-5, f"{kind}: 2 ranks drifted {diff:.2e} from one process on the same global batches"
        h2 = json.loads((tmp_path / f'{kind}_hist.json').read_text())
        for col in ('tokens', 'loss', 'mse', 'l0', 'fvu', 'dead_frac'):   # logged metrics are global-batch metrics
            got, want = list(h2[col].values()), hist[col].tolist()
            assert max(abs(g - w) for g, w in zip(got, want)) < 1e-5, (kind, col, got, want)
        # only rank 0 wrote checkpoints: one folder per checkpoint step, nothing else
        ck = tmp_path / f'ckpt_{kind}'
        assert sorted(p.name for p in ck.iterdir()) == ['step_0000020', 'step_0000040'], list(ck.iterdir())
        assert all((p / 'trainer_state.pt').exists() for p in ck.iterdir())
        # Adam's moments see the gradients' scale (the weights barely do: Adam normalises it away), so they show the
        # all-reduced gradient is the mean over the global batch, not the sum over ranks
        opt2, opt1 = (torch.load(d / 'step_0000040' / 'trainer_state.pt', weights_only=True)['optimizer']['state']
                      for d in (ck, tmp_path / f'one_{kind}'))
        for i in opt1:
            for m in ('exp_avg', 'exp_avg_sq'):
                a, b = opt2[i][m], opt1[i][m]
                assert torch.allclose(a, b, rtol=1e-4, atol=1e-4 * b.abs().max().item()), \
                    f"{kind}: Adam's {m} of parameter {i} differs: gradients were not averaged like one process's"
    # resume in 2 ranks: bit-identical to the uninterrupted 2-rank run
    straight = load_file(str(tmp_path / 'topk_rank0.safetensors'))
    for r in (0, 1):
        assert _max_diff(load_file(str(tmp_path / f'topk_resumed_rank{r}.safetensors')), straight) == 0
    # resume the 2-rank checkpoint in one process: the same global batches follow, so it ends where one process ends
    resumed, _ = train(new_sae('topk', seed=9), data, resume=tmp_path / 'ckpt_topk' / 'step_0000020', **TRAIN)
    one, _ = train(new_sae('topk'), data, **TRAIN)
    assert _max_diff(resumed.state_dict(), one.state_dict()) < 1e-5
    b0, b1 = (load_file(str(tmp_path / f'batchtopk_rank{r}.safetensors')) for r in (0, 1))
    assert _max_diff(b0, b1) == 0 and all(torch.isfinite(v.double()).all() for v in b0.values())
    # sharded caching: the ranks ran the model on disjoint contexts, and the cache holds their shares batch by batch
    seen = [set(json.loads((tmp_path / f'seen_rank{r}.json').read_text())) for r in (0, 1)]
    assert not seen[0] & seen[1], f"both ranks computed contexts {seen[0] & seen[1]}"
    assert len(seen[0]) == len(seen[1]) == 8                     # 8 batches * 16 rows / 8 rows per context / 2 ranks
    store, _ = fake_store()
    want = torch.cat([torch.cat([next(store.iter_shard(i, r, 2)) for r in (0, 1)]) for i in range(8)])
    cache = CachedActivations(tmp_path / 'cache', batch_size=16)
    got = torch.cat([load_file(str(f))['acts'] for f in cache.shards])
    assert torch.equal(got, want) and cache.meta['n_rows'] == 128
    print(f"torchrun launch + 2-rank work: {launch_s:.1f} s")


if __name__ == '__main__':
    worker(Path(sys.argv[1]))
