"""The README / landing-page figure, made by saebook itself (under a minute on a CPU): `python tools/readme_figure.py`.

Left: toy models of superposition (Elhage et al. 2022): 5 features in 2 dimensions; as features get sparser the
model stores more of them, in a pentagon. Right: a TopK SAE trained on synthetic activations with
known ground-truth features: cosine similarity of the first true features with their best-matching SAE latents."""
import sys
from pathlib import Path
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt
import torch
from saebook.core import set_seed
from saebook.toy import ToyModel, train_toy
from saebook.toy import ToyData
from saebook.sae import make_sae
from saebook.train import train
from saebook.evals import mmcs

out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / 'nbs' / 'images' / 'saebook_overview.png')
set_seed(0)
ps = [1.0, 0.3, 0.1, 0.03]
toy = ToyModel(n_instances=len(ps), n_features=5, d_hidden=2, importance=0.9 ** torch.arange(5), feature_probability=torch.tensor(ps))
train_toy(toy, steps=3000, lr=1e-3, progress=False)
# seed=1 for the data, 0 for the SAE: ToyData draws its features from torch's randn stream, so the same seed would
# initialise the decoder AT the true features (see the closing note of 2026-11-23; a fix is on branch wip/truth-generator)
data = ToyData(n_features=256, d=64, n_active=4, fixed_count=True, batch_size=1024, seed=1)
sae, _ = train(make_sae('topk', d_in=64, d_sae=512, k=4, device='cpu', seed=0), data, n_steps=800, lr=3e-3, progress=False)
dec = sae.W_dec.detach() / sae.W_dec.detach().norm(dim=-1, keepdim=True)
cos = data.features.float() @ dec.T                                   # [n_features, d_sae]
n_show = 24
match = cos[:n_show].argmax(-1)                                       # best latent per true feature
score = float(mmcs(sae, data.features))

fig = plt.figure(figsize=(11, 3.3), dpi=110)
gs = fig.add_gridspec(1, len(ps) + 3, width_ratios=[1] * len(ps) + [0.2, 1.25, 0.06])
W, imp = toy.W.detach(), toy.importance
for i, p in enumerate(ps):
    ax = fig.add_subplot(gs[0, i]); ax.set_aspect('equal'); ax.axis('off')
    colors = plt.cm.viridis(imp[i] / imp[i].max())
    for f in range(5):
        ax.plot([0, W[i, f, 0]], [0, W[i, f, 1]], color=colors[f], lw=2)
        ax.scatter([W[i, f, 0]], [W[i, f, 1]], color=colors[f], s=14, zorder=3)
    ax.set_xlim(-1.3, 1.3); ax.set_ylim(-1.3, 1.3)
    ax.set_title(f'feature density {p:g}', fontsize=9)
fig.text(0.03, 0.93, 'Superposition: 5 features in a 2-d toy model', fontsize=11, weight='bold')
ax = fig.add_subplot(gs[0, len(ps) + 1])
im = ax.imshow(cos[:n_show][:, match].abs().numpy(), cmap='magma', vmin=0, vmax=1)
ax.set_xlabel('best-matching SAE latent', fontsize=9); ax.set_ylabel('true feature', fontsize=9)
ax.set_xticks([]); ax.set_yticks([])
ax.set_title(f'A TopK SAE recovers known features\n(|cos|; MMCS over all 256 = {score:.2f})', fontsize=10, weight='bold')
cax = fig.add_subplot(gs[0, len(ps) + 2]); fig.colorbar(im, cax=cax); cax.tick_params(labelsize=7)
fig.subplots_adjust(left=0.01, right=0.96, bottom=0.1, top=0.8, wspace=0.15)
out.parent.mkdir(parents=True, exist_ok=True)
fig.savefig(out); print('wrote', out, f'(MMCS {score:.3f})')
