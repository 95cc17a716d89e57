"""A plain ``pip install .`` is enough to run microcred (issue "safe to deploy", G).

Every runtime import must be a declared dependency: the first version imported
``zxingcpp`` and ``PIL`` (the verifier's photo endpoint), ``requests`` and the
``eth_*`` libraries without declaring them, so a plain install answered 500 on
``/verify/photo``. This test builds a fresh virtual environment, installs the
project without extras (no test dependencies, no editable mode), imports every
module of every package from the installed copy, and runs the photo endpoint.
It also checks that the compiled contracts travel with the package.

It needs the package registry (as ``make test`` does) and takes about a minute.
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("credentials", "ledger", "infra", "issuer", "wallet", "verifier", "microcred")

# Runs inside the fresh venv, from a directory outside the checkout.
_PROBE = textwrap.dedent("""
    import importlib, io, json, sys
    from pathlib import Path

    venv_root = Path(sys.prefix).resolve()
    imported, outside = [], []
    for name in {packages!r}:
        package = importlib.import_module(name)
        if venv_root not in Path(package.__file__).resolve().parents:
            outside.append(name)
        imported.append(name)
        base = Path(package.__file__).resolve().parent
        for path in sorted(base.rglob("*.py")):
            parts = path.relative_to(base).with_suffix("").parts
            if parts[-1] == "__main__":
                continue  # runs the program; its imports are checked by importing the package
            module = ".".join((name,) + (parts[:-1] if parts[-1] == "__init__" else parts))
            importlib.import_module(module)
            imported.append(module)

    from ledger.artifacts import load_artifact
    abi_entries = len(load_artifact("TrustRegistry").abi)

    import segno
    from verifier import create_app
    app = create_app({{"TESTING": True, "DATA_DIR": sys.argv[1]}})
    picture = io.BytesIO()
    segno.make("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fexample.org%2Fo",
               error="m").save(picture, kind="png", scale=4, border=4)
    with app.test_client() as client:
        answer = client.post("/verify/photo", data={{"photo": (io.BytesIO(picture.getvalue()), "qr.png")}},
                             content_type="multipart/form-data")
    print(json.dumps({{"imported": imported, "outside": outside, "abi_entries": abi_entries,
                      "photo_status": answer.status_code, "photo_body": answer.get_data(as_text=True)}}))
""")


def _copy_of_the_checkout(source: Path) -> Path:
    """The checkout's files (tracked and new, not ignored) in ``source``: a build there leaves nothing (build/,
    *.egg-info) in the checkout."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    return source


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("plain-install")
    source = _copy_of_the_checkout(where / "source")
    venv.EnvBuilder(with_pip=True).create(where / "venv")
    python = where / "venv" / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              str(source)], capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, f"pip install . failed:\n{install.stdout[-3000:]}\n{install.stderr[-3000:]}"
    return python


def test_plain_install_imports_every_module_and_scans_a_photo(installed, tmp_path):
    import json

    probe = tmp_path / "probe.py"
    probe.write_text(_PROBE.format(packages=PACKAGES), encoding="utf-8")
    run = subprocess.run([str(installed), str(probe), str(tmp_path / "var")], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, f"the probe failed in the plain install:\n{run.stderr[-4000:]}"
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["outside"] == [], f"imported from the checkout, not the install: {report['outside']}"
    tracked = subprocess.run(["git", "ls-files", "--", *(f"{p}/*.py" for p in PACKAGES)], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    expected = {name.removesuffix(".py").replace("/", ".").removesuffix(".__init__") for name in tracked
                if not name.endswith("__main__.py")}
    assert expected <= set(report["imported"]), sorted(expected - set(report["imported"]))
    assert report["abi_entries"] > 0
    # The QR was decoded (zxing-cpp and Pillow are installed): the verifier names what the code holds.
    assert report["photo_status"] in (200, 400), report["photo_body"][:500]
    assert "credential offer" in report["photo_body"]
    assert "no QR code was found" not in report["photo_body"]


def test_the_build_warns_of_nothing_and_ships_the_contracts(tmp_path):
    """Every install printed setuptools' warnings: `project.license` as a TOML table is deprecated, and
    'contracts.artifacts' / 'contracts.bench' were installed as data while absent from the packages.

    Found by a newcomer. The wheel pip builds (in its isolated build environment, as every install does)
    must say nothing of the kind and still carry the compiled contracts and the benchmark's contract.
    """
    import sys
    import zipfile

    source = _copy_of_the_checkout(tmp_path / "source")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--verbose",
                            "--disable-pip-version-check", "--wheel-dir", str(tmp_path / "wheel"), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    output = build.stdout + build.stderr
    warnings = [line.strip() for line in output.splitlines() if "BuildBackendWarning" in line
                or "SetuptoolsDeprecationWarning" in line or "absent from the `packages`" in line]
    assert warnings == []
    (wheel,) = (tmp_path / "wheel").glob("microcred-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "contracts/artifacts/TrustRegistry.json" in names
    assert "contracts/bench/NaiveRevocationRegistry.sol" in names
    assert "contracts/TrustRegistry.sol" in names
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata
