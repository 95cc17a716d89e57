"""No import cycles, visible or hidden (issue 11, item 3).

Before, ``verifier`` imported ``verifier.api`` / ``pages`` / ``openid4vp``
inside ``create_app`` while each of them imported ``verifier`` back inside a
function (``from verifier import service_of``), and ``issuer.web`` did the
same with ``public`` / ``registrar`` (``from issuer.web import get_service,
now``): cycles that only worked because the imports were hidden in functions.
Now the accessor each blueprint needs lives in a module of its own
(``verifier.context``, ``issuer.web.context``).

These tests read every project module's imports from its syntax tree: the
graph of module-level imports has no cycle between modules and none between
packages, and an import inside a function is one of the few listed below,
each justified by a heavy optional dependency and saying so in a comment.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("credentials", "ledger", "infra", "issuer", "wallet", "verifier", "microcred")

#: (module, imported module) → why the import waits for the function that needs it.
_WEB3 = "web3 takes seconds to import; loaded only where the chain is used"
ALLOWED_FUNCTION_IMPORTS = {
    ("infra.serving", "gunicorn"): "only serving needs gunicorn, never an app or a test",
    ("infra.serving", "granian"): "only serving needs granian, never an app or a test",
    ("credentials.jsonld", "pyld"): "imported once at module load with requests/aiohttp hidden, so pyld "
                                    "cannot fetch (the pure core does no I/O)",
    ("infra.store_redis", "redis"): "the Redis client is needed only with MICROCRED_REDIS_URL",
    ("verifier.pages", "zxingcpp"): "large native library, only the photo upload route needs it",
    ("verifier.pages", "PIL"): "large native library, only the photo upload route needs it",
    ("verifier.evidence", "ledger.chain"): _WEB3,
    ("verifier.evidence_check", "ledger.chain"): _WEB3,
    ("issuer.identity", "ledger.keys"): _WEB3,
    ("issuer.ledger_link", "ledger.deployment"): _WEB3,
    ("issuer.web.home", "ledger.deployment"): _WEB3,
    ("issuer.ledger_link", "ledger.keys"): _WEB3,
    ("issuer.did_keys", "ledger.deployment"): _WEB3,
    ("issuer.did_keys", "ledger.keys"): _WEB3,
    ("issuer.did_keys", "ledger.errors"): _WEB3,
    ("ledger.did_cli", "ledger.deployment"): _WEB3,
    ("ledger.did_cli", "ledger.keys"): _WEB3,
    ("ledger.cli", "ledger.chain"): _WEB3,
    ("ledger.cli", "ledger.deployment"): _WEB3,
    ("ledger.cli", "ledger.keys"): _WEB3,
    ("ledger.cli", "ledger.trust"): _WEB3,
    ("microcred.system", "ledger.deployment"): _WEB3,
    ("microcred.system", "ledger.artifacts"): _WEB3,
    ("microcred.system", "ledger.chain"): _WEB3,
    ("microcred.system", "ledger.keys"): _WEB3,
    ("verifier.service", "ledger.chain"): _WEB3,
    ("verifier.trust_lists", "ledger.trust_export"): _WEB3,
    ("verifier.trust_cli", "ledger.deployment"): _WEB3,
    ("verifier.trust_cli", "ledger.trust_export"): _WEB3,
    ("verifier.service", "ledger.view"): _WEB3,
    ("wallet.checking", "ledger.chain"): _WEB3,
    ("wallet.checking", "ledger.view"): _WEB3,
}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _target(importer: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The modules an import statement names (project or not), resolved like Python does."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    base = node.module or ""
    if node.level:
        package = importer.split(".") if MODULES[importer].name == "__init__.py" else importer.split(".")[:-1]
        base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
    for alias in node.names:
        yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


def _project(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _top_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            pending.extend(ast.iter_child_nodes(node))


def _function_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    yield inner


def _graph(*, inside_functions: bool = False) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = list(_top_level_imports(tree)) + (list(_function_imports(tree)) if inside_functions else [])
        graph[name] = {target for node in nodes for imported in _target(name, node)
                       if (target := _project(imported)) is not None and target != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back():
    assert _cycles(_graph()) == []


def test_no_cycle_hides_in_an_import_inside_a_function():
    assert _cycles(_graph(inside_functions=True)) == []


def test_packages_depend_one_way():
    packages: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        top = module.split(".")[0]
        packages.setdefault(top, set()).update(t.split(".")[0] for t in targets if t.split(".")[0] != top)
    assert _cycles(packages) == []
    assert packages["credentials"] == set(), "the pure core imports no other project package"


def test_the_cycle_detector_sees_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_inside_functions_are_the_listed_ones_and_say_why():
    found: dict[tuple[str, str], list[str]] = {}
    silent = []
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in _function_imports(ast.parse(text)):
            start = node.lineno - 1
            while start > 0 and lines[start - 1].strip().startswith(("from ", "import ")):
                start -= 1  # the comment may head a block of imports
            block = lines[start - 1:node.end_lineno] if start > 0 else lines[:node.end_lineno]
            if not any("#" in line for line in block):
                silent.append(f"{name}:{node.lineno}")
            for imported in _target(name, node):
                key = (name, _project(imported) or imported.split(".")[0])  # a library by its top-level name
                found.setdefault(key, []).append(f"{name}:{node.lineno}")
    unexpected = {key: where for key, where in found.items() if key not in ALLOWED_FUNCTION_IMPORTS}
    assert unexpected == {}, "move these imports to the top of their module, or justify them in the list"
    assert sorted(set(ALLOWED_FUNCTION_IMPORTS) - set(found)) == [], "listed imports that no longer exist"
    assert silent == [], "a function-level import needs a comment saying why it is not at the top"


def test_every_microcred_command_loads_and_none_is_left_out_silently():
    """The CLI once dropped a command whose module failed to import ("not built yet"); now it is an error."""
    import click

    from microcred.cli import _SUBCOMMANDS, main

    context = click.Context(main)
    for name in _SUBCOMMANDS:
        assert isinstance(main.get_command(context, name), click.Command), name
    assert main.get_command(context, "no-such-command") is None
