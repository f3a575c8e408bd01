"""The docs site: it builds strictly, works offline, its generated parts are up to date,
the Results switch works, and a real (headless Chromium) browser renders its pages.

The site is built once per module into a temporary folder (never into the repo).
The browser tests skip, saying why, when Debian's ``chromium`` is not installed
(``apt-get install -y chromium``). Set REGNETLAB_DOCS_SCREENSHOTS=DIR to keep the
screenshots they take.
"""
import http.server
import importlib.util
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
PAGES = ["index.html", "chapter/index.html", "chapter/anynet/index.html",
         "chapter/edf/index.html", "chapter/regnetx/index.html", "chapter/traps/index.html",
         "exercises/index.html", "results/index.html", "explorer/index.html",
         "instructors/index.html", "reference/index.html",
         "autograder/index.html", "autograder/CALIBRATION/index.html"]
PAGES += [f"exercises/ex{i}/index.html" for i in range(1, 5)]
PAGES += [f"exercises/{name}/index.html" for name in EXERCISES]


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


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site_dir = tmp_path_factory.mktemp("site")
    done = build_site(site_dir)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr[-4000:]}"
    return site_dir


def test_strict_build_writes_every_page(site):
    missing = [p for p in PAGES if not (site / p).is_file()]
    assert not missing, f"pages missing from the built site: {missing}"


def test_exercise_notebooks_are_rendered_from_the_stubs(site):
    for name in EXERCISES:
        stub = (ROOT / "exercises" / f"{name}.py").read_text()
        html = (site / "exercises" / name / "index.html").read_text()
        assert "jupyter-wrapper" in html, f"{name}: not rendered by mkdocs-jupyter"
        # A class the student writes, named in the stub, appears in the rendered notebook.
        cls = re.search(r"^class (\w+)", stub, re.M).group(1)
        assert cls in html, f"{name}: class {cls} of the stub is not on its notebook page"
        assert (site / "exercises" / name / f"{name}.py").is_file(), \
            f"{name}: the .py source is not offered for download beside its page"


def test_results_page_nests_every_recorded_summary(site):
    html = (site / "results/index.html").read_text()
    for summary in sorted((ROOT / "results/summary").glob("*.md")):
        title = summary.read_text().splitlines()[0].lstrip("# ").strip()
        assert re.search(r"<h2[^>]*>" + re.escape(title.split("(")[0].strip()), html), \
            f"{summary.name}: its title {title!r} is not a section of the Results page"


def test_pages_load_nothing_from_the_internet(site):
    """Math, fonts and scripts are vendored: CI and classrooms may have no internet."""
    remote = re.compile(r"""<(?:script|link|img)\b[^>]*(?:src|href)=["'](?:https?:)?//""")
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
    assert committed == set(figures.FIGURES), (
        f"docs/figures/*.png {sorted(committed)} differ from what docs/scripts/figures.py "
        f"draws {sorted(figures.FIGURES)}")
    used = set()
    for md in DOCS.rglob("*.md"):
        used |= set(re.findall(r"figures/([\w.-]+\.png)", md.read_text()))
    unused = committed - used
    assert not unused, f"figures drawn but shown on no page: {sorted(unused)}"


def test_results_page_can_be_hidden(tmp_path):
    done = build_site(tmp_path, REGNETLAB_DOCS_SHOW_RESULTS="false")
    assert done.returncode == 0, f"strict build with results hidden failed:\n{done.stderr[-4000:]}"
    assert not (tmp_path / "results").exists(), "results page still built"
    home = (tmp_path / "index.html").read_text()
    assert 'href="results/"' not in home, "results page still in the nav"
    assert '"location":"results/' not in (tmp_path / "search/search_index.json").read_text()
    explorer = (tmp_path / "explorer/index.html").read_text()
    assert not re.search(r'<img[^>]*src="[./]*figures/explore/', explorer)
    assert "What the recorded runs show" not in explorer
    assert not (tmp_path / "figures/explore").exists(), "the runs' figures are still there"
    # Links to it from other pages became plain text (a dead link would fail --strict).
    instructors = (tmp_path / "instructors/index.html").read_text()
    assert not re.search(r'href="[./]*results/"', instructors), \
        "the instructors' page still links to the hidden page"


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
        html = (site / f"exercises/ex{i}/index.html").read_text()
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


@pytest.fixture(scope="module")
def served(site):
    """The built site over HTTP on the loopback interface, as `mkdocs serve` shows it."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(site), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def rendered(served, page, tmp_path):
    """The page's DOM after its scripts ran, and a screenshot of it."""
    url = served + page.removesuffix("index.html")
    dom = chromium(tmp_path, "--dump-dom", url)
    shots = Path(os.environ.get("REGNETLAB_DOCS_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / ((page.removesuffix("index.html").strip("/").replace("/", "_") or "home")
                    + ".png")
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
    page = "exercises/ex1/index.html"
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
    page = "chapter/regnetx/index.html"
    dom, shot = rendered(served, page, tmp_path)
    assert katex_formulas(dom) >= 5, "the rule's formulas were not rendered by KaTeX"
    assert 'class="katex-error"' not in dom, "KaTeX could not parse a formula"
    assert any("regnetx_widths.png" in s for s in shown_images(dom, site, page))
    assert_screenshot_shows_something(shot)


@needs_chromium
def test_notebook_page_in_a_browser(site, served, tmp_path):
    page = "exercises/ex1_deeper_regnetx/index.html"
    dom, shot = rendered(served, page, tmp_path)
    assert "DeepRegNetX" in dom and "jp-Cell" in dom
    assert_screenshot_shows_something(shot)
