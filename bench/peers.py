"""saebook against its peers: the same SAE on the same fixed activation tensor, each system with its own trainer.

    python bench/peers.py [--reps 2] [--configs topk relu] [--systems saebook saelens ...]

Systems: saebook (its trainer, sparse fast path), saebook-dense (sparse_path=False), saebook-freenorm (TopK without
the unit-norm decoder constraint, the plain loop's recipe), SAELens 6.x, dictionary_learning,
overcomplete, a plain PyTorch loop, and the plain loop with an embedding_bag decoder (plain-sparsedec). The peer
scripts, the data generator and the shared evaluation are those of the shared peer harness (copied in bench/peers/,
see its README.md); the peers run in their own venv (.venv-bench, built by bench/peers/setup_env.sh), saebook in
this interpreter. Configs: TopK (d_in 512, d_sae 8192, k 32, batch 4096, Adam 4e-4, one epoch of 2^18 vectors = 64
steps) and ReLU+L1 of the same size.

The machine is shared and never idle, so runs are interleaved round-robin (every system once, then again) and the
tables report medians, ratios to the fastest peer run in the same rounds, the load average around each run and the
dense-GEMM throughput measured at the start and end. Results: bench/results/peers.{json,md} (+ raw/ per run).
"""
import argparse, hashlib, json, os, platform, statistics as st, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / 'bench' / 'peers'
OUT = ROOT / 'bench' / 'results'
DATA = Path(os.environ.get('PEERBENCH_DATA', OUT / 'data'))
L1 = dict(saebook=40, **{'saebook-dense': 40}, plain=40, saelens=40, dictlearn=10, overcomplete=1.4e-6)  # shared/bench-peers/l1.env
PEERS = ('saelens', 'dictlearn', 'overcomplete', 'plain')
SYSTEMS = {  # name -> (script, extra args, runs in the peers' venv)
    'saebook': ('bench_saebook.py', [], False), 'saebook-dense': ('bench_saebook.py', ['--dense'], False),
    'saelens': ('bench_saelens.py', [], True), 'dictlearn': ('bench_dictlearn.py', [], True),
    'overcomplete': ('bench_overcomplete.py', [], True), 'plain': ('bench_plain.py', [], True),
    'plain-sparsedec': ('bench_plain.py', ['--sparse-decode'], True),
    'saebook-freenorm': ('bench_saebook.py', ['--free-norm'], False),   # topk without the unit-norm decoder (plain's recipe)
}


def peer_python():
    py = Path(os.environ.get('SAEBOOK_BENCH_PYTHON', ROOT / '.venv-bench' / 'bin' / 'python'))
    if not py.exists():
        print(f"building the peers' venv ({py.parent.parent.name}) with bench/peers/setup_env.sh", flush=True)
        subprocess.run(['bash', str(HERE / 'setup_env.sh')], check=True)
    return str(py)


def ensure_data():
    if not (DATA / 'acts_train.pt').exists():
        subprocess.run([sys.executable, str(HERE / 'gen_data.py'), str(DATA)], check=True, stdout=subprocess.DEVNULL)
    import torch
    meta = json.load(open(DATA / 'meta.json'))
    for k in ('train', 'eval'):
        t = torch.load(DATA / f'acts_{k}.pt')
        assert hashlib.sha256(t.contiguous().numpy().tobytes()).hexdigest() == meta[f'{k}_sha256'], f"{k} data changed"
    return meta


def matmul_peak(tag):
    out = OUT / 'raw' / f'matmul_peak_{tag}.json'
    subprocess.run([sys.executable, str(HERE / 'matmul_peak.py'), str(out)], check=True, stdout=subprocess.DEVNULL)
    return json.load(open(out))


def run(system, config, rep, py_peer):
    script, extra, in_venv = SYSTEMS[system]
    args = [py_peer if in_venv else sys.executable, script, '--config', config, '--rep', str(rep), *extra]
    if config == 'relu':
        args += ['--l1', str(L1[system.replace('-sparsedec', '')])]
        if system == 'overcomplete': args += ['--enc-init-scale', '0.1']   # as in shared/bench-peers/l1.env
    out = OUT / 'raw' / f'{system}_{config}_rep{rep}.json'
    env = dict(os.environ, PEERBENCH_DATA=str(DATA), TQDM_DISABLE='1', PYTHONHASHSEED='0', OMP_WAIT_POLICY='PASSIVE')
    load0 = os.getloadavg()[0]
    t = time.time()
    r = subprocess.run(args + ['--out', str(out)], cwd=HERE, env=env, capture_output=True, text=True)
    if r.returncode != 0 or not out.exists():
        print(f"FAILED {system} {config} rep {rep}:\n{r.stderr[-3000:]}", flush=True)
        return None
    res = json.load(open(out))
    res.update(load_before=load0, load_after=os.getloadavg()[0], wall_seconds=time.time() - t)
    json.dump(res, open(out, 'w'), indent=1)
    print(f"{system:16s} {config:4s} rep {rep}: {res['tokens_per_s']:7.0f} tok/s  FVU {res['fvu']:.3f}  L0 {res['l0']:6.1f}  "
          f"dead {100 * res['dead_frac']:4.1f}%  RSS {res['peak_rss_mb']:5.0f} MiB  load {load0:.1f}", flush=True)
    return res


def summarize(runs, peaks):
    peak = max(s['best_gflops'] for p in peaks for s in p['shapes'])
    rows = {}
    for r in runs:
        rows.setdefault((r['system'], r['config']), []).append(r)
    table = []
    for (system, config), rs in rows.items():
        med = lambda k: st.median(x[k] for x in rs)
        table.append(dict(system=system, version=rs[0]['version'], config=config, l1=rs[0]['l1'], n_runs=len(rs),
                          tokens_per_s=med('tokens_per_s'), tokens_per_s_all=[round(x['tokens_per_s']) for x in rs],
                          s_per_step=med('train_seconds') / rs[0]['steps'], gflops_nominal=med('gflops_per_s_nominal'),
                          pct_peak=100 * med('gflops_per_s_nominal') / peak, peak_rss_mb=max(x['peak_rss_mb'] for x in rs),
                          rss_before_train_mb=med('rss_before_train_mb'), fvu=med('fvu'), l0=med('l0'),
                          dead_pct=100 * med('dead_frac'), load_avg=st.median((x['load_before'] + x['load_after']) / 2 for x in rs),
                          other_cpu=med('other_cpu_frac')))
    name = {'saelens': 'sae-lens', 'dictlearn': 'dictionary_learning', 'plain': 'plain-torch'}
    for row in table:   # ratio to the fastest peer (library or plain loop) in the same config
        peers = [t for t in table if t['config'] == row['config'] and t['system'] in [name.get(p, p) for p in PEERS]]
        if peers:
            best = max(peers, key=lambda t: t['tokens_per_s'])
            row['fastest_peer'] = best['system']
            row['ratio_to_fastest_peer'] = row['tokens_per_s'] / best['tokens_per_s']
            row['fvu_vs_fastest_peer'] = row['fvu'] / best['fvu'] - 1
    for row in table:   # paired: in each round, this system over the fastest peer of that round; median over rounds
        ratios = []
        for r in rows[(row['system'], row['config'])]:
            same = [x['tokens_per_s'] for x in runs if x['config'] == row['config'] and x['rep'] == r['rep']
                    and x['system'] in [name.get(p, p) for p in PEERS]]
            if same: ratios.append(r['tokens_per_s'] / max(same))
        if ratios: row['ratio_paired'], row['ratio_paired_all'] = st.median(ratios), [round(q, 2) for q in ratios]
    order = ['saebook', 'saebook-dense', 'saebook-freenorm', 'plain-torch', 'sae-lens', 'dictionary_learning', 'overcomplete', 'plain-torch-sparsedec']
    table.sort(key=lambda t: (t['config'] != 'topk', order.index(t['system']) if t['system'] in order else 99))
    lines = [f"Dense fp32 GEMM peak (best of the 3 SAE shapes, start and end of the run, 2 threads): {peak:.1f} GFLOP/s; "
             f"median 4096x512 @ 512x8192: {', '.join('%.1f' % p['ref_gflops'] for p in peaks)} GFLOP/s.",
             "Nominal FLOP/step = 12 B d_in d_sae = 206.2 GFLOP (the dense forward + backward); '% peak' = nominal rate / peak "
             "(a sparse path can exceed 100%).", "",
             "'x fastest peer': median tokens/s over the fastest peer's median; 'paired': in each round, over the fastest peer "
             "of that round (median over rounds, then each round).", "",
             "| system | config | tokens/s (median; runs) | x fastest peer | paired | s/step | % peak | peak RSS MiB | FVU | L0 | dead % | load avg |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for t in table:
        cfg = t['config'] + (f" (l1={t['l1']:g})" if t['l1'] is not None else '')
        ratio = f"{t['ratio_to_fastest_peer']:.2f}" if 'ratio_to_fastest_peer' in t else ''
        paired = f"{t['ratio_paired']:.2f} ({', '.join(map(str, t['ratio_paired_all']))})" if 'ratio_paired' in t else ''
        lines.append(f"| {t['system']} {t['version'] if t['version'] != 'n/a' else ''} | {cfg} | {t['tokens_per_s']:.0f} "
                     f"({', '.join(map(str, t['tokens_per_s_all']))}) | {ratio} | {paired} | {t['s_per_step']:.2f} | {t['pct_peak']:.0f}% | "
                     f"{t['peak_rss_mb']:.0f} | {t['fvu']:.3f} | {t['l0']:.1f} | {t['dead_pct']:.1f} | {t['load_avg']:.1f} |")
    return table, peak, "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--reps', type=int, default=2)
    ap.add_argument('--configs', nargs='+', default=['topk', 'relu'])
    ap.add_argument('--systems', nargs='+', default=['saebook', 'saebook-dense', 'saebook-freenorm', 'saelens', 'dictlearn',
                                                    'overcomplete', 'plain', 'plain-sparsedec'])
    ap.add_argument('--keep', action='store_true', help='add to the runs already in bench/results/raw')
    ap.add_argument('--first-rep', type=int, default=0, help='number the rounds from here (with --keep)')
    ap.add_argument('--summarize', action='store_true', help='only rebuild the tables from bench/results/raw')
    a = ap.parse_args()
    (OUT / 'raw').mkdir(parents=True, exist_ok=True)
    if a.summarize: a.keep, a.reps = True, 0
    if not a.keep:
        for f in (OUT / 'raw').glob('*.json'): f.unlink()
    if a.reps:
        py_peer = peer_python()
        ensure_data()
        matmul_peak(f'start{a.first_rep}')
    for rep in range(a.first_rep, a.first_rep + a.reps):   # round-robin: every system once per round
        for config in a.configs:
            for system in a.systems:
                if system in ('plain-sparsedec', 'saebook-freenorm') and config != 'topk': continue
                run(system, config, rep, py_peer)
    if a.reps: matmul_peak(f'end{a.first_rep}')
    runs = [json.load(open(f)) for f in sorted((OUT / 'raw').glob('*_rep*.json'))]
    peaks = [json.load(open(f)) for f in sorted((OUT / 'raw').glob('matmul_peak_*.json'))]
    table, peak, md = summarize(runs, peaks)
    machine = dict(python=platform.python_version(), cpus=os.cpu_count(), processor=platform.processor(),
                   date=time.strftime('%Y-%m-%d %H:%M'))
    json.dump(dict(peak_gflops=peak, peaks=peaks, rows=table, runs=runs, machine=machine), open(OUT / 'peers.json', 'w'), indent=1)
    (OUT / 'peers.md').write_text(md + "\n")
    print(md)


if __name__ == '__main__':
    main()
