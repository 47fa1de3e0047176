"""saebook's sparse TopK path against its own dense path, at the benchmark's size (k=32, d_sae=8192, d_in=512, B=4096).

    python bench/sparse_decode.py [--reps 7]

Times, interleaved (sparse, dense, sparse, ...) and reported as medians:
  decode      the decoder alone, forward + backward: `sparse_decode(vals, code, W_dec)` (embedding_bag, k rows per
              sample) vs `f @ W_dec` on the dense code, each with the gradients of W_dec and of the code values;
  step        `forward_loss` + `backward()` of a TopK SAE with `sparse_path` True vs False (what a training step
              costs besides the optimiser).
  dense efficiency: the dense paths' `forward_loss` + `backward()` (TopK with sparse_path=False, ReLU on its dense
              path) against a plain GEMM `[B, d_in] @ [d_in, d_sae]` timed in the same rounds: nominal work
              (12 B d_in d_sae FLOP) per second as a fraction of that GEMM's FLOP/s, i.e. of the matmul peak under
              the same load.
Also checks the two give the same outputs (max |difference|). Writes bench/results/sparse_decode.json.
"""
import argparse, json, os, statistics as st, time
from pathlib import Path
import torch
from saebook.sae import make_sae, SparseCode, sparse_decode

OUT = Path(__file__).resolve().parents[1] / 'bench' / 'results'


def timed(fn):
    t = time.perf_counter(); fn(); return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--reps', type=int, default=7)
    ap.add_argument('--batch', type=int, default=4096)
    ap.add_argument('--d-sae', type=int, default=8192)
    ap.add_argument('--k', type=int, default=32)
    a = ap.parse_args()
    torch.set_num_threads(2); torch.manual_seed(0)
    B, d, F, k = a.batch, 512, a.d_sae, a.k
    sae = make_sae('topk', d_in=d, d_sae=F, k=k, device='cpu', seed=0)
    dense_sae = make_sae('topk', d_in=d, d_sae=F, k=k, device='cpu', seed=0); dense_sae.sparse_path = False
    x = torch.randn(B, d)
    with torch.no_grad():
        top = sae.pre_acts(x).topk(k, dim=-1, sorted=False)
    code = SparseCode.from_topk(top.indices, F)
    vals = top.values.relu().reshape(-1).requires_grad_()
    f_dense = code.to_dense(vals.detach()).requires_grad_()
    g = torch.randn(B, d)

    def dec_sparse():
        W = sae.W_dec; W.grad = None; vals.grad = None
        sparse_decode(vals, code, W).backward(g)

    def dec_dense():
        W = sae.W_dec; W.grad = None; f_dense.grad = None
        (f_dense @ W).backward(g)

    def step(s):
        def fn():
            out = s.forward_loss(x); s.zero_grad(set_to_none=True); sum(out.terms.values()).backward()
        return fn

    # same results
    with torch.no_grad():
        err_fwd = (sparse_decode(vals, code, sae.W_dec) - f_dense @ sae.W_dec).abs().max().item()
    dec_sparse(); gs = sae.W_dec.grad.clone(); dec_dense(); gd = sae.W_dec.grad.clone()
    err_grad = (gs - gd).abs().max().item()

    relu = make_sae('relu', d_in=d, d_sae=F, l1_coeff=1.0, device='cpu', seed=0); relu.sparse_max_density = 0.0
    W_enc, gemm_out = sae.W_enc.detach().clone(), torch.empty(B, F)
    fns = {'decode_sparse': dec_sparse, 'decode_dense': dec_dense, 'step_sparse': step(sae), 'step_dense': step(dense_sae),
           'step_relu_dense': step(relu), 'gemm': lambda: torch.matmul(x, W_enc, out=gemm_out)}
    for fn in fns.values(): fn()                                   # warm-up
    times = {n: [] for n in fns}
    load = []
    for _ in range(a.reps):
        for n, fn in fns.items():
            times[n].append(timed(fn)); load.append(os.getloadavg()[0])
    med = {n: st.median(v) for n, v in times.items()}
    res = dict(batch=B, d_in=d, d_sae=F, k=k, threads=torch.get_num_threads(), torch=torch.__version__,
               median_seconds=med, all_seconds=times, load_avg=st.median(load),
               decode_speedup=med['decode_dense'] / med['decode_sparse'], step_speedup=med['step_dense'] / med['step_sparse'],
               max_abs_diff_output=err_fwd, max_abs_diff_grad_W_dec=err_grad)
    res['gemm_gflops'] = 2 * B * d * F / med['gemm'] / 1e9
    for n in ('step_dense', 'step_relu_dense'):   # nominal fwd+bwd work over time, as a fraction of the GEMM rate
        res[f'{n}_pct_of_gemm'] = 100 * 12 * B * d * F / med[n] / 1e9 / res['gemm_gflops']
    OUT.mkdir(parents=True, exist_ok=True)
    json.dump(res, open(OUT / 'sparse_decode.json', 'w'), indent=1)
    print(f"decoder fwd+bwd: sparse {1e3 * med['decode_sparse']:.1f} ms, dense {1e3 * med['decode_dense']:.1f} ms "
          f"-> {res['decode_speedup']:.1f}x; forward_loss+backward: sparse {1e3 * med['step_sparse']:.0f} ms, "
          f"dense {1e3 * med['step_dense']:.0f} ms -> {res['step_speedup']:.1f}x; max |diff| output {err_fwd:.2e}, "
          f"grad {err_grad:.2e}; GEMM {res['gemm_gflops']:.0f} GFLOP/s; dense paths at {res['step_dense_pct_of_gemm']:.0f}% (TopK), "
          f"{res['step_relu_dense_pct_of_gemm']:.0f}% (ReLU) of it; load avg {res['load_avg']:.1f}")


if __name__ == '__main__':
    main()
