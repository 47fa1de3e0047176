"""Batched toy models vs a Python loop over single-instance models, on identical work.

Trains N toy models of superposition (5 features in 2 dims, importance 0.9^i, a spread of feature probabilities)
two ways, with the same batch size, optimiser and number of steps per model:
  - batched: one `ToyModel(n_instances=N)`, all instances in each tensor op (what saebook does);
  - loop:    N separate `ToyModel(n_instances=1)`, each with its own Adam, stepped one after the other.
Prints seconds per step of all N models and the ratio. The loop is timed on fewer steps (it is slow) and scaled.

    python bench/toy_batched.py [--instances 1000] [--batch-sizes 32 128 1024] [--steps 50] [--loop-steps 3]

The ratio depends on the batch size: a single small model's step is all Python and dispatch overhead (about
0.3 ms on our 2-core CPU whatever the batch), which batching removes; at large batches both ways become
memory-bound elementwise work, and the gap narrows to what the fewer, bigger kernels save.
"""
import argparse, time, platform
import torch
from saebook.toy import ToyModel


def step_fn(model, opt, g, batch_size):
    loss = model.loss(model.generate_batch(batch_size, g)).sum()
    opt.zero_grad(set_to_none=True); loss.backward(); opt.step()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--instances', type=int, default=1000)
    ap.add_argument('--batch-sizes', type=int, nargs='+', default=[32, 128, 1024])
    ap.add_argument('--steps', type=int, default=50, help='timed steps of the batched model')
    ap.add_argument('--loop-steps', type=int, default=3, help='timed steps of the loop over single models')
    a = ap.parse_args()
    N = a.instances
    imp, probs = 0.9 ** torch.arange(5), torch.logspace(0, -2, N)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    print(f"{N} instances of 5 features in 2 dims; seconds per step of all {N} models\n")
    print("| batch | batched ToyModel (s) | Python loop of single models (s) | speed-up |")
    print("|---|---|---|---|")
    for B in a.batch_sizes:
        batched = ToyModel(N, 5, 2, importance=imp, feature_probability=probs, seed=0)
        opt, g = torch.optim.Adam(batched.parameters(), lr=1e-3), torch.Generator().manual_seed(0)
        for _ in range(3): step_fn(batched, opt, g, B)                         # warm-up
        t = time.perf_counter()
        for _ in range(a.steps): step_fn(batched, opt, g, B)
        t_batched = (time.perf_counter() - t) / a.steps

        singles = [ToyModel(1, 5, 2, importance=imp, feature_probability=probs[i], seed=i) for i in range(N)]
        opts = [torch.optim.Adam(m.parameters(), lr=1e-3) for m in singles]
        for m, o in zip(singles, opts): step_fn(m, o, g, B)                     # warm-up (Adam state allocation)
        t = time.perf_counter()
        for _ in range(a.loop_steps):
            for m, o in zip(singles, opts): step_fn(m, o, g, B)
        t_loop = (time.perf_counter() - t) / a.loop_steps
        print(f"| {B} | {t_batched:.4f} | {t_loop:.3f} | {t_loop / t_batched:.1f}x |", flush=True)

if __name__ == '__main__':
    main()
