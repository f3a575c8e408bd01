"""MkDocs hook for the regnetlab site (declared under `hooks:` in mkdocs.yml).

It does what plain configuration cannot:

1. Adds files that live outside ``docs/`` to the build: the exercise stubs
   ``exercises/ex*.py`` (jupytext percent scripts), which mkdocs-jupyter renders as
   notebook pages (``exercises/<name>/`` in the site), and the grader's own
   ``autograder/README.md`` and ``CALIBRATION.md``. No copies or symlinks: a clean
   clone builds as is, and ``mkdocs serve`` picks up edits.
2. The one switch that hides the Results page from students: ``extra.show_results``
   in mkdocs.yml, or the environment variable ``REGNETLAB_DOCS_SHOW_RESULTS=false``.
   When it is off, ``results.md`` leaves both the nav and the build (and so the search
   index), and so do the other answers: the sections named in ``ANSWER_SECTIONS`` and
   the figures of the recorded runs. Links to the page become plain text; strict builds
   still pass.
3. Fills pages from the files that own each part. Exercise pages ``exercises/exN.md``:
   the markers ``<!-- exercise:intro -->``, ``<!-- exercise:checks -->`` and
   ``<!-- exercise:hints -->`` take the stub's text (see exercise_pages.py), and
   ``<!-- exercise:rubric -->`` the grader's tests and points. On any page,
   ``<!-- grader:rubric -->``, ``<!-- grader:options -->`` and ``<!-- grader:tiers -->``
   give the points per exercise, the options of ``regnetlab grade`` and the training
   tiers with their thresholds, read off the grader; ``<!-- summary:NAME -->`` includes
   ``results/summary/NAME.md`` (written by ``regnetlab explore report``), its headings
   moved one level down to nest in the page; ``<!-- summary:NAME:budget -->`` its budget
   and complexity band, ``<!-- verdict:NAME:X vs Y -->`` one comparison's verdict (see
   results_facts.py); ``<!-- cli:COMMAND -->`` the options of ``regnetlab COMMAND``;
   ``<!-- explore:defaults -->`` each explorer study's default size;
   ``<!-- include:FILE.md#HEADING -->`` one H2 section of a repository markdown file;
   ``<!-- if-option:COMMAND:--FLAG -->...<!-- end-if -->`` text kept only while the
   option exists; ``<!-- project:repo|clone|install -->`` the repository link, the clone step and the
   pip line; ``<!-- exercise:colab -->`` the exercise's "Open in Colab" link;
   ``<!-- exercise:score -->`` the notebook's "Get your score" steps.
4. Takes the repository link and the site's address from ``regnetlab/project.py``
   (``REGNETLAB_DOCS_SITE_URL`` overrides the address, which defaults to GitHub Pages').
   While the course's address is unset, no page shows a clone URL, Colab button or
   install line with the placeholder owner: they say how to set the address instead. A
   published build (``extra.publish``, or ``REGNETLAB_DOCS_PUBLISH=true``) refuses an
   unset address, and every build fails if a page still holds the placeholder.
5. Finishes the HTML: figures with a narrow version (``figures/NAME-narrow.png``) are
   served through ``<picture>`` on phones; notebook pages get their hints folded as the
   task pages do and an "Open in Colab" link; the API reference loses the Sphinx roles
   (``:func:`name```) its docstrings carry.
"""
import functools
import html
import importlib.util
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import exercise_pages  # docs/hooks/, on sys.path while mkdocs loads this hook
import results_facts

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.hooks.regnetlab_docs")

HOOKS = Path(__file__).resolve().parent
REPO = HOOKS.parents[1]
FIGURES = HOOKS.parent / "figures"
EXERCISES = REPO / "exercises"
RESULTS_PAGE = "results.md"
# What else answers the exercises, and goes with the Results page when it is hidden:
# sections of other pages (by their H2 heading) and the figures of the recorded runs.
ANSWER_SECTIONS = {"explorer.md": ("What the recorded runs show",),
                   "chapter/regnetx.md": ("What our recorded runs found",)}
HIDDEN = "*(not shown in this copy of the site: measure it with the explorer)*"
ANSWER_FIGURES = "figures/explore/"
WATCHED = ("regnetlab", "exercises", "autograder", "results")  # outside docs/, used by pages
# Markdown files kept beside the code they document, shown as pages of the site as they are.
EXTERNAL_PAGES = ("autograder/README.md", "autograder/CALIBRATION.md")
FALSE_WORDS = {"0", "false", "no", "off"}
TRUE_WORDS = {"1", "true", "yes", "on"}


def show_results(config):
    """The value of ``extra.show_results`` as a bool (YAML bool or env-var string)."""
    value = config.extra.get("show_results", True)
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise PluginError(f"extra.show_results / REGNETLAB_DOCS_SHOW_RESULTS = {value!r}: "
                      "expected true or false")


def _without(nav, src_uri):
    """The nav (mkdocs.yml's nested lists and dicts) with every entry for src_uri removed."""
    out = []
    for item in nav:
        if isinstance(item, dict):
            item = {k: (_without(v, src_uri) if isinstance(v, list) else v)
                    for k, v in item.items() if v != src_uri}
            if not item:
                continue
        elif item == src_uri:
            continue
        out.append(item)
    return out


@functools.lru_cache(maxsize=None)
def project():
    """regnetlab/project.py, loaded by path: it has no imports, and importing the package
    would pull torch into the mkdocs process."""
    spec = importlib.util.spec_from_file_location("regnetlab_project",
                                                  REPO / "regnetlab" / "project.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SITE_URL_ENV = "REGNETLAB_DOCS_SITE_URL"


def default_site_url(repository):
    """GitHub Pages' address of the repository: https://OWNER.github.io/NAME/."""
    owner, _, name = project().github_slug(repository).partition("/")
    return f"https://{owner.lower()}.github.io/{name}/"


def _switch(config, key, default=False):
    """``extra.KEY`` as a bool (YAML bool or an environment variable's string)."""
    value = config.extra.get(key, default)
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS | FALSE_WORDS:
        return word in TRUE_WORDS
    raise PluginError(f"extra.{key} = {value!r}: expected true or false")


def published(config):
    return _switch(config, "publish")


def on_config(config):
    if not show_results(config) and config.nav:
        config.nav = _without(config.nav, RESULTS_PAGE)
    # The repository link and the published address come from regnetlab/project.py (or
    # its environment variables), the one place a fork or a course copy changes them.
    proj = project()
    repo = proj.repository()
    if repo is None and published(config):
        raise PluginError("the course's repository address is unset, so a published site "
                          "would show no way to clone or open the exercises: "
                          + proj.HOW_TO_SET)
    config.repo_url = repo
    config.repo_name = proj.github_slug(repo) if repo else None
    url = (os.environ.get(SITE_URL_ENV) or config.site_url
           or (default_site_url(repo) if repo else None))
    config.site_url = (url if url.endswith("/") else url + "/") if url else None
    return config


# The placeholder address in any of the forms a page could show it.
def placeholder_forms():
    proj = project()
    owner = proj.PLACEHOLDER_OWNER
    return (f"github.com/{owner}/", f"{owner.lower()}.github.io", f"github/{owner}/",
            proj.PLACEHOLDER, proj.github_slug(proj.PLACEHOLDER))


def placeholders_in(text):
    """The placeholder address forms found in ``text`` (a built page)."""
    return [f for f in placeholder_forms() if f in text]


def on_post_build(config):
    """No built page may show the placeholder address (strict or not)."""
    site = Path(config.site_dir)
    repo = project().repository()
    for stub in exercise_stubs():  # the downloadable copies, as the pages show them
        copy = site / "exercises" / stub.name
        if copy.is_file():
            copy.write_text(setup_cell_address(copy.read_text(), repo, escape=False))
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix in (".html", ".xml", ".json", ".js", ".py", ".ipynb") and path.is_file():
            hit = placeholders_in(path.read_text(encoding="utf-8", errors="replace"))
            if hit and not path.is_relative_to(site / "assets"):
                found.append(f"{path.relative_to(site)} ({', '.join(hit)})")
    if found:
        raise PluginError(f"{len(found)} built file(s) show the placeholder repository "
                          f"address: {'; '.join(found[:5])}. {project().HOW_TO_SET}")


def exercise_stubs():
    """The exercise scripts the site renders as notebooks, sorted by name."""
    return sorted(EXERCISES.glob("ex*.py"))


# Before mkdocs-jupyter's on_files (default priority 0), which wraps notebook files.
@event_priority(50)
def on_files(files, config):
    outside = exercise_stubs() + [REPO / p for p in EXTERNAL_PAGES if (REPO / p).is_file()]
    for path in outside:
        # A real File rooted at the repo (not File.generated, whose path mkdocs-jupyter's
        # wrapper cannot read): src_uri exercises/<name>.py, read from exercises/.
        files.append(File(path.relative_to(REPO).as_posix(), str(REPO), config.site_dir,
                          config.use_directory_urls))
    if not show_results(config):
        for f in list(files):
            if f.src_uri == RESULTS_PAGE or f.src_uri.startswith(ANSWER_FIGURES):
                files.remove(f)
        log.info("extra.show_results is off: %s and %s left out of the site",
                 RESULTS_PAGE, ANSWER_FIGURES)
    return files


def without_sections(markdown, headings, where):
    """The page without the H2 sections titled ``headings`` (each up to the next H2)."""
    for heading in headings:
        m = re.search(rf"^## {re.escape(heading)}[ \t]*$", markdown, re.M)
        if m is None:
            raise PluginError(f"{where}: no section '## {heading}' to hide with the results "
                              "(ANSWER_SECTIONS in docs/hooks/regnetlab_docs.py)")
        end = re.compile(r"^## ", re.M).search(markdown, m.end())
        markdown = markdown[:m.start()] + (markdown[end.start():] if end else "")
    return markdown


def on_serve(server, config, builder):
    """``mkdocs serve`` also rebuilds when the library, the stubs or the results change."""
    for name in WATCHED:
        if (REPO / name).exists():
            server.watch(str(REPO / name))
    return server


EXERCISE_PAGE = re.compile(r"^exercises/(ex\d+)\.md$")
MARKER = re.compile(r"<!-- exercise:(\w+) -->")


def exercise_stub(ex_id):
    """exercises/<ex_id>_*.py, the one stub of an exercise."""
    found = sorted(EXERCISES.glob(f"{ex_id}_*.py"))
    if len(found) != 1:
        raise PluginError(f"exercise page {ex_id}: expected one exercises/{ex_id}_*.py, "
                          f"found {[p.name for p in found]}")
    return found[0]


# Files of the repository that the site shows as pages: a stub that names one as code
# gets a link to the page instead (autograder/CALIBRATION.md is the Calibration page).
LINKED_FILES = {"autograder/CALIBRATION.md": "the calibration record",
                "autograder/README.md": "the grader in depth"}


def with_page_links(markdown):
    for path, words in LINKED_FILES.items():
        markdown = markdown.replace(f"`{path}`", f"[{words}](../{path}) (`{path}`)")
    return markdown


def html_page_links(html_text, page, files):
    for path, words in LINKED_FILES.items():
        target = files.get_file_from_path(path)
        if target is not None:
            html_text = html_text.replace(
                f"<code>{path}</code>",
                f'<a href="{html.escape(target.url_relative_to(page.file))}">{words}</a> '
                f"(<code>{path}</code>)")
    return html_text


def _exercise_part(ex_id, part):
    return with_page_links(_exercise_text(ex_id, part))


def _exercise_text(ex_id, part):
    stub = exercise_stub(ex_id)
    if part == "rubric":
        return exercise_pages.rubric_markdown(ex_id)
    parts = exercise_pages.stub_parts(stub)
    if part == "intro":
        return f"# {parts.title}\n\n{parts.intro}"
    if part == "checks":
        return parts.checks
    if part == "hints":
        return exercise_pages.hints_markdown(parts.hints)
    if part == "score":
        return exercise_pages.score_steps(stub)
    if part == "notebook":
        return f"[{parts.title}, as a notebook]({stub.name})"
    if part == "colab":
        if project().repository() is None:
            return f"{UNSET_NOTE}\n"
        return (f"[Open in Colab]({colab_url(stub)}){{ .md-button .md-button--primary "
                f".colab-link }}\n")
    raise PluginError(f"exercises/{ex_id}.md: unknown marker <!-- exercise:{part} -->; "
                      "expected intro, checks, rubric, hints, score, notebook or colab")


# The notebook Colab opens for an exercise: the stub as a .ipynb at this path of the
# repository (Colab opens notebooks, not jupytext scripts).
COLAB_NOTEBOOK = "exercises/{stem}.ipynb"


def colab_url(stub):
    return project().colab_url(COLAB_NOTEBOOK.format(stem=Path(stub).stem))


GRADER_MARKER = re.compile(r"<!-- grader:(\w+) -->")
GRADER_PARTS = {"rubric": exercise_pages.rubric_summary_markdown,
                "options": exercise_pages.options_markdown,
                "tiers": exercise_pages.tiers_markdown}


def _grader_part(part, page):
    if part not in GRADER_PARTS:
        raise PluginError(f"{page.file.src_uri}: unknown marker <!-- grader:{part} -->; "
                          f"expected one of {sorted(GRADER_PARTS)}")
    return GRADER_PARTS[part]()


SUMMARY_MARKER = re.compile(r"<!-- summary:(\w+)(?::(\w+))? -->")
VERDICT_MARKER = re.compile(r"<!-- verdict:(\w+):([^>]+?) -->")
PROJECT_MARKER = re.compile(r"<!-- project:(\w+) -->")
CLI_MARKER = re.compile(r"<!-- cli:([\w-]+) -->")
EXPLORE_DEFAULTS = "<!-- explore:defaults -->"
INCLUDE_MARKER = re.compile(r"<!-- include:([\w./-]+\.md)#([^>]+?) -->")
# Text kept only while `regnetlab COMMAND` has the option FLAG (so that a page can
# document an option in the same change that adds it, and say nothing before).
WHEN_OPTION = re.compile(r"<!-- if-option:([\w-]+):(--[\w-]+) -->\n?(.*?)<!-- end-if -->\n?",
                         re.S)
SUMMARIES = REPO / "results" / "summary"


def _summary(name):
    """results/summary/<name>.md, its headings one level down so that it nests in a page."""
    path = SUMMARIES / f"{name}.md"
    if not path.is_file():
        raise exercise_pages.SourceError(
            f"{path.relative_to(REPO)} is missing; `regnetlab explore report` writes it "
            "from the recorded results in results/")
    out, fenced = [], False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        out.append("#" + line if line.startswith("#") and not fenced else line)
    return "\n".join(out) + "\n"


def _summary_part(name, part):
    """``summary:NAME`` the whole summary; ``:budget`` its budget and complexity band;
    ``:band`` the band alone (docs/hooks/results_facts.py)."""
    if part is None:
        return _summary(name)
    if part == "budget":
        return f"{results_facts.budget(name)} {results_facts.band(name)}"
    if part == "band":
        return results_facts.band(name)
    raise exercise_pages.SourceError(f"unknown marker <!-- summary:{name}:{part} -->; "
                                     "expected budget or band")


# What a page says where the course's address would stand while it is unset.
UNSET_NOTE = ("*This copy of the site names no repository yet, so it has no clone address "
              "or \"Open in Colab\" button: use the repository your course gives you. "
              "Instructors: [set the course's address](../instructors/index.md#the-courses-"
              "address).*")


def _project_part(part, page=None):
    proj = project()
    url = proj.repository()
    if url is None:
        if part not in ("repo", "clone", "install"):
            raise exercise_pages.SourceError(f"unknown marker <!-- project:{part} -->; "
                                             "expected repo, clone or install")
        note = UNSET_NOTE
        if page is not None and "/" not in page.file.src_uri:
            note = note.replace("../instructors/", "instructors/")
        return "the one your course gives you" if part == "repo" else f"{note}\n"
    name = proj.github_slug(url).split("/")[-1]
    if part == "repo":
        return f"[{proj.github_slug(url)}]({url})"
    if part == "clone":
        return f"```bash\ngit clone {url}.git\ncd {name}\n```\n"
    if part == "install":
        return f"```bash\npip install \"{proj.install_spec()}\"\n```\n"
    raise exercise_pages.SourceError(f"unknown marker <!-- project:{part} -->; "
                                     "expected repo, clone or install")


@functools.lru_cache(maxsize=None)
def cli_facts():
    """Every ``regnetlab`` subcommand's options, collected in a child process."""
    done = subprocess.run([sys.executable, str(HOOKS / "cli_facts.py")], cwd=REPO,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(
                              filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))})
    if done.returncode != 0:
        raise exercise_pages.SourceError("docs/hooks/cli_facts.py could not read the "
                                         "commands:\n" + (done.stderr or done.stdout)[-3000:])
    return json.loads(done.stdout)


def _cli_options(command):
    facts = cli_facts()["commands"]
    if command not in facts:
        raise exercise_pages.SourceError(f"<!-- cli:{command} -->: `regnetlab {command}` "
                                         f"does not exist (commands: {sorted(facts)})")
    rows = ["| Option | What it does | Default |", "|:---|:---|:---|"]
    for o in facts[command]:
        flag = ", ".join(o["flags"]) + (f" {o['metavar']}" if o["metavar"] else "")
        what = o["help"] + (f" (one of: {', '.join(map(str, o['choices']))})"
                            if o["choices"] and o["help"] else "")
        if o["choices"] and not o["help"]:
            what = "one of: " + ", ".join(map(str, o["choices"]))
        default = "" if o["default"] is None else f"`{o['default']}`"
        rows.append(f"| `{flag}` | {_cell(what)} | {default} |")
    return "\n".join(rows) + "\n"


def _has_option(command, flag):
    return any(flag in o["flags"] for o in cli_facts()["commands"].get(command, []))


def _explore_defaults():
    """The default size of each explorer study, as ``--n`` and ``--seeds`` flags."""
    studies = cli_facts()["explore_studies"]
    if studies is None:
        raise exercise_pages.SourceError(
            "docs/hooks/cli_facts.py found no per-study defaults in "
            "regnetlab.explore.studies.STUDIES; update explore_studies() there")
    rows = ["| study | default size |", "|:---|:---|"]
    for st in studies:
        flags = " ".join(f"--{k} {st[k]}" for k in ("n", "seeds") if st[k])
        rows.append(f"| `{st['name']}` | `{flags}` |")
    return "\n".join(rows) + "\n"


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


RESULTS_LINK = re.compile(r"\[([^\]]+)\]\((?:\.\./)*results\.md(?:#[^)]*)?\)")


def on_page_markdown(markdown, page, config, files):
    if not show_results(config):
        markdown = RESULTS_LINK.sub(r"\1", markdown)
        headings = ANSWER_SECTIONS.get(page.file.src_uri, ())
        markdown = without_sections(markdown, headings, page.file.src_uri)
    m = EXERCISE_PAGE.match(page.file.src_uri)
    try:
        markdown = GRADER_MARKER.sub(lambda k: _grader_part(k.group(1), page), markdown)
        markdown = SUMMARY_MARKER.sub(lambda k: _summary_part(k.group(1), k.group(2)),
                                      markdown)
        markdown = VERDICT_MARKER.sub(
            lambda k: (_cell(results_facts.verdict(k.group(1), k.group(2).strip()))
                       if show_results(config) else HIDDEN), markdown)
        markdown = PROJECT_MARKER.sub(lambda k: _project_part(k.group(1), page), markdown)
        markdown = WHEN_OPTION.sub(
            lambda k: k.group(3) if _has_option(k.group(1), k.group(2)) else "", markdown)
        markdown = CLI_MARKER.sub(lambda k: _cli_options(k.group(1)), markdown)
        if EXPLORE_DEFAULTS in markdown:
            markdown = markdown.replace(EXPLORE_DEFAULTS, _explore_defaults())
        markdown = INCLUDE_MARKER.sub(
            lambda k: results_facts.markdown_section(k.group(1), k.group(2).strip()), markdown)
        if m:
            markdown = MARKER.sub(lambda k: _exercise_part(m.group(1), k.group(1)), markdown)
    except (exercise_pages.SourceError, results_facts.SourceError) as e:
        raise PluginError(f"{page.file.src_uri}: {e}") from None
    return markdown


NOTEBOOK_PAGE = re.compile(r"^exercises/(ex\d+_\w+\.py)$")


def on_page_content(html_text, page, config, files):
    """Finish the HTML: narrow figures for phones, notebook pages, the API reference."""
    html_text = _page_content(html_text, page, config, files)
    # the placeholder slug in included files (the classroom workflow's GRADER_REPO, a
    # default in `regnetlab release --help`): the course's, or where it goes
    repo = project().repository()
    return html_text.replace(project().github_slug(project().PLACEHOLDER),
                             project().github_slug(repo) if repo
                             else "&lt;course&gt;/regnetlab")


def _page_content(html_text, page, config, files):
    html_text = with_narrow_figures(html_text)
    if page.file.src_uri == "reference.md":
        html_text = without_sphinx_roles(html_text)
    m = NOTEBOOK_PAGE.match(page.file.src_uri)
    if not m:
        return html_text
    name = m.group(1)
    repo = project().repository()
    # mkdocs-jupyter (include_source) copies the .py beside the page.
    head = (f'<div class="admonition note"><p class="admonition-title">The exercise file</p>'
            f"<p>This page shows <code>exercises/{name}</code>, not executed. Edit that file "
            f'in your copy of the repository, or <a href="{name}" download>download it</a>; '
            "its stubs raise <code>NotImplementedError</code> until you fill them in.</p>"
            + (f'<p>Or work in the browser: <a class="md-button md-button--primary '
               f'colab-link" href="{html.escape(colab_url(name))}">Open in Colab</a></p>'
               if repo else
               "<p>This copy of the site names no repository yet, so it has no \"Open in "
               "Colab\" button, and the setup cell below shows where the course's address "
               f'goes. Instructors: <a href="{html.escape(_instructors_url(page, files))}'
               "#the-courses-address\">set the course's address</a>.</p>") + "</div>\n")
    html_text = html_page_links(setup_cell_address(html_text, repo), page, files)
    try:
        html_text = fold_notebook_hints(html_text)
    except exercise_pages.SourceError as e:
        raise PluginError(f"{page.file.src_uri}: {e}") from None
    return head + html_text


def _instructors_url(page, files):
    target = files.get_file_from_path("instructors/index.md")
    return target.url_relative_to(page.file) if target else "../instructors/index.html"


def setup_cell_address(html_text, repo, escape=True):
    """The notebook's setup cell installs from the address its stub was generated with;
    show the course's address there (what a released copy's notebooks hold), or, while it
    is unset, where it goes, never the placeholder owner."""
    placeholder = project().PLACEHOLDER.rstrip("/")
    unset = "https://github.com/" + ("<course-repository>" if not escape
                                     else "&lt;course-repository&gt;")
    return html_text.replace(placeholder, repo or unset)


# -- figures: a narrow version for phones -------------------------------------------
FIGURE_IMG = re.compile(r'<img\b([^>]*?)\bsrc="([^"]*figures/)([\w.-]+)\.png"([^>]*)>')
NARROW_MEDIA = "(max-width: 600px)"


def with_narrow_figures(html_text):
    """Each figure that has a figures/NAME-narrow.png (docs/scripts/figures.py) is served
    through <picture>: the narrow version below 600 px, the wide one above."""
    def swap(m):
        pre, folder, stem, post = m.groups()
        if not (FIGURES / f"{stem}-narrow.png").is_file():
            return m.group(0)
        return (f'<picture><source media="{NARROW_MEDIA}" srcset="{folder}{stem}-narrow.png">'
                f'{m.group(0)}</picture>')
    return FIGURE_IMG.sub(swap, html_text)


# -- the API reference: Sphinx roles in docstrings ------------------------------------
ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj|const):"
                  r"(?:<code>([^<]+)</code>|`([^`]+)`)")


def without_sphinx_roles(html_text):
    """The docstrings use Sphinx roles (:func:`name`), which mkdocstrings leaves as text.
    Show the name as code, linked to its entry when the page has one."""
    ids = set(re.findall(r'\bid="([\w.]+)"', html_text))

    def replace(m):
        name = (m.group(1) or m.group(2)).strip().lstrip("~.")
        target = next((i for i in ids if i == name or i.endswith("." + name)), None)
        code = f"<code>{name}</code>"
        return f'<a href="#{target}">{code}</a>' if target else code
    return ROLE.sub(replace, html_text)


# -- notebook pages: the hints folded as on the task pages ------------------------------
HINTS_P = re.compile(r"<p><strong>Hints</strong>[^<]*</p>\s*<ol>", re.S)


def _list_items(html_text, start):
    """The top-level <li> contents of the <ol> opened just before ``start``, and its end."""
    items, depth, pos, item_start = [], 1, start, None
    tag = re.compile(r"<(/?)(ol|ul|li)\b[^>]*>")
    while depth:
        m = tag.search(html_text, pos)
        if m is None:
            raise exercise_pages.SourceError("the hints list is not closed")
        closing, name = m.group(1) == "/", m.group(2)
        if name in ("ol", "ul"):
            depth += -1 if closing else 1
        elif name == "li" and depth == 1:
            if closing:
                items.append(html_text[item_start:m.start()].strip())
            else:
                item_start = m.end()
        pos = m.end()
    return items, pos


def fold_notebook_hints(html_text):
    """Replace the notebook's numbered hints by nested collapsible blocks, hint k + 1
    inside hint k, as pymdownx.details renders them on the task pages."""
    m = HINTS_P.search(html_text)
    if m is None:
        raise exercise_pages.SourceError("no '**Hints**' paragraph followed by a numbered "
                                         "list in the notebook's first cell")
    items, end = _list_items(html_text, m.end())
    folded = ""
    for k in range(len(items), 0, -1):
        folded = (f'<details class="tip"><summary>Hint {k} of {len(items)}</summary>'
                  f"<p>{items[k - 1]}</p>{folded}</details>")
    intro = ("<p><strong>Hints</strong>: open one only after trying without it; each sits "
             "inside the one before.</p>")
    return html_text[:m.start()] + intro + folded + html_text[end:]
