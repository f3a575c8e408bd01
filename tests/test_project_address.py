"""The course's address, set in one place (regnetlab/project.py): unset until a course
sets it, never shown as the placeholder, and filled by `release student`."""
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_project(monkeypatch, env=None):
    monkeypatch.delenv("REGNETLAB_REPOSITORY", raising=False)
    if env is not None:
        monkeypatch.setenv("REGNETLAB_REPOSITORY", env)
    spec = importlib.util.spec_from_file_location("project_under_test",
                                                  ROOT / "regnetlab/project.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_unset_address_is_none_but_keeps_the_old_names_working(monkeypatch):
    p = load_project(monkeypatch)
    if p.COURSE_REPOSITORY:
        pytest.skip("this checkout names its course repository")
    assert p.repository() is None and not p.is_set()
    assert p.REPOSITORY == p.PLACEHOLDER  # the stubs' setup cell is generated from it
    assert p.install_spec() == f"regnetlab @ git+{p.PLACEHOLDER}.git@v{p.VERSION}"
    assert p.github_slug() == "OWNER/regnetlab"


def test_the_environment_sets_the_address(monkeypatch):
    p = load_project(monkeypatch, "https://github.com/my-org/hw1/")
    assert p.repository() == "https://github.com/my-org/hw1" and p.is_set()
    assert p.colab_url("exercises/ex1.ipynb") == (
        "https://colab.research.google.com/github/my-org/hw1/blob/main/exercises/ex1.ipynb")
    # the notebooks install a fixed release, never a branch head
    assert p.install_spec() == f"regnetlab @ git+https://github.com/my-org/hw1.git@v{p.VERSION}"


def test_the_release_is_this_version(monkeypatch):
    import tomllib
    p = load_project(monkeypatch)
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    import regnetlab
    assert p.VERSION == version == regnetlab.__version__


@pytest.mark.parametrize("bad", ["https://github.com/OWNER/regnetlab", "my-org/hw1",
                                 "https://gitlab.com/my-org/hw1", "https://github.com/x"])
def test_a_placeholder_or_malformed_address_is_refused_in_one_line(monkeypatch, bad):
    p = load_project(monkeypatch)
    assert not p.is_set(bad)
    with pytest.raises(ValueError, match=r"expected https://github.com/OWNER/NAME") as e:
        p.check_address(bad)
    assert "\n" not in str(e.value) and repr(bad) in str(e.value)


def test_release_student_fills_the_course_address(tmp_path):
    from regnetlab import release

    copy = tmp_path / "copy"
    for part in ("regnetlab/project.py",):
        (copy / part).parent.mkdir(parents=True)
        (copy / part).write_text((ROOT / part).read_text())
    (copy / "exercises").mkdir()
    cell = f"'regnetlab @ git+{release.project.PLACEHOLDER}.git@{release.project.RELEASE}'"
    (copy / "exercises/ex1_x.py").write_text(f"spec = {cell}\n")
    (copy / "exercises/ex1_x.ipynb").write_text(json.dumps({"src": f"spec = {cell}"}))
    release.fill_course_address(copy, "https://github.com/my-org/hw1", "grader-v1")
    text = (copy / "regnetlab/project.py").read_text()
    assert "COURSE_REPOSITORY = 'https://github.com/my-org/hw1'" in text
    for name in ("ex1_x.py", "ex1_x.ipynb"):
        filled = (copy / "exercises" / name).read_text()
        assert "git+https://github.com/my-org/hw1.git@grader-v1'" in filled
        assert "OWNER" not in filled and "@main" not in filled
    with pytest.raises(ValueError, match="expected https://github.com/OWNER/NAME"):
        release.fill_course_address(copy, release.project.PLACEHOLDER)


def test_release_without_any_address_asks_for_one(tmp_path):
    from regnetlab import release

    with pytest.raises(release.ReleaseError, match="--grader-repo missing and "
                       "regnetlab/project.py names no course repository"):
        release.release_student(tmp_path / "copy", "OWNER/regnetlab", "v1")
    assert not (tmp_path / "copy").exists()
