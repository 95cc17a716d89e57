"""``microcred demo --story``: the credential story, told in the terminal.

A university issues a micro-credential as an SD-JWT VC bound to a learner's
key; the learner discloses a few claims with a Key Binding JWT; a verifier
checks it; a tampered copy and a copy replayed to another verifier are
refused, each with the check that failed. Everything runs in memory with
fresh keys; nothing is written.
"""

from __future__ import annotations

import json
import secrets
import time

import click

from credentials.dids import did_key_from_public_key, verification_method_id
from credentials.errors import VerificationError
from credentials.jose import PrivateKey
from credentials.microcredential import MICRO_CREDENTIAL_VCT, disclosure_frame, validate_disclosed, validate_for_issue
from credentials.sd_jwt import HolderSdJwt, KeyBindingPolicy
from credentials.sd_jwt_vc import issue_sd_jwt_vc, verify_sd_jwt_vc

__all__ = ["tell_story", "DEMO_CLAIMS"]

DEMO_CLAIMS = {
    "learner": {"given_name": "Giulia", "family_name": "Rossi", "birth_date": "2001-04-17", "student_id": "S1234567"},
    "title": "Applied Machine Learning for Public Health",
    "issuer_country": ["IT"],
    "awarding_body": [
        {"name": "Università degli Studi di Esempio", "id": "https://www.uniesempio.example", "country": "IT"},
    ],
    "issued_on": "2026-06-30",
    "learning_outcomes": [
        "Design and evaluate supervised learning models on health survey data",
        "Assess bias and fairness of models used in public-health decisions",
        "Communicate model results to non-technical stakeholders",
    ],
    "ects": 6,
    "eqf_level": 7,
    "qf_ehea_cycle": "second",
    "assessment_type": "Written examination and graded project",
    "participation": "blended",
    "quality_assurance": "Internal QA of the University, accredited by ANVUR (ESG-compliant)",
    "grade": "28/30",
}
SHARED = [("title",), ("ects",), ("eqf_level",), ("learning_outcomes", 0), ("learning_outcomes", 1)]
VERIFIER = "https://employer.example/verifier"


def _step(number: int, text: str) -> None:
    click.secho(f"\n{number}. {text}", bold=True)


def tell_story() -> None:
    """Issue, present and verify a demo micro-credential, in the terminal."""
    now = int(time.time())
    issuer_key, holder_key = PrivateKey.generate("ES256"), PrivateKey.generate("ES256")
    issuer_did = did_key_from_public_key(issuer_key.public_key())

    _step(1, "The university issues an SD-JWT VC micro-credential bound to the learner's key")
    validate_for_issue(DEMO_CLAIMS)
    issued = issue_sd_jwt_vc(
        vct=MICRO_CREDENTIAL_VCT,
        claims=DEMO_CLAIMS,
        frame=disclosure_frame(DEMO_CLAIMS),
        issuer_key=issuer_key,
        issuer=issuer_did,
        kid=verification_method_id(issuer_did),
        iat=now,
        holder_jwk=holder_key.public_key().to_jwk(),
    )
    click.echo(f"   issuer   {issuer_did[:40]}…")
    click.echo(f"   {len(issued.disclosures)} selectively disclosable claims, {len(issued.serialization)} characters")

    _step(2, "The learner discloses title, ECTS, level and two learning outcomes")
    holder = HolderSdJwt.parse(issued.serialization)
    nonce = secrets.token_urlsafe(16)
    presentation = holder.present_with_key_binding(SHARED, holder_key, audience=VERIFIER, nonce=nonce, iat=now)
    click.echo(f"   presentation: {len(presentation)} characters with its Key Binding JWT")

    _step(3, "The employer's verifier checks it")
    policy = KeyBindingPolicy(audience=VERIFIER, nonce=nonce)
    verified = verify_sd_jwt_vc(presentation, now=now, key_binding=policy, accepted_vcts=[MICRO_CREDENTIAL_VCT])
    validate_disclosed(verified.claims)
    click.secho("   VERIFIED: signature, disclosures, holder binding, validity period, schema", fg="green")
    click.echo("   " + json.dumps(verified.disclosed, ensure_ascii=False, indent=2).replace("\n", "\n   "))

    _step(4, "Bad copies are refused, each with the check that failed")
    head, _, rest = presentation.partition("~")
    tampered = head + "~" + rest.replace(rest[5], "A" if rest[5] != "A" else "B", 1)
    attempts = {
        "a disclosure changed in transit": (tampered, policy),
        "the same presentation replayed to another verifier": (
            presentation,
            KeyBindingPolicy(audience="https://other.example", nonce=nonce),
        ),
    }
    for label, (candidate, candidate_policy) in attempts.items():
        try:
            verify_sd_jwt_vc(candidate, now=now, key_binding=candidate_policy)
        except VerificationError as exc:
            click.secho(f"   REFUSED {label}: [{exc.check}] {exc.reason}", fg="red")
        else:
            raise click.ClickException(f"the demo expected {label} to be refused")
