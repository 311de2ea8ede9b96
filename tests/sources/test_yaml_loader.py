"""The libyaml event builder reads what PyYAML's Base loaders read, errors included."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.errors import InputError
from depaudit.sources.yaml_loader import has_c_loader, load_yaml, load_yaml_documents

pytestmark = pytest.mark.skipif(not has_c_loader(), reason="PyYAML built without libyaml")


def _both(text: str) -> tuple[object, object]:
    out = []
    for pure in (True, False):
        try:
            out.append(load_yaml_documents(text, "f.yaml", what="lockfile", pure=pure))
        except InputError as exc:
            out.append(("error", exc.message.split(":")[0]))
    return out[0], out[1]


@pytest.mark.parametrize(
    "text",
    [
        "a: &x [1, {b: c}]\nd: *x\n",
        "a: 1\na: 2\n",
        "? [a]\n: b\n",
        "a: *nowhere\n",
        "a: &x 1\nb: &x 2\n",
        "a: 1\n---\nb: 2\n",
        "",
        "&a x",
        "a: !!python/object/apply:os.system ['true']\n",
        "lockfileVersion: 5.10\nno: on\nnull: ~\n",
        "a:\n  - b: [c, d]\n    e: {f: g}\n",
    ],
)
def test_same_documents_as_pyyaml(text: str) -> None:
    pure, fast = _both(text)
    assert fast == pure


def test_one_document_and_aliases_of_collections_refused() -> None:
    """An alias of a list or mapping would be walked once per use by every reader (a
    billion laughs loads small and expands in the reader: issue 19.12): refused by both
    loaders; an alias of a scalar costs nothing and is read."""
    for pure in (False, True):
        for text in ("a: &x [1]\nb: *x\n", "a: &x {k: v}\nb: {<<: *x}\n"):
            with pytest.raises(InputError, match="uses YAML aliases"):
                load_yaml(text, "f.yaml", what="lockfile", pure=pure)
        data = load_yaml("a: &x s\nb: *x\n", "f.yaml", what="lockfile", pure=pure)
        assert data == {"a": "s", "b": "s"}
    with pytest.raises(InputError, match="another document"):
        load_yaml("a: 1\n---\nb: 2\n", "f.yaml", what="lockfile")
    assert load_yaml("", "f.yaml", what="lockfile") is None


def test_deep_nesting_is_one_input_error() -> None:
    for depth in (700, 5000):  # past depaudit's limit; past libyaml's own
        with pytest.raises(InputError, match="nested too deeply|nesting depth"):
            load_yaml("a: " + "[" * depth + "]" * depth + "\n", "f.yaml", what="lockfile")


scalars = st.text(alphabet="ab:-[]{}&*!#'\" \n1", max_size=6)
trees = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(scalars, inner, max_size=3),
    max_leaves=12,
)


@given(trees)
@settings(max_examples=200, deadline=None)
def test_any_dumped_tree_reads_the_same(tree: object) -> None:
    import yaml

    text = yaml.safe_dump(tree, default_flow_style=None)
    pure, fast = _both(text)
    assert fast == pure
