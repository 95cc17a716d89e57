"""Signing a batch's SD-JWT VCs, in this process or on every core.

Building an SD-JWT VC (draft-ietf-oauth-sd-jwt-vc-12 over RFC 9901) and
signing it (ES256) is CPU work in Python, and one process uses one core. A
large batch is therefore signed in chunks by the worker processes of a
``concurrent.futures.ProcessPoolExecutor``: each worker gets the issuer's
private key once, as a JWK, through the pool's initializer, and signs exactly
what the parent hands it (claims, holder key, status list slot). Everything
with state stays in the parent: status list index allocation, the archive (a
single writer), offers and progress.

Workers die with their parent: each one asks the kernel for SIGKILL when its
parent goes (Linux ``prctl(PR_SET_PDEATHSIG)``; elsewhere a thread watches the
parent's pid), so a SIGKILLed ``issuer issue`` leaves no worker holding its
pipes or the archive's files. Workers ignore SIGINT: Ctrl-C is the parent's.
"""

from __future__ import annotations

import ctypes
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from credentials.dids import did_jwk_from_public_key
from credentials.errors import InvalidInput
from credentials.eudi_learning import EUDI_LEARNING_VCT, eudi_learning_frame, validate_eudi_learning_for_issue
from credentials.jose import PrivateKey, PublicKey
from credentials.jwt_vc import sign_vc_jwt
from credentials.merkle import credential_digest
from credentials.microcredential import MICRO_CREDENTIAL_VCT, disclosure_frame
from credentials.sd_jwt_vc import sign_sd_jwt_vc
from issuer.archive import KIND_EUDI_LEARNING, KIND_MICROCRED, KIND_OB3
from issuer.list_keeper import sha256_hex
from issuer.twins import ob3_with_subject

__all__ = ["SigningJob", "EncodedJob", "Signer", "SigningPool", "available_cores", "pool_context", "die_with_parent"]

_PR_SET_PDEATHSIG = 1
_PARENT_POLL_S = 0.5


@dataclass(frozen=True)
class SigningJob:
    """One credential to sign: its claims, the holder key and its status list slot.

    ``kind`` (:data:`issuer.archive.KINDS`) says what to make: microcred's SD-JWT VC, the EUDI
    learning SD-JWT VC (``claims`` its claim set), or an Open Badge ``vc+jwt`` (``claims`` the
    whole unsigned credential, status entry included; ``holder_jwk`` given and no subject id in
    it: the subject becomes the key's did:jwk).
    """

    claims: Mapping[str, Any]
    holder_jwk: Mapping[str, str] | None
    status_uri: str
    idx: int
    kind: str = KIND_MICROCRED


#: A job as a worker process gets it: ``(claims as archived — JSON text, holder key, status list URI, index,
#: kind)``. Pickling a tuple of strings costs the parent a fraction of pickling a :class:`SigningJob` holding the
#: claims' nested dicts and lists (issue 16: about 6 -> 0.5 us a job at best); the worker decodes the text, as
#: :meth:`issuer.archive.CredentialRecord.from_row` does when a batch is signed again from the archive.
EncodedJob = tuple[str, Mapping[str, str] | None, str, int, str]
_JSON = json.JSONDecoder()


def decoded_job(job: EncodedJob) -> SigningJob:
    """The :class:`SigningJob` an :data:`EncodedJob` stands for."""
    claims_json, holder_jwk, status_uri, idx, kind = job
    return SigningJob(_JSON.decode(claims_json), holder_jwk, status_uri, idx, kind)


@dataclass(frozen=True)
class Signer:
    """The issuer's key and names, enough to sign micro-credential SD-JWT VCs."""

    key: PrivateKey
    issuer: str
    kid: str | None

    def _open_badge(self, job: SigningJob) -> str:
        if self.kid is None:
            raise InvalidInput("expected the issuer's key id (kid) to sign an Open Badge, found none")
        credential = dict(job.claims)
        if job.holder_jwk is not None and "id" not in credential["credentialSubject"]:
            credential = ob3_with_subject(credential, did_jwk_from_public_key(PublicKey.from_jwk(job.holder_jwk)))
        return sign_vc_jwt(credential, self.key, kid=self.kid)

    def sign(self, job: SigningJob, *, now: int) -> str:
        """The serialization for ``job`` (SD-JWT VC or ``vc+jwt``), issued at ``now``."""
        if job.kind == KIND_OB3:
            return self._open_badge(job)
        if job.kind == KIND_EUDI_LEARNING:
            validate_eudi_learning_for_issue({**job.claims, "iss": self.issuer, "iat": now, "vct": EUDI_LEARNING_VCT})
            vct, frame = EUDI_LEARNING_VCT, eudi_learning_frame(job.claims)
        else:
            vct, frame = MICRO_CREDENTIAL_VCT, disclosure_frame(job.claims)
        return sign_sd_jwt_vc(
            vct=vct,
            claims=job.claims,
            frame=frame,
            issuer_key=self.key,
            issuer=self.issuer,
            kid=self.kid,
            iat=now,
            holder_jwk=job.holder_jwk,
            status={"status_list": {"idx": job.idx, "uri": job.status_uri}},
        )

    def sign_all(self, jobs: Sequence[SigningJob], *, now: int) -> list[str]:
        return [self.sign(job, now=now) for job in jobs]

    def sign_hashed(self, jobs: Sequence[SigningJob], *, now: int) -> list[tuple[str, str, str]]:
        """:meth:`sign_all`, each serialization with what the archive records of it: its SHA-256 and the
        SHA-256 of its issuer-signed part (the issuance leaf input, :func:`credentials.merkle.credential_digest`),
        hex, computed where it was signed (a worker process, not the parent that archives)."""
        signed = []
        for job in jobs:
            serialization = self.sign(job, now=now)
            signed.append((serialization, sha256_hex(serialization), credential_digest(serialization).hex()))
        return signed


#: The worker process's signer, set once by :func:`_start_worker`.
_worker_signer: Signer | None = None


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(_PARENT_POLL_S)
    os._exit(1)


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: be killed when the parent ``parent_pid`` dies; leave Ctrl-C to it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent_pid,), name="watch-parent", daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)


def _start_worker(parent_pid: int, private_jwk: dict[str, str], issuer: str, kid: str | None) -> None:
    global _worker_signer
    die_with_parent(parent_pid)
    _worker_signer = Signer(PrivateKey.from_jwk(private_jwk), issuer, kid)


def _sign_in_worker(jobs: Sequence[SigningJob], now: int) -> list[str]:
    if _worker_signer is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("expected the signing worker to be initialised with the issuer key, found none")
    return _worker_signer.sign_all(jobs, now=now)


def _sign_hashed_in_worker(jobs: Sequence[SigningJob], now: int) -> list[tuple[str, str, str]]:
    if _worker_signer is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("expected the signing worker to be initialised with the issuer key, found none")
    return _worker_signer.sign_hashed(jobs, now=now)


def _sign_encoded_in_worker(jobs: Sequence[EncodedJob], now: int) -> list[tuple[str, str, str]]:
    if _worker_signer is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("expected the signing worker to be initialised with the issuer key, found none")
    return _worker_signer.sign_hashed([decoded_job(job) for job in jobs], now=now)


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def pool_context() -> Any:
    """``fork`` when it is safe (a single-threaded parent on a system that has it), else ``spawn``.

    Forking costs milliseconds where spawning re-imports the issuer in every
    worker; a parent with threads (a web server) must not fork.
    """
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class SigningPool:
    """Worker processes that sign chunks of :class:`SigningJob` with one issuer key."""

    def __init__(self, signer: Signer, workers: int):
        if workers < 1:
            raise InvalidInput(f"expected at least 1 worker process, found {workers}")
        self.workers = workers
        self._executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=pool_context(), initializer=_start_worker,
            initargs=(os.getpid(), signer.key.to_jwk(), signer.issuer, signer.kid),
        )

    def submit(self, jobs: Sequence[SigningJob], *, now: int) -> Future[list[str]]:
        """Sign ``jobs`` in a worker; the future holds their serializations in order."""
        return self._executor.submit(_sign_in_worker, list(jobs), now)

    def submit_hashed(self, jobs: Sequence[SigningJob], *, now: int) -> Future[list[tuple[str, str, str]]]:
        """:meth:`Signer.sign_hashed` of ``jobs`` in a worker."""
        return self._executor.submit(_sign_hashed_in_worker, list(jobs), now)

    def submit_encoded(self, jobs: Sequence[EncodedJob], *, now: int) -> Future[list[tuple[str, str, str]]]:
        """:meth:`submit_hashed` of jobs given as :data:`EncodedJob`."""
        return self._executor.submit(_sign_encoded_in_worker, list(jobs), now)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> SigningPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
