"""Reading a user's input file with messages that say what is wrong with it.

A missing file, a folder, a file that cannot be read, an empty file, a file too large
for what it should be and a file that is not UTF-8 each get their own one-line
:class:`~retention_sim.kernel.errors.InputError` naming the file (and, for a byte that
is not UTF-8, the line and column and how to convert the file).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import InputError

__all__ = ["check_input_file", "read_input_bytes", "read_input_text", "decode_utf8",
           "utf8_error"]


def _problem(path: Path, what: str, empty_ok: bool = False) -> InputError | None:
    """Why ``path`` cannot be opened for reading as ``what`` (None when it can)."""
    source = str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            return InputError(f"is a broken symbolic link; expected {what}", source)
        return InputError("file not found", source)
    except NotADirectoryError:
        return InputError(f"file not found (a part of the path is a file, not a folder); "
                          f"expected {what}", source)
    except PermissionError:
        return InputError(f"is not readable (permission denied on a folder of the path); "
                          f"expected {what}", source)
    except OSError as exc:
        return InputError(f"cannot be read ({exc.strerror or exc}); expected {what}", source)
    if stat.S_ISDIR(st.st_mode):
        return InputError(f"is a directory; expected {what}", source)
    if not os.access(path, os.R_OK):
        return InputError(f"is not readable (permission denied); expected {what}", source)
    if stat.S_ISREG(st.st_mode) and st.st_size == 0 and not empty_ok:
        return InputError(f"is empty; expected {what}", source)
    return None


def check_input_file(path: str | os.PathLike[str], what: str, *, empty_ok: bool = False) -> Path:
    """``path`` if it names a readable, non-empty file; else :class:`InputError` saying
    whether it is missing, a directory, not readable or empty.

    Parameters
    ----------
    path : path-like
        The file.
    what : str
        What the file should hold, for the message (``"a YAML scenario file"``).
    empty_ok : bool
        Leave an empty file to the caller (for a message of its own).
    """
    path = Path(path)
    err = _problem(path, what, empty_ok)
    if err is not None:
        raise err
    return path


def read_input_bytes(path: str | os.PathLike[str], what: str, *,
                     max_bytes: int | None = None) -> bytes:
    """The bytes of the file at ``path`` (see :func:`check_input_file` for the errors).

    ``max_bytes`` bounds what is read: a larger file (or an endless device) is refused
    rather than read into memory.
    """
    path = check_input_file(path, what)
    try:
        with open(path, "rb") as fh:
            data = fh.read(-1 if max_bytes is None else max_bytes + 1)
    except PermissionError:
        raise InputError(f"is not readable (permission denied); expected {what}",
                         str(path)) from None
    except IsADirectoryError:
        raise InputError(f"is a directory; expected {what}", str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc}); expected {what}",
                         str(path)) from None
    if max_bytes is not None and len(data) > max_bytes:
        raise InputError(f"is larger than {max_bytes:,} bytes, too large for {what}", str(path))
    if not data:
        raise InputError(f"is empty; expected {what}", str(path))
    return data


def utf8_error(data: bytes, exc: UnicodeDecodeError | None, source: str | None) -> InputError:
    """The message for bytes that are not UTF-8: line, column, the byte and a way out.

    The position is found in ``data`` itself (a reader's ``exc`` may count from the
    start of a buffer, not of the file).
    """
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as found:
        exc = found
    if exc is None:  # pragma: no cover - the bytes decode after all
        return InputError("is not UTF-8 text; save it as UTF-8", source)
    start = exc.start
    line = data.count(b"\n", 0, start) + 1
    column = start - (data.rfind(b"\n", 0, start) + 1) + 1
    byte = data[start:start + 1].hex().upper()
    return InputError(f"line {line}, column {column}: byte 0x{byte} is not UTF-8; the file "
                      "seems to use another encoding (e.g. Latin-1 or Windows-1252): save it "
                      "as UTF-8, e.g. iconv -f latin1 -t utf-8 OLD > NEW", source)


def decode_utf8(data: bytes, source: str | None) -> str:
    """``data`` decoded as UTF-8 (a leading byte-order mark is dropped)."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise utf8_error(data, exc, source) from None


def read_input_text(path: str | os.PathLike[str], what: str, *,
                    max_bytes: int | None = None) -> str:
    """The UTF-8 text of the file at ``path`` (errors as :func:`read_input_bytes`, and
    the line and column of a byte that is not UTF-8)."""
    data = read_input_bytes(path, what, max_bytes=max_bytes)
    return decode_utf8(data, str(path))
