"""Build tiny SAELens SAE fixtures for interop tests.

Run with the SAELens virtualenv (not the project's python):

    /opt/saelens/venv/bin/python tests/interop/make_saelens_fixtures.py [OUT_DIR]

OUT_DIR defaults to tests/fixtures/saelens next to this file's parent folder.
For each inference architecture (standard, gated, jumprelu, topk) it builds a
d_in=8, d_sae=16 float32 SAE with SAELens's own classes, fills every parameter
with seeded random non-trivial values, saves it with SAELens's `save_model`
into OUT_DIR/<architecture>/ (cfg.json + sae_weights.safetensors), and writes
OUT_DIR/<architecture>/expected.safetensors holding:

    x            [5, 8]   random input
    feature_acts [5, 16]  sae.encode(x), computed by SAELens
    sae_out      [5, 8]   sae.decode(feature_acts), computed by SAELens

"batchtopk" is not built: in SAELens 6.54.12 it is a training-only
architecture (no entry in the inference registry); BatchTopK training SAEs are
saved for inference as "jumprelu" SAEs, which the jumprelu fixture covers.

The output is deterministic: same seeds, same files.
"""

import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

import sae_lens
from sae_lens.saes import (
    GatedSAE,
    GatedSAEConfig,
    JumpReLUSAE,
    JumpReLUSAEConfig,
    StandardSAE,
    StandardSAEConfig,
    TopKSAE,
    TopKSAEConfig,
)
from sae_lens.saes.sae import SAEMetadata

D_IN = 8
D_SAE = 16
N_EXAMPLES = 5
TOPK_K = 4
BASE_SEED = 1234
HOOK_NAME = "blocks.0.hook_resid_post"
MODEL_NAME = "toy"

DEFAULT_OUT_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "saelens"


def make_metadata() -> SAEMetadata:
    return SAEMetadata(hook_name=HOOK_NAME, model_name=MODEL_NAME)


def build_sae(architecture: str):
    """Create an SAELens inference SAE with default settings (apply_b_dec_to_input etc.)."""
    common = dict(d_in=D_IN, d_sae=D_SAE, dtype="float32", device="cpu", metadata=make_metadata())
    if architecture == "standard":
        return StandardSAE(StandardSAEConfig(**common))
    if architecture == "gated":
        return GatedSAE(GatedSAEConfig(**common))
    if architecture == "jumprelu":
        return JumpReLUSAE(JumpReLUSAEConfig(**common))
    if architecture == "topk":
        return TopKSAE(TopKSAEConfig(k=TOPK_K, **common))
    raise ValueError(f"unknown architecture {architecture!r}")


def random_values(name: str, shape: torch.Size, gen: torch.Generator) -> torch.Tensor:
    """Non-trivial random values for one parameter, chosen by parameter name."""

    def normal(scale: float) -> torch.Tensor:
        return torch.randn(shape, generator=gen) * scale

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(shape, generator=gen)

    if name == "W_enc":  # [d_in, d_sae]
        return normal(1.0 / D_IN**0.5) * 1.5
    if name == "W_dec":  # [d_sae, d_in], rows rescaled to norms in [0.5, 2.0]
        w = normal(1.0)
        row_norms = 0.5 + 1.5 * torch.rand(shape[0], 1, generator=gen)
        return w / w.norm(dim=-1, keepdim=True) * row_norms
    if name == "b_dec":  # [d_in]
        return normal(0.3)
    if name == "b_enc":  # [d_sae]
        return normal(0.2)
    if name in ("b_gate", "b_mag"):  # [d_sae], larger so gate and magnitude paths disagree often
        return normal(0.5)
    if name == "r_mag":  # [d_sae], exp(r_mag) scales the magnitude path
        return normal(0.3)
    if name == "threshold":  # [d_sae], positive so that some but not all latents fire
        return uniform(0.1, 0.5)
    raise ValueError(f"no fill rule for parameter {name!r}")


def fill_parameters(sae, gen: torch.Generator) -> None:
    """Overwrite every parameter of the SAE in place (sorted by name for determinism)."""
    with torch.no_grad():
        params = dict(sae.named_parameters())
        for name in sorted(params):
            param = params[name]
            param.copy_(random_values(name, param.shape, gen).to(param.dtype))


def make_fixture(architecture: str, seed: int, out_dir: Path) -> dict:
    gen = torch.Generator().manual_seed(seed)
    sae = build_sae(architecture)
    fill_parameters(sae, gen)
    sae.eval()

    x = torch.randn(N_EXAMPLES, D_IN, generator=gen)
    with torch.no_grad():
        feature_acts = sae.encode(x)
        sae_out = sae.decode(feature_acts)

    folder = out_dir / architecture
    if folder.exists():
        shutil.rmtree(folder)
    sae.save_model(folder)
    save_file(
        {
            "x": x.contiguous(),
            "feature_acts": feature_acts.contiguous(),
            "sae_out": sae_out.contiguous(),
        },
        folder / "expected.safetensors",
    )

    active = (feature_acts != 0).float()
    return {
        "folder": folder,
        "params": sorted(dict(sae.named_parameters())),
        "mean_l0": active.sum(-1).mean().item(),
        "latents_ever_active": int(active.any(0).sum().item()),
    }


def main() -> None:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(BASE_SEED)  # only explicit generators are used, this is a safety net

    print(f"SAELens {sae_lens.__version__}, torch {torch.__version__}")
    architectures = ["standard", "gated", "jumprelu", "topk"]
    for index, architecture in enumerate(architectures):
        info = make_fixture(architecture, BASE_SEED + index, out_dir)
        print(
            f"{architecture:9s} -> {info['folder']}  params={info['params']}  "
            f"mean L0={info['mean_l0']:.1f}/{D_SAE}  latents active somewhere={info['latents_ever_active']}"
        )
    print("batchtopk: skipped (training-only in this SAELens version; saved for inference as 'jumprelu')")


if __name__ == "__main__":
    main()
