"""MkDocs hook for the regnetlab site (declared under `hooks:` in mkdocs.yml).

It does three things that plain configuration cannot:

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
   moved one level down to nest in the page.
"""
import logging
import re
from pathlib import Path

import exercise_pages  # docs/hooks/, on sys.path while mkdocs loads this hook

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.hooks.regnetlab_docs")

REPO = Path(__file__).resolve().parents[2]
EXERCISES = REPO / "exercises"
RESULTS_PAGE = "results.md"
# What else answers the exercises, and goes with the Results page when it is hidden:
# sections of other pages (by their H2 heading) and the figures of the recorded runs.
ANSWER_SECTIONS = {"explorer.md": ("What the recorded runs show",)}
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


def on_config(config):
    if not show_results(config) and config.nav:
        config.nav = _without(config.nav, RESULTS_PAGE)
    return config


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


def _exercise_part(ex_id, part):
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
    if part == "notebook":
        return f"[{parts.title}, as a notebook]({stub.name})"
    raise PluginError(f"exercises/{ex_id}.md: unknown marker <!-- exercise:{part} -->; "
                      "expected intro, checks, rubric, hints or notebook")


GRADER_MARKER = re.compile(r"<!-- grader:(\w+) -->")
GRADER_PARTS = {"rubric": exercise_pages.rubric_summary_markdown,
                "options": exercise_pages.options_markdown,
                "tiers": exercise_pages.tiers_markdown}


def _grader_part(part, page):
    if part not in GRADER_PARTS:
        raise PluginError(f"{page.file.src_uri}: unknown marker <!-- grader:{part} -->; "
                          f"expected one of {sorted(GRADER_PARTS)}")
    return GRADER_PARTS[part]()


SUMMARY_MARKER = re.compile(r"<!-- summary:(\w+) -->")
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


RESULTS_LINK = re.compile(r"\[([^\]]+)\]\((?:\.\./)*results\.md(?:#[^)]*)?\)")


def on_page_markdown(markdown, page, config, files):
    if not show_results(config):
        markdown = RESULTS_LINK.sub(r"\1", markdown)
        headings = ANSWER_SECTIONS.get(page.file.src_uri, ())
        markdown = without_sections(markdown, headings, page.file.src_uri)
    m = EXERCISE_PAGE.match(page.file.src_uri)
    try:
        markdown = GRADER_MARKER.sub(lambda k: _grader_part(k.group(1), page), markdown)
        markdown = SUMMARY_MARKER.sub(lambda k: _summary(k.group(1)), markdown)
        if m:
            markdown = MARKER.sub(lambda k: _exercise_part(m.group(1), k.group(1)), markdown)
    except exercise_pages.SourceError as e:
        raise PluginError(f"{page.file.src_uri}: {e}") from None
    return markdown


NOTEBOOK_PAGE = re.compile(r"^exercises/(ex\d+_\w+\.py)$")


def on_page_content(html, page, config, files):
    """Head each notebook page with where the file lives and a link to download it."""
    m = NOTEBOOK_PAGE.match(page.file.src_uri)
    if not m:
        return html
    name = m.group(1)
    # mkdocs-jupyter (include_source) copies the .py beside the page's index.html.
    return (f'<div class="admonition note"><p class="admonition-title">The exercise file</p>'
            f"<p>This page shows <code>exercises/{name}</code>, not executed. Edit that file "
            f'in your copy of the repository, or <a href="{name}" download>download it</a>; '
            "its stubs raise <code>NotImplementedError</code> until you fill them in.</p>"
            "</div>\n" + html)
