"""yarn.lock: yarn classic (v1, yarn's own format) and yarn berry (2+, YAML with __metadata).

The source tells the two apart (berry's ``__metadata:``) and hands the text to the reader of
its format; each reads in phases:

- classic: :mod:`~depaudit.sources.yarn_syntax` (the text format -> nested dicts), then
  :mod:`~depaudit.sources.yarn_classic` (entries -> nodes -> edges -> importers from
  package.json on disk);
- berry: :mod:`~depaudit.sources.yaml_loader`, then :mod:`~depaudit.sources.yarn_berry`
  (``__metadata`` -> entries and the descriptor index -> resolving -> edges -> workspaces).

Both end in :func:`depaudit.sources._lockgraph.build_tree` and share
:mod:`~depaudit.sources._yarn_shared` (descriptors, ``resolutions`` as override rules).
"""

from __future__ import annotations

import re
from pathlib import Path

from depaudit.models import DependencyTree
from depaudit.sources._io import read_text
from depaudit.sources._yarn_shared import WHAT
from depaudit.sources.interface import DependencySource
from depaudit.sources.yarn_berry import read_berry
from depaudit.sources.yarn_classic import read_classic
from depaudit.sources.yarn_syntax import parse_classic

_BERRY_MARK = re.compile(r"^__metadata:", re.MULTILINE)


class YarnLockSource(DependencySource):
    kind = "yarn"
    filenames = ("yarn.lock",)

    def load(self, path: Path) -> DependencyTree:
        text = read_text(path, what=WHAT, limit=self.budget.input_bytes)
        if _BERRY_MARK.search(text):
            return read_berry(path, text, self.budget.path_depth)
        return read_classic(path, text, self.budget.path_depth)


__all__ = ["YarnLockSource", "parse_classic"]
