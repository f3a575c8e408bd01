"""Points: each test is a rubric line worth some points; the score is what passed.

A grader test declares its points and exercise with markers and its rubric line with the
first line of its docstring::

    pytestmark = pytest.mark.exercise("ex1")

    @pytest.mark.points(2)
    def test_four_stages(ex1):
        "ex1: four stages with non-decreasing widths"

A passed test earns its points, a failed one (or one whose setup failed) earns 0, and a
skipped one is *not graded*: it counts neither way, and the report says so. Only the
grader's own options skip tests (``--no-train``); a worker's answer never can.
"""
from dataclasses import asdict, dataclass, field


@dataclass
class Outcome:
    nodeid: str
    name: str               # the rubric line
    exercise: str
    points: float
    status: str             # "passed", "failed" or "skipped"
    message: str = ""
    hidden: bool = False    # from an instructor's hidden folder
    visibility: str = "visible"
    seconds: float = 0.0

    @property
    def earned(self):
        return self.points if self.status == "passed" else 0.0

    @property
    def graded(self):
        return self.status != "skipped"

    def as_dict(self):
        return dict(asdict(self), earned=self.earned)


@dataclass
class Result:
    outcomes: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    @property
    def score(self):
        return sum(o.earned for o in self.outcomes)

    @property
    def max_score(self):
        return sum(o.points for o in self.outcomes if o.graded)

    @property
    def not_graded(self):
        return sum(o.points for o in self.outcomes if not o.graded)

    def by_exercise(self):
        rows = {}
        for o in self.outcomes:
            score, top = rows.get(o.exercise, (0.0, 0.0))
            rows[o.exercise] = (score + o.earned, top + (o.points if o.graded else 0))
        return dict(sorted(rows.items()))

    def as_dict(self):
        return {"score": self.score, "max_score": self.max_score,
                "not_graded": self.not_graded, "exercises": {
                    k: {"score": s, "max_score": m} for k, (s, m) in self.by_exercise().items()},
                "tests": [o.as_dict() for o in self.outcomes], **self.meta}


def marker_arg(item, name, default=None):
    marker = item.get_closest_marker(name)
    return marker.args[0] if marker and marker.args else default


def rubric_line(item):
    doc = getattr(getattr(item, "function", None), "__doc__", None)
    line = doc.strip().splitlines()[0].strip() if doc and doc.strip() else item.name
    # parametrized tests share a docstring: tell them apart by their parameters
    if "{" in line and getattr(item, "callspec", None):
        try:
            line = line.format(**item.callspec.params)
        except (KeyError, IndexError, ValueError):
            pass
    return line


def points_of(item):
    points = marker_arg(item, "points", 1)
    if not isinstance(points, (int, float)) or points < 0:
        raise ValueError(f"{item.nodeid}: points={points!r}; expected a number >= 0")
    return float(points)
