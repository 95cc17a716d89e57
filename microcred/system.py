"""Set up the whole demo system, idempotently, under one data directory.

``microcred demo`` calls :func:`prepare` and then serves the apps. Every step
first looks at what ``var/`` already holds, so a second run reuses the chain
state, the deployment, the issuers, the learner's account and credentials,
and starts in seconds:

1. the chain: the local Anvil devnet (state kept under ``var/anvil``), unless
   ``MICROCRED_RPC_URL`` names another node;
2. the contracts (``deployment.json``), with a ministry as the root of trust;
3. the trust chain: ministry → a quality assurance agency (TAO) → two
   universities (issuers with did:key identities), as EBSI's RootTAO → TAO → TI;
4. the demo learner's wallet account, holding micro-credentials from both
   universities, each bound to the learner's holder key;
5. credentials from elsewhere (:mod:`microcred.demo_imports`): a demo seal PKI
   whose root the wallet and verifier trust (``MICROCRED_X509_TRUST_ANCHORS``),
   a foreign university sealing Europass EDCs and an Open Badges issuer, both
   accredited under the agency, and a sealed EDC and an Open Badge bound to the
   learner's holder key in ``var/demo-imports/``, for her to import.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from credentials.eudi_learning import EUDI_LEARNING_VCT
from credentials.jose import json_dumps
from credentials.microcredential import MICRO_CREDENTIAL_VCT
from credentials.verification_types import EDC_TYPE_URN, OB3_TYPE
from issuer.archive import Archive
from issuer.batch import BatchDefaults, parse_json
from issuer.identity import create_issuer, list_issuers, load_issuer
from issuer.ledger_link import LedgerStatusAnchor
from issuer.service import IssuerService
from ledger.config import LedgerSettings
from ledger.devnet import Devnet
from ledger.errors import LedgerError
from microcred.demo_imports import BADGE_ISSUER_NAME, SEAL_ORGANIZATION, DemoPki, ensure_imports, ensure_pki
from wallet.db import DB_FILE, migrate, open_database
from wallet.holding import create_account, current_holder_key, holder_keys, password_hasher
from wallet.importing import import_credential
from wallet.sealing import load_or_create_secret

__all__ = ["DemoIssuer", "DemoSystem", "UNIVERSITIES", "LEARNER", "prepare", "learner_rows", "issue_to_learner",
           "issuer_port", "demo_issuer_ports"]

#: What the demo accredits the agency and the universities for: microcred's vct, the EUDI learning
#: credential's vct, and any Open Badge 3.0 (the verifier's type string, credentials.verification_types):
#: the credentials ``issuer issue --also ob3 --also eudi-learning`` makes.
DEMO_TYPES = (MICRO_CREDENTIAL_VCT, EUDI_LEARNING_VCT, OB3_TYPE)
#: A sealed Europass EDC's type strings: its ELM credential profile ("Generic") and any EDC.
EDC_TYPES = ("http://data.europa.eu/snb/credential/e34929035b", EDC_TYPE_URN)
#: The agency accredits the universities (DEMO_TYPES) and the foreign issuers (EDC_TYPES, OB3_TYPE).
AGENCY_TYPES = (*DEMO_TYPES, *EDC_TYPES)
MINISTRY = ("did:web:ministry.microcred.localhost", "Ministry of University and Research (demo)", "IT")
AGENCY = ("did:web:qa-agency.microcred.localhost", "National Agency for the Evaluation of Universities (demo)", "IT")
LEARNER = {"username": "giulia", "password": "micro-credentials-2026", "given_name": "Giulia",
           "family_name": "Rossi", "birth_date": "2001-04-17"}


@dataclass(frozen=True)
class DemoIssuer:
    name: str
    legal_name: str
    country: str
    port: int
    courses: tuple[dict, ...]
    #: The demo learner's one student number here, on every credential this university issues her.
    learner_student_id: str = ""


_OUTCOMES = {
    "ml": ["Design and evaluate supervised learning models on health survey data",
           "Assess bias and fairness of models used in public-health decisions",
           "Communicate model results to non-technical stakeholders"],
    "gdpr": ["Apply the GDPR to research data and learning analytics",
             "Draft a data protection impact assessment",
             "Advise on lawful bases for processing personal data"],
    "circular": ["Analyse product life cycles with material flow analysis",
                 "Redesign a product for repair, reuse and recycling",
                 "Evaluate circular business models against EU policy"],
    "quantum": ["Describe qubits, superposition and entanglement",
                "Implement basic quantum circuits in a simulator",
                "Explain where quantum algorithms outperform classical ones"],
}

UNIVERSITIES = (
    DemoIssuer("uni-esempio", "Università degli Studi di Esempio", "IT", 5010, (
        {"title": "Applied Machine Learning for Public Health", "ects": 6, "eqf_level": 7, "qf_ehea_cycle": "second",
         "learning_outcomes": _OUTCOMES["ml"], "assessment_type": "Written examination and graded project",
         "participation": "blended", "grade": "28/30"},
        {"title": "Data Protection Law in Practice", "ects": 4, "eqf_level": 7, "qf_ehea_cycle": "second",
         "learning_outcomes": _OUTCOMES["gdpr"], "assessment_type": "Oral examination",
         "participation": "online", "grade": "30/30 cum laude"},
    ), learner_student_id="UNI-00042"),
    DemoIssuer("tu-musterstadt", "Technische Universität Musterstadt", "DE", 5011, (
        {"title": "Circular Economy and Sustainable Product Design", "ects": 5, "eqf_level": 6,
         "qf_ehea_cycle": "first", "learning_outcomes": _OUTCOMES["circular"],
         "assessment_type": "Design project with presentation", "participation": "onsite", "grade": "1.3"},
        {"title": "Introduction to Quantum Computing", "ects": 3, "eqf_level": 6, "qf_ehea_cycle": "first",
         "learning_outcomes": _OUTCOMES["quantum"], "assessment_type": "Online proctored examination",
         "participation": "online", "grade": "2.0"},
    ), learner_student_id="TUM-31207"),
)


@dataclass
class DemoSystem:
    data_dir: Path
    rpc_url: str
    started_devnet: bool
    root_did: str
    issuer_names: tuple[str, ...]
    learner_account: int
    #: The demo seal PKI (its root is the wallet's and verifier's X.509 trust anchor).
    pki: DemoPki | None = None


Say = Callable[[str], None]


def _ensure_chain(settings, say: Say) -> tuple[str, bool]:
    if settings.rpc_url:
        say(f"ledger: using MICROCRED_RPC_URL {settings.rpc_url}")
        return settings.rpc_url, False
    devnet = Devnet(settings.data_dir)
    status = devnet.status()
    if status.answering and status.record is not None:
        say(f"ledger: devnet already running at {status.record.url}")
        return status.record.url, False
    record = devnet.start()
    say(f"ledger: started Anvil at {record.url} (state {record.state_path})")
    return record.url, True


def _ensure_deployment(settings, say: Say):
    # here, not at the top: this loads web3 (seconds to import), only for the demo steps that use the chain
    from ledger import deployment as deployment_module
    from ledger.chain import Chain
    from ledger.keys import default_root_account

    if settings.deployment_path.exists():
        try:
            ledger = deployment_module.open_ledger(settings)
            missing = ledger.deployment.missing_registries
            if not missing:
                say(f"ledger: contracts at {ledger.deployment.trust_registry.address} (reused)")
                return ledger
            say(f"ledger: the saved deployment lacks {', '.join(missing)} (an older demo); deploying again")
        except LedgerError as exc:
            say(f"ledger: the saved deployment does not answer ({exc}); deploying again")
    chain = Chain(settings.resolve_rpc_url(), confirmations=settings.confirmations)
    root = default_root_account(chain, settings.data_dir)
    result = deployment_module.deploy(chain, root, root_did=MINISTRY[0], root_name=MINISTRY[1],
                                      root_country=MINISTRY[2])
    result.save(settings.deployment_path)
    say(f"ledger: deployed TrustRegistry {result.trust_registry.address}, "
        f"StatusRegistry {result.status_registry.address}")
    return deployment_module.open_ledger(settings)


def _grant(ledger, settings, accreditor: str, did: str, name: str, country: str, controller: str, signer, *,
           role, say: Say, max_eqf: int | None = None, vcts: tuple[str, ...] = DEMO_TYPES) -> None:
    # here, not at the top: this loads web3 (seconds to import), only for the demo steps that use the chain
    from ledger.keys import default_root_account, fund_if_devnet

    entry = ledger.trust.entry(did)
    if entry is not None:
        missing = [t for t in vcts if t not in entry.vcts]
        if missing:  # entries are never overwritten: a data dir from before the twins keeps its old scope
            say(f"trust: {name} is not accredited for {', '.join(missing)} (an older demo state; "
                f"start from an empty data dir to have them)")
        return
    now = ledger.chain.block_timestamp()
    ledger.trust.accredit(accreditor, did, role=role, vcts=list(vcts), legal_name=name, country=country,
                          valid_from=now - 3600, valid_until=None, controller=controller, max_eqf_level=max_eqf,
                          account=signer)
    fund_if_devnet(ledger.chain, default_root_account(ledger.chain, settings.data_dir), controller)
    say(f"trust: {name} accredited by {accreditor}")


def _ensure_trust(ledger, settings, say: Say, issuer_ports: dict[str, int]) -> tuple[str, ...]:
    # here, not at the top: this loads web3 (seconds to import), only for the demo steps that use the chain
    from ledger.artifacts import Role
    from ledger.keys import default_root_account, load_or_create_key_file

    root = default_root_account(ledger.chain, settings.data_dir)
    agency_account, _ = load_or_create_key_file(settings.data_dir / "keys" / "qa-agency.key")
    _grant(ledger, settings, ledger.trust.root_did(), AGENCY[0], AGENCY[1], AGENCY[2], agency_account.address, root,
           role=Role.TAO, say=say, vcts=AGENCY_TYPES)
    names = []
    existing = set(list_issuers(settings.data_dir))
    for university in UNIVERSITIES:
        if university.name in existing:
            home = load_issuer(settings.data_dir, university.name)
        else:
            port = issuer_ports.get(university.name, university.port)
            home = create_issuer(settings.data_dir, university.name, legal_name=university.legal_name,
                                 country=university.country, base_url=f"http://127.0.0.1:{port}")
            say(f"issuer: created {university.legal_name} ({home.identity.did[:32]}…)")
        _grant(ledger, settings, AGENCY[0], home.identity.did, university.legal_name, university.country,
               home.identity.controller_address, agency_account, role=Role.ISSUER, max_eqf=8, say=say)
        names.append(university.name)
    return tuple(names)


def _ensure_foreign_trust(ledger, settings, pki: DemoPki, say: Say) -> None:
    """The foreign university sealing EDCs (``x509:org:…``) and the Open Badges issuer, accredited by the agency."""
    # here, not at the top: this loads web3 (seconds to import), only for the demo steps that use the chain
    from ledger.artifacts import Role
    from ledger.keys import load_or_create_key_file

    agency = ledger.trust.entry(AGENCY[0])
    if agency is None or any(t not in agency.vcts for t in EDC_TYPES):
        say("trust: the agency is not accredited for Europass EDCs (an older demo state; start from an empty "
            "data dir to import the sealed EDC)")
        return
    agency_account, _ = load_or_create_key_file(settings.data_dir / "keys" / "qa-agency.key")
    legal_name, country, _ = SEAL_ORGANIZATION
    seal_controller, _ = load_or_create_key_file(settings.data_dir / "keys" / "seal-issuer.key")
    _grant(ledger, settings, AGENCY[0], pki.seal_issuer_id, legal_name, country, seal_controller.address,
           agency_account, role=Role.ISSUER, max_eqf=8, say=say, vcts=EDC_TYPES)
    badge_controller, _ = load_or_create_key_file(settings.data_dir / "keys" / "badge-issuer.key")
    _grant(ledger, settings, AGENCY[0], pki.badge_issuer, BADGE_ISSUER_NAME[0], BADGE_ISSUER_NAME[1],
           badge_controller.address, agency_account, role=Role.ISSUER, max_eqf=8, say=say, vcts=(OB3_TYPE,))


def _ensure_learner(data_dir: Path, say: Say) -> tuple[int, bool]:
    db = open_database(data_dir / DB_FILE)
    try:
        migrate(db)
        row = db.execute("SELECT id FROM accounts WHERE username = ?", [LEARNER["username"]]).fetchone()
        if row:
            return row[0], False
        account = create_account(db, load_or_create_secret(data_dir), password_hasher({}), LEARNER["username"],
                                 LEARNER["password"], now=int(time.time()))
        say(f"wallet: created the demo learner account {LEARNER['username']!r}")
        return account, True
    finally:
        db.close()


def learner_rows(university: DemoIssuer, holder_jwk: dict) -> list[dict]:
    """The batch rows of ``university``'s courses for the demo learner: one student number on all of them."""
    learner = {"given_name": LEARNER["given_name"], "family_name": LEARNER["family_name"],
               "birth_date": LEARNER["birth_date"], "student_id": university.learner_student_id}
    return [{**course, "learner": learner,
             "quality_assurance": f"Internal quality assurance of {university.legal_name}, ESG-compliant",
             "holder_jwk": holder_jwk} for course in university.courses]


def issue_to_learner(data_dir: Path, account: int, trust_check, *, say: Say) -> None:
    """Issue the demo courses to the learner and import them into the wallet, unless it holds some already;
    write the credentials from elsewhere she imports herself (``var/demo-imports/``) unless they are there."""
    db = open_database(data_dir / DB_FILE)
    try:
        holder_jwk = current_holder_key(db, account).public_key.to_jwk()
        now = int(time.time())
        edc, badge, made = ensure_imports(data_dir, ensure_pki(data_dir, now=now)[0], holder_jwk, now=now)
        if made:
            say(f"wrote a sealed Europass EDC and an Open Badge for the learner to import: {edc.name}, {badge.name} "
                f"in {edc.parent}")
        if db.execute("SELECT COUNT(*) FROM credentials WHERE account_id = ?", [account]).fetchone()[0]:
            return
        for university in UNIVERSITIES:
            home = load_issuer(data_dir, university.name)
            service = IssuerService(home.identity, Archive(home.archive_path), home.signing_key(),
                                    anchor=LedgerStatusAnchor(home))
            defaults = BatchDefaults(issuer_country=home.identity.country, awarding_body=home.identity.awarding_body(),
                                     issued_on=datetime.fromtimestamp(now, UTC).date().isoformat())
            # One batch per course, as a registrar issues them: a batch holds one credential per student.
            issued = [credential for row in learner_rows(university, holder_jwk)
                      for credential in service.issue_batch(parse_json(json_dumps([row]), defaults), now=now).issued]
            # each with its issuance proof, as the issuer delivers it (<id>.with-proof.json): shown in every share
            proofs = service.issuance_proofs([credential.credential_id for credential in issued])
            service.archive.close()
            with db.atomic():
                for credential in issued:
                    proof = proofs.get(credential.credential_id)
                    delivered = credential.sd_jwt if proof is None else json_dumps(
                        {"credential": credential.sd_jwt, "issuance_proof": proof})
                    import_credential(db, account, holder_keys(db, account), delivered, now=now,
                                      trust_check=trust_check)
            say(f"issued {len(issued)} micro-credential(s) from {university.legal_name} to the learner's wallet")
    finally:
        db.close()


def issuer_port(data_dir: Path, name: str) -> int:
    """The port an issuer was created for (its status list URLs carry it)."""
    return urlsplit(load_issuer(data_dir, name).identity.base_url).port or 80


def demo_issuer_ports(data_dir: Path, chosen: tuple[int, ...] | None) -> dict[str, int]:
    """Each demo issuer's port: the one it was made for when it exists in ``data_dir`` (its status list URLs carry
    it), else the ``chosen`` one (``demo --issuer-ports``, in :data:`UNIVERSITIES` order), else its default."""
    made = set(list_issuers(data_dir))
    return {university.name: issuer_port(data_dir, university.name) if university.name in made
            else chosen[index] if chosen else university.port for index, university in enumerate(UNIVERSITIES)}


def prepare(data_dir: Path, *, say: Say, issuer_ports: dict[str, int] | None = None) -> DemoSystem:
    """Chain, contracts, trust chain and learner account in ``data_dir``; return what was found or made.

    The credentials come afterwards (:func:`issue_to_learner`), once the issuers
    serve their status lists, so that the wallet can check them on import.
    """
    env = LedgerSettings.from_env()
    settings = LedgerSettings(data_dir, env.rpc_url, env.confirmations)
    rpc_url, started = _ensure_chain(settings, say)
    ledger = _ensure_deployment(settings, say)
    names = _ensure_trust(ledger, settings, say, issuer_ports or {})
    pki, made = ensure_pki(data_dir, now=int(time.time()))
    if made:
        say(f"seal PKI: made the demo seal CA and the seal of {SEAL_ORGANIZATION[0]} in {pki.directory}")
    _ensure_foreign_trust(ledger, settings, pki, say)
    account, _ = _ensure_learner(data_dir, say)
    return DemoSystem(data_dir, rpc_url, started, ledger.trust.root_did(), names, account, pki)
