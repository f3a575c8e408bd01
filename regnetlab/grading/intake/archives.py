"""A class's submissions on disk: find them, unpack them safely, name and hash them.

Used by ``regnetlab grade-many`` (and the Gradescope zip's ``run_autograder``). The layouts
it understands, checked in this order for the folder (or ``.zip``) ``SUBMISSIONS``:

* **Gradescope's export** ("Export Submissions"): a folder (often inside one wrapper
  folder ``assignment_<id>_export/``) holding ``submission_metadata.yml`` and one folder
  ``submission_<id>/`` per submission. The student is read from the metadata
  (``:submitters:`` with ``:name:``, ``:sid:``, ``:email:``), else the folder name.
* **GitHub Classroom's download** (``gh classroom clone student-repos``): one clone per
  student named ``<assignment>-<username>/`` (optionally inside
  ``<assignment>-submissions/``). The shared ``<assignment>-`` prefix is dropped.
* **Anything else**: each sub-folder or ``.zip`` file is one student, named after it.

Inside one submission the exercise files (``ex1_deeper_regnetx.py`` ...) may sit at the
top, in ``exercises/``, or one folder down (a zip of a repository folder).

Zips are unpacked with limits: no absolute paths or ``..``, no links or devices, at most
``MAX_MEMBERS`` entries and ``MAX_TOTAL_BYTES`` in all, each entry's real size counted
while it is read (never trusting the header), so a zip bomb stops at the cap.
"""
import hashlib
import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_MEMBERS = 2000
MAX_TOTAL_BYTES = 200 * 2 ** 20   # a submission is a few Python files; a repo clone is more
MAX_FILE_BYTES = 50 * 2 ** 20
MAX_COPY_BYTES = 40 * 2 ** 20     # the exercise folder's Python files and notebooks (outputs)
EXERCISE_FILE = re.compile(r"^ex\d+_\w+\.(py|ipynb)$")  # ex1_deeper_regnetx.py or .ipynb
SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", "__MACOSX", ".venv"}
GRADESCOPE_METADATA = "submission_metadata.yml"


class SubmissionError(ValueError):
    """A submission (or the folder of them) that cannot be read as one; says why."""


@dataclass(frozen=True)
class Submission:
    key: str        # unique, safe as a file name: the student's record is <key>.json
    student: str    # as the gradebook shows it
    source: Path    # the folder or .zip it came from


# -- unpacking ---------------------------------------------------------------------------

def _member_path(info):
    """The relative path of a zip member, or a SubmissionError saying why it is refused."""
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise SubmissionError(f"entry {info.filename!r} has an absolute path")
    if any(part == ".." for part in path.parts):
        raise SubmissionError(f"entry {info.filename!r} points outside the zip ('..')")
    mode = info.external_attr >> 16   # Unix mode; type bits 0 when the zip tool set none
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a plain file"
        raise SubmissionError(f"entry {info.filename!r} is {kind}")
    return path


def safe_extract(zip_path, dest, max_total=MAX_TOTAL_BYTES, max_file=MAX_FILE_BYTES,
                 max_members=MAX_MEMBERS):
    """Unpack ``zip_path`` into the new folder ``dest``; refuse anything unsafe.

    On any refusal ``dest`` is removed again and SubmissionError names the entry.
    """
    zip_path, dest = Path(zip_path), Path(dest)
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as e:
        raise SubmissionError(f"{zip_path.name}: not a readable zip file ({e})") from None
    dest.mkdir(parents=True)
    try:
        with archive:
            members = archive.infolist()
            if len(members) > max_members:
                raise SubmissionError(f"{len(members)} entries, more than the {max_members} "
                                      "allowed")
            total = 0
            for info in members:
                rel = _member_path(info)
                if str(rel) in ("", "."):
                    continue
                target = dest.joinpath(*rel.parts)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                size = 0
                with archive.open(info) as src, open(target, "xb") as out:
                    while chunk := src.read(1 << 16):
                        size += len(chunk)
                        total += len(chunk)
                        if size > max_file:
                            raise SubmissionError(f"entry {info.filename!r} unpacks to more "
                                                  f"than {max_file // 2 ** 20} MiB")
                        if total > max_total:
                            raise SubmissionError(f"unpacks to more than {max_total // 2 ** 20}"
                                                  " MiB in all")
                        out.write(chunk)
    except SubmissionError as e:
        shutil.rmtree(dest, ignore_errors=True)
        raise SubmissionError(f"{zip_path.name}: {e}") from None
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, NotImplementedError) as e:
        shutil.rmtree(dest, ignore_errors=True)
        raise SubmissionError(f"{zip_path.name}: cannot be unpacked ({e})") from None
    return dest


# -- one submission: where its exercises are, and what they hash to ----------------------

def _has_exercises(folder):
    return any(EXERCISE_FILE.match(p.name) and p.is_file() for p in Path(folder).glob("ex*"))


def _subdirs(folder):
    return sorted(p for p in folder.iterdir()
                  if p.is_dir() and not p.is_symlink() and p.name not in SKIP_DIRS)


def exercise_folder(root):
    """The folder of a submission that holds its ``exN_*.py`` (or ``.ipynb``) files.

    Looks at ``root``, ``root/exercises``, then the same one folder down when ``root``
    holds exactly one folder (a zip of a repository). SubmissionError when none does.
    """
    root = Path(root)
    candidates = [root, root / "exercises"]
    inner = _subdirs(root) if root.is_dir() else []
    if len(inner) == 1:
        candidates += [inner[0], inner[0] / "exercises"]
    for c in candidates:
        if c.is_dir() and not c.is_symlink() and _has_exercises(c):
            return c
    raise SubmissionError("no exercise files found: expected ex1_deeper_regnetx.py or "
                          ".ipynb ... (exN_*.py, exN_*.ipynb) at the top, in exercises/, "
                          "or one folder down")


def exercise_files(folder):
    """The Python files and exercise notebooks of an exercise folder that grading reads,
    sorted, size-capped."""
    files, total = [], 0
    found = [*Path(folder).glob("*.py"), *(p for p in Path(folder).glob("ex*.ipynb")
                                           if EXERCISE_FILE.match(p.name))]
    for path in sorted(found):
        if path.is_symlink() or not path.is_file():
            continue
        total += path.stat().st_size
        if total > MAX_COPY_BYTES:
            raise SubmissionError(f"the Python files and notebooks in {Path(folder).name}/ exceed "
                                  f"{MAX_COPY_BYTES // 2 ** 20} MiB")
        files.append(path)
    return files


def files_hash(files):
    """sha256 over the names and bytes of ``files`` ({name: bytes}), in name order."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(f"{name}\0{len(files[name])}\0".encode())
        h.update(files[name])
    return h.hexdigest()


# -- a class: which entries are submissions, and whose ------------------------------------

def safe_key(text):
    """A file-name-safe version of a student's name (letters, digits, . _ - @)."""
    key = re.sub(r"[^A-Za-z0-9._@-]+", "_", text).strip("._") or "student"
    return key[:100]


def _gradescope_metadata(path):
    """{folder name: student} from Gradescope's ``submission_metadata.yml``.

    Read line by line (its keys are Ruby symbols such as ``:submitters:``), so no YAML
    library is needed: each top-level key is a submission folder, and its submitters'
    ``:email:`` (else ``:sid:``, else ``:name:``) name the student; group members are
    joined with ``+``.
    """
    out, current, people, person = {}, None, [], {}

    def close():
        if person:
            people.append(dict(person))
        if current is not None:
            names = [p.get("email") or p.get("sid") or p.get("name") for p in people]
            names = [n for n in names if n]
            if names:
                out[current] = "+".join(names)

    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        top = re.match(r"^([A-Za-z0-9_]+):\s*$", line)
        if top:
            close()
            current, people, person = top.group(1), [], {}
            continue
        field = re.match(r"^\s*(-\s+)?:(name|sid|email):\s*(.*?)\s*$", line)
        if field and current is not None:
            if field.group(1) and person:   # "- :name:" starts the next submitter
                people.append(dict(person))
                person.clear()
            value = field.group(3).strip("'\"")
            if value:
                person[field.group(2)] = value
    close()
    return out


def _unwrap(folder):
    """Step into a lone wrapper folder (an export's ``assignment_1_export/``)."""
    folder = Path(folder)
    entries = [p for p in folder.iterdir() if p.name not in SKIP_DIRS
               and not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink() \
            and not _has_exercises(entries[0]):
        inner = entries[0]
        if (inner / GRADESCOPE_METADATA).is_file() or len(_subdirs(inner)) > 1:
            return inner
    return folder


def _common_prefix(names):
    """``hw1-`` when every name is ``hw1-<something>`` (GitHub Classroom's repo names)."""
    if len(names) < 2:
        return ""
    prefix = os.path.commonprefix(names)
    cut = prefix.rfind("-")
    return prefix[:cut + 1] if cut > 0 else ""


def discover(folder):
    """The submissions in ``folder`` (see the module docstring), in name order.

    ``folder`` must be an existing folder; an entry that is neither a folder nor a
    ``.zip`` is ignored. Keys are unique (a clash gets ``-2``, ``-3`` ...).
    """
    folder = _unwrap(folder)
    meta_file = folder / GRADESCOPE_METADATA
    metadata = _gradescope_metadata(meta_file) if meta_file.is_file() else {}
    entries = [p for p in sorted(folder.iterdir())
               if not p.name.startswith(".") and p.name not in SKIP_DIRS and not p.is_symlink()
               and (p.is_dir() or p.suffix.lower() == ".zip")]
    stems = [p.stem if p.suffix.lower() == ".zip" else p.name for p in entries]
    prefix = "" if metadata else _common_prefix(stems)
    out, seen = [], set()
    for path, stem in zip(entries, stems):
        student = metadata.get(stem) or stem[len(prefix):] or stem
        key, n = safe_key(student), 1
        while key.lower() in seen:
            n += 1
            key = f"{safe_key(student)}-{n}"
        seen.add(key.lower())
        out.append(Submission(key, student, path))
    return out
