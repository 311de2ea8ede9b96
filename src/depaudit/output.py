"""Writing a report (or a diff) where the user asked: stdout, or ``--output FILE``.

``--output`` onto a regular file (or a new name) is atomic: a temporary file beside it, then
a rename, so a failure leaves the old report whole. The temporary file is created with mode
0666 less the umask (a new report follows the umask, as a shell redirection would); over an
existing file it takes that file's mode (a 0644 report stays 0644). A device or a FIFO
(``/dev/null``, ``/dev/stdout`` on a pipe, a named pipe) is written directly: renaming over it
would replace the device with a regular file (as root, ``/dev/null`` itself). A symbolic link
to a regular file is kept: its target is replaced. A SIGTERM while the temporary file exists
removes it before the process ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import FrameType
from typing import TextIO

from depaudit.errors import InputError
from depaudit.text import valid_unicode

Text = str | Iterable[str]  # a report's text, whole or in pieces (written one at a time)


def emit(text: Text, output: Path | None) -> None:
    """The report text to ``output`` (see the module) or to stdout."""
    if output is None:
        write_text(sys.stdout, text)
    else:
        write_report(output, text)


#: characters encoded and written at a time
WRITE_SLICE = 1 << 20


def write_text(handle: TextIO, text: Text) -> None:
    """``handle.write(text)`` a piece, and a slice of a piece, at a time, each made valid
    Unicode: a text stream encodes what it is given whole, and a 50,000-package JSON report
    (66 MB) encoded at once raised the scan's peak memory by as much; given in pieces
    (:meth:`~depaudit.formats.interface.ReportFormat.render_chunks`), it is never whole."""
    for piece in (text,) if isinstance(text, str) else text:
        piece = valid_unicode(piece)
        for start in range(0, len(piece), WRITE_SLICE):
            handle.write(piece[start : start + WRITE_SLICE])


def write_report(path: Path, text: Text) -> None:
    if path.is_dir():
        raise InputError(path, "is a directory", "give --output a file name")
    try:
        info: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise InputError(path, f"cannot be written ({exc.strerror or exc})") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_special(path, text)
        return
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    _write_atomically(target, text, None if info is None else stat.S_IMODE(info.st_mode))


def _write_special(path: Path, text: Text) -> None:
    """A device, FIFO or socket: open it for writing as it is (no create, no rename)."""
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            write_text(handle, text)
    except OSError as exc:
        raise InputError(path, f"cannot be written ({exc.strerror or exc})") from None


def _create_temporary(path: Path) -> tuple[int, Path]:
    directory = path.parent if str(path.parent) else Path(".")
    for _ in range(100):
        tmp = directory / f".{path.name}.{os.urandom(4).hex()}.tmp"
        try:
            # 0o666: the umask decides a new file's mode, as for `> FILE`
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
        except FileNotFoundError:
            raise InputError(path, "its folder does not exist", "create the folder first") from None
        except OSError as exc:
            raise InputError(path, f"cannot be written ({exc.strerror or exc})") from None
    raise InputError(path, "cannot be written (no free temporary name beside it)")


def _write_atomically(path: Path, text: Text, mode: int | None) -> None:
    fd, tmp = _create_temporary(path)
    with _removed_on_sigterm(tmp):
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                write_text(handle, text)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise InputError(path, f"cannot be written ({exc.strerror or exc})") from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


class _Terminated(BaseException):
    """SIGTERM arrived while a temporary file existed."""


@contextlib.contextmanager
def _removed_on_sigterm(tmp: Path) -> Iterator[None]:
    """While inside: SIGTERM removes ``tmp`` and then ends the process as SIGTERM would."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    except _Terminated:
        tmp.unlink(missing_ok=True)
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)  # the usual end (exit status 143), or the caller's
        raise SystemExit(128 + signal.SIGTERM) from None
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
