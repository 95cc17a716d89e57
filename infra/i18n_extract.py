"""A Babel extraction method for the labels tables the pages print (``babel.cfg``, ``make i18n``).

Label tables live where their data is defined, some in the pure core
(``credentials/``: :data:`credentials.annex_view.ANNEX_LABELS`,
:data:`credentials.microcredential.CLAIM_LABELS`), which cannot call
``gettext``. This method yields, besides what Babel's Python method finds,
every string value of a module-level dict literal whose name ends in
``LABELS`` or ``NAMES``; the pages show those values through the
``translate`` filter (:func:`infra.i18n.translate`), and the catalogue test
(tests/infra/test_i18n.py) keeps each one translated.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from babel.messages.extract import extract_python

__all__ = ["labels"]

_SUFFIXES = ("LABELS", "NAMES")


def _tables(tree: ast.Module) -> Iterator[ast.Dict]:
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Dict) and any(
                isinstance(t, ast.Name) and t.id.endswith(_SUFFIXES) for t in targets):
            yield node.value


def labels(fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str],
           options: dict[str, Any]) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel's Python extraction, then the values of the file's ``*LABELS`` / ``*NAMES`` dict literals."""
    yield from extract_python(fileobj, keywords, comment_tags, options)  # type: ignore[arg-type,misc]
    fileobj.seek(0)
    tree = ast.parse(fileobj.read())
    for table in _tables(tree):
        for value in table.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value:
                yield value.lineno, None, value.value, []
