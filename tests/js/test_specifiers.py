"""Bare specifiers: the package a specifier names, for resolution and for the code rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from depaudit.code.analysis import package_name
from depaudit.js.specifiers import split_package


def test_split_package() -> None:
    assert split_package("@a/b/c/d") == ("@a/b", "./c/d")
    assert split_package("x") == ("x", ".")
    assert split_package("@a") is None
    assert split_package(".x") is None


def test_package_name_of_imports() -> None:
    assert package_name("lodash/fp") == "lodash"
    assert package_name("@scope/x/y") == "@scope/x"
    assert package_name("node:fs/promises") == "fs"
    assert [package_name(s) for s in ("./a", "../b", "/abs", "@scope", "", "a\\b")] == [None] * 6


@given(st.from_regex(r"(@[a-z]{1,5}/)?[a-z][a-z0-9-]{0,8}(/[a-z]{1,4}){0,3}", fullmatch=True))
def test_the_package_is_the_first_one_or_two_segments(spec: str) -> None:
    split = split_package(spec)
    assert split is not None
    name, sub = split
    assert package_name(spec) == name
    assert (name + sub[1:]) == spec
    assert name.count("/") == (1 if spec.startswith("@") else 0)
