"""Compile the Solidity contracts with the pinned npm ``solc`` into committed artifacts.

``make contracts`` runs ``python -m ledger.compile``: it feeds every ``*.sol``
under ``contracts/`` to the npm ``solc`` module (``solc.compile`` with standard JSON) (Solidity
compiler input/output JSON, solc 0.8 documentation "Using the compiler") with
fixed settings, and writes one JSON artifact per deployable contract to
``contracts/artifacts/``. ``python -m ledger.compile --check`` compiles in
memory and exits 1 when the committed artifacts differ from the sources, which
is what ``tests/ledger/test_artifacts.py`` proves.

The compiler version is the exact one pinned in ``package.json``; another
version is refused rather than silently producing different bytecode.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ledger.config import repo_root
from ledger.errors import CompilationError

__all__ = [
    "DEPLOYABLE",
    "COMPILER_SETTINGS",
    "CompiledArtifacts",
    "compile_contracts",
    "write_artifacts",
    "stale_artifacts",
    "main",
]

#: Contracts that get an artifact: source file -> contract names in it.
DEPLOYABLE: dict[str, tuple[str, ...]] = {
    "TrustRegistry.sol": ("TrustRegistry",),
    "StatusRegistry.sol": ("StatusRegistry",),
    "DidRegistry.sol": ("DidRegistry",),
    "IssuanceRegistry.sol": ("IssuanceRegistry",),
    "bench/NaiveRevocationRegistry.sol": ("NaiveRevocationRegistry",),
}

#: Fixed compiler settings; part of every artifact so a reader knows how it was built.
COMPILER_SETTINGS: dict = {
    "optimizer": {"enabled": True, "runs": 200},
    "viaIR": True,
    "evmVersion": "cancun",
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}

_SOLC_TIMEOUT_S = 300


@dataclass(frozen=True)
class CompiledArtifacts:
    """Artifact file name -> its exact text, as it is (or should be) committed."""

    files: dict[str, str]


def _contracts_dir() -> Path:
    return repo_root() / "contracts"


def artifacts_dir() -> Path:
    """Where the committed artifacts live."""
    return _contracts_dir() / "artifacts"


def pinned_solc_version() -> str:
    """The exact ``solc`` version pinned in package.json."""
    package = json.loads((repo_root() / "package.json").read_text(encoding="utf-8"))
    version = package.get("devDependencies", {}).get("solc", "")
    if not version or not version[0].isdigit():
        raise CompilationError(f"package.json must pin solc to an exact version, found {version!r}")
    return version


# solcjs' own CLI exits before a large standard-JSON answer is flushed to a
# pipe, so the compiler module is driven through a tiny script that writes the
# answer to a file instead.
_NODE_DRIVER = """
const fs = require("fs");
const solc = require(process.argv[1]);
if (process.argv[2] === "--version") { fs.writeFileSync(process.argv[3], solc.version()); }
else { fs.writeFileSync(process.argv[3], solc.compile(fs.readFileSync(process.argv[2], "utf8"))); }
"""


def _solc_module() -> Path:
    path = repo_root() / "node_modules" / "solc"
    if not (path / "package.json").exists():
        raise CompilationError(f"expected the npm solc package at {path}; run `make deps` first")
    return path


def _run_solc(request: str | None) -> str:
    """``solc.version()`` when ``request`` is None, else ``solc.compile(request)``."""
    with tempfile.TemporaryDirectory(prefix="microcred-solc-") as tmp:
        answer = Path(tmp) / "answer.json"
        args = ["--version"]
        if request is not None:
            request_path = Path(tmp) / "request.json"
            request_path.write_text(request, encoding="utf-8")
            args = [str(request_path)]
        try:
            completed = subprocess.run(
                ["node", "-e", _NODE_DRIVER, str(_solc_module()), *args, str(answer)],
                capture_output=True, text=True, timeout=_SOLC_TIMEOUT_S, check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CompilationError(f"could not run node with solc: {exc}") from exc
        if completed.returncode != 0 or not answer.exists():
            raise CompilationError(f"solc exited with {completed.returncode}: {completed.stderr.strip()[:2000]}")
        return answer.read_text(encoding="utf-8")


def compile_contracts() -> CompiledArtifacts:
    """Compile every source under ``contracts/`` and return the artifact texts."""
    long_version = _run_solc(None).strip()
    pinned = pinned_solc_version()
    if not long_version.startswith(pinned + "+"):
        raise CompilationError(f"expected solc {pinned} (package.json), found {long_version}; run `make deps`")
    root = _contracts_dir()
    sources = {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*.sol"))
    }
    standard_input = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": COMPILER_SETTINGS,
    }
    raw_output = _run_solc(json.dumps(standard_input))
    try:
        output = json.loads(raw_output)
    except ValueError as exc:
        raise CompilationError(f"expected solc's standard JSON output, found {raw_output[:200]!r}") from exc
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompilationError("; ".join(e.get("formattedMessage", e.get("message", "")).strip() for e in errors))
    source_digests = {
        name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in sources.items()
    }
    files: dict[str, str] = {}
    for source_name, contract_names in DEPLOYABLE.items():
        for contract_name in contract_names:
            try:
                compiled = output["contracts"][source_name][contract_name]
            except KeyError as exc:
                raise CompilationError(
                    f"expected contract {contract_name} in {source_name}, solc produced none") from exc
            artifact = {
                "contractName": contract_name,
                "sourceName": source_name,
                "compiler": {"name": "solc", "version": long_version, "settings": COMPILER_SETTINGS},
                "sourcesSha256": source_digests,
                "abi": compiled["abi"],
                "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
            }
            files[f"{contract_name}.json"] = json.dumps(artifact, indent=2, sort_keys=True) + "\n"
    return CompiledArtifacts(files)


def write_artifacts(compiled: CompiledArtifacts) -> list[Path]:
    """Write the artifacts to ``contracts/artifacts/`` and return their paths."""
    target = artifacts_dir()
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in compiled.files.items():
        path = target / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_artifacts(compiled: CompiledArtifacts) -> list[str]:
    """Names of committed artifacts that are missing or differ from ``compiled``."""
    stale = []
    for name, text in compiled.files.items():
        path = artifacts_dir() / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def main(argv: list[str] | None = None) -> int:
    """``python -m ledger.compile [--check]``."""
    args = sys.argv[1:] if argv is None else argv
    try:
        compiled = compile_contracts()
        if args == ["--check"]:
            stale = stale_artifacts(compiled)
            if stale:
                print(f"stale contract artifacts: {', '.join(stale)}; run `make contracts`", file=sys.stderr)
                return 1
            print("contract artifacts match their sources")
            return 0
        if args:
            print("usage: python -m ledger.compile [--check]", file=sys.stderr)
            return 2
        for path in write_artifacts(compiled):
            print(f"wrote {path.relative_to(repo_root())}")
        return 0
    except CompilationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
