# Copied unchanged from the shared peer-benchmark harness (shared/bench-peers/bench_plain.py), by its authors; see bench/peers/README.md.
"""Reference: minimal hand-written PyTorch SAE training loop (no library).

topk: pre = (x - b_dec) @ W_enc + b_enc ; keep top-k (ReLU'd) ; x_hat = z @ W_dec + b_dec
relu: z = relu(pre) ; loss = ||x - x_hat||^2 + l1 * sum_i z_i ||W_dec_i||
Adam, lr 4e-4, one epoch, no renorm, no aux loss, no clipping.
--sparse-decode: topk only; decode by gathering the k chosen decoder rows
(embedding_bag) instead of a dense [B,F]@[F,d] matmul (shows the headroom).
"""
import time

import torch
import torch.nn.functional as F

import common as C


def main():
    args = C.parse_args(lambda p: p.add_argument("--sparse-decode", action="store_true"))
    C.setup(args.seed)
    x_all = C.load_train(args.n)
    x_eval = C.load_eval()
    d, f, k = C.D_IN, C.D_SAE, C.K
    W_dec = torch.randn(f, d)
    # unit-norm decoder rows for topk; 0.1-norm for relu (Anthropic "April update" init, as
    # sae-lens decoder_init_norm=0.1): with lr 4e-4 and only 64 Adam steps a unit-norm ReLU SAE
    # cannot move its thresholds far enough to reach L0 < ~800.
    init_norm = 1.0 if args.config == "topk" else 0.1
    W_dec = (init_norm * W_dec / W_dec.norm(dim=1, keepdim=True)).requires_grad_()
    W_enc = W_dec.detach().t().clone().requires_grad_()
    b_enc = torch.zeros(f, requires_grad=True)
    b_dec = torch.zeros(d, requires_grad=True)
    params = [W_enc, b_enc, W_dec, b_dec]
    opt = torch.optim.Adam(params, lr=C.LR)

    def encode(x):
        pre = (x - b_dec) @ W_enc + b_enc
        if args.config == "relu":
            return pre.relu(), None
        v, i = pre.topk(k, dim=-1, sorted=False)
        v = v.relu()
        if args.sparse_decode:
            return v, i
        return torch.zeros_like(pre).scatter(-1, i, v), None

    def decode(z, idx=None):
        if idx is None:
            return z @ W_dec + b_dec
        return F.embedding_bag(idx, W_dec, per_sample_weights=z, mode="sum") + b_dec

    rss0 = C.rss_now_mb()
    with C.Meter() as meter, C.maybe_profile():
        for x in C.batches(x_all):
            z, idx = encode(x)
            x_hat = decode(z, idx)
            loss = (x_hat - x).pow(2).sum(-1).mean()
            if args.config == "relu":
                loss = loss + args.l1 * (z * W_dec.norm(dim=1)).sum(-1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    dt = meter.seconds

    with torch.no_grad():
        enc = lambda x: encode(x)[0] if not args.sparse_decode else \
            torch.zeros(x.shape[0], f).scatter(-1, encode(x)[1], encode(x)[0])
        m = C.evaluate(enc, lambda z: decode(z), x_eval)
    name = "plain-torch" + ("-sparsedec" if args.sparse_decode else "")
    C.finish(args, name, "n/a", dt, m, rss_before_train_mb=rss0, extra=meter.as_dict(),
             notes="hand-written loop; dense decode" if not args.sparse_decode else "embedding_bag decode")


if __name__ == "__main__":
    main()
