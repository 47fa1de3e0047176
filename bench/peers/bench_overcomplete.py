# Copied unchanged from the shared peer-benchmark harness (shared/bench-peers/bench_overcomplete.py), by its authors; see bench/peers/README.md.
"""overcomplete (PyPI 0.3.0): its own train_sae() loop, fed as its README shows
(DataLoader(TensorDataset(acts), batch_size=...)).

TopK   -> overcomplete.sae.TopKSAE + README criterion (plain MSE, mean over elements)
ReLU+L1-> overcomplete.sae.SAE (linear encoder + ReLU) + overcomplete.sae.losses.mse_l1
train_sae defaults kept (clip_grad=1.0, monitoring=1).
`import overcomplete` is broken in this env (torchvision / matplotlib>=3.9), so the two
vision-only submodules are stubbed, see _stub_vision_modules (SAE code untouched).
"""
import sys
import time
import types
from importlib.metadata import version

import torch

import common as C


def _stub_vision_modules():
    """`import overcomplete` fails here for two reasons unrelated to SAEs:
    overcomplete.models needs torchvision (PyPI wheel is CUDA-linked, breaks on CPU torch) and
    overcomplete.visualization calls matplotlib.cm.get_cmap (removed in matplotlib>=3.9).
    Both are replaced by empty stubs; the SAE/training code is untouched."""
    stubs = {"overcomplete.models": ["DinoV2", "SigLIP", "ViT", "ResNet", "ConvNeXt"],
             "overcomplete.visualization": ["overlay_top_heatmaps", "evidence_top_images",
                                            "zoom_top_images", "contour_top_image"]}
    for mod, names in stubs.items():
        m = types.ModuleType(mod)
        for name in names:
            setattr(m, name, None)
        sys.modules[mod] = m


def main():
    def extra(p):
        p.add_argument("--loader", choices=["dataloader", "views"], default="dataloader")
        p.add_argument("--enc-init-scale", type=float, default=1.0, help="relu only: scale encoder init")
    args = C.parse_args(extra)
    C.setup(args.seed)
    _stub_vision_modules()
    from overcomplete.sae import SAE, TopKSAE, train_sae
    from overcomplete.sae.losses import mse_l1
    from torch.utils.data import DataLoader, TensorDataset

    x_all = C.load_train(args.n)
    x_eval = C.load_eval()
    n = x_all.shape[0]

    if args.config == "topk":
        model = TopKSAE(C.D_IN, nb_concepts=C.D_SAE, top_k=C.K, device="cpu")

        def criterion(x, x_hat, pre_codes, codes, dictionary):  # README example
            return (x - x_hat).square().mean()
    else:
        model = SAE(C.D_IN, nb_concepts=C.D_SAE, device="cpu")
        if args.enc_init_scale != 1.0:
            # Only deviation from library defaults: shrink the (nn.Linear default) encoder init.
            # Overcomplete's dictionary rows are renormalised to unit norm every step, and with
            # 64 Adam steps at lr 4e-4 the default-init encoder cannot get L0 below ~1300.
            with torch.no_grad():
                for p_ in model.encoder.parameters():
                    p_.mul_(args.enc_init_scale)

        def criterion(x, x_hat, pre_codes, codes, dictionary):
            return mse_l1(x, x_hat, pre_codes, codes, dictionary, penalty=args.l1)

    opt = torch.optim.Adam(model.parameters(), lr=C.LR)
    if args.loader == "dataloader":
        data = DataLoader(TensorDataset(x_all), batch_size=C.BATCH, shuffle=False, drop_last=True)
    else:
        data = list(C.batches(x_all))
    clock = C.StepClock(data)

    rss0 = C.rss_now_mb()
    with C.Meter() as meter, C.maybe_profile():
        logs = train_sae(model, clock, criterion, opt, nb_epochs=1, device="cpu")
    t1 = meter.t1
    assert clock.n == n // C.BATCH, clock.n

    model.eval()
    m = C.evaluate(lambda x: model.encode(x)[1], lambda z: model.decode(z), x_eval)
    name = "overcomplete" + ("" if args.loader == "dataloader" else "-views")
    C.finish(args, name, version("overcomplete"), meter.seconds, m, rss_before_train_mb=rss0,
             extra=dict(**meter.as_dict(), loop_seconds_from_first_batch=t1 - clock.t_first,
                        lib_r2=logs["r2"][-1] if logs.get("r2") else None),
             notes=f"train_sae() with {args.loader}; overcomplete.models/.visualization stubbed"
                   + (f"; encoder init x{args.enc_init_scale}" if args.config == "relu" else ""))


if __name__ == "__main__":
    main()
