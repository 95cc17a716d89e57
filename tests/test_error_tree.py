"""The one error tree (issue 11): every class drawn where it sits, with the one HTTP status of its class.

The docstring of :mod:`credentials.errors` draws the whole tree rooted at
``MicrocredError``, including the classes defined in ``infra/errors.py`` and
``ledger/errors.py``, with the HTTP status each answers. These tests walk the
classes as Python sees them (every project module imported) and hold the
drawing, the classes and :data:`infra.web_errors.HTTP_STATUS` equal; and they
keep exception classes out of every other module.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import credentials.errors
from credentials.errors import MicrocredError
from infra.errors import FetchError, FetchRefused, RemoteUnreachable, UnusableAnswer
from infra.web_errors import HTTP_STATUS, status_of

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("credentials", "ledger", "infra", "issuer", "wallet", "verifier", "microcred")
ERROR_MODULES = {"credentials.errors", "infra.errors", "ledger.errors"}
_WHERE = {None: "credentials.errors", "infra": "infra.errors", "ledger": "ledger.errors"}
_LINE = re.compile(r"^(?P<branch>[│├└─ ]*?)(?P<name>[A-Z]\w+)(?: \[(?P<where>\w+)\])?(?: \((?P<builtins>[\w, ]+)\))?"
                   r"\s+(?P<status>\d{3})\s")


def _import_everything() -> None:
    for package in PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)


def _tree() -> dict[type, type | None]:
    """Every class under MicrocredError (itself included) → its parent in the tree."""
    _import_everything()
    found: dict[type, type | None] = {MicrocredError: None}
    pending = [MicrocredError]
    while pending:
        parent = pending.pop()
        for child in parent.__subclasses__():
            if child.__module__.startswith("tests") or child.__module__ == __name__:
                continue
            found[child] = parent
            pending.append(child)
    return found


def _drawing() -> list[dict]:
    """The drawn lines of credentials/errors.py's docstring: name, module, parent, builtins, status."""
    lines = [line[4:] for line in credentials.errors.__doc__.splitlines() if line.startswith("    ")]
    drawn, stack = [], []
    for line in lines:
        match = _LINE.match(line)
        if match is None:
            continue
        depth = len(match["branch"]) // 4
        stack[depth:] = [match["name"]]
        drawn.append({"name": match["name"], "module": _WHERE[match["where"]],
                      "parent": stack[depth - 1] if depth else None, "status": int(match["status"]),
                      "builtins": tuple(b.strip() for b in match["builtins"].split(",")) if match["builtins"] else ()})
    return drawn


def test_every_error_class_is_drawn_once_under_its_parent():
    tree = _tree()
    drawn = {line["name"]: line for line in _drawing()}
    assert len(drawn) == len(_drawing()), "a class is drawn twice"
    classes = {cls.__name__: cls for cls in tree}
    assert len(classes) == len(tree), "two error classes share a name"
    assert sorted(set(classes) - set(drawn)) == [], "classes missing from the drawing in credentials/errors.py"
    assert sorted(set(drawn) - set(classes)) == [], "the drawing shows classes that do not exist"
    for name, cls in classes.items():
        parent = tree[cls]
        assert drawn[name]["parent"] == (parent.__name__ if parent else None), f"{name} is drawn under another parent"
        assert drawn[name]["module"] == cls.__module__, f"{name} is drawn as defined elsewhere than {cls.__module__}"
        builtins = tuple(b.__name__ for b in cls.__bases__ if not issubclass(b, MicrocredError) and b is not Exception)
        assert drawn[name]["builtins"] == builtins, f"{name} is drawn with other builtins than {builtins}"


def test_every_error_class_has_one_http_status_and_it_is_the_drawn_one():
    tree = _tree()
    names = {cls.__name__ for cls in tree}
    assert sorted(names - set(HTTP_STATUS)) == [], "classes without an entry in infra.web_errors.HTTP_STATUS"
    assert sorted(set(HTTP_STATUS) - names) == [], "HTTP_STATUS names classes that do not exist"
    for line in _drawing():
        assert HTTP_STATUS[line["name"]] == line["status"], f"{line['name']}: drawn {line['status']}"
    for cls in tree:
        assert 400 <= HTTP_STATUS[cls.__name__] <= 599, cls.__name__


def test_error_classes_live_in_the_error_modules():
    for cls in _tree():
        assert cls.__module__ in ERROR_MODULES, f"{cls.__name__} is defined in {cls.__module__}"


def _exception_like(base: ast.expr) -> bool:
    name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else ""
    return name.endswith(("Error", "Exception", "Warning", "Refused", "Unavailable", "Limited", "Submit")) \
        or name in {"MicrocredError", "LookupError", "OSError", "KeyError", "Exception", "BaseException"}


def test_no_exception_class_is_defined_outside_the_error_modules():
    """Except private signals (``_Name``): control flow inside one module that never reaches a caller."""
    sources = {path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
               for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}
    outside, escaping = [], []
    for relative, text in sources.items():
        if relative.replace("/", ".").removesuffix(".py") in ERROR_MODULES:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and any(_exception_like(b) for b in node.bases):
                if not node.name.startswith("_"):
                    outside.append(f"{relative}:{node.lineno} {node.name}")
                elif any(re.search(rf"\b{node.name}\b", other) for name, other in sources.items() if name != relative):
                    escaping.append(f"{relative}:{node.lineno} {node.name}")
    assert outside == [], "define these in credentials/errors.py, infra/errors.py or ledger/errors.py"
    assert escaping == [], "a private exception class is used outside its module"


@pytest.mark.parametrize(("error", "status"), [
    (FetchRefused("the link must use https"), 400),
    (RemoteUnreachable("could not reach issuer.example"), 502),
    (RemoteUnreachable("issuer.example answered HTTP 503", status=503), 502),
    (UnusableAnswer("issuer.example answered HTTP 404", status=404), 400),
    (FetchError.of_status("issuer.example answered HTTP 500", 500), 502),
    (FetchError.of_status("issuer.example answered HTTP 410", 410), 400),
], ids=["refused", "unreachable", "unreachable-5xx", "unusable-404", "of_status-500", "of_status-410"])
def test_a_network_failure_has_one_meaning(error, status):
    assert status_of(error) == status
    assert isinstance(error, ConnectionError) == (status != 400 or isinstance(error, UnusableAnswer))


def test_a_fetch_failure_keeps_its_transient_flag_with_its_class():
    assert isinstance(FetchError.of_status("x", None), RemoteUnreachable)
    assert isinstance(FetchError.of_status("x", 404), UnusableAnswer)
    assert FetchError.of_status("x", 503).transient
    assert not FetchError.of_status("x", 404).transient
    with pytest.raises(ValueError):
        RemoteUnreachable("x", status=404)
    with pytest.raises(ValueError):
        UnusableAnswer("x", status=502)
