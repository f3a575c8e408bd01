"""Where the project lives, set in one place: the repository that the notebooks' first
cell installs from, the docs' links and "Open in Colab" badges, and release builds use.

A fork or a course copy sets ``COURSE_REPOSITORY`` below (or ``$REGNETLAB_REPOSITORY``)
to its GitHub address, e.g. ``https://github.com/my-org/regnetlab``;
``regnetlab release student --grader-repo OWNER/NAME`` fills it in the copy it writes.
Until then the address is *unset*: ``repository()`` is None, ``is_set()`` is False and
``REPOSITORY`` holds ``PLACEHOLDER``, which the site never shows (it says how to set the
address instead, and a published build refuses it).
"""
import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent   # the regnetlab package
ROOT = PACKAGE.parent                       # the checkout: solutions/, exercises/, autograder/

# The placeholder an unset address stands as (the notebooks' setup cell is generated
# from REPOSITORY, so it must stay a well-formed URL).
PLACEHOLDER = "https://github.com/OWNER/regnetlab"
PLACEHOLDER_OWNER = "OWNER"
COURSE_REPOSITORY = ""  # the course's GitHub address; "" = unset

REPOSITORY = (os.environ.get("REGNETLAB_REPOSITORY", "").strip() or COURSE_REPOSITORY
              or PLACEHOLDER)
BRANCH = os.environ.get("REGNETLAB_BRANCH", "main")  # where the Colab buttons open notebooks
# The fixed release the notebooks' setup cell installs: a tag, never a branch head, so a
# notebook opened in Colab next month grades with the library it was written for. It is
# this version's tag; a course's copy gets its grader's tag (`release student --grader-ref`).
VERSION = "0.1.0"  # = pyproject.toml's version (a test checks)
RELEASE = os.environ.get("REGNETLAB_RELEASE", f"v{VERSION}")
HOW_TO_SET = ("set COURSE_REPOSITORY in regnetlab/project.py (or $REGNETLAB_REPOSITORY) "
              "to the course's GitHub address, or build the course's copy with "
              "`regnetlab release student DIR --grader-repo OWNER/NAME`")


def github_slug(url=REPOSITORY):
    """``OWNER/NAME`` of a GitHub URL."""
    return url.rstrip("/").removesuffix(".git").split("github.com/")[-1]


def is_set(url=REPOSITORY):
    """True when ``url`` names a real repository: a GitHub ``OWNER/NAME`` that is not the
    placeholder's."""
    owner, _, name = github_slug(url).partition("/")
    return (url.startswith("https://github.com/") and bool(owner) and bool(name)
            and "/" not in name and owner != PLACEHOLDER_OWNER)


def repository(url=REPOSITORY):
    """The course's repository address, or None while it is unset."""
    return url.rstrip("/") if is_set(url) else None


def check_address(url):
    """``url`` as a repository address; ValueError (one line) when it is not one."""
    if not is_set(url):
        raise ValueError(f"repository address {url!r}: expected https://github.com/OWNER/NAME "
                         f"with a real owner (not {PLACEHOLDER_OWNER!r})")
    return url.rstrip("/")


def install_spec(url=REPOSITORY, ref=RELEASE):
    """What ``pip install`` takes to install regnetlab from the repository at ``ref``."""
    return f"regnetlab @ git+{url.rstrip('/')}.git@{ref}"


def colab_url(path, url=REPOSITORY, branch=BRANCH):
    """The "Open in Colab" address of a notebook at ``path`` in the repository."""
    return f"https://colab.research.google.com/github/{github_slug(url)}/blob/{branch}/{path}"
