"""Secret files written once (issue 11, item 1): created whole with mode 0600, never overwritten, refused
when others may read them, and one secret when workers start together on a fresh data dir."""

from __future__ import annotations

import multiprocessing
import os
import threading

import pytest

from credentials.errors import ConfigurationError
from infra.secret_files import SecretFileExists, create_secret_file, load_or_create_secret_file, read_secret_file


def test_a_secret_file_is_private_and_whole(tmp_path):
    path = tmp_path / "keys" / "a.key"
    create_secret_file(path, b"secret")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert read_secret_file(path) == b"secret"
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.key"]  # no temporary file left behind


def test_a_secret_file_is_never_overwritten(tmp_path):
    path = tmp_path / "a.key"
    create_secret_file(path, b"first")
    with pytest.raises(SecretFileExists, match="already exists; not overwriting a key"):
        create_secret_file(path, b"second")
    assert read_secret_file(path) == b"first"


def test_a_secret_file_others_may_read_is_refused(tmp_path):
    path = tmp_path / "a.key"
    create_secret_file(path, b"secret")
    os.chmod(path, 0o640)
    with pytest.raises(ConfigurationError, match="has mode 0640; expected 0600"):
        read_secret_file(path)
    with pytest.raises(ConfigurationError, match="found none"):
        read_secret_file(tmp_path / "missing.key")


def test_the_wallet_refuses_a_server_secret_others_may_read(tmp_path):
    from wallet.sealing import SECRET_FILE, load_or_create_secret

    load_or_create_secret(tmp_path)
    os.chmod(tmp_path / SECRET_FILE, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_or_create_secret(tmp_path)


def test_a_creator_that_loses_the_race_reads_the_winners_secret(tmp_path):
    """A makes its secret slowly; B creates the file meanwhile; A must return B's, not its own."""
    path = tmp_path / "race.key"
    b_done = threading.Event()
    results: dict[str, tuple[bytes, bool]] = {}

    def slow_make() -> bytes:
        b_done.wait(timeout=30)
        return b"from-a"

    a = threading.Thread(target=lambda: results.setdefault("a", load_or_create_secret_file(path, slow_make)))
    a.start()
    results["b"] = load_or_create_secret_file(path, lambda: b"from-b")
    b_done.set()
    a.join(timeout=30)
    assert results["b"] == (b"from-b", True)
    assert results["a"] == (b"from-b", False)
    assert read_secret_file(path) == b"from-b"


def _start_wallet_secret(barrier, data_dir: str, answers) -> None:
    from wallet.sealing import load_or_create_secret

    barrier.wait()
    try:
        answers.put(load_or_create_secret(data_dir).hex())
    except Exception as exc:  # noqa: BLE001 - what a worker would have died of, reported to the test
        answers.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize("round_number", range(10))
def test_workers_starting_together_share_one_server_secret(tmp_path, round_number):
    """gunicorn builds the app in every worker: the secret file must come out the same for all of them."""
    context = multiprocessing.get_context("fork")
    workers = 8
    barrier, answers = context.Barrier(workers), context.Queue()
    processes = [context.Process(target=_start_wallet_secret, args=(barrier, str(tmp_path / "var"), answers))
                 for _ in range(workers)]
    for process in processes:
        process.start()
    found = [answers.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert len(set(found)) == 1, found
    assert len(bytes.fromhex(found[0])) == 32
