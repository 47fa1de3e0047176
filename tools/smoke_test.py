"""Smoke test of an installed saebook (wheel or sdist, in a fresh venv; run from outside the repo):
import, train a TopK SAE on toy data with known features, save in the SAELens format, load, same outputs."""
import tempfile, torch, saebook
from pathlib import Path
from saebook.toy import ToyData
from saebook.sae import make_sae
from saebook.train import train
from saebook.evals import evaluate, mmcs
from saebook.io import save_sae, load_sae

assert 'site-packages' in saebook.__file__, f'saebook imported from {saebook.__file__}, not from the installed package'
data = ToyData(n_features=256, d=64, n_active=4, fixed_count=True, batch_size=512)
sae = make_sae('topk', d_in=64, d_sae=256, k=4, device='cpu', seed=0)
sae, history = train(sae, data, n_steps=150, lr=3e-3, progress=False)
m = evaluate(sae, data.iter_from(10_000), n_batches=2)
x = next(iter(data.iter_from(20_000)))
with tempfile.TemporaryDirectory() as d:
    save_sae(sae, Path(d) / 'sae')
    back = load_sae(Path(d) / 'sae')
    assert torch.allclose(back(x), sae(x), atol=1e-6), 'a saved-and-loaded SAE gives different outputs'
print(f"saebook {saebook.__version__} from {Path(saebook.__file__).parent}: trained {len(history)} log rows, "
      f"fvu={float(m['fvu']):.3f}, l0={float(m['l0']):.1f}, mmcs={float(mmcs(sae, data.features)):.3f}; save/load ok")
