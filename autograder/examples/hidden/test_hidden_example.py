"""An example of an instructor's hidden test (not shipped to students in practice).

Grade with it: `regnetlab grade exercises --hidden autograder/examples/hidden`. It gets
the same fixtures as the public tests (`ex1` ... `ex4`: the facts the worker measured;
`thresholds`; `grading`) and the same markers; its points count like theirs. Write the
rubric line as the docstring's first line. Keep hidden tests in a folder outside the
student repository (Gradescope: in the autograder zip; Classroom: a private repository
the workflow checks out).
"""
import pytest

from regnetlab.grading import checks, expect

pytestmark = pytest.mark.exercise("ex1")


@pytest.mark.points(2)
def test_at_least_six_blocks(ex1):
    """ex1: DeepRegNetX is deeper than four blocks: at least 6 blocks in all"""
    net = ex1.get("DeepRegNetX.structure")
    depths = checks.depths(net)
    expect(sum(depths) >= 6, f"DeepRegNetX has {sum(depths)} blocks in all (depths "
           f"{depths}); this course asks for at least 6")
