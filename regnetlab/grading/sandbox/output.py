"""Reading what a worker left behind, with caps: what it printed (stdout and stderr on one
pipe, of which ``_Tail`` keeps the head and the tail and counts the rest) and the files in
its output folder (``read_outputs``). The worker is hostile, so nothing here follows a
link, waits on a pipe or reads past a byte cap, whatever the worker put in the folder.
"""
import codecs
import errno
import os
import re
import stat

MiB = 1024 ** 2
OUTPUT_KEEP = 16_000            # characters of the worker's stdout/stderr we keep (head + tail)
MAX_FILES = 64                  # output files accepted from one worker
FILE_LIMIT = 64 * MiB           # bytes of one output file
TOTAL_LIMIT = 256 * MiB         # bytes of all its output files together
FILE_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


def read_outputs(folder):
    """``({name: bytes}, [refusals])``: the regular files directly in ``folder``, capped.

    Nothing is followed: links, folders, pipes and bad names are refused, and no file is
    read past FILE_LIMIT, nor all of them past TOTAL_LIMIT.
    """
    files, rejected, names, unlisted = {}, [], [], 0
    try:  # outside a mount namespace the worker could have put a link in its place
        folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as e:
        return files, [f"the output folder could not be read ({e.strerror})"]
    try:
        with os.scandir(folder_fd) as entries:
            for entry in entries:  # a folder of a million names costs us a count, not a list
                if len(names) < 4 * MAX_FILES:
                    names.append(entry.name)
                else:
                    unlisted += 1
        room = TOTAL_LIMIT
        for name in sorted(names):
            if len(files) == MAX_FILES:
                data, why = None, f"more than {MAX_FILES} files"
            else:
                data, why = _read_file(folder_fd, name, room)
            if data is None:
                rejected.append(f"{ascii(name)[1:-1][:80]}: {why}")
            else:
                files[name], room = data, room - len(data)
    finally:
        os.close(folder_fd)
    if unlisted:
        rejected.append(f"{unlisted} more entries not looked at (at most {4 * MAX_FILES} are)")
    return files, rejected


def _read_file(folder_fd, name, room):
    """``(bytes, None)`` for a regular file within the caps, else ``(None, why not)``."""
    if not FILE_NAME.fullmatch(name):
        return None, "a bad name (expected 1-64 letters, digits, '.', '_' or '-')"
    try:  # O_NONBLOCK: a named pipe must not make us wait
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder_fd)
    except OSError as e:
        return None, "a symbolic link" if e.errno == errno.ELOOP else f"unreadable ({e.strerror})"
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            return None, "a folder (only files directly in the output folder are read)"
        if not stat.S_ISREG(info.st_mode):
            return None, "not a regular file"
        limit = min(FILE_LIMIT, room)
        chunks, size = [], 0
        while size <= limit:  # never more than limit + 1 bytes, whatever fstat said
            chunk = os.read(fd, min(limit + 1 - size, MiB))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        if limit == FILE_LIMIT:
            return None, f"over {FILE_LIMIT} bytes, the limit for one file"
        return None, f"over {TOTAL_LIMIT} bytes for all files together"
    return b"".join(chunks), None



class _Tail:
    """Keep the first and last ``keep / 2`` characters of a stream, count the rest."""

    def __init__(self, keep):
        self.half, self.head, self.tail, self.total = keep // 2, "", "", 0

    def feed(self, text):
        self.total += len(text)
        if len(self.head) < self.half:
            take = self.half - len(self.head)
            self.head, text = self.head + text[:take], text[take:]
        self.tail = (self.tail + text)[-self.half:]

    def text(self):
        dropped = self.total - len(self.head) - len(self.tail)
        if dropped > 0:
            return f"{self.head}\n[... {dropped} characters of output left out ...]\n{self.tail}"
        return self.head + self.tail


def _read_output(stream, tail):
    decode = codecs.getincrementaldecoder("utf-8")("replace").decode
    for chunk in iter(lambda: stream.read(65536), b""):
        tail.feed(decode(chunk))
