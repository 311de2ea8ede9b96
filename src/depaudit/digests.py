"""blake2b and sha256 as ``hashlib`` gives them, without loading OpenSSL.

``import hashlib`` loads OpenSSL's libcrypto for its other constructors (~4-5 ms of every
run's start here, where a scan answered from the cache or offline loads it for nothing else);
CPython's own ``_blake2`` and ``_sha2`` (``_sha256`` before 3.12) modules are what
``hashlib`` itself falls back on, with the same digests (``tests/test_digests.py``). Where
this interpreter has neither, ``hashlib``'s are used.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Protocol


class Hash(Protocol):
    """What depaudit uses of a hash object."""

    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...

    def hexdigest(self) -> str: ...


def _builtin(name: str, modules: tuple[str, ...]) -> Callable[..., Hash]:
    """``name`` from the first of ``modules`` this interpreter has, else from ``hashlib``."""
    for module in modules:
        try:
            found: Callable[..., Hash] = getattr(import_module(module), name)
        except (ImportError, AttributeError):
            continue
        return found
    import hashlib

    fallback: Callable[..., Hash] = getattr(hashlib, name)
    return fallback


blake2b = _builtin("blake2b", ("_blake2",))
sha256 = _builtin("sha256", ("_sha2", "_sha256"))
