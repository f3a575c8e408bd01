"""The docs site: it builds strictly, works offline, its generated parts are up to date,
the Results switch works, and a real (headless Chromium) browser renders its pages.

The site is built once per module into a temporary folder (never into the repo), as
`mkdocs build` makes it: pages end in .html so that it also works opened from disk.
The browser tests skip, saying why, when Debian's ``chromium`` is not installed
(``apt-get install -y chromium``). Set REGNETLAB_DOCS_SCREENSHOTS=DIR to keep the
screenshots they take.

The layout checks (code cells that overflow, hints left open, search, the Colab and
repository links) run in the browser itself: ``harness.html``, written into the built
site, loads each page in an iframe of the width under test, measures it with the DOM,
and writes what it found into its own page, which Chromium dumps.
"""
import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("mkdocs", reason="the docs extra is not installed "
                                      "(REGNETLAB_EXTRAS=test,docs bash scripts/setup.sh)")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SCRIPTS = DOCS / "scripts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
EXERCISES = ("ex1_deeper_regnetx", "ex2_de_resnextify", "ex3_vionet", "ex4_perfect_mlp")
TASK_PAGES = [f"exercises/ex{i}.html" for i in range(1, 5)]
NOTEBOOK_PAGES = [f"exercises/{name}.html" for name in EXERCISES]
PAGES = ["index.html", "chapter/index.html", "chapter/anynet.html", "chapter/edf.html",
         "chapter/regnetx.html", "chapter/traps.html", "chapter/training.html",
         "exercises/index.html", "results.html", "explorer.html",
         "instructors/index.html", "reference.html",
         "autograder/index.html", "autograder/CALIBRATION.html"]
PAGES += TASK_PAGES + NOTEBOOK_PAGES
WIDTHS = (1280, 390)   # a desktop window and a phone


def build_site(site_dir, **env):
    """``mkdocs build --strict`` into site_dir; returns the finished process."""
    full_env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", **env}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=300)


def _load(path, name):
    """Import a docs script or hook by path, with its folder on sys.path as mkdocs does."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(Path(path).parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(Path(path).parent))
    return module


def visible_text(html):
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


# The course's address the published site is built with here (a course sets its own in
# regnetlab/project.py or $REGNETLAB_REPOSITORY; unset, the site names none).
COURSE = "https://github.com/d2l-course/regnetlab"
PUBLISHED = {"REGNETLAB_REPOSITORY": COURSE, "REGNETLAB_DOCS_PUBLISH": "true"}
UNSET = {"REGNETLAB_REPOSITORY": "", "REGNETLAB_DOCS_PUBLISH": "false"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site_dir = tmp_path_factory.mktemp("site")
    done = build_site(site_dir, **PUBLISHED)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr[-4000:]}"
    return site_dir


def placeholder_hits(site_dir):
    """Files of a built site that show the placeholder address, in any of its forms."""
    hook = _load(DOCS / "hooks/regnetlab_docs.py", "docs_hook_forms")
    forms = hook.placeholder_forms()
    return [(p.relative_to(site_dir).as_posix(), f) for p in sorted(site_dir.rglob("*"))
            if p.is_file() and p.suffix in (".html", ".xml", ".py", ".ipynb", ".json")
            for f in forms if f in p.read_text(errors="replace")]


def test_published_site_shows_the_course_address_and_no_placeholder(site):
    assert not placeholder_hits(site), placeholder_hits(site)[:5]
    home = (site / "index.html").read_text()
    assert f"git clone {COURSE}.git" in visible_text(home)
    notebook = (site / "exercises/ex1_deeper_regnetx.html").read_text()
    assert f"git+{COURSE}.git@" in notebook, "the setup cell does not install from the course"
    assert f"git+{COURSE}.git@" in (site / "exercises/ex1_deeper_regnetx.py").read_text()


def test_unset_address_shows_how_to_set_it_and_no_fake_owner(tmp_path):
    done = build_site(tmp_path / "site", **UNSET)
    assert done.returncode == 0, f"unset address: build failed:\n{done.stderr[-3000:]}"
    site_dir = tmp_path / "site"
    assert not placeholder_hits(site_dir), placeholder_hits(site_dir)[:5]
    home = (site_dir / "index.html").read_text()
    assert "git clone" not in visible_text(home)
    assert "names no repository yet" in visible_text(home)
    assert 'class="md-source"' not in home, "a repository link with no repository"
    for page in TASK_PAGES + NOTEBOOK_PAGES:
        html = (site_dir / page).read_text()
        assert "colab.research.google.com" not in html, f"{page}: a Colab button"
        assert "the-courses-address" in html, f"{page}: does not say how to set the address"
    assert "&lt;course-repository&gt;" in (site_dir / NOTEBOOK_PAGES[0]).read_text()


def test_a_published_build_refuses_an_unset_address(tmp_path):
    done = build_site(tmp_path / "site", **{**UNSET, "REGNETLAB_DOCS_PUBLISH": "true"})
    assert done.returncode != 0
    assert "the course's repository address is unset" in done.stderr
    assert "COURSE_REPOSITORY in regnetlab/project.py" in done.stderr


def test_any_built_page_with_the_placeholder_fails_the_build(tmp_path):
    """The last check of every build: a page that still shows github.com/OWNER/..."""
    from types import SimpleNamespace
    from mkdocs.exceptions import PluginError

    hook = _load(DOCS / "hooks/regnetlab_docs.py", "docs_hook_post")
    (tmp_path / "ok.html").write_text("<p>--grader-repo OWNER/NAME is a metavar</p>")
    hook.on_post_build(SimpleNamespace(site_dir=str(tmp_path)))
    (tmp_path / "bad.html").write_text('<a href="https://github.com/OWNER/regnetlab">x</a>')
    with pytest.raises(PluginError, match=r"1 built file\(s\) show the placeholder.*bad.html"):
        hook.on_post_build(SimpleNamespace(site_dir=str(tmp_path)))


def test_strict_build_writes_every_page(site):
    missing = [p for p in PAGES if not (site / p).is_file()]
    assert not missing, f"pages missing from the built site: {missing}"


def test_exercise_notebooks_are_rendered_from_the_stubs(site):
    for name in EXERCISES:
        stub = (ROOT / "exercises" / f"{name}.py").read_text()
        html = (site / "exercises" / f"{name}.html").read_text()
        assert "jupyter-wrapper" in html, f"{name}: not rendered by mkdocs-jupyter"
        # A class the student writes, named in the stub, appears in the rendered notebook.
        cls = re.search(r"^class (\w+)", stub, re.M).group(1)
        assert cls in html, f"{name}: class {cls} of the stub is not on its notebook page"
        assert re.search(rf'href="{name}\.py" download', html), f"{name}: no download link"
        assert (site / "exercises" / f"{name}.py").is_file(), \
            f"{name}: the .py source is not offered for download beside its page"


def test_results_page_nests_every_recorded_summary(site):
    html = (site / "results.html").read_text()
    for summary in sorted((ROOT / "results/summary").glob("*.md")):
        title = summary.read_text().splitlines()[0].lstrip("# ").strip()
        assert re.search(r"<h2[^>]*>" + re.escape(title.split("(")[0].strip()), html), \
            f"{summary.name}: its title {title!r} is not a section of the Results page"


def test_pages_load_nothing_from_the_internet(site):
    """Math, fonts and scripts are vendored: CI and classrooms may have no internet."""
    # (<link rel="canonical"> names the published address; the browser loads nothing from it)
    remote = re.compile(r"""<(?:script|link|img)\b(?![^>]*rel="canonical")[^>]*"""
                        r"""(?:src|href)=["'](?:https?:)?//""")
    for page in PAGES:
        html = (site / page).read_text()
        found = remote.findall(html)
        assert not found, f"{page} loads {found} from the internet"
    assert (site / "assets/katex/katex.min.js").is_file()
    assert list((site / "assets/katex/fonts").glob("*.woff2"))


def test_generated_snippets_are_up_to_date():
    build_assets = _load(SCRIPTS / "build_assets.py", "docs_build_assets")
    assert build_assets.main(["--check"]) == 0, \
        "a docs snippet is stale: run .venv/bin/python docs/scripts/build_assets.py"


def test_every_chapter_figure_is_made_by_a_script():
    figures = _load(SCRIPTS / "figures.py", "docs_figures")
    committed = {p.name for p in (DOCS / "figures").glob("*.png")}
    drawn = {name for name, _, _ in figures.outputs()}
    assert committed == drawn, (
        f"docs/figures/*.png {sorted(committed)} differ from what docs/scripts/figures.py "
        f"draws {sorted(drawn)}")
    used = set()
    for md in DOCS.rglob("*.md"):
        used |= set(re.findall(r"figures/([\w.-]+\.png)", md.read_text()))
    unused = set(figures.FIGURES) - used
    assert not unused, f"figures drawn but shown on no page: {sorted(unused)}"


def test_figures_are_readable_on_a_desktop_and_on_a_phone(tmp_path):
    """Each figure's smallest text, scaled to the column it is shown in, is >= 11 px
    (the wide version in a 1280 px window, the narrow one on a 390 px phone)."""
    figures = _load(SCRIPTS / "figures.py", "docs_figures")
    sizes = figures.main(tmp_path)
    small = {name: round(px, 1) for name, px in sizes.items() if px < figures.MIN_TEXT_PX}
    assert not small, f"text smaller than {figures.MIN_TEXT_PX} px on screen: {small}"
    assert set(sizes) == {name for name, _, _ in figures.outputs()}


def test_one_palette_for_every_figure():
    """Design spaces take their colour from docs/scripts/palette.py, never from
    matplotlib's colour cycle; the explorer's copy, once it exists, is the same."""
    source = (SCRIPTS / "figures.py").read_text()
    cycle = re.findall(r"""color=f?["']C\{?\w*\}?["']|["']C\d["']""", source)
    assert not cycle, f"figures.py uses matplotlib's cycle colours {cycle}: use palette.color"
    palette = _load(SCRIPTS / "palette.py", "docs_palette")
    assert palette.color("A") == palette.color("AnyNetXA")
    with pytest.raises(KeyError, match="no colour"):
        palette.color("a space nobody named")
    library = ROOT / "regnetlab" / "explore" / "palette.py"
    if library.is_file():
        lib = _load(library, "lib_palette")
        for table in ("SPACES", "NETWORKS", "VIONET", "MLP"):
            assert getattr(lib, table) == getattr(palette, table), \
                f"regnetlab/explore/palette.py {table} differs from docs/scripts/palette.py"


def test_results_page_can_be_hidden(tmp_path):
    done = build_site(tmp_path, REGNETLAB_DOCS_SHOW_RESULTS="false")
    assert done.returncode == 0, f"strict build with results hidden failed:\n{done.stderr[-4000:]}"
    assert not (tmp_path / "results.html").exists(), "results page still built"
    home = (tmp_path / "index.html").read_text()
    assert 'href="results.html"' not in home, "results page still in the nav"
    assert '"location":"results.html' not in (tmp_path / "search/search_index.json").read_text()
    explorer = (tmp_path / "explorer.html").read_text()
    assert not re.search(r'<img[^>]*src="[./]*figures/explore/', explorer)
    assert "What the recorded runs show" not in explorer
    assert not (tmp_path / "figures/explore").exists(), "the runs' figures are still there"
    # Links to it from other pages became plain text (a dead link would fail --strict).
    instructors = (tmp_path / "instructors/index.html").read_text()
    assert not re.search(r'href="[./]*results\.html"', instructors), \
        "the instructors' page still links to the hidden page"
    chapter = (tmp_path / "chapter/regnetx.html").read_text()
    assert "What our recorded runs found" not in chapter, "the chapter still shows the runs"
    assert "no significant difference" not in chapter


def test_results_switch_refuses_an_unclear_value():
    hook = _load(DOCS / "hooks/regnetlab_docs.py", "docs_hook")

    class Config:
        extra = {"show_results": "maybe"}

    with pytest.raises(Exception, match="REGNETLAB_DOCS_SHOW_RESULTS.*expected true or false"):
        hook.show_results(Config())
    Config.extra = {"show_results": "False"}
    assert hook.show_results(Config()) is False


def test_exercise_pages_take_text_hints_and_points_from_their_sources(site):
    """Page parts come from the stub and the grader: check them against both."""
    hooks = _load(DOCS / "hooks/exercise_pages.py", "docs_exercise_pages")
    facts = hooks.grader_facts()
    for i, name in enumerate(EXERCISES, 1):
        parts = hooks.stub_parts(ROOT / "exercises" / f"{name}.py")
        html = (site / f"exercises/ex{i}.html").read_text()
        assert parts.title in html
        # Every hint is on the page, each in its own collapsible block, nested in order.
        assert html.count("<details") == len(parts.hints) >= 2, f"ex{i}: hints"
        last = " ".join(re.sub(r"[`*]", "", parts.hints[-1]).split()[:4])
        assert last in visible_text(html), f"ex{i}: last hint missing"
        tests = [t for t in facts["tests"] if t["exercise"] == f"ex{i}"]
        assert tests, f"the grader has no tests for ex{i}"
        total = sum(t["points"] for t in tests)
        assert f"<strong>{total:g}</strong>" in html, f"ex{i}: total {total:g} points missing"


def test_stub_parser_refuses_a_stub_without_hints(tmp_path):
    hooks = _load(DOCS / "hooks/exercise_pages.py", "docs_exercise_pages")
    bad = tmp_path / "ex9_bad.py"
    bad.write_text("# %% [markdown]\n# # Exercise 9: bad\n#\n# **What you write.** x\n")
    with pytest.raises(hooks.SourceError, match="What the autograder checks"):
        hooks.stub_parts(bad)


# -- a real browser ----------------------------------------------------------------------
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium): "
                             "browser check of the docs skipped")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--virtual-time-budget=15000",
                  "--window-size=1280,1600"]


def chromium(tmp_path, *args):
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    done = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"chromium failed: {done.stderr[-2000:]}"
    return done.stdout


HARNESS_INBOX = {"event": threading.Event(), "body": None}


@pytest.fixture(scope="module")
def served(site):
    """The built site over HTTP on the loopback interface (a free port), as a web server
    shows it; stopped when the module's tests are done.

    Two extra addresses serve the browser harness (HARNESS below): it POSTs what it
    measured to /__result__, and /__hold__ answers only once that has arrived, which
    keeps the harness page "loading", and Chromium's --dump-dom waiting, in real time.
    """
    inbox = HARNESS_INBOX

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(site), **kwargs)

        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path.startswith("/__hold__"):
                inbox["event"].wait(HARNESS_TIMEOUT)
                self.send_response(204)
                self.end_headers()
                return
            super().do_GET()

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/__result__":
                inbox["body"] = body.decode()
                inbox["event"].set()
            self.send_response(204)
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    inbox["event"].set()   # release a harness still waiting
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def rendered(served, page, tmp_path):
    """The page's DOM after its scripts ran, and a screenshot of it."""
    url = served + page
    dom = chromium(tmp_path, "--dump-dom", url)
    shots = Path(os.environ.get("REGNETLAB_DOCS_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / (page.removesuffix(".html").replace("/", "_") + ".png")
    chromium(tmp_path, f"--screenshot={shot}", url)
    return dom, shot


def assert_screenshot_shows_something(shot):
    import matplotlib.image
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] > 100 and pixels.std() > 0.05, f"{shot} looks blank"


def katex_formulas(dom):
    """Formulas KaTeX rendered in the browser (it runs only there: proof the JS worked)."""
    return len(re.findall(r'class="katex"', dom))


def shown_images(dom, site, page):
    """Images on the page whose file exists in the built site."""
    base = (site / page).parent
    srcs = re.findall(r'<img[^>]*\bsrc="([^"]+\.png)"', dom)
    return [s for s in srcs if (base / s).resolve().is_file()]


@needs_chromium
def test_home_page_in_a_browser(site, served, tmp_path):
    dom, shot = rendered(served, "index.html", tmp_path)
    assert "<h1" in dom and "regnetlab" in dom
    assert "A companion to" in dom
    assert any("anynet_structure.png" in s for s in shown_images(dom, site, "index.html"))
    assert_screenshot_shows_something(shot)


@needs_chromium
def test_exercise_page_in_a_browser(site, served, tmp_path):
    page = "exercises/ex1.html"
    hooks = _load(DOCS / "hooks/exercise_pages.py", "docs_exercise_pages")
    title = hooks.stub_parts(ROOT / "exercises/ex1_deeper_regnetx.py").title
    dom, shot = rendered(served, page, tmp_path)
    assert re.search(rf"<h1[^>]*>{re.escape(title)}", dom), f"title {title!r} missing"
    assert katex_formulas(dom) > 0, "no formula rendered by KaTeX on the exercise page"
    assert 'class="katex-error"' not in dom, "KaTeX could not parse a formula"
    assert dom.count("<details") >= 2, "progressive hints (collapsible) missing"
    assert "regnetlab grade exercises --only ex1" in visible_text(dom)
    assert_screenshot_shows_something(shot)


@needs_chromium
def test_chapter_page_in_a_browser(site, served, tmp_path):
    page = "chapter/regnetx.html"
    dom, shot = rendered(served, page, tmp_path)
    assert katex_formulas(dom) >= 5, "the rule's formulas were not rendered by KaTeX"
    assert 'class="katex-error"' not in dom, "KaTeX could not parse a formula"
    assert any("regnetx_widths.png" in s for s in shown_images(dom, site, page))
    assert_screenshot_shows_something(shot)


@needs_chromium
def test_notebook_page_in_a_browser(site, served, tmp_path):
    page = "exercises/ex1_deeper_regnetx.html"
    dom, shot = rendered(served, page, tmp_path)
    assert "DeepRegNetX" in dom and "jp-Cell" in dom
    assert_screenshot_shows_something(shot)


# -- layout, hints, search and links, measured in the browser ---------------------------
HARNESS_TIMEOUT = 240  # seconds the harness may take for all its pages
HARNESS = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<pre id="result">running</pre>
<img src="__hold__" alt="">
<script>
const JOBS = %s;
const sleep = ms => new Promise(r => setTimeout(r, ms));
// checkVisibility: false inside a closed <details> too (its content is
// content-visibility: hidden in Chromium, which getClientRects alone does not see)
function visible(el) { return el.checkVisibility() && el.getClientRects().length > 0; }
function measure(doc, job) {
  const out = {page: job.page, width: job.width, overflow: [], wrapped: [], hints: null,
               links: {}, tables: [], figures: [], broken_names: []};
  // On a phone Material lets code blocks bleed into the page's side padding, so the
  // limit is the window's edge; a block may scroll inside its own box, never past it.
  const right = doc.documentElement.clientWidth;
  const rows = el => {   // distinct visual rows of the text inside el
    const range = doc.createRange();
    range.selectNodeContents(el);
    const tops = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0)
                                             .map(r => r.top).sort((a, b) => a - b);
    const h = parseFloat(doc.defaultView.getComputedStyle(el).lineHeight) || 16;
    return tops.filter((t, i) => i === 0 || t - tops[i - 1] > h / 2).length;
  };
  for (const pre of doc.querySelectorAll("pre")) {
    if (!visible(pre)) continue;
    const past = pre.getBoundingClientRect().right - right;
    if (past > 1) {
      out.overflow.push({text: pre.textContent.trim().slice(0, 60), by_px: Math.round(past)});
    }
    // A wrapped line would restart at column 0 and garble Python's indentation: every
    // source line must stay one row (the block scrolls sideways instead).
    const inner = pre.querySelector("code") || pre;
    const lines = inner.textContent.split("\\n").filter(l => l.trim()).length;
    const shown = rows(inner);
    if (shown > lines) {
      out.wrapped.push({text: pre.textContent.trim().slice(0, 60), lines: lines, rows: shown});
    }
  }
  for (const table of doc.querySelectorAll(".md-typeset table")) {
    if (!visible(table)) continue;
    const box = (table.closest(".md-typeset__scrollwrap") || table).getBoundingClientRect();
    out.tables.push({text: table.textContent.trim().slice(0, 40),
                     right: Math.round(box.right), width: Math.round(box.width)});
    for (const code of table.querySelectorAll("code")) {
      if (visible(code) && code.textContent.length > 3 && rows(code) > 1) {
        out.broken_names.push(code.textContent.slice(0, 40));
      }
    }
  }
  for (const img of doc.querySelectorAll(".md-content img")) {
    if (!visible(img)) continue;
    const box = img.getBoundingClientRect();
    out.figures.push({src: img.getAttribute("src"), right: Math.round(box.right),
                      width: Math.round(box.width), natural: img.naturalWidth});
  }
  const details = [...doc.querySelectorAll("details")];
  out.hints = {count: details.length, open: details.filter(d => d.open).length,
               shown: details.filter(d => [...d.children].some(
                   c => c.tagName !== "SUMMARY" && visible(c))).length,
               text: job.page.startsWith("exercises/") ? doc.body.innerText : ""};
  const colab = doc.querySelector("a.colab-link");
  out.links.colab = colab ? colab.href : null;
  const repo = doc.querySelector("a.md-source");
  out.links.repo = repo ? repo.getAttribute("href") : null;
  out.search = doc.querySelectorAll(".md-search-result__item").length;
  return out;
}
async function run() {
  const results = [];
  for (const job of JOBS) {
    const frame = document.createElement("iframe");
    frame.style.width = job.width + "px";
    frame.style.height = "1000px";
    const loaded = new Promise(r => frame.onload = r);
    frame.src = job.page;
    document.body.appendChild(frame);
    await loaded;
    let r = null;
    for (let i = 0; i < (job.wait || 0) * 10 + 1; i++) {   // search results arrive late
      await sleep(150);
      r = measure(frame.contentDocument, job);
      if (!job.wait || r.search > 0) break;
    }
    results.push(r);
    frame.remove();
  }
  return JSON.stringify(results);
}
run().catch(e => "ERROR " + e).then(text =>
  fetch("__result__", {method: "POST", body: text}));
</script></body></html>"""


def in_browser(site, served, tmp_path, jobs):
    """Load each job's page in an iframe ``width`` px wide and measure it (HARNESS)."""
    inbox = HARNESS_INBOX
    inbox["event"].clear()
    inbox["body"] = None
    harness = site / "harness.html"
    harness.write_text(HARNESS % json.dumps(jobs))
    try:
        done = subprocess.run(
            [CHROMIUM, *[f for f in CHROMIUM_FLAGS if not f.startswith("--virtual-time")],
             f"--user-data-dir={tmp_path / 'harness'}", "--dump-dom", served + "harness.html"],
            capture_output=True, text=True, timeout=HARNESS_TIMEOUT + 60)
    finally:
        harness.unlink()
    assert done.returncode == 0, f"chromium failed: {done.stderr[-2000:]}"
    text = inbox["body"]
    assert text is not None, "the harness sent no result"
    assert not text.startswith("ERROR"), f"harness: {text[:500]}"
    return json.loads(text)


@pytest.fixture(scope="module")
def measured(site, served, tmp_path_factory):
    jobs = [{"page": page, "width": w} for page in PAGES for w in WIDTHS]
    return in_browser(site, served, tmp_path_factory.mktemp("harness"), jobs)


@needs_chromium
def test_no_code_cell_overflows_at_desktop_or_phone_width(measured):
    """Every code block and notebook cell fits its column: nothing cut off or scrolled."""
    bad = [(r["page"], r["width"], o) for r in measured for o in r["overflow"]]
    assert not bad, "code wider than its column:\n" + "\n".join(map(str, bad[:20]))
    assert len(measured) == len(PAGES) * len(WIDTHS)


@needs_chromium
def test_no_code_line_wraps_to_column_zero(measured):
    """A long code line scrolls sideways rather than wrapping: a wrapped line would start
    again at column 0 and garble Python's indentation (notebook cells included)."""
    bad = [(r["page"], r["width"], w) for r in measured for w in r["wrapped"]]
    assert not bad, "code lines wrapped:\n" + "\n".join(map(str, bad[:20]))
    assert any(r["page"] in NOTEBOOK_PAGES for r in measured)


@needs_chromium
def test_widest_table_and_figure_fit_a_phone(measured):
    """At 390 px the widest table (its scrolling box) and the widest figure end inside
    the window, and no name in code is broken across two rows of a table cell."""
    phone = [r for r in measured if r["width"] == 390]
    tables = [(r["page"], t) for r in phone for t in r["tables"]]
    figures = [(r["page"], f) for r in phone for f in r["figures"]]
    assert tables and figures, "no table or figure measured at 390 px"
    widest_table = max(tables, key=lambda x: x[1]["width"])
    widest_figure = max(figures, key=lambda x: x[1]["width"])
    for page, box in (widest_table, widest_figure):
        assert box["right"] <= 390 and box["width"] <= 390, f"{page}: {box} is wider than 390 px"
    past = [(p, b) for p, b in tables + figures if b["right"] > 390]
    assert not past, f"past the right edge of a phone: {past[:5]}"
    broken = [(r["page"], n) for r in measured for n in r["broken_names"]]
    assert not broken, f"names broken across rows in tables: {broken[:10]}"


@needs_chromium
def test_hints_are_folded_on_every_exercise_page(measured):
    """Task pages and notebook pages alike: the hints are closed blocks, and the last
    hint's words are not on screen until the student opens its block."""
    hooks = _load(DOCS / "hooks/exercise_pages.py", "docs_exercise_pages")
    pages = dict(zip(TASK_PAGES, EXERCISES)) | dict(zip(NOTEBOOK_PAGES, EXERCISES))
    for r in measured:
        if r["page"] not in pages:
            continue
        hints = hooks.stub_parts(ROOT / "exercises" / f"{pages[r['page']]}.py").hints
        where = f"{r['page']} at {r['width']} px"
        assert r["hints"]["count"] >= len(hints), f"{where}: {r['hints']['count']} blocks"
        assert r["hints"]["open"] == 0 and r["hints"]["shown"] == 0, f"{where}: hints open"
        last = " ".join(re.sub(r"[`*]", "", hints[-1]).split()[:6])
        assert last not in " ".join(r["hints"]["text"].split()), \
            f"{where}: the last hint is readable without opening it"


@needs_chromium
def test_colab_and_repository_links(measured):
    project = _load(ROOT / "regnetlab/project.py", "docs_project")
    for r in measured:
        assert r["links"]["repo"] == COURSE, f"{r['page']}: repository link"
        name = next((n for n in EXERCISES if r["page"] in (f"exercises/{n}.html",
                     f"exercises/ex{EXERCISES.index(n) + 1}.html")), None)
        if name:
            expected = project.colab_url(f"exercises/{name}.ipynb", url=COURSE)
            assert r["links"]["colab"] == expected, \
                f"{r['page']}: Open in Colab link {r['links']['colab']!r}"


def search_results(dom):
    return len(re.findall(r'class="md-search-result__item"', dom))


@needs_chromium
def test_search_finds_pages_on_a_served_site(site, served, tmp_path):
    """Material opens its search with the query of ?q=; the results list fills in."""
    found = in_browser(site, served, tmp_path, [
        {"page": "index.html?q=bottleneck", "width": 1280, "wait": 20},
        {"page": "chapter/anynet.html?q=RegNetX32", "width": 390, "wait": 20}])
    for r in found:
        assert r["search"] > 0, f"search on {r['page']} returned nothing"


@needs_chromium
def test_search_works_opened_from_disk(site, tmp_path):
    """site/index.html opened as a file (no server): the offline plugin's inlined index."""
    dom = chromium(tmp_path, "--dump-dom", (site / "index.html").as_uri() + "?q=bottleneck")
    assert search_results(dom) > 0, \
        "search returns nothing when the site is opened from disk"


def test_site_knows_its_address_and_repository(site):
    hook = _load(DOCS / "hooks/regnetlab_docs.py", "docs_hook")
    base = os.environ.get(hook.SITE_URL_ENV) or hook.default_site_url(COURSE)
    assert base == "https://d2l-course.github.io/regnetlab/" or hook.SITE_URL_ENV in os.environ
    locs = re.findall(r"<loc>([^<]+)</loc>", (site / "sitemap.xml").read_text())
    assert len(locs) >= len(PAGES) and all(u.startswith(base) for u in locs), locs[:3]
    home = (site / "index.html").read_text()
    assert f'href="{COURSE}"' in home, "no link to the repository"
    assert f"git clone {COURSE}.git" in visible_text(home)


def test_reference_shows_no_sphinx_roles(site):
    text = visible_text((site / "reference.html").read_text())
    roles = re.findall(r":(?:func|class|meth|mod|attr|exc|data):", text)
    assert not roles, f"raw Sphinx roles on the reference page: {len(roles)}"


def test_quoted_exercises_keep_their_numbers(site):
    """The book's question is quoted as a numbered item: exercise 3 shows "3."."""
    for i in range(1, 5):
        html = (site / f"exercises/ex{i}.html").read_text()
        quote = re.search(r"<blockquote>\s*<ol([^>]*)>", html)
        assert quote, f"ex{i}: no quoted, numbered question"
        assert (i == 1 and "start" not in quote.group(1)) or f'start="{i}"' in quote.group(1), \
            f"ex{i}: the quoted question is numbered {quote.group(1)!r}, not {i}"


def test_options_tables_show_a_zero_default(site):
    """`--seed`'s default is 0, which once showed as a blank cell (0 == False)."""
    html = (site / "explorer.html").read_text()
    row = re.search(r"<tr>\s*<td[^>]*><code>--seed SEED</code></td>.*?</tr>", html, re.S)
    assert row, "no --seed row in the explorer's options table"
    assert re.search(r"<td[^>]*><code>0</code></td>\s*</tr>", row.group(0)), row.group(0)


def test_explorer_and_results_pages_hold_no_notes_for_the_team(site):
    """Pages speak to students and instructors: no machine paths, niceness or lending."""
    for page in ("explorer.html", "results.html", "chapter/regnetx.html",
                 "chapter/training.html", "instructors/index.html"):
        text = visible_text((site / page).read_text())
        for word in ("/work/", "nice -n", "lent to", "this task", "session"):
            assert word not in text, f"{page}: {word!r}"
