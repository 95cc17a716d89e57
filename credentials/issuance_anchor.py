"""The ``issuance_anchor`` check: a credential was issued no later than the block that anchored its batch.

An issuer anchors the RFC 9162 Merkle root of each issuing batch on the
IssuanceRegistry (``contracts/IIssuanceRegistry.sol``) and delivers each
credential with its inclusion proof (:class:`credentials.merkle.IssuanceProof`).
The holder sends the proof along: claim :data:`ISSUANCE_PROOF_CLAIM` of the
SD-JWT VC's Key Binding JWT, member :data:`ISSUANCE_PROOF_VP_MEMBER` of a
holder-signed VP. A verifier that does not know the claim ignores it.

The check (:func:`check_issuance_anchor`):

- no proof: ``skipped`` (not required) unless the policy requires one
  (``MICROCRED_VERIFIER_REQUIRE_ISSUANCE_ANCHOR``), then ``failed``;
- a proof is given: it must parse, lead from the credential's leaf
  (SHA-256(0x00 ‖ SHA-256(issuer-signed JWT))) to its root, name the ledger
  this verifier reads (chain id and registry address), and the root must be
  anchored on it by the issuer's account (the TrustRegistry controller of the
  issuer's DID at the anchor's block) over exactly the proof's ``size``
  leaves (RFC 9162's audit path does not bind the size by itself). Anything
  else is ``failed``, saying which;
- the ledger cannot be read: ``unavailable``.

Passed reads "issued no later than block N (date)": N and its time come from
the chain, never from the proof. A given proof makes the check required.

:func:`anchored_issuance` is the same decision for other checks that need
the anchor's block (did:mcr keys valid at issuance, accreditation revoked for
cause later): it returns :class:`AnchoredIssuance` or raises.

Pure: the chain comes in as an :data:`IssuanceAnchorResolver`
(:class:`ledger.issuance.IssuanceAnchorSource` reads it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from credentials.errors import InvalidInput, VerificationError
from credentials.merkle import IssuanceProof, credential_leaf
from credentials.verification_model import FAILED, PASSED, SKIPPED, UNAVAILABLE, CheckRun, Unavailable, ask

__all__ = [
    "CHECK",
    "ISSUANCE_PROOF_CLAIM",
    "ISSUANCE_PROOF_VP_MEMBER",
    "IssuanceAnchor",
    "IssuanceAnchorResolver",
    "AnchoredIssuance",
    "anchored_issuance",
    "check_issuance_anchor",
]

CHECK = "issuance_anchor"
#: The KB-JWT payload claim that carries the proof (SD-JWT VC).
ISSUANCE_PROOF_CLAIM = "issuance_proof"
#: The holder-signed VP member that carries the proof (whole credentials).
ISSUANCE_PROOF_VP_MEMBER = "issuanceProof"


@dataclass(frozen=True)
class IssuanceAnchor:
    """What the ledger says about a root: ``anchored_by`` None when it was never anchored.

    ``chain_id`` and ``registry`` name the ledger read; ``issuer_account`` is the
    account the issuer's DID was controlled by at ``block_number`` (None when
    the DID has no entry then).
    """

    chain_id: int
    registry: str
    anchored_by: str | None = None
    block_number: int | None = None
    block_timestamp: int | None = None
    size: int | None = None
    issuer_account: str | None = None


#: ``(issuer DID, root) -> IssuanceAnchor | Unavailable``; may raise ConnectionError / TimeoutError.
IssuanceAnchorResolver = Callable[[str, bytes], "IssuanceAnchor | Unavailable"]


@dataclass(frozen=True)
class AnchoredIssuance:
    """A verified anchor: the credential existed no later than ``block_number`` (at ``block_timestamp``)."""

    root: bytes
    block_number: int
    block_timestamp: int
    anchored_by: str
    size: int
    index: int

    @property
    def date(self) -> str:
        return datetime.fromtimestamp(self.block_timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")

    def sentence(self) -> str:
        return f"issued no later than block {self.block_number} ({self.date})"


def _fail(reason: str) -> VerificationError:
    return VerificationError(reason, check=CHECK)


def anchored_issuance(credential: str, unverified_proof: Any, issuer: str,
                      resolver: IssuanceAnchorResolver) -> AnchoredIssuance | Unavailable:
    """Check ``unverified_proof`` for ``credential`` (its compact serialization) of ``issuer``.

    Returns the verified anchor, or :class:`Unavailable` when the ledger cannot
    be read; raises :class:`VerificationError` (check ``issuance_anchor``) when
    the proof is wrong.
    """
    try:
        proof = IssuanceProof.from_json(unverified_proof)
    except InvalidInput as exc:
        raise _fail(f"the issuance proof is malformed: {exc}") from None
    try:
        leaf = credential_leaf(credential)
    except InvalidInput as exc:
        raise _fail(f"the credential's digest cannot be taken: {exc}") from None
    if not proof.proves(leaf):
        raise _fail("the issuance proof does not lead from this credential to the root it names "
                    f"(index {proof.index} of {proof.size})")
    answer = ask(resolver, issuer, proof.root)
    if isinstance(answer, Unavailable):
        return Unavailable(f"the issuance registry cannot be read: {answer.reason}")
    if proof.chain_id != answer.chain_id or proof.registry.lower() != answer.registry.lower():
        raise _fail(f"the issuance proof names registry {proof.registry} on chain {proof.chain_id}; this verifier "
                    f"reads {answer.registry} on chain {answer.chain_id}")
    if answer.anchored_by is None or answer.block_number is None or answer.block_timestamp is None:
        raise _fail(f"the batch root {proof.root.hex()[:16]}… is not anchored on the issuance registry")
    if answer.issuer_account is None or answer.anchored_by.lower() != answer.issuer_account.lower():
        whose = (f"the issuer's account {answer.issuer_account}" if answer.issuer_account
                 else "an account of the issuer (it had no entry in the trust registry then)")
        raise _fail(f"the batch root was anchored by {answer.anchored_by}, not by {whose}")
    if answer.size != proof.size:
        raise _fail(f"the issuance proof claims a batch of {proof.size}, but the anchored batch has {answer.size}")
    return AnchoredIssuance(proof.root, answer.block_number, answer.block_timestamp, answer.anchored_by,
                            proof.size, proof.index)


def check_issuance_anchor(run: CheckRun, credential: str, unverified_proof: Any, issuer: str,
                          resolver: IssuanceAnchorResolver | None, *, required: bool) -> AnchoredIssuance | None:
    """Set the ``issuance_anchor`` check on ``run``; the verified anchor, or None."""
    if unverified_proof is None:
        if required:
            run.set(CHECK, FAILED, "this verifier requires a proof that the credential's issuance was anchored, "
                                   "and none was presented")
        else:
            run.set(CHECK, SKIPPED, "no issuance proof was presented; this verifier does not require one",
                    required=False)
        return None
    if resolver is None:
        run.set(CHECK, UNAVAILABLE, "this verifier reads no issuance registry")
        return None
    try:
        anchored = anchored_issuance(credential, unverified_proof, issuer, resolver)
    except VerificationError as exc:
        run.fail(exc)
        return None
    if isinstance(anchored, Unavailable):
        run.set(CHECK, UNAVAILABLE, anchored.reason)
        return None
    run.set(CHECK, PASSED, anchored.sentence())
    return anchored

