"""How the cost of a TopK training step grows with d_sae, k and batch, on saebook's sparse and dense paths.

    python bench/scaling.py [--reps 3]

One factor varies at a time around the benchmark's point (d_in 512, d_sae 8192, k 32, batch 4096); each point is
the median time of `forward_loss` + `backward()` + an Adam step over `reps` steps; all points and both paths are
timed round-robin (one step each, then again), so a change in the machine's load hits every point alike. Also a
ReLU sweep over the code density (the fraction of non-zero latents), which is where `ReLUSAE.sparse_max_density`
(the switch from the dense to the sparse path) comes from. Writes bench/results/scaling.json and
bench/results/scaling.png (shown on the performance page).
"""
import argparse, json, os, statistics as st, time
from pathlib import Path
import torch
from saebook.sae import make_sae

OUT = Path(__file__).resolve().parents[1] / 'bench' / 'results'
BASE = dict(d_sae=8192, k=32, batch=4096)
SWEEPS = dict(d_sae=[2048, 4096, 8192, 16384], k=[8, 16, 32, 64, 128], batch=[512, 1024, 2048, 4096])


class Point:
    "One SAE, its optimiser and a fixed batch; `step()` times one training step (forward_loss, backward, Adam)."
    def __init__(self, kind, d_sae, k, batch, sparse, density=None, seed=0):
        self.x = torch.randn(batch, 512, generator=torch.Generator().manual_seed(seed))
        if kind == 'topk':
            self.sae = make_sae('topk', d_in=512, d_sae=d_sae, k=k, device='cpu', seed=seed)
            self.sae.sparse_path = sparse
            lr = 4e-4
        else:   # ReLU with biases set so that about `density` of the codes are non-zero, kept there by a tiny lr
            self.sae = make_sae('relu', d_in=512, d_sae=d_sae, l1_coeff=1.0, device='cpu', seed=seed)
            with torch.no_grad():
                self.sae.b_enc.sub_(self.sae.pre_acts(self.x)[:1024].quantile(1 - density, dim=0))
            self.sae.sparse_max_density = 1.0 if sparse else 0.0
            lr = 1e-9
        self.opt = torch.optim.Adam(self.sae.parameters(), lr=lr)
        self.times = []
        self.step(); self.times.clear()                       # warm-up (buffers, allocator)

    def step(self):
        t = time.perf_counter()
        out = self.sae.forward_loss(self.x); self.opt.zero_grad(set_to_none=True)
        sum(out.terms.values()).backward(); self.opt.step()
        self.times.append(time.perf_counter() - t)

    def density(self):
        with torch.no_grad(): return (self.sae.encode(self.x) != 0).float().mean().item()


def plot(res, path):
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    for ax, (factor, values) in zip(axes, SWEEPS.items()):
        pts = res['topk'][factor]
        for p, style in (('sparse', 'o-'), ('dense', 's--')):
            ax.plot(values, [st.median(pt[p]) for pt in pts], style, label=f'{p} path')
        ax.set_xscale('log', base=2); ax.set_yscale('log', base=2)
        ax.set_xlabel(factor); ax.set_ylabel('seconds / step'); ax.grid(alpha=.3)
        fixed = ', '.join(f'{f}={v}' for f, v in BASE.items() if f != factor)
        ax.set_title(f'TopK, {fixed}', fontsize=9)
        ax.legend(fontsize=8)
    ax = axes[-1]
    pts = res['relu']
    dens = [pt['sparse_density'] for pt in pts]
    ax.plot(dens, [st.median(pt['sparse']) for pt in pts], 'o-', label='sparse path')
    ax.plot(dens, [st.median(pt['dense']) for pt in pts], 's--', label='dense path')
    ax.set_xscale('log'); ax.set_yscale('log', base=2); ax.grid(alpha=.3)
    ax.set_xlabel('fraction of non-zero codes'); ax.set_ylabel('seconds / step')
    ax.set_title('ReLU, d_sae=8192, batch=4096', fontsize=9); ax.legend(fontsize=8)
    fig.tight_layout(); fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--reps', type=int, default=7)
    ap.add_argument('--densities', type=float, nargs='+', default=[0.002, 0.005, 0.01, 0.02, 0.05, 0.1])
    a = ap.parse_args()
    torch.set_num_threads(2)
    pts = {}   # every point built first, then timed round-robin (rep by rep), so load changes hit all points alike
    for factor, values in SWEEPS.items():
        for v in values:
            kw = {**BASE, factor: v}
            for path in ('sparse', 'dense'):
                pts[('topk', factor, v, path)] = Point('topk', kw['d_sae'], kw['k'], kw['batch'], path == 'sparse')
    for dens in a.densities:
        for path in ('sparse', 'dense'):
            pts[('relu', 'density', dens, path)] = Point('relu', 8192, None, 4096, path == 'sparse', density=dens)
    load = []
    for rep in range(a.reps):
        for p in pts.values(): p.step()
        load.append(os.getloadavg()[0]); print(f'rep {rep}: load {load[-1]:.1f}', flush=True)
    res = dict(base=BASE, sweeps=SWEEPS, reps=a.reps, threads=2, torch=torch.__version__, load=load,
               topk={f: [dict(sparse=pts[('topk', f, v, 'sparse')].times, dense=pts[('topk', f, v, 'dense')].times)
                         for v in vals] for f, vals in SWEEPS.items()},
               relu=[dict(target_density=d, sparse=pts[('relu', 'density', d, 'sparse')].times,
                          dense=pts[('relu', 'density', d, 'dense')].times,
                          sparse_density=pts[('relu', 'density', d, 'sparse')].density()) for d in a.densities])
    for f, vals in SWEEPS.items():
        for v, pt in zip(vals, res['topk'][f]):
            print(f"topk {f}={v}: sparse {st.median(pt['sparse']):.3f} s, dense {st.median(pt['dense']):.3f} s")
    for pt in res['relu']:
        print(f"relu density {pt['sparse_density']:.4f}: sparse {st.median(pt['sparse']):.3f} s, dense {st.median(pt['dense']):.3f} s")
    OUT.mkdir(parents=True, exist_ok=True)
    json.dump(res, open(OUT / 'scaling.json', 'w'), indent=1)
    plot(res, OUT / 'scaling.png')
    print('wrote', OUT / 'scaling.json', OUT / 'scaling.png')


if __name__ == '__main__':
    main()
