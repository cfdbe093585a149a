"""Atomic output: files and whole result folders are complete or absent.

A file is written to a temporary file beside the target, then renamed; a result folder
is written into a temporary sibling folder, marked complete by a manifest and renamed
into place (:class:`OutputFolder`).  A reader never sees a half-written file or folder,
and a killed run leaves either the old result or the new one (nothing is lost, nothing
is mixed).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .errors import InputError

__all__ = ["atomic_write", "atomic_write_text", "atomic_write_bytes", "OutputFolder",
           "FolderLock", "check_output_folder", "check_output_file", "write_manifest",
           "MANIFEST", "RESULT_FILES", "signals_deferred", "deferring"]


def atomic_write(path: Path, writer: Callable[[Path], None]) -> Path:
    """Call ``writer(tmp_path)`` and rename the result onto ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


# -- whole folders ---------------------------------------------------------------------------
#: the file that marks a folder as a complete result (written last, before the rename)
MANIFEST = "manifest.json"
#: names a result folder may hold (a folder holding only these may be replaced)
RESULT_FILES = frozenset({MANIFEST, "summary.json", "periods.csv", "customers.parquet",
                          "contacts.parquet", "comparison.csv", "report.html", "overview.png",
                          "comparison.png", "results.parquet", "problems.parquet",
                          "history_customers.csv", "history_events.csv"})
#: linux renameat2(2): swap two paths atomically
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _first_existing(path: Path) -> Path:
    """``path`` or its nearest existing ancestor."""
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_output_folder(path: str | os.PathLike[str], *, overwrite: bool = False,
                        expected_bytes: int = 0, kind: str = "result",
                        reusable: Callable[[Path], bool] | None = None,
                        replaceable: bool = True) -> Path:
    """Check before any work that ``path`` can receive a result folder.

    Refused (``InputError``): a file or a non-folder in the path; a folder that cannot
    be written in; an existing result without ``overwrite``; a non-empty folder that is
    not a result (never replaced, even with ``overwrite``); less free space than
    ``expected_bytes``.  ``reusable(path)`` says whether an existing folder may be taken
    over without ``overwrite`` (a sweep resumes in its own folder); with ``replaceable``
    False any other non-empty folder is refused.
    """
    path = Path(path)
    where = str(path)
    if path.exists() or path.is_symlink():
        if not path.is_dir():
            raise InputError(f"is a file, not a folder; --out needs a folder for the "
                             f"{kind} (a new or empty one)", where)
        names = sorted(p.name for p in path.iterdir())
        if names and not (reusable is not None and reusable(path)):
            ours = replaceable and ((path / MANIFEST).is_file() or set(names) <= RESULT_FILES)
            if not ours:
                shown = ", ".join(repr(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
                raise InputError(f"holds files that are not a retention-sim {kind} ({shown}); "
                                 "choose a new or empty folder (it is never replaced)", where)
            if not overwrite:
                raise InputError(f"already holds a {kind}; pass --overwrite to replace it "
                                 "whole, or choose another folder", where)
    base = _first_existing(path.parent)
    if not base.is_dir():
        raise InputError(f"cannot be created: {base} is a file, not a folder", where)
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(f"cannot be written: no permission to write in {base}", where)
    if expected_bytes > 0:
        import shutil

        free = shutil.disk_usage(base).free
        if free < expected_bytes:
            raise InputError(f"needs about {_size(expected_bytes)} for the {kind}, but the disk "
                             f"holding {base} has {_size(free)} free", where)
    return path


def check_output_file(path: str | os.PathLike[str], option: str = "--out",
                      what: str = "the output file") -> Path:
    """Check before any work that one file can be written at ``path`` (by
    :func:`atomic_write`, which replaces an existing file whole).

    Raises
    ------
    InputError
        Naming ``path``: a folder, a path through a file, or a folder without permission to
        write in it.
    """
    path = Path(path)
    where = str(path)
    if path.is_dir():
        raise InputError(f"is a folder; {option} needs the path of {what}", where)
    base = _first_existing(path.parent)
    if not base.is_dir():
        raise InputError(f"cannot be created: {base} is a file, not a folder", where)
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(f"cannot be written: no permission to write in {base}", where)
    return path


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"  # pragma: no cover


class FolderLock:
    """An exclusive lock on a folder path, held in a hidden sibling file ``.NAME.lock``.

    A second writer is refused at once (``InputError`` naming the holder's pid) rather than
    waiting; the kernel releases the lock when its holder dies, even by SIGKILL.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.file = self.path.parent / f".{self.path.name}.lock"
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        """Take the lock (signals deferred meanwhile, so none leaves it half-taken)."""
        with signals_deferred():
            return self._acquire()

    def _acquire(self) -> FolderLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.file, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
                os.close(fd)
                raise InputError(f"is being written by another process (pid {holder}); wait "
                                 "for it to finish or choose another folder",
                                 str(self.path)) from None
            # the file may have been removed by a previous holder between open and lock
            try:
                same = os.stat(self.file).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        with signals_deferred():
            try:
                self.file.unlink(missing_ok=True)
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


#: signals that arrived while deferred: (handler, signum, frame)
_DEFERRAL: dict[str, Any] = {"depth": 0, "pending": []}


def deferring(handler: Callable[[int, Any], Any]) -> Callable[[int, Any], Any]:
    """A signal handler that waits while a folder is swapped or cleaned up
    (:func:`signals_deferred`) and runs as soon as that is done."""
    def wrapped(signum: int, frame: Any) -> Any:
        if _DEFERRAL["depth"]:
            _DEFERRAL["pending"].append((handler, signum, frame))
            return None
        return handler(signum, frame)

    return wrapped


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Defer SIGINT and SIGTERM for a short critical section.

    Handlers installed through :func:`deferring` (the command line's) run when the
    section ends, whichever thread the signal reached; the signals are also blocked in
    this thread, which defers Python's default handlers where no such handler is set.
    """
    import signal

    old = None
    if hasattr(signal, "pthread_sigmask"):
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    _DEFERRAL["depth"] += 1
    try:
        yield
    finally:
        _DEFERRAL["depth"] -= 1
        if old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        if not _DEFERRAL["depth"] and _DEFERRAL["pending"]:
            handler, signum, frame = _DEFERRAL["pending"][0]
            _DEFERRAL["pending"].clear()
            handler(signum, frame)


def _exchange(a: Path, b: Path) -> bool:
    """Swap ``a`` and ``b`` atomically (Linux renameat2); False where unsupported."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def _remove(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


class OutputFolder:
    """A result folder that is complete or absent.

    >>> with OutputFolder("results/run") as tmp:   # doctest: +SKIP
    ...     (tmp / "summary.json").write_text("{}")

    On entry the target is checked (:func:`check_output_folder`), locked
    (:class:`FolderLock`; a concurrent writer is refused) and a hidden temporary sibling
    folder ``.NAME.tmp-*`` is created; the body writes into it.  On success a manifest
    (every file's size and SHA-256) is written last and the temporary folder takes the
    target's place in one rename (an existing target is swapped out atomically where the
    system allows, then removed).  On any error, SIGINT or SIGTERM the temporary folder is
    removed and the target is left as it was.  Temporary folders left by a process killed
    with SIGKILL are removed by the next writer.
    """

    def __init__(self, path: str | os.PathLike[str], *, overwrite: bool = False,
                 expected_bytes: int = 0, kind: str = "result") -> None:
        self.path = Path(path)
        self.overwrite = overwrite
        self.expected_bytes = expected_bytes
        self.kind = kind
        self.tmp: Path | None = None
        self._lock = FolderLock(self.path)

    def check(self) -> OutputFolder:
        """Refuse at once what the write would refuse later (no side effects)."""
        check_output_folder(self.path, overwrite=self.overwrite,
                            expected_bytes=self.expected_bytes, kind=self.kind)
        return self

    def _stale(self) -> list[Path]:
        parent = self.path.parent
        return [p for pattern in (f".{self.path.name}.tmp-*", f".{self.path.name}.old-*")
                for p in parent.glob(pattern)]

    def __enter__(self) -> Path:
        self.check()
        try:
            with signals_deferred():  # a signal lands after, inside this try
                self._lock.acquire()
                old = [p for p in self._stale() if p.name.startswith(f".{self.path.name}.old-")]
                if not self.path.exists() and old and (old[0] / MANIFEST).is_file():
                    os.rename(old[0], self.path)  # a swap interrupted half-way: restore
                for stale in self._stale():
                    _remove(stale)
                self.check()
                self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.tmp-",
                                                 dir=self.path.parent))
        except BaseException:
            if self.tmp is not None:
                _remove(self.tmp)
            self._lock.release()
            raise
        return self.tmp

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        assert self.tmp is not None
        try:
            with signals_deferred():
                if exc_type is None:
                    self._commit(self.tmp)
                else:
                    _remove(self.tmp)
        except BaseException:
            _remove(self.tmp)
            raise
        finally:
            self._lock.release()

    def _commit(self, tmp: Path) -> None:
        write_manifest(tmp, self.kind)
        os.chmod(tmp, 0o777 & ~_umask())
        target = self.path
        if not target.exists():
            os.rename(tmp, target)
            return
        if _exchange(tmp, target):
            _remove(tmp)  # now holds the previous result
            return
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        os.rename(target, old)
        os.rename(tmp, target)
        _remove(old)


def write_manifest(folder: Path, kind: str = "result") -> Path:
    """Write ``manifest.json``: the folder's files with their sizes and SHA-256."""
    import hashlib
    import json

    files = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.name != MANIFEST:
            digest = hashlib.sha256()
            with open(p, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):  # noqa: B023
                    digest.update(block)
            files[p.name] = {"bytes": p.stat().st_size, "sha256": digest.hexdigest()}
    path = folder / MANIFEST
    path.write_text(json.dumps({"kind": f"retention_sim {kind}", "files": files}, indent=2)
                    + "\n", encoding="utf-8")
    return path
