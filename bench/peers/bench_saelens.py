# Copied unchanged from the shared peer-benchmark harness (shared/bench-peers/bench_saelens.py), by its authors; see bench/peers/README.md.
"""SAELens (sae-lens 6.x): its own SAETrainer fed from an in-memory DataProvider.

SAETrainer(cfg, sae, data_provider) accepts any Iterator[Tensor] as DataProvider
(the same seam sae_lens.synthetic.train_toy_sae uses), so no LLM / ActivationsStore.
Library defaults are kept except: lr, batch, no wandb, no checkpoints, no lr warm-up.
"""
import time
from importlib.metadata import version

import torch

import common as C


def main():
    args = C.parse_args(lambda p: p.add_argument("--sparse-acts", action="store_true",
                                                 help="TopK use_sparse_activations=True (sparse decode)"))
    C.setup(args.seed)
    from sae_lens.config import LoggingConfig, SAETrainerConfig
    from sae_lens.saes.standard_sae import StandardTrainingSAE, StandardTrainingSAEConfig
    from sae_lens.saes.topk_sae import TopKTrainingSAE, TopKTrainingSAEConfig
    from sae_lens.training.sae_trainer import SAETrainer

    x_all = C.load_train(args.n)
    x_eval = C.load_eval()
    n = x_all.shape[0]

    if args.config == "topk":
        cfg = TopKTrainingSAEConfig(d_in=C.D_IN, d_sae=C.D_SAE, k=C.K, dtype="float32", device="cpu",
                                    use_sparse_activations=args.sparse_acts)
        sae = TopKTrainingSAE(cfg)
    else:
        cfg = StandardTrainingSAEConfig(d_in=C.D_IN, d_sae=C.D_SAE, l1_coefficient=args.l1,
                                        l1_warm_up_steps=0, dtype="float32", device="cpu")
        sae = StandardTrainingSAE(cfg)

    tcfg = SAETrainerConfig(
        total_training_samples=n, train_batch_size_samples=C.BATCH,
        lr=C.LR, lr_end=C.LR, lr_scheduler_name="constant", lr_warm_up_steps=0,
        adam_beta1=0.9, adam_beta2=0.999, device="cpu", autocast=False,
        n_checkpoints=0, checkpoint_path=None, save_final_checkpoint=False,
        logger=LoggingConfig(log_to_wandb=False),
    )
    clock = C.StepClock(C.batches(x_all))
    trainer = SAETrainer(cfg=tcfg, sae=sae, data_provider=clock)

    rss0 = C.rss_now_mb()
    with C.Meter() as meter, C.maybe_profile():
        sae = trainer.fit()
    t1 = meter.t1
    assert clock.n == n // C.BATCH, clock.n

    sae.eval()
    m = C.evaluate(lambda x: sae.encode(x), lambda z: sae.decode(z), x_eval)
    name = "sae-lens" + ("-sparseacts" if args.sparse_acts else "")
    C.finish(args, name, version("sae-lens"), meter.seconds, m, rss_before_train_mb=rss0,
             extra=dict(**meter.as_dict(), loop_seconds_from_first_batch=t1 - clock.t_first,
                        lib_dead_features=getattr(sae.cfg.metadata, "num_dead_features", None)),
             notes="SAETrainer.fit() on Iterator[Tensor] DataProvider")


if __name__ == "__main__":
    main()
