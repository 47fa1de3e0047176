# Copied unchanged from the shared peer-benchmark harness (shared/bench-peers/matmul_peak.py), by its authors; see bench/peers/README.md.
"""Dense float32 matmul throughput with torch (2 threads): the physical reference.

Times the three GEMM shapes one SAE step is made of (B=4096, d_in=512, d_sae=8192):
  fwd enc  [B,d] @ [d,F]      fwd dec / dZ  [B,F] @ [F,d]     dW  [d,B] @ [B,F]
and reports GFLOP/s (2*M*N*K / t), best and median of repeats.
"""
import json
import sys
import time

import torch

torch.set_num_threads(2)
B, D, F = 4096, 512, 8192


def bench(m, k, n, reps=15, warm=3):
    a = torch.randn(m, k)
    b = torch.randn(k, n)
    out = torch.empty(m, n)
    for _ in range(warm):
        torch.matmul(a, b, out=out)
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        torch.matmul(a, b, out=out)
        ts.append(time.perf_counter() - t)
    ts.sort()
    fl = 2.0 * m * k * n
    return dict(shape=f"{m}x{k} @ {k}x{n}", best_gflops=fl / ts[0] / 1e9,
                median_gflops=fl / ts[len(ts) // 2] / 1e9)


res = {
    "torch": torch.__version__, "threads": torch.get_num_threads(),
    "shapes": [bench(B, D, F), bench(B, F, D), bench(D, B, F)],
}
res["ref_gflops"] = res["shapes"][0]["median_gflops"]  # 4096x512 @ 512x8192, median
res["max_gflops"] = max(s["best_gflops"] for s in res["shapes"])
print(json.dumps(res, indent=1))
if len(sys.argv) > 1:
    with open(sys.argv[1], "w") as f:
        json.dump(res, f, indent=1)
