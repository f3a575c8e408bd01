"""The grade, written out: a terminal table, Gradescope, GitHub Classroom and JUnit files.

All are written by the trusted grading process from the test outcomes, atomically, after
every worker has ended; a submission's code never holds these paths.

- Gradescope: ``results.json`` of the autograder specification (score, per-test name,
  score, max_score, status, output, visibility; skipped tests carry max_score 0).
- GitHub Classroom: the JSON that the ``classroom-resources/autograding-grading-reporter``
  action reads, base64-encoded, from ``<RUNNER>_RESULTS`` (version 1: status, max_score,
  tests with name, status, score, message); the workflow does the base64 step.
- JUnit XML: one ``testsuite`` per exercise and one ``testcase`` per rubric line, points
  in ``properties``, for CI dashboards.
"""
import json
import xml.etree.ElementTree as ET

from ...files import atomic_write_text as _atomic_text
from ...files import write_json as _write_json_file


def _fmt(x):
    return f"{x:g}"


def table(result):
    """The rubric as a terminal table: each line, its points, and why points were lost."""
    lines = ["", "regnetlab grade: " + result.meta.get("submission", ""), ""]
    width = max([len(o.name) for o in result.outcomes] + [20])
    width = min(width, 72)
    for o in sorted(result.outcomes, key=lambda o: o.exercise):
        mark = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}[o.status]
        pts = "-" if not o.graded else f"{_fmt(o.earned)}/{_fmt(o.points)}"
        name = o.name if len(o.name) <= width else o.name[:width - 3] + "..."
        lines.append(f"{mark}  {name:<{width}}  {pts:>7}" + ("  (hidden)" if o.hidden else ""))
        if o.status != "passed" and o.message:
            msg = o.message.replace("\n", " ")
            lines.append(f"      -> {msg[:400]}{'...' if len(msg) > 400 else ''}")
    lines.append("")
    found = result.meta.get("sources") or {}
    for ex, (score, top) in result.by_exercise().items():
        src = found.get(ex) or {}
        lines.append(f"  {ex}: {_fmt(score)}/{_fmt(top)}"
                     + (f"  (graded from {src['file']})" if src.get("file") else ""))
        lines += [f"      {note}" for note in _source_notes(src)]
    pct = 100 * result.score / result.max_score if result.max_score else 0.0
    lines.append(f"  total: {_fmt(result.score)}/{_fmt(result.max_score)} points ({pct:.0f}%)"
                 + (f"; {_fmt(result.not_graded)} points not graded (skipped)"
                    if result.not_graded else ""))
    run = result.meta.get("run") or f"tier {result.meta.get('tier')}"
    lines.append(f"  {run}; training {result.meta.get('training')}; "
                 f"{result.meta.get('seconds', 0):.0f} s")
    lines.append("  isolation: " + ", ".join(result.meta.get("isolation") or ["none"]))
    for level, why in (result.meta.get("isolation_gaps") or {}).items():
        lines.append(f"    no {level}: {why}")
    return "\n".join(lines) + "\n"


def _source_notes(src):
    """What the report says under an exercise about the file it was graded from."""
    return [n for n in [src.get("not_graded"), *src.get("notes", []),
                        *(f"not run when graded: {w}" for w in src.get("left_out", []))] if n]


def sources(result):
    """One line per exercise naming the file it was graded from, then its notes."""
    lines = []
    for ex, src in sorted((result.meta.get("sources") or {}).items()):
        if src.get("file"):
            lines.append(f"{ex}: graded from {src['file']}")
            lines += [f"  {note}" for note in _source_notes(src)]
    return lines


def write_json(result, path):
    _write_json_file(path, result.as_dict())


def gradescope(result):
    tests = []
    for n, o in enumerate(result.outcomes, 1):
        out = o.message or ("passed" if o.status == "passed" else "")
        if not o.graded:
            out = f"not graded: {o.message}"
        tests.append({"name": o.name, "number": str(n), "score": o.earned,
                      "max_score": o.points if o.graded else 0.0,
                      "status": "passed" if o.status == "passed" else "failed",
                      "output": out, "visibility": o.visibility,
                      "tags": [o.exercise] + (["hidden"] if o.hidden else [])})
    return {"score": result.score, "max_score": result.max_score,
            "execution_time": result.meta.get("seconds", 0),
            "output": table(result) if not any(o.hidden for o in result.outcomes) else
            "\n".join(["See the tests below.", *sources(result)]),
            "visibility": "visible", "stdout_visibility": "hidden",
            "tests": tests}


def write_gradescope(result, path):
    _write_json_file(path, gradescope(result))


def classroom(result):
    graded = [o for o in result.outcomes if o.graded]
    failed = any(o.status == "failed" for o in graded)
    return {"version": 1, "status": "fail" if failed else "pass",
            "max_score": result.max_score,
            "tests": [{"name": o.name, "status": "pass" if o.status == "passed" else "fail",
                       "score": o.earned, "message": o.message,
                       "execution_time": f"{o.seconds:.2f}s", "line_no": 0,
                       "test_code": o.nodeid} for o in graded]}


def write_classroom(result, path):
    _atomic_text(path, json.dumps(classroom(result)))


def junit(result):
    root = ET.Element("testsuites", name="regnetlab grade", tests=str(len(result.outcomes)))
    for ex in sorted({o.exercise for o in result.outcomes}):
        cases = [o for o in result.outcomes if o.exercise == ex]
        suite = ET.SubElement(root, "testsuite", name=ex, tests=str(len(cases)),
                              failures=str(sum(o.status == "failed" for o in cases)),
                              skipped=str(sum(o.status == "skipped" for o in cases)))
        for o in cases:
            case = ET.SubElement(suite, "testcase", classname=f"regnetlab.{ex}", name=o.name,
                                 time=f"{o.seconds:.2f}")
            props = ET.SubElement(case, "properties")
            for k, v in (("points", o.points), ("earned", o.earned), ("nodeid", o.nodeid)):
                ET.SubElement(props, "property", name=k, value=str(v))
            if o.status == "failed":
                ET.SubElement(case, "failure", message=o.message[:500]).text = o.message
            elif o.status == "skipped":
                ET.SubElement(case, "skipped", message=o.message[:500])
    return ET.tostring(root, encoding="unicode")


def write_junit(result, path):
    _atomic_text(path, '<?xml version="1.0" encoding="utf-8"?>\n' + junit(result) + "\n")
