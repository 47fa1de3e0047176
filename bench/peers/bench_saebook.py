"""saebook: its own trainer, `saebook.train.train`, on the shared tensor (same batches, same order as the peers).

topk : make_sae('topk', k=32) -- unit-norm decoder, AuxK (never active here: no latent is silent for 1M tokens).
relu : make_sae('relu', l1_coeff=L1) with the decoder (and tied encoder) initialised at norm 0.1, as bench_plain.py
       and SAELens (decoder_init_norm=0.1) do: with 64 Adam steps at lr 4e-4 a unit-norm ReLU SAE cannot get its L0
       down (see bench_plain.py). Same loss convention as plain/SAELens: sum_d (x - x_hat)^2 + l1 sum_i f_i ||W_dec_i||.
Trainer settings: lr 4e-4 constant (decay_frac=0, as the peers), everything else saebook's defaults (b_dec initialised
at the first batch's mean, grad-norm clipping at 1). --dense sets sae.sparse_path = False (saebook's dense path).
"""
from importlib.metadata import version

import torch

import common as C


def main():
    def extra(p):
        p.add_argument("--dense", action="store_true", help="saebook's dense path")
        p.add_argument("--grad-clip", type=float, default=1.0, help="TrainConfig.grad_clip (0: none)")
        p.add_argument("--free-norm", action="store_true", help="topk: no unit-norm decoder constraint (as plain-torch)")
    args = C.parse_args(extra)
    C.setup(args.seed)
    from saebook.sae import make_sae
    from saebook.train import train

    x_all = C.load_train(args.n)
    x_eval = C.load_eval()
    steps = x_all.shape[0] // C.BATCH
    if args.config == "topk":
        sae = make_sae("topk", d_in=C.D_IN, d_sae=C.D_SAE, k=C.K, device="cpu", seed=args.seed)
    else:
        sae = make_sae("relu", d_in=C.D_IN, d_sae=C.D_SAE, l1_coeff=args.l1, device="cpu", seed=args.seed)
        with torch.no_grad():
            sae.W_dec.mul_(0.1); sae.W_enc.mul_(0.1)
    if args.dense:
        sae.sparse_path = False
    if args.free_norm:
        sae.unit_norm_decoder = False

    clock = C.StepClock(C.batches(x_all))
    rss0 = C.rss_now_mb()
    with C.Meter() as meter, C.maybe_profile():
        sae, hist = train(sae, clock, n_steps=steps, lr=C.LR, decay_frac=0.0, progress=False, log_every=steps,
                          grad_clip=args.grad_clip or None)
    assert clock.n == steps, clock.n

    with torch.no_grad():
        m = C.evaluate(lambda x: sae.encode(x), lambda z: sae.decode(z), x_eval)
    C.finish(args, "saebook" + ("-dense" if args.dense else "") + ("-freenorm" if args.free_norm else ""), version("saebook"), meter.seconds, m,
             rss_before_train_mb=rss0, extra=dict(**meter.as_dict(), loop_seconds_from_first_batch=meter.t1 - clock.t_first),
             notes="saebook.train.train on the in-memory batches" + ("; sparse_path=False" if args.dense else ""))


if __name__ == "__main__":
    main()
