"""The built docs site, checked as a reader sees it: every internal link and image resolves, no page asks an outside
host for anything, and every page loads in headless Chromium without JavaScript errors (circuitsvis dashboards
render). Screenshots land in `_docs_check/`.

Runs only when SAEBOOK_DOCS_SITE names a built site (`make docs-check` builds one and sets it), so the default
`pytest tests` does not need Chromium or a site.
"""
import base64, functools, http.server, json, os, re, shutil, socket, subprocess, tempfile, threading, time, urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit, unquote
import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = os.environ.get('SAEBOOK_DOCS_SITE')
SHOTS = ROOT / '_docs_check'
pytestmark = pytest.mark.skipif(not SITE, reason='docs check: set SAEBOOK_DOCS_SITE to a built site (`make docs-check`)')

# ------------------------------------------------------------------------------------------------ static crawl
class _Refs(HTMLParser):
    ATTRS = {'a': 'href', 'link': 'href', 'script': 'src', 'img': 'src', 'iframe': 'src', 'source': 'src'}
    def __init__(self):
        super().__init__(); self.refs, self.ids = [], set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if a.get('name') and tag == 'a': self.ids.add(a['name'])
        k = self.ATTRS.get(tag)
        if k and a.get(k) is not None: self.refs.append((tag, a.get('rel') or '', a[k]))

@functools.lru_cache(None)
def _parse(path: Path):
    p = _Refs(); p.feed(path.read_text(encoding='utf-8', errors='replace')); return p

def _site(): return Path(SITE).resolve()

def _site_url():
    m = re.search(r'^site_url:\s*(\S+)', (ROOT / 'mkdocs.yml').read_text(), re.M)
    return m.group(1) if m else '/'

def _pages(): return sorted(_site().rglob('*.html'))

def test_site_built():
    site = _site()
    assert (site / 'index.html').exists(), f'{site}/index.html is missing: did `make docs` run?'
    names = {p.relative_to(site).as_posix() for p in _pages()}
    for want in ('api/sae.html', 'api/train.html', 'tutorials/superposition.html', 'tutorials/offline_quickstart.html'):
        assert want in names, f'{want} was not built (pages: {sorted(names)})'
    assert (site / 'search' / 'search_index.json').exists(), 'no search index: is the search plugin on?'

def test_internal_links_resolve():
    "Every internal href/src of every page points at a file of the site (and, for #anchors, at an id on it)."
    site, broken, n = _site(), [], 0
    for page in _pages():
        for tag, rel, ref in _parse(page).refs:
            u = urlsplit(ref)
            if u.scheme or ref.startswith('//') or ref.startswith(('mailto:', 'javascript:')): continue
            n += 1
            if u.path.startswith('/'):   # absolute (only 404.html uses them): relative to the site's base path
                base = urlsplit(_site_url()).path or '/'
                if not u.path.startswith(base): broken.append(f'{page.relative_to(site)}: <{tag}> {ref} (outside {base})'); continue
                target = site / unquote(u.path[len(base):])
            else: target = page if not u.path else (page.parent / unquote(u.path)).resolve()
            if u.path.endswith('/') or target.is_dir(): target = target / 'index.html'
            if not target.exists(): broken.append(f'{page.relative_to(site)}: <{tag}> {ref}'); continue
            if u.fragment and target.suffix == '.html' and tag == 'a' and unquote(u.fragment) not in _parse(target).ids:
                broken.append(f'{page.relative_to(site)}: <{tag}> {ref} (no such anchor)')
    print(f'{n} internal links checked in {len(_pages())} pages, {len(broken)} broken')
    assert n > 100, f'only {n} internal links found: is the site empty?'
    assert not broken, 'broken internal links:\n' + '\n'.join(broken[:50])

def test_no_external_resources():
    "Pages load nothing from outside hosts (fonts off, MathJax and the Colab badge served locally): they work offline."
    site, ext = _site(), []
    for page in _pages():
        for tag, rel, ref in _parse(page).refs:
            if tag == 'a' or (tag == 'link' and 'stylesheet' not in rel and 'icon' not in rel): continue
            if urlsplit(ref).scheme in ('http', 'https') or ref.startswith('//'): ext.append(f'{page.relative_to(site)}: <{tag}> {ref}')
    assert not ext, 'pages request outside resources:\n' + '\n'.join(ext[:30])

# ------------------------------------------------------------------------------------------------ browser
def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='module')
def server():
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(_site()))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()

def _chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        if shutil.which(name): return shutil.which(name)
    pytest.fail('headless Chromium is needed for the docs check: `apt-get install chromium` (Debian)')

class CDP:
    "A few Chrome DevTools Protocol calls over one page's websocket: navigate, collect errors, screenshot."
    def __init__(self, ws_url):
        import websocket   # websocket-client (docs extra)
        self.ws, self.i, self.events = websocket.create_connection(ws_url, timeout=60, suppress_origin=True), 0, []
    def call(self, method, **params):
        self.i += 1; self.ws.send(json.dumps(dict(id=self.i, method=method, params=params)))
        while True:
            m = json.loads(self.ws.recv())
            if m.get('id') == self.i:
                if 'error' in m: raise RuntimeError(f'{method}: {m["error"]}')
                return m.get('result', {})
            self.events.append(m)
    def wait_for(self, method, timeout=60):
        t0 = time.time()
        while time.time() - t0 < timeout:
            for k, m in enumerate(self.events):
                if m.get('method') == method: return self.events.pop(k)
            self.ws.settimeout(max(0.1, timeout - (time.time() - t0)))
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(method)
    def eval(self, js):
        return self.call('Runtime.evaluate', expression=js, returnByValue=True, awaitPromise=True)['result'].get('value')

@pytest.fixture(scope='module')
def browser():
    port, prof = _free_port(), tempfile.mkdtemp(prefix='saebook-chromium-')
    proc = subprocess.Popen([_chromium(), '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                             '--disable-dev-shm-usage', '--no-first-run', '--hide-scrollbars', f'--user-data-dir={prof}',
                             f'--remote-debugging-port={port}', '--remote-allow-origins=*', 'about:blank'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                tabs = json.loads(urllib.request.urlopen(f'http://127.0.0.1:{port}/json/list', timeout=2).read()); break
            except OSError: time.sleep(0.2)
        else: pytest.fail('Chromium did not open its DevTools port')
        page = next(t for t in tabs if t.get('type') == 'page')
        cdp = CDP(page['webSocketDebuggerUrl'])
        for m in ('Page.enable', 'Runtime.enable', 'Log.enable'): cdp.call(m)
        cdp.call('Emulation.setDeviceMetricsOverride', width=1280, height=2000, deviceScaleFactor=1, mobile=False)
        yield cdp
    finally:
        proc.terminate()
        try: proc.wait(10)
        except subprocess.TimeoutExpired: proc.kill()
        shutil.rmtree(prof, ignore_errors=True)

def _visit(cdp, url):
    "Load `url`; return the JS errors (exceptions, console.error, failed loads) it caused."
    cdp.events.clear()
    cdp.call('Page.navigate', url=url)
    cdp.wait_for('Page.loadEventFired', timeout=90)
    time.sleep(0.5)   # let deferred scripts (circuitsvis renders, MathJax) run
    cdp.eval('1')
    errs = []
    for m in cdp.events:
        p = m.get('params', {})
        if m.get('method') == 'Runtime.exceptionThrown':
            d = p['exceptionDetails']; errs.append(f"exception: {d.get('exception', {}).get('description') or d.get('text')}")
        elif m.get('method') == 'Runtime.consoleAPICalled' and p.get('type') == 'error':
            errs.append('console.error: ' + ' '.join(str(a.get('value', a.get('description', ''))) for a in p.get('args', [])))
        elif m.get('method') == 'Log.entryAdded' and p['entry'].get('level') == 'error':
            if 'about:blank' in p['entry'].get('text', '') + p['entry'].get('url', ''): continue   # MathJax 2's font probe
            errs.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
    return errs

def _shot(cdp, name):
    SHOTS.mkdir(exist_ok=True)
    png = base64.b64decode(cdp.call('Page.captureScreenshot', format='png')['data'])
    (SHOTS / name).write_bytes(png)
    return SHOTS / name

SCREENSHOTS = {'index.html': 'landing.png', 'api/sae.html': 'api_sae.png',
               'tutorials/offline_quickstart.html': 'tutorial_quickstart.png',
               'tutorials/superposition.html': 'tutorial_superposition.png'}

def test_pages_in_browser(server, browser):
    "Every page loads in Chromium with no JS error and no broken image; dashboards render through circuitsvis."
    site, problems, dash_pages = _site(), [], []
    for page in _pages():
        rel = page.relative_to(site).as_posix()
        if rel.startswith('assets/') or rel == '404.html': continue
        errs = _visit(browser, f'{server}/{rel}')
        bad_imgs = browser.eval('Array.from(document.images).filter(i => i.complete && i.naturalWidth === 0)'
                                '.map(i => i.getAttribute("src").slice(0, 80))')
        problems += [f'{rel}: {e}' for e in errs] + [f'{rel}: image does not load: {s}' for s in bad_imgs or []]
        n_cv = browser.eval('document.querySelectorAll("div[id^=cv-]").length')
        if n_cv:
            dash_pages.append(rel)
            rendered = browser.eval('typeof window.CircuitsVis')
            if rendered != 'object': problems.append(f'{rel}: {n_cv} circuitsvis dashboards but window.CircuitsVis is {rendered}')
        if rel in SCREENSHOTS: _shot(browser, SCREENSHOTS[rel])
    print(f'dashboard pages: {dash_pages}; screenshots in {SHOTS}')
    assert not problems, 'problems in the browser:\n' + '\n'.join(problems[:40])
