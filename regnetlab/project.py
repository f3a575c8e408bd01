"""Where the project lives, set in one place: the repository that the notebooks' first
cell installs from, the docs' links and "Open in Colab" badges, and release builds use.

Forks and course copies change ``REPOSITORY`` (or set ``$REGNETLAB_REPOSITORY``).
"""
import os

REPOSITORY = os.environ.get("REGNETLAB_REPOSITORY", "https://github.com/OWNER/regnetlab")
BRANCH = os.environ.get("REGNETLAB_BRANCH", "main")


def github_slug(url=REPOSITORY):
    """``OWNER/NAME`` of a GitHub URL."""
    return url.rstrip("/").removesuffix(".git").split("github.com/")[-1]


def install_spec(url=REPOSITORY, branch=BRANCH):
    """What ``pip install`` takes to install regnetlab from the repository."""
    return f"regnetlab @ git+{url.rstrip('/')}.git@{branch}"


def colab_url(path, url=REPOSITORY, branch=BRANCH):
    """The "Open in Colab" address of a notebook at ``path`` in the repository."""
    return f"https://colab.research.google.com/github/{github_slug(url)}/blob/{branch}/{path}"
