# Copied unchanged from the shared peer-benchmark harness (shared/bench-peers/gen_data.py), by its authors; see bench/peers/README.md.
"""Generate the one shared synthetic activation tensor (sparse superposition).

train: N = 2**18 vectors, d_in = 512, float32
eval : 16384 held-out vectors from the same process (disjoint draws)

x = sum_i a_i * f_i + eps,   f_i unit-norm ground-truth directions (4096 of them),
each feature active independently with p = 20/4096 (so ~20 active per vector, Poisson-like),
magnitudes a_i ~ Exponential(1), eps ~ N(0, 0.01^2) per coordinate.  Seed fixed.
"""
import hashlib
import json
import os
import sys
import time

import torch

N_TRAIN = 2 ** 18
N_EVAL = 16384
D_IN = 512
N_FEAT = 4096
MEAN_ACTIVE = 20
NOISE = 0.01
SEED = 0
CHUNK = 16384


def generate(n, D, gen):
    out = torch.empty(n, D.shape[1], dtype=torch.float32)
    p = MEAN_ACTIVE / D.shape[0]
    for s in range(0, n, CHUNK):
        e = min(n, s + CHUNK)
        m = e - s
        mask = torch.rand(m, D.shape[0], generator=gen) < p
        mags = torch.empty(m, D.shape[0]).exponential_(1.0, generator=gen)
        coef = mags * mask
        out[s:e] = coef @ D + NOISE * torch.randn(m, D.shape[1], generator=gen)
    return out


def sha256(t):
    return hashlib.sha256(t.contiguous().numpy().tobytes()).hexdigest()


def main(outdir):
    torch.set_num_threads(2)
    os.makedirs(outdir, exist_ok=True)
    gen = torch.Generator().manual_seed(SEED)
    D = torch.randn(N_FEAT, D_IN, generator=gen)
    D = D / D.norm(dim=1, keepdim=True)
    t0 = time.time()
    train = generate(N_TRAIN, D, gen)
    evl = generate(N_EVAL, D, gen)
    torch.save(train, os.path.join(outdir, "acts_train.pt"))
    torch.save(evl, os.path.join(outdir, "acts_eval.pt"))
    torch.save(D, os.path.join(outdir, "true_features.pt"))
    meta = dict(n_train=N_TRAIN, n_eval=N_EVAL, d_in=D_IN, n_feat=N_FEAT,
                mean_active=MEAN_ACTIVE, noise=NOISE, seed=SEED,
                train_sha256=sha256(train), eval_sha256=sha256(evl),
                train_mean_sq_norm=float(train.pow(2).sum(1).mean()),
                gen_seconds=time.time() - t0)
    with open(os.path.join(outdir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))
