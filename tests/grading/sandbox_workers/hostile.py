"""A stand-in worker that attacks its sandbox; ``tests/test_sandbox.py`` runs it.

``run_worker`` starts it as ``hostile_worker EXERCISE CODE OUT --options JSON ...``: the
exercise names the attack, the options carry its parameters, and what it found goes to
``OUT/report.json`` (the paths to try are in ``hostile_targets.json`` beside it). Each
attempt is reported as "ok" or the name of the exception it raised.
"""
import importlib.util
import json
import mmap
import os
import resource
import signal
import socket
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def attempt(action):
    try:
        result = action()
    except Exception as e:  # noqa: BLE001 - the exception's name is the finding
        return type(e).__name__
    return "ok" if result is None else result


def read(path):
    """The names in a folder, or None once a file's first byte is read."""
    if os.path.isdir(path):
        return sorted(os.listdir(path))
    with open(path, "rb") as f:
        f.read(1)


def reach(path):
    read(path)


def walk(top, depth):
    """Every path it can see under ``top``, at most ``depth`` levels down."""
    if not os.path.lexists(top):
        return []
    found = [top]
    names = attempt(lambda: sorted(os.listdir(top))) if depth and not os.path.islink(top) else []
    for name in names if isinstance(names, list) else []:
        found += walk(os.path.join(top, name), depth - 1)
    return found


def status(field):
    with open("/proc/self/status") as f:
        return next(line.split(":", 1)[1].strip() for line in f if line.startswith(field))


def look(code, out, options, targets):
    """What it can see, read and reach."""
    if options.get("import"):  # the copy, with torch: does the runtime import?
        import regnetlab
        where = regnetlab.__file__
    else:
        where = importlib.util.find_spec("regnetlab").origin
    package = Path(where).resolve().parents[1]  # what lies around the copy?
    host = options["host_pid"]
    return {
        "regnetlab": where,
        "beside_package": sorted(os.listdir(package)),
        "targets": {p: attempt(lambda p=p: reach(p)) for p in targets["secret"]},
        "hidden": attempt(lambda: read(targets["hidden"])),
        "walked": [p for top in targets["walk"] for p in walk(top, 3)],
        "argv": sys.argv,
        "cmdline": open("/proc/self/cmdline", "rb").read().decode(),
        "environ": dict(os.environ),
        "uid": [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()],
        "caps": status("CapEff"),
        "no_new_privs": status("NoNewPrivs"),
        "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "signal_host": attempt(lambda: os.kill(host, 0)),
        "host_fds": attempt(lambda: os.listdir(f"/proc/{host}/fd")),
        # kill(-1) reaches every process it may signal: try it only where the host is hidden
        "kill_all": "not tried" if os.path.exists(f"/proc/{host}") else
                    attempt(lambda: os.kill(-1, signal.SIGKILL)),
        "loopback": attempt(lambda: socket.create_connection(
            ("127.0.0.1", options["port"]), timeout=2).close()),
        "internet": attempt(lambda: socket.create_connection(("1.1.1.1", 53), timeout=2).close()),
    }


def write(code, out, options, targets):
    """Where it can write: only its output folder and its /tmp should say "ok".

    Nothing is changed where it succeeds (an existing file is opened for writing, a new
    one removed again), so a broken sandbox fails the test without harming the machine.
    """
    def change(path):
        if path.exists():
            open(path, "r+b").close()
        else:
            open(path, "xb").close()
            path.unlink()

    def mapped(path):
        with open(path, "rb") as f:
            m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_WRITE)
            m[:1] = m[:1]
            m.close()
    package = HERE / "regnetlab" / "__init__.py"
    module = next(Path(code).glob("*.py"))
    found = {str(p): attempt(lambda p=p: change(p)) for p in
             [module, package, Path(code) / "new.py", HERE / "new.py", Path(json.__file__),
              Path(sys.prefix) / "pyvenv.cfg", Path(sys.base_prefix) / "new.py",
              Path("/usr/new"), Path("/etc/new"), Path("/new"), Path("/sandbox/new"),
              Path(out) / "fine.txt", Path("/tmp/fine.txt")]}
    found.update({f"mmap {p}": attempt(lambda p=p: mapped(p)) for p in (module, package)})
    return found


def leave(code, out, options, targets):
    """Double fork and setsid: a sleeper the process-group kill would miss."""
    r, w = os.pipe()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            if options.get("detach"):  # no stdout either: only its user or namespace gives it away
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
            # its command line still carries the options, and so the test's token
            with open("/proc/self/comm", "w") as f:
                f.write("left-behind")
            os.write(w, b"x")
            time.sleep(300)
        os._exit(0)
    os.close(w)
    os.read(r, 1)
    os.wait()
    return {"left": True}


def nap(code, out, options, targets):
    time.sleep(options["seconds"])
    return {"uid": os.getuid()}


def hang(code, out, options, targets):
    leave(code, out, {**options, "detach": True}, targets)
    print("hanging", flush=True)
    time.sleep(300)


def files(code, out, options, targets):
    out = Path(out)
    (out / "good.json").write_text("{}")
    (out / "data.bin").write_bytes(bytes(range(256)) * 4096)
    with open(out / "big.bin", "wb") as f:
        f.truncate(65 * 1024 ** 2)  # sparse: costs no disk
    (out / "link.json").symlink_to("good.json")
    (out / "sub").mkdir()
    (out / "sub" / "inner.txt").write_text("inner")
    (out / "sub").chmod(0)
    (out / "bad name!.txt").write_text("x")
    os.mkfifo(out / "pipe")
    (out / "data.bin").chmod(0o400)
    print("x" * 100_000)
    return None


def many(code, out, options, targets):
    for i in range(options["count"]):
        (Path(out) / f"f{i:03d}.txt").write_bytes(b"x" * options["size"])


def crash(code, out, options, targets):
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # as the real worker does: no core file
    os.kill(os.getpid(), getattr(signal, options["signal"]))


def exits(code, out, options, targets):
    sys.exit(options["status"])


def main():
    exercise, code, out = sys.argv[1:4]
    options = json.loads(sys.argv[sys.argv.index("--options") + 1])
    targets = json.loads((HERE / "hostile_targets.json").read_text())
    report = globals()[exercise](code, out, options, targets)
    if report is not None:
        Path(out, "report.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main()
