"""The pure core stays pure (STYLE.md 1, ARCHITECTURE.md "Layout").

``credentials/`` may import jwcrypto / cryptography and the standard library's
pure parts, but no web framework, chain client, database, HTTP client, clock
or process control. Checked twice: statically over every module's import
statements, and dynamically in a fresh interpreter that imports every module.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "credentials"

#: Top-level modules the core must never import, directly.
FORBIDDEN = {
    "flask", "werkzeug", "web3", "eth_account", "eth_utils", "eth_abi", "sqlite3", "sqlite_utils",
    "requests", "httpx", "urllib3", "aiohttp", "socket", "http", "subprocess", "time", "random",
    "os", "shutil", "tempfile", "threading", "asyncio", "ledger", "issuer", "wallet", "verifier",
}
FORBIDDEN_SUBMODULES = {"urllib.request", "datetime.now"}
#: What must not even be loaded indirectly by importing the core.
FORBIDDEN_LOADED = {"flask", "werkzeug", "web3", "eth_account", "sqlite3", "sqlite_utils", "requests", "httpx",
                    "urllib3"}

MODULES = sorted(p for p in CORE.rglob("*.py"))


def imported_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
            names.add("<dynamic __import__>")
    return names


def test_the_core_has_modules():
    assert len(MODULES) >= 5


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_nothing_impure(path):
    bad = sorted(
        name
        for name in imported_names(path)
        if name.split(".")[0] in FORBIDDEN or name in FORBIDDEN_SUBMODULES or name.startswith("<dynamic")
    )
    assert not bad, f"{path.relative_to(CORE.parent)} imports {bad}"


def test_importing_the_core_loads_no_framework_or_io_library():
    modules = [
        "credentials." + ".".join(p.relative_to(CORE).with_suffix("").parts).removesuffix(".__init__")
        for p in MODULES
    ]
    modules = [m.removesuffix(".__init__") for m in modules]
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN_LOADED)!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=CORE.parent)
    assert json.loads(result.stdout) == []
