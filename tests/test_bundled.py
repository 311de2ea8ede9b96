"""depaudit.bundled (and so the knowledge base) reads data/ with libyaml's safe loader when
PyYAML has it (a profile hot spot, see benchmarks/README.md): every shipped YAML file must
load to the same data as with the pure-Python safe loader."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from depaudit import bundled
from depaudit.services import knowledge_base

SHIPPED = sorted(
    p.name for p in resources.files("depaudit.data").iterdir() if p.name.endswith((".yaml", ".yml"))
)


def test_data_ships_yaml_files() -> None:
    assert "known-leaks.yaml" in SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_fast_loader_reads_the_same_data(name: str) -> None:
    text = resources.files("depaudit.data").joinpath(name).read_text(encoding="utf-8")
    assert knowledge_base._read(name) == yaml.safe_load(text)


def test_loader_is_safe() -> None:
    assert issubclass(bundled.safe_loader(), (yaml.SafeLoader, yaml.CSafeLoader))
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.load("!!python/object/apply:os.system ['true']", Loader=bundled.safe_loader())
