# Copied unchanged from the shared peer-benchmark harness (shared/bench-peers/bench_dictlearn.py), by its authors; see bench/peers/README.md.
"""dictionary_learning (PyPI 0.1.0, saprmarks/dictionary_learning): its own trainSAE().

trainSAE(data, trainer_configs, steps, device) takes any iterable of [B, d] tensors,
so the in-memory stream is fed directly (no nnsight ActivationBuffer / LLM).
TopK -> TopKTrainer/AutoEncoderTopK ; ReLU+L1 -> StandardTrainer/AutoEncoder (ConstrainedAdam).
Library defaults kept except: lr, no lr warm-up (default 1000 steps > our 64 steps),
no sparsity warm-up (ReLU), layer/lm_name dummies (required args).
"""
import time
from importlib.metadata import version

import torch

import common as C


def main():
    args = C.parse_args()
    C.setup(args.seed)
    from dictionary_learning.training import trainSAE
    from dictionary_learning.trainers.top_k import TopKTrainer, AutoEncoderTopK
    from dictionary_learning.trainers.standard import StandardTrainer
    from dictionary_learning.dictionary import AutoEncoder

    x_all = C.load_train(args.n)
    x_eval = C.load_eval()
    n = x_all.shape[0]
    steps = n // C.BATCH

    common_kw = dict(steps=steps, activation_dim=C.D_IN, dict_size=C.D_SAE, layer=0, lm_name="synthetic",
                     lr=C.LR, warmup_steps=0, seed=args.seed, device="cpu")
    if args.config == "topk":
        tcfg = dict(trainer=TopKTrainer, dict_class=AutoEncoderTopK, k=C.K, **common_kw)
    else:
        tcfg = dict(trainer=StandardTrainer, dict_class=AutoEncoder, l1_penalty=args.l1,
                    sparsity_warmup_steps=None, **common_kw)

    # trainSAE builds the trainer itself; grab it to read the trained AE afterwards.
    built = {}
    cls = tcfg["trainer"]

    class Grab(cls):
        def __init__(self, **kw):
            super().__init__(**kw)
            built["t"] = self
    tcfg["trainer"] = Grab

    clock = C.StepClock(C.batches(x_all))
    rss0 = C.rss_now_mb()
    with C.Meter() as meter, C.maybe_profile():
        trainSAE(data=clock, trainer_configs=[tcfg], steps=steps, use_wandb=False, save_dir=None,
                 normalize_activations=False, device="cpu", autocast_dtype=torch.float32)
    t1 = meter.t1
    assert clock.n == steps, clock.n

    ae = built["t"].ae.eval()
    m = C.evaluate(lambda x: ae.encode(x), lambda z: ae.decode(z), x_eval)
    C.finish(args, "dictionary_learning", version("dictionary-learning"), meter.seconds, m, rss_before_train_mb=rss0,
             extra=dict(**meter.as_dict(), loop_seconds_from_first_batch=t1 - clock.t_first),
             notes="trainSAE() on in-memory iterator")


if __name__ == "__main__":
    main()
