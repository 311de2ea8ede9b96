"""depaudit.digests: the digests hashlib gives, from CPython's own modules, so that a run
that hashes (the bundled data's fast forms, the code scan's cache, the snapshot's keys)
never loads OpenSSL for it (issue 17: start-up)."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from conftest import modules_loaded
from depaudit import digests


@given(st.lists(st.binary(max_size=300), max_size=5), st.integers(min_value=1, max_value=64))
def test_blake2b_is_hashlibs(chunks: list[bytes], size: int) -> None:
    ours, theirs = digests.blake2b(digest_size=size), hashlib.blake2b(digest_size=size)
    for chunk in chunks:
        ours.update(chunk)
        theirs.update(chunk)
    assert ours.hexdigest() == theirs.hexdigest()
    assert digests.blake2b(b"".join(chunks), digest_size=size).digest() == theirs.digest()


@given(st.lists(st.binary(max_size=300), max_size=5))
def test_sha256_is_hashlibs(chunks: list[bytes]) -> None:
    ours = digests.sha256()
    for chunk in chunks:
        ours.update(chunk)
    assert ours.hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()


def test_no_openssl_is_loaded_for_them() -> None:
    code = (
        "from depaudit import digests\n"
        "digests.blake2b(b'x', digest_size=16).hexdigest()\n"
        "digests.sha256(b'x').hexdigest()\n"
    )
    assert modules_loaded(code, ("_hashlib", "hashlib")) == []
