"""Peak RSS of an ActivationStore as the number of tokens streamed grows (it should stay flat).

    python bench/activation_store_memory.py

Each size runs in a fresh process; prints tokens streamed, the store's block size and peak RSS (MiB)."""
import resource, subprocess, sys

CODE = r'''
import resource, torch, sys
from saebook.models import load_model, load_corpus, tokenize_corpus
from saebook.activations import ActivationStore
n_tokens = int(sys.argv[1])
model = load_model()
toks = tokenize_corpus(model, load_corpus('kjv'), context_size=128, max_tokens=n_tokens + 128 * 8)
store = ActivationStore(model, toks, 'blocks.4.hook_resid_post', batch_size=1024, buffer_batches=8)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
n = 0
for x in store:
    n += x.shape[0]
    if n >= n_tokens: break
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{n_tokens}\t{n}\t{store.block_rows}\t{base:.0f}\t{peak:.0f}")
'''

if __name__ == '__main__':
    sizes = [int(s) for s in sys.argv[1:]] or [16_384, 65_536, 262_144]
    print('tokens_asked\ttokens_streamed\tblock_rows\trss_after_load_MiB\tpeak_rss_MiB')
    for n in sizes:
        r = subprocess.run([sys.executable, '-c', CODE, str(n)], capture_output=True, text=True)
        print(r.stdout.strip() or r.stderr[-2000:])
