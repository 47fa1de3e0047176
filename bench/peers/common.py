# Copied unchanged from the shared peer-benchmark harness (shared/bench-peers/common.py), by its authors; see bench/peers/README.md.
"""Shared pieces: config, data loading, shared evaluation, timing and result writing.

Every system script imports this, so every trained model is scored by the same
`evaluate(encode_fn, decode_fn)` on the same held-out tensor.
"""
import argparse
import json
import os
import platform
import resource
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("PEERBENCH_DATA", os.path.join(HERE, "data"))

D_IN = 512
D_SAE = 8192
K = 32
BATCH = 4096
LR = 4e-4
N_THREADS = 2


def flops_per_step(batch=BATCH, d_in=D_IN, d_sae=D_SAE):
    # brief's convention: fwd+bwd (3x fwd) of two (B x d_in x d_sae) matmuls, 2 FLOP per MAC
    return 6 * batch * d_in * d_sae * 2


def parse_args(extra=None):
    p = argparse.ArgumentParser()
    p.add_argument("--config", choices=["topk", "relu"], required=True)
    p.add_argument("--l1", type=float, default=None, help="L1 coefficient (relu config)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rep", type=int, default=0)
    p.add_argument("--n", type=int, default=None, help="use only the first n training vectors (tuning)")
    p.add_argument("--out", default=None, help="write result json here")
    if extra:
        extra(p)
    return p.parse_args()


def setup(seed):
    torch.set_num_threads(N_THREADS)
    torch.manual_seed(seed)


def rss_now_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def load_train(n=None):
    x = torch.load(os.path.join(DATA, "acts_train.pt"))
    if n is not None:
        x = x[:n].clone()
    assert x.dtype == torch.float32 and x.shape[1] == D_IN
    return x


def load_eval():
    return torch.load(os.path.join(DATA, "acts_eval.pt"))


def batches(x, batch=BATCH):
    """The canonical in-memory stream: contiguous views, fixed order, drop_last."""
    for s in range(0, x.shape[0] - batch + 1, batch):
        yield x[s:s + batch]


class StepClock:
    """Wrap an iterator of batches; records when the first batch is handed out
    (start of the training loop proper) and counts batches."""

    def __init__(self, it):
        self.it = iter(it)
        self.t_first = None
        self.n = 0

    def __iter__(self):
        return self

    def __next__(self):
        b = next(self.it)
        if self.t_first is None:
            self.t_first = time.perf_counter()
        self.n += 1
        return b


@torch.no_grad()
def evaluate(encode_fn, decode_fn, x_eval, d_sae=D_SAE, batch=4096):
    """Shared metrics on held-out data.
    encode_fn(x) -> dense codes [B, d_sae]; decode_fn(z) -> x_hat [B, d_in]."""
    se = 0.0
    l0 = 0.0
    fired = torch.zeros(d_sae, dtype=torch.bool)
    n = x_eval.shape[0]
    mu = x_eval.mean(0)
    tot = (x_eval - mu).pow(2).sum().item()
    for s in range(0, n, batch):
        x = x_eval[s:s + batch]
        z = encode_fn(x)
        if z.is_sparse:
            z = z.to_dense()
        z = z.float()
        x_hat = decode_fn(z).float()
        se += (x - x_hat).pow(2).sum().item()
        nz = z != 0
        l0 += nz.sum().item()
        fired |= nz.any(0)
    return dict(
        mse=se / (n * x_eval.shape[1]),
        fvu=se / tot,
        l0=l0 / n,
        dead_frac=1.0 - fired.float().mean().item(),
    )


def finish(args, system, version, train_seconds, metrics, notes="", extra=None,
           rss_before_train_mb=None, n_train=None, steps=None):
    n_train = n_train if n_train is not None else (args.n or 2 ** 18)
    steps = steps if steps is not None else n_train // BATCH
    fl = flops_per_step() * steps
    res = dict(
        system=system, version=version, config=args.config, l1=args.l1, seed=args.seed, rep=args.rep,
        torch=torch.__version__, threads=torch.get_num_threads(), python=platform.python_version(),
        n_train=n_train, steps=steps, train_seconds=train_seconds,
        tokens_per_s=n_train / train_seconds,
        gflops_per_s_nominal=fl / train_seconds / 1e9,
        peak_rss_mb=peak_rss_mb(), rss_before_train_mb=rss_before_train_mb,
        notes=notes, **metrics,
    )
    if extra:
        res.update(extra)
    s = json.dumps(res, indent=1)
    print(s)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(s)
    return res


class maybe_profile:
    """PEERBENCH_PROFILE=path -> wrap the training call in torch.profiler and write the
    op table (sorted by self CPU time) to that path. Off by default (adds overhead)."""

    def __init__(self):
        self.path = os.environ.get("PEERBENCH_PROFILE")
        self.prof = None

    def __enter__(self):
        if self.path:
            from torch.profiler import ProfilerActivity, profile
            self.prof = profile(activities=[ProfilerActivity.CPU], record_shapes=True)
            self.prof.__enter__()
        return self

    def __exit__(self, *exc):
        if self.prof is not None:
            self.prof.__exit__(*exc)
            ka = self.prof.key_averages()
            tot = sum(e.self_cpu_time_total for e in ka)
            with open(self.path, "w") as f:
                f.write(ka.table(sort_by="self_cpu_time_total", row_limit=25))
                f.write("\n# grouped by input shapes (top 25)\n")
                f.write(self.prof.key_averages(group_by_input_shape=True).table(
                    sort_by="self_cpu_time_total", row_limit=25))
                f.write(f"\n# total self cpu us: {tot}\n")
        return False


def _sys_cpu():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)  # busy jiffies, total jiffies


class Meter:
    """Wall time + contention check for the timed region.
    other_cpu_frac: share of the machine's CPU capacity used by *other* processes
    while we were timing (0 = we had the machine to ourselves)."""

    def __enter__(self):
        self.r0 = resource.getrusage(resource.RUSAGE_SELF)
        self.s0 = _sys_cpu()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.t1 = time.perf_counter()
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        s1 = _sys_cpu()
        hz = os.sysconf("SC_CLK_TCK")
        ncpu = os.cpu_count()
        self.seconds = self.t1 - self.t0
        own = (r1.ru_utime - self.r0.ru_utime) + (r1.ru_stime - self.r0.ru_stime)
        sys_busy = (s1[0] - self.s0[0]) / hz
        self.own_cpu_s = own
        self.own_cpu_frac = own / (ncpu * self.seconds)
        self.other_cpu_frac = max(0.0, (sys_busy - own) / (ncpu * self.seconds))
        return False

    def as_dict(self):
        return dict(own_cpu_frac=self.own_cpu_frac, other_cpu_frac=self.other_cpu_frac)
