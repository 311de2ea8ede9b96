"""Shared, careful file reading for every parser: one clear InputError per failure."""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any, BinaryIO

from depaudit.budget import INPUT_BYTES
from depaudit.errors import InputError

_CHUNK = 1024 * 1024


def read_text(path: Path, *, what: str = "file", limit: int = INPUT_BYTES) -> str:
    """Read a UTF-8 text file, turning every failure into an InputError naming the file.

    At most ``limit`` bytes (the run's input budget) are read, whatever the file is: a device
    (``/dev/zero``), a FIFO or a ``/proc`` file reports no size, so the cap is on the bytes
    read, not on ``st_size``."""
    try:
        if path.is_dir():
            raise InputError(path, f"is a directory, expected a {what}", "pass the file itself")
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:
                raise InputError(path, too_large(info.st_size, what, limit))
            raw = read_capped(handle, path, what=what, limit=limit)
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(path, "no such file", "check the path") from None
    except PermissionError:
        raise InputError(path, "permission denied", "check the file's permissions") from None
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror or exc})") from None
    return decode_text(raw, path, what=what)


def too_large(size: int | None, what: str, limit: int) -> str:
    """The one line said when an input is over the input budget."""
    said = f"is {size} bytes, " if size is not None else "is "
    return (
        f"{said}over the input budget of {limit} bytes for a {what} "
        "(--input-budget; see Resource budget in the README)"
    )


def read_capped(handle: BinaryIO, label: object, *, what: str, limit: int = INPUT_BYTES) -> bytes:
    """Read ``handle`` to its end, but never more than ``limit`` bytes (an InputError past it);
    a binary start (a NUL byte, as ``/dev/zero`` gives) stops at the first chunk."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = handle.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            break
        if not chunks and b"\x00" in chunk[:8192]:
            raise InputError(label, f"is a binary file, expected a {what}")
        size += len(chunk)
        if size > limit:
            raise InputError(label, too_large(None, what, limit))
        chunks.append(chunk)
    return b"".join(chunks)


def decode_text(raw: bytes, path: object, *, what: str = "file") -> str:
    if not raw.strip():
        raise InputError(path, f"is empty, expected a {what}")
    if b"\x00" in raw[:8192]:
        raise InputError(path, f"is a binary file, expected a {what}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"is not UTF-8 text (byte {exc.start}), expected a {what}") from None
    return text.removeprefix("\ufeff")


def json_problem(exc: ValueError, text: str) -> str:
    """What is wrong with ``text``, in words: cut off, invalid at a line and column, or a
    number too long to convert (CPython's 4,300-digit limit raises a bare ValueError)."""
    if not isinstance(exc, json.JSONDecodeError):
        return f"holds a number of more than {sys.get_int_max_str_digits()} digits"
    # cut off: the error is at the very end, or a string runs to the end of the text
    at_end = exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated string")
    if at_end:
        return "JSON ends too early (truncated?)"
    return f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"


def parse_json(text: str, path: object, *, what: str = "JSON file") -> Any:
    try:
        return without_lone_surrogates(json.loads(text), text)
    except ValueError as exc:  # JSONDecodeError, or an integer over the digit limit
        raise InputError(path, json_problem(exc, text), f"expected a {what}") from None
    except RecursionError:
        raise InputError(path, "JSON is nested too deeply", f"expected a {what}") from None


#: one JSON object read with ``keep`` (a lockfile's preview, ``sources.preview``), for the
#: next read of the same file, unchanged, to take instead of reading and parsing it again
#: (its tree's reader; theia's lockfile: ~10 ms), by the file's identity
_kept: dict[tuple[int, int, int, int], dict[str, Any]] = {}


def read_json_object(
    path: Path, *, what: str, limit: int = INPUT_BYTES, keep: bool = False
) -> dict[str, Any]:
    """The JSON object in ``path``; ``keep``: kept for the next read of the same file (the
    reader must not change it)."""
    identity = _identity(path, limit) if keep or _kept else None  # (no stat where none is)
    if identity is not None and not keep and (kept := _kept.pop(identity, None)) is not None:
        return kept
    data = parse_json(read_text(path, what=what, limit=limit), path, what=what)
    if not isinstance(data, dict):
        raise InputError(
            path, f"top level is a JSON {type(data).__name__}, not an object", f"expected a {what}"
        )
    if keep and identity is not None:
        _kept.clear()
        _kept[identity] = data
    return data


def _identity(path: Path, limit: int) -> tuple[int, int, int, int] | None:
    """A regular file within ``limit`` as (device, inode, size, modification time), or None
    (another file, or none)."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


#: an escape that can decode to a lone surrogate (JSON ``\\ud800``, YAML ``\\U0000d800`` too)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]|\\U0000[dD][89a-fA-F]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _clean(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


def without_lone_surrogates(data: Any, text: str) -> Any:
    """``data`` parsed from ``text`` with every lone surrogate in a string (key or value)
    replaced by U+FFFD: no later stage (URLs, cache keys, reports) can encode one. A pair
    (an escaped emoji) decodes to one valid character and is kept. Walks ``data`` only when
    ``text`` holds such an escape; in place, without recursion."""
    if not _SURROGATE_ESCAPE.search(text):
        return data
    if isinstance(data, str):
        return _clean(data)
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            for i, item in enumerate(node):
                if isinstance(item, str):
                    node[i] = _clean(item)
                elif isinstance(item, (list, dict)):
                    stack.append(item)
        elif isinstance(node, dict):
            for key in [k for k in node if isinstance(k, str) and _SURROGATE.search(k)]:
                node[_clean(key)] = node.pop(key)
            for key, item in node.items():
                if isinstance(item, str):
                    node[key] = _clean(item)
                elif isinstance(item, (list, dict)):
                    stack.append(item)
    return data
