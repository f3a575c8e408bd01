"""What the recorded explorer runs say, read from the files that record them.

The chapter and explorer pages quote the runs only through these functions, so a page
stays true when the runs are re-recorded (``regnetlab explore STUDY``, then
``regnetlab explore report``):

- ``budget(study)``: the "Budget: ..." paragraph that ``regnetlab explore report`` writes
  at the top of ``results/summary/STUDY.md`` (networks, epochs, images, device, seed);
- ``band(study)``: the complexity band the study sampled within, read from the settings
  in the header line of ``results/STUDY.jsonl``, or a plain statement that it had none;
- ``verdict(study, pair)``: the verdict cell of the row ``pair`` (e.g. ``"A vs B"``) of
  the summary's comparison tables.

Each raises ``SourceError`` naming the file when it is missing or not as expected, so a
strict build fails instead of printing a stale claim.
"""
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "results"
SUMMARIES = RESULTS / "summary"

# Settings that bound the networks' size (the names the explorer may use for its band);
# the other settings (epochs, images, lr, ...) fix the training budget, not the sizes.
BAND_WORDS = ("band", "flops", "params", "complexity")


class SourceError(ValueError):
    """A results file the docs read is missing or not as this module expects."""


def _rel(path):
    return path.relative_to(REPO).as_posix()


def summary_text(study):
    path = SUMMARIES / f"{study}.md"
    if not path.is_file():
        raise SourceError(f"{_rel(path)} is missing; `regnetlab explore report` writes it "
                          "from the recorded results in results/")
    return path.read_text()


def budget(study):
    """The summary's "Budget: ..." paragraph, as written by ``regnetlab explore report``."""
    text = summary_text(study)
    m = re.search(r"^Budget:.*?(?=\n\s*\n|\Z)", text, re.M | re.S)
    if m is None:
        raise SourceError(f"results/summary/{study}.md has no 'Budget: ...' paragraph")
    return " ".join(m.group(0).split())


def settings(study):
    """The settings recorded in the header line of ``results/STUDY.jsonl``."""
    path = RESULTS / f"{study}.jsonl"
    if not path.is_file():
        raise SourceError(f"{_rel(path)} is missing")
    with path.open() as f:
        header = json.loads(f.readline() or "{}")
    if "settings" not in header:
        raise SourceError(f"{_rel(path)}: the first line has no 'settings'")
    return header["settings"]


def band_settings(study):
    """The settings that bound the networks' size: {name: value}, empty when none."""
    return {k: v for k, v in settings(study).items()
            if any(w in k.lower() for w in BAND_WORDS)}


def left_out(study):
    """Whether this is a students' copy (``regnetlab release student``): its summaries are
    placeholders and the recorded runs are not there, so there is nothing to quote."""
    return not (RESULTS / f"{study}.jsonl").is_file() and \
        "students' copy" in summary_text(study)


LEFT_OUT = "not part of this copy (the course's recorded runs answer the exercises)"


def band(study):
    """One sentence: the complexity band the study's networks were sampled within."""
    if left_out(study):
        return f"Complexity band: the recorded runs are {LEFT_OUT}."
    found = band_settings(study)
    if not found:
        return (f"No complexity band: the `{study}` runs recorded in `results/{study}.jsonl` "
                "sampled each space without a FLOPs or parameter range, so the spaces' "
                "networks differ in size as well as in design (the summary's median "
                "parameters and MFLOPs show by how much).")
    shown = "; ".join(describe_band(v) if isinstance(v, dict) else f"`{k}` = {v}"
                      for k, v in found.items())
    stages = settings(study).get("stages")
    return (f"Complexity band: the `{study}` runs recorded in `results/{study}.jsonl` "
            f"sampled every space within {shown}"
            + (f", with exactly {stages} stages" if stages else "")
            + " (from the file's settings).")


def describe_band(band):
    """A band of the results file's settings in words, as the explorer's reports say it:
    '0.54-0.60 MFLOPs per 28x28 image (2 FLOPs per multiply-add)' or '135k-150k parameters'."""
    try:
        measure, low, high = band["measure"], band["low"], band["high"]
    except KeyError as e:
        raise SourceError(f"a band in the settings lacks {e}: expected measure, low, high")
    if measure == "flops":
        size = band.get("size", 28)
        return (f"{low / 1e6:.2f}-{high / 1e6:.2f} MFLOPs per {size}x{size} image "
                "(2 FLOPs per multiply-add)")
    if measure == "params":
        return f"{low / 1e3:.0f}k-{high / 1e3:.0f}k parameters"
    raise SourceError(f"band measure {measure!r}: expected flops or params")


def verdict(study, pair):
    """The last cell of the row whose first cell is ``pair`` in the summary's tables."""
    if left_out(study):
        return LEFT_OUT
    for line in summary_text(study).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and cells and cells[0] == pair:
            return cells[-1]
    raise SourceError(f"results/summary/{study}.md has no table row for {pair!r}")


def markdown_section(relpath, heading):
    """The body of the H2 section ``heading`` of a repository markdown file, its own
    headings moved two levels down so that it nests under a page's H2."""
    path = REPO / relpath
    if not path.is_file():
        raise SourceError(f"{relpath} is missing")
    text = path.read_text()
    m = re.search(rf"^## {re.escape(heading)}[ \t]*$", text, re.M)
    if m is None:
        raise SourceError(f"{relpath} has no section '## {heading}'")
    end = re.compile(r"^## ", re.M).search(text, m.end())
    body = text[m.end():end.start() if end else len(text)].strip("\n")
    out, fenced = [], False
    for line in body.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        out.append("##" + line if line.startswith("#") and not fenced else line)
    return "\n".join(out) + "\n"
