"""Rules for the tests themselves (issue 11, item 7), read from their source.

- One assert per condition: ``assert a and b`` does not say which part broke, so
  no assert's condition is an ``and`` at its top (``assert all(...)`` and
  ``assert not (a and b)`` are single conditions).
- No ``pytest.importorskip`` of the project's own packages: a broken import of
  our code must fail, not skip a whole file quietly.
- No wall-clock sleeps where an event can be awaited: tests wait with
  :mod:`tests.waiting` (a deadline, and the failure names what did not happen);
  ``time.sleep`` stays only where the time itself is the subject, listed below.
- A test that compiles the contracts (solc) is marked ``integration``, one that
  drives Chromium ``browser``; those that use the Anvil fixtures are checked at
  collection (tests/conftest.py).
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUR_PACKAGES = {"credentials", "ledger", "infra", "issuer", "wallet", "verifier", "microcred", "contracts", "tests"}

#: Where ``time.sleep`` stays, and why: the time is what is tested, or what is simulated.
SLEEPS_ALLOWED = {
    "tests/waiting.py": "the one polling helper",
    "tests/verifier/test_api.py": "the contract: a verification starting 1 s after an anchor honours it",
    "tests/verifier/test_chain_outage.py": "past the view's 1 s freshness window, cached answers are not trusted",
    "tests/verifier/test_hung_node.py": "past the view's 1 s freshness window, cached answers are not trusted",
    "tests/system/_faults_wallet.py": "other gunicorn workers cannot be asked: their freshness window is the contract",
    "tests/system/_faults_support.py": "a status list server that is slow on purpose",
}


def _test_sources() -> dict[str, ast.Module]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "tests"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\n")
    names = sorted(name for name in listed if name.endswith(".py") and (ROOT / name).is_file())
    assert names, "no test sources found"
    return {name: ast.parse((ROOT / name).read_text(encoding="utf-8"), name) for name in names}


def _calls(tree: ast.Module, owner: str, name: str) -> list[ast.Call]:
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name
                and isinstance(node.func.value, ast.Name) and node.func.value.id == owner):
            found.append(node)
    return found


def test_no_assert_joins_conditions_with_and():
    joined = [f"{name}:{node.lineno}" for name, tree in _test_sources().items() for node in ast.walk(tree)
              if isinstance(node, ast.Assert) and isinstance(node.test, ast.BoolOp)
              and isinstance(node.test.op, ast.And)]
    assert joined == [], "split these into one assert per condition"


def test_no_importorskip_of_our_own_code():
    skipped = []
    for name, tree in _test_sources().items():
        for call in _calls(tree, "pytest", "importorskip"):
            module = call.args[0].value if call.args and isinstance(call.args[0], ast.Constant) else None
            if not isinstance(module, str) or module.split(".")[0] in OUR_PACKAGES:
                skipped.append(f"{name}:{call.lineno} {module!r}")
    assert skipped == [], "import our own modules plainly"


def test_sleeps_only_where_the_time_is_the_subject():
    sleeping = []
    for name, tree in _test_sources().items():
        from_time = any(isinstance(node, ast.ImportFrom) and node.module == "time"
                        and any(alias.name == "sleep" for alias in node.names) for node in ast.walk(tree))
        calls = _calls(tree, "time", "sleep")
        if (calls or from_time) and name not in SLEEPS_ALLOWED:
            sleeping += [f"{name}:{call.lineno}" for call in calls] or [f"{name}: from time import sleep"]
    assert sleeping == [], "wait for the event with tests.waiting.wait_for instead"


def test_tests_that_need_solc_or_chromium_are_marked():
    unmarked = []
    for name, tree in _test_sources().items():
        if not Path(name).name.startswith("test_") or name == "tests/test_suite_rules.py":
            continue
        source = ast.unparse(tree)
        needs = {"integration": "compile_contracts(" in source, "browser": "sync_playwright(" in source}
        unmarked += [f"{name}: {marker}" for marker, needed in needs.items()
                     if needed and f"pytest.mark.{marker}" not in source]
    assert unmarked == []


def test_the_allowed_sleeps_are_still_there():
    sources = _test_sources()
    gone = [name for name in SLEEPS_ALLOWED if name not in sources or not _calls(sources[name], "time", "sleep")]
    assert gone == [], "drop these from SLEEPS_ALLOWED"
