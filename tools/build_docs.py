"""Build the saebook documentation site from the notebooks, offline.

    python tools/build_docs.py build [--execute all|modules|none] [--jobs 2] [--site docs]
    python tools/build_docs.py readme [--check]

Why not `nbdev-proc-nbs` + Quarto: Quarto cannot be installed here, and nbdev's docs processing executes only the
export/import/show_doc cells of a notebook, so examples have no outputs. This script takes nbdev's own processors
(`add_show_docs` inserts a `show_doc` cell after every exported symbol; `hide_`, `rm_export`, ... drop what the
docs should not show), but executes every notebook fully in between (nbclient, `#| slow` / `#| notest` /
`#| eval: false` cells skipped, as in `nbdev-test`), then renders the processed notebooks with
mkdocs-material + mkdocs-jupyter (no CDN: fonts off, MathJax and the Colab badge served from the site itself).

Executed notebooks are cached in `.cache/docs/` under a hash of the notebook's cells and the package's source, so a
rebuild after editing prose in one notebook re-runs only that notebook.
"""
from __future__ import annotations
import argparse, hashlib, json, os, re, shutil, subprocess, sys, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS, PKG = ROOT / 'nbs', ROOT / 'saebook'
SRC = ROOT / '_docs_src'            # processed notebooks + assets: mkdocs' docs_dir (build output, gitignored)
CACHE = ROOT / '.cache' / 'docs'    # executed notebooks, keyed by content hash
ASSETS = ROOT / 'tools' / 'docs_assets'
SKIP_DIRECTIVES = ('slow', 'notest')   # = tst_flags in pyproject: cells nbdev-test skips by default
BUILD_VERSION = '3'                 # bump to invalidate the execution cache when this script's execution changes

# Run before a notebook's own cells (then removed): the docs are static pages, so widgets render their static form.
SETUP_CELL = """\
import os, warnings
os.environ['SAEBOOK_DOCS'] = '1'
try:
    import saebook.steering as _sbs
    _sbs._can_render_widgets = lambda: False   # steering_panel: a static table instead of dead widgets
except Exception: pass

class _SaebookAnn:   # a string annotation shown as written (show_doc evaluates strings, and some names are lazy imports)
    def __init__(self, s): self.s = s
    def __repr__(self): return self.s
    __str__ = __repr__

def _saebook_show_doc(obj, *args, **kw):
    "nbdev's show_doc; if a string annotation names a lazily imported type (NameError), show it as written."
    from nbdev.showdoc import show_doc
    try: return show_doc(obj, *args, **kw)
    except NameError:
        f = getattr(obj, '__func__', obj)
        ann = dict(getattr(f, '__annotations__', None) or {})
        if not ann: raise
        f.__annotations__ = {k: _SaebookAnn(v) if isinstance(v, str) else v for k, v in ann.items()}
        try: return show_doc(obj, *args, **kw)
        finally: f.__annotations__ = ann
"""

def log(*a): print(*a, flush=True)

# ---------------------------------------------------------------------------------------------- notebook lists
def notebooks():
    "(source path, page path relative to the docs source, kind) for every notebook, in site order."
    out = []
    if (NBS / 'index.ipynb').exists(): out.append((NBS / 'index.ipynb', 'index.ipynb', 'index'))
    for p in sorted((NBS / 'tutorials').glob('*.ipynb')): out.append((p, f'tutorials/{p.name}', 'tutorial'))
    for p in sorted(NBS.glob('*.ipynb')):
        if p.name == 'index.ipynb' or p.name.startswith(('_', '.')): continue
        out.append((p, f'api/{re.sub(r"^[0-9]+[a-z]?_", "", p.name)}', 'module'))
    return out

def _directives(src: str) -> dict:
    d = {}
    for line in src.splitlines():
        m = re.match(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*)$', line)
        if m: d[m.group(1)] = m.group(2).strip()
        elif line.strip(): break
    return d

def _skip(cell) -> bool:
    if cell['cell_type'] != 'code': return False
    src = ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']
    d = _directives(src)
    return any(k in d for k in SKIP_DIRECTIVES) or d.get('eval', '').lower() == 'false' or 'nbdev_export()' in src

# ---------------------------------------------------------------------------------------------- execution
def pkg_hash() -> str:
    h = hashlib.sha256(BUILD_VERSION.encode())
    for p in sorted(PKG.glob('*.py')): h.update(p.name.encode()); h.update(p.read_bytes())
    return h.hexdigest()[:16]

def nb_hash(path: Path, ph: str) -> str:
    nb = json.loads(path.read_text(encoding='utf-8'))
    cells = [(c['cell_type'], ''.join(c['source']) if isinstance(c['source'], list) else c['source']) for c in nb['cells']]
    return hashlib.sha256(json.dumps([ph, cells]).encode()).hexdigest()[:16]

def add_show_docs(nb_path: Path):
    "The notebook as an nbformat node, with nbdev's `show_doc` cells inserted after exported symbols."
    import nbformat
    from fastcore.nbio import read_nb, dict2nb
    from nbdev.process import NBProcessor
    from nbdev.processors import populate_language, add_show_docs as _asd
    nb = read_nb(nb_path)
    NBProcessor(nb=nb, procs=[populate_language, _asd], rm_directives=False).process()
    d = json.loads(json.dumps(nb, default=lambda o: None))   # AttrDict -> plain JSON
    for c in d['cells']:
        for k in [k for k in c if k.endswith('_') or k == 'has_sd']: c.pop(k)
        c.setdefault('metadata', {})
        if c['cell_type'] == 'code': c.setdefault('outputs', []); c.setdefault('execution_count', None)
        c.pop('idx_', None)
    d.setdefault('nbformat', 4); d.setdefault('nbformat_minor', 5)
    for c in d['cells']:
        if isinstance(c.get('source'), list): c['source'] = ''.join(c['source'])
    return nbformat.reads(json.dumps(d), as_version=4)

def execute_one(args):
    "Execute one notebook (skipping slow cells) into the cache; return (name, seconds, error or None)."
    src, cached, execute = args
    import nbformat
    from nbclient import NotebookClient
    t0 = time.time()
    nb = add_show_docs(Path(src))
    err = None
    if execute:
        run = nbformat.reads(nbformat.writes(nb), as_version=4)
        for c in run.cells:
            if _skip(c): c.cell_type, c.outputs = 'raw', None   # not executed; restored below
            elif c.cell_type == 'code' and c.source.startswith('show_doc('): c.source = '_saebook_' + c.source
        run.cells.insert(0, nbformat.v4.new_code_cell(SETUP_CELL))
        client = NotebookClient(run, timeout=900, kernel_name='python3', allow_errors=False,
                                resources={'metadata': {'path': str(Path(src).parent)}})
        try: client.execute()
        except Exception as e: err = f'{type(e).__name__}: {str(e)[-2000:]}'
        run.cells.pop(0)
        for c, r in zip(nb.cells, run.cells):
            if c.cell_type == 'code' and r.cell_type == 'code': c.outputs, c.execution_count = r.outputs, r.execution_count
            elif c.cell_type == 'code': c.metadata['docs_skipped'] = True
    if err is None:
        Path(cached).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(str(cached) + '.tmp'); nbformat.write(nb, str(tmp)); tmp.replace(cached)
    return Path(src).name, time.time() - t0, err

# ---------------------------------------------------------------------------------------------- post-processing
_WIDGET = 'application/vnd.jupyter.widget-view+json'
BADGE = 'https://colab.research.google.com/assets/colab-badge.svg'

def postprocess(nb_path: Path, kind: str, depth: int):
    "nbdev's docs processors (hide, rm_export, ...), then mkdocs-friendly outputs and no external requests."
    from fastcore.nbio import read_nb
    from nbdev.process import NBProcessor
    from nbdev.processors import hide_line, strip_ansi, rm_header_dash, rm_export, clean_magics, hide_, strip_hidden_metadata
    nb = read_nb(nb_path)
    nb.metadata.pop('widgets', None)   # saved widget state would make the page load a widget manager from a CDN
    for c in nb.cells:   # drop interactive-only outputs (tqdm bars, widgets) that a static page cannot show
        if c.cell_type != 'code': continue
        outs = []
        for o in c.get('outputs', []):
            data = o.get('data', {})
            if _WIDGET in data:
                if 'text/html' not in data: continue
                data.pop(_WIDGET)
            if o.get('output_type') == 'stream' and o.get('name') == 'stderr':
                txt = ''.join(o['text']) if isinstance(o['text'], list) else o['text']
                # keep each progress bar's last state only ('\r' redraws), drop warnings noise
                lines = [l.split('\r')[-1] for l in txt.split('\n')]
                lines = [l for l in lines if l.strip() and 'Warning' not in l and 'warnings.warn' not in l]
                if not lines: continue
                o['text'] = '\n'.join(lines) + '\n'
            outs.append(o)
        c.outputs = outs
    NBProcessor(nb=nb, procs=[hide_line, strip_ansi, rm_header_dash, rm_export, clean_magics, hide_, strip_hidden_metadata],
                rm_directives=True).process()
    prefix = '../' * depth
    cells = []
    for c in nb.cells:
        d = getattr(c, 'directives_', {}) or {}
        if d.get('include', '') == 'false': continue
        c.metadata = dict(c.get('metadata', {}))
        tags = list(c.metadata.get('tags', []))
        if c.cell_type == 'code':
            if c.source.startswith('show_doc(') or d.get('echo', '') == 'false': tags.append('remove_input')
            if d.get('output', '') == 'false': tags.append('remove_output')
            if c.metadata.pop('docs_skipped', False):
                c.source = '# not run when the docs are built (flagged slow: `make test-slow` runs it)\n' + c.source
            c.metadata.pop('execution', None)
            if not c.source.strip() and not c.get('outputs'): continue
        if c.cell_type == 'markdown':
            c.source = c.source.replace(BADGE, f'{prefix}assets/colab-badge.svg')
            c.source = c.source.replace('https://saebook.github.io/saebook/', prefix)   # own-site links stay internal
        c.metadata['tags'] = tags
        for k in [k for k in list(c.keys()) if k.endswith('_')]: c.pop(k)
        cells.append(c)
    nb.cells = cells
    for o in [o for c in cells for o in c.get('outputs', [])]:
        for mime in ('text/html', 'text/markdown'):
            if mime in o.get('data', {}):
                v = o['data'][mime]; v = ''.join(v) if isinstance(v, list) else v
                v = re.sub(r'\]\(([^)]*?)#LNone\)', r'](\1)', v)                 # show_doc: no line number known
                if mime == 'text/markdown': v = re.sub(r'^\s*---\s*\n', '', v)          # show_doc's leading rule
                v = re.sub(r'(\]\([^)]*\))\{target="_blank"[^}]*\}', r'\1', v)     # quarto link attributes
                o['data'][mime] = v.replace(BADGE, f'{prefix}assets/colab-badge.svg')
    return nb

def write_nb(nb, path: Path):
    from fastcore.nbio import write_nb as _w
    path.parent.mkdir(parents=True, exist_ok=True)
    _w(nb, path)

# ---------------------------------------------------------------------------------------------- site
def _title(nb_path: Path) -> str:
    nb = json.loads(nb_path.read_text(encoding='utf-8'))
    for c in nb['cells']:
        if c['cell_type'] == 'markdown':
            m = re.search(r'^#\s+(.+)$', ''.join(c['source']), re.M)
            if m: return m.group(1).strip()
    return nb_path.stem

def build(execute: str, jobs: int, site: Path, exclude: str = ''):
    t0 = time.time()
    nbs = [n for n in notebooks() if not (exclude and re.search(exclude, n[0].stem))]
    ph = pkg_hash()
    todo, plan = [], []
    for src, page, kind in nbs:
        ex = (execute == 'all' or (execute == 'modules' and kind in ('module', 'index'))
              or (execute.startswith('re:') and re.search(execute[3:], src.stem) is not None))
        h = nb_hash(src, ph)
        cached = CACHE / f'{src.stem}-{h}-{"x" if ex else "n"}.ipynb'
        if not ex and (CACHE / f'{src.stem}-{h}-x.ipynb').exists(): cached = CACHE / f'{src.stem}-{h}-x.ipynb'   # executed before
        plan.append((src, page, kind, cached))
        if not cached.exists(): todo.append((str(src), str(cached), ex))
    log(f'{len(nbs)} notebooks; {len(nbs) - len(todo)} from the cache, {len(todo)} to process '
        f'({sum(t[2] for t in todo)} executed, jobs={jobs})')
    # longest first: tutorials and model notebooks
    order = {'steering': 0, 'superposition': 1, 'offline_quickstart': 2, '08_steering': 3, '09_vis': 4, '06_evals': 5}
    todo.sort(key=lambda t: order.get(Path(t[0]).stem, 9))
    os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE'); os.environ.setdefault('HF_HUB_OFFLINE', '1')
    os.environ.setdefault('PYDEVD_DISABLE_FILE_VALIDATION', '1')
    errors = []
    if todo:
        with ProcessPoolExecutor(max_workers=max(1, jobs)) as ex:
            for name, secs, err in ex.map(execute_one, todo):
                log(f'  {name:32s} {secs:6.1f} s' + (f'  FAILED\n{err}' if err else ''))
                if err: errors.append(name)
    if errors: sys.exit(f'notebooks failed to execute: {errors}')
    t_exec = time.time() - t0

    # processed notebooks -> _docs_src/, plus assets and the generated mkdocs config (nav)
    if SRC.exists(): shutil.rmtree(SRC)
    (SRC / 'assets').mkdir(parents=True)
    for p in ASSETS.glob('*'):
        if p.is_file(): shutil.copy(p, SRC / 'assets' / p.name)
    mj = _mathjax_dir()
    if mj: shutil.copytree(mj, SRC / 'assets' / 'mathjax', ignore=shutil.ignore_patterns('*.map', 'unpacked', 'localization', 'test', 'docs'))
    for img in list(NBS.glob('images/*')) + list(NBS.glob('tutorials/images/*')):
        dst = SRC / img.relative_to(NBS)
        if img.parent.parent == NBS: dst = SRC / 'images' / img.name
        dst.parent.mkdir(parents=True, exist_ok=True); shutil.copy(img, dst)
    nav = {'index': [], 'tutorial': [], 'module': []}
    for src, page, kind, cached in plan:
        depth = page.count('/')
        write_nb(postprocess(cached, kind, depth), SRC / page)
        if kind == 'module':   # nbdev image links are relative to nbs/
            pass
        nav[kind].append({_title(src) if kind != 'module' else f'saebook.{Path(page).stem}': page})
    if not nav['index']:
        (SRC / 'index.md').write_text('# saebook\n', encoding='utf-8'); nav['index'] = [{'Home': 'index.md'}]
    cfg = {'INHERIT': str(ROOT / 'mkdocs.yml'), 'docs_dir': str(SRC), 'site_dir': str(site.resolve()),
           'nav': [{'Home': list(nav['index'][0].values())[0]},
                   {'Tutorials': nav['tutorial']}, {'API reference': nav['module']}]}
    if mj:
        cfg['plugins'] = None   # filled below (INHERIT merges dicts, not plugin lists)
    import yaml
    base = yaml.safe_load((ROOT / 'mkdocs.yml').read_text())
    plugins = base.get('plugins', [])
    for p in plugins:
        if isinstance(p, dict) and 'mkdocs-jupyter' in p:
            p['mkdocs-jupyter']['custom_mathjax_url'] = 'MATHJAX_PLACEHOLDER' if mj else ''
    cfg['plugins'] = plugins
    gen = ROOT / '_docs_mkdocs.yml'
    gen.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding='utf-8')
    t1 = time.time()
    r = subprocess.run([sys.executable, '-m', 'mkdocs', 'build', '--clean', '-q', '-f', str(gen)], cwd=ROOT)
    if r.returncode: sys.exit(r.returncode)
    if mj: _fix_mathjax(site)
    _fix_toc(site)
    pages = len(list(site.rglob('*.html')))
    log(f'site: {site} ({pages} HTML pages); execute {t_exec:.1f} s, render {time.time() - t1:.1f} s, '
        f'total {time.time() - t0:.1f} s')

def _mathjax_dir():
    "MathJax 2 from the jupyter-server-mathjax wheel (docs extra), served from the site: no CDN."
    try:
        import jupyter_server_mathjax
        d = Path(jupyter_server_mathjax.__file__).parent / 'static'
        return d if (d / 'MathJax.js').exists() else None
    except ImportError: return None

def _fix_toc(site: Path):
    "mkdocs-jupyter slugs a heading's text without its `code` for the table of contents ('#_1'), nbconvert with it:"
    "point every table-of-contents link that matches no id at the heading with the same text."
    import html as _html
    norm = lambda x: re.sub(r'\s+', ' ', _html.unescape(re.sub(r'<[^>]+>', '', x)).replace('¶', '')).strip().lower()
    for p in site.rglob('*.html'):
        t = p.read_text(encoding='utf-8')
        ids = set(re.findall(r'\sid="([^"]+)"', t))
        i = t.find('md-nav--secondary')
        if i < 0: continue
        toc = re.findall(r'<a href="#([^"]*)"[^>]*>(.*?)</a>', t[i:t.find('</nav>', i)], re.S)
        if all(a in ids for a, _ in toc): continue
        found = re.findall(r'<h[2-6][^>]*\sid="([^"]+)"[^>]*>(.*?)</h[2-6]>', t, re.S)
        heads = {}
        for hid, body in found: heads.setdefault(norm(body), hid)
        targets = {a for a, _ in toc}
        # headings that are all `code` get an empty slug (and an empty entry) in the toc: take them in order
        code_only = [(hid, norm(b)) for hid, b in found if hid not in targets
                     and not norm(re.sub(r'<code>.*?</code>', '', re.sub(r'<a class="anchor-link".*?</a>', '', b)))]
        for a, text in toc:
            if a in ids: continue
            h, label = heads.get(norm(text)), None
            if not h and not norm(text) and code_only: h, label = code_only.pop(0)
            if not h: h = next((hid for hid, _ in found if hid.startswith(a + '-')), None)   # 'Data: `ToyData`'-style
            if not h: continue
            if label:   # fill the empty entry: <a href="#_1" ...><span class="md-ellipsis"> </span></a>
                t = re.sub(rf'(<a href="#{re.escape(a)}"[^>]*>\s*<span class="md-ellipsis">)\s*(</span>)',
                           lambda m: m.group(1) + f'<code>{_html.escape(label)}</code>' + m.group(2), t)
            t = t.replace(f'href="#{a}"', f'href="#{h}"')
        p.write_text(t, encoding='utf-8')

def _fix_mathjax(site: Path):
    "Point each page's MathJax script at the site's own copy (a relative path, right for every page depth)."
    for p in site.rglob('*.html'):
        t = p.read_text(encoding='utf-8')
        if 'MATHJAX_PLACEHOLDER' not in t: continue
        rel = os.path.relpath(site / 'assets' / 'mathjax' / 'MathJax.js', p.parent).replace(os.sep, '/')
        # HTML-CSS output with the STIX-Web fonts, the only ones the wheel ships
        cfg = ('<script type="text/x-mathjax-config">MathJax.Hub.Config({"HTML-CSS": {availableFonts: ["STIX-Web"], '
               'preferredFont: "STIX-Web", webFont: "STIX-Web", imageFont: null}});</script>\n')
        t = t.replace('MATHJAX_PLACEHOLDER', rel + '?config=TeX-AMS-MML_HTMLorMML-full,Safe')
        k = t.rfind('<script', 0, t.find(rel + '?config'))
        p.write_text(t[:k] + cfg + t[k:], encoding='utf-8')

# ---------------------------------------------------------------------------------------------- README
def readme_text() -> str:
    "README.md generated from nbs/index.ipynb: markdown cells verbatim, code cells as python blocks, no outputs."
    nb = json.loads((NBS / 'index.ipynb').read_text(encoding='utf-8'))
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        if _directives(src).keys() & {'hide', 'include'}: continue
        src = '\n'.join(l for l in src.splitlines() if not re.match(r'^\s*#\|', l)).strip('\n')
        if c['cell_type'] == 'markdown': parts.append(src.replace('](images/', '](https://raw.githubusercontent.com/saebook/saebook/main/nbs/images/'))
        elif c['cell_type'] == 'code' and src.strip(): parts.append(f'```python\n{src}\n```')
    return ('<!-- generated from nbs/index.ipynb by `python tools/build_docs.py readme`: edit the notebook -->\n\n'
            + '\n\n'.join(parts) + '\n')

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    b = sub.add_parser('build', help='execute + process the notebooks, render the site')
    b.add_argument('--execute', default='all',
                   help="all: every notebook; modules: the module notebooks and index; none; re:REGEX: the notebooks "
                        "whose name matches. Notebooks not executed show a cached executed copy if there is one, "
                        "else the outputs saved in git (usually none)")
    b.add_argument('--jobs', type=int, default=2)
    b.add_argument('--site', default=str(ROOT / 'docs'))
    b.add_argument('--exclude', default='', help='leave out the notebooks whose name matches this regex')
    r = sub.add_parser('readme', help='write README.md from nbs/index.ipynb (--check: fail if it differs)')
    r.add_argument('--check', action='store_true')
    a = ap.parse_args()
    if a.cmd == 'build': build(a.execute, a.jobs, Path(a.site), a.exclude)
    else:
        text, path = readme_text(), ROOT / 'README.md'
        if a.check:
            if path.read_text(encoding='utf-8') != text: sys.exit('README.md differs from nbs/index.ipynb: run `python tools/build_docs.py readme`')
            log('README.md matches nbs/index.ipynb')
        else: path.write_text(text, encoding='utf-8'); log('wrote README.md')

if __name__ == '__main__': main()
