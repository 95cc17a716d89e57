"""Wallet benchmark (issue 5): server time to build a presentation and its QR, and to
render the list page of an account holding 1,000 credentials (real SD-JWT VCs, read back
through their Annex I views like any stored credential), each against a
baseline measured in the same run (one ES256 signature; rendering an empty page).

Goals on the project's machine: share p95 ≤ 50 ms, list page ≤ 150 ms.
Requests go through the Flask test client (routing, session, CSRF, SQLite,
templates: everything but the socket). Run: ``.venv/bin/python bench/bench_wallet.py``
(``--list``: the list page only).
"""

from __future__ import annotations

import hashlib
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from credentials.dids import did_key_from_public_key, verification_method_id  # noqa: E402
from credentials.jose import PrivateKey  # noqa: E402
from credentials.microcredential import MICRO_CREDENTIAL_VCT, disclosure_frame  # noqa: E402
from credentials.sd_jwt import HolderSdJwt  # noqa: E402
from credentials.sd_jwt_vc import issue_sd_jwt_vc  # noqa: E402

SHARE_ROUNDS = 200
LIST_ROUNDS = 30
CREDENTIALS = 1000
PASSWORD = "benchmark password"
CLAIMS = {
    "learner": {"given_name": "Ana", "family_name": "Silva", "birth_date": "2001-03-09", "student_id": "S-204"},
    "title": "Data Protection Law in Practice", "issuer_country": ["PT"],
    "awarding_body": [{"name": "Universidade Exemplo", "id": "https://uni.example", "country": "PT"}],
    "issued_on": "2026-05-01",
    "learning_outcomes": ["Apply the GDPR to research data", "Draft a data protection impact assessment"],
    "ects": 4, "eqf_level": 7, "qf_ehea_cycle": "second", "assessment_type": "Oral examination",
    "participation": "online", "quality_assurance": "Internal QA",
}
_TOKENS = re.compile(r'name="(csrf_token|form_id)" value="([^"]*)"')


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


def _tokens(html: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in _TOKENS.findall(html):
        found.setdefault(name, value)
    return found


def _signed_in_client(app, username: str):
    client = app.test_client()
    page = client.get("/auth/signup").get_data(as_text=True)
    client.post("/auth/signup", data={**_tokens(page), "username": username, "password": PASSWORD,
                                      "password_again": PASSWORD})
    return client


def _holder_jwk(app, username: str) -> dict:
    import json

    from wallet.db import DB_FILE, open_database

    db = open_database(Path(app.config["DATA_DIR"]) / DB_FILE)
    try:
        row = db.execute("SELECT public_jwk, accounts.id FROM holder_keys JOIN accounts ON accounts.id = account_id "
                         "WHERE username = ?", [username]).fetchone()
    finally:
        db.close()
    return json.loads(row[0]), row[1]


def baseline_signature() -> list[float]:
    key = PrivateKey.generate("ES256")
    data = b"x" * 200
    samples = []
    for _ in range(SHARE_ROUNDS):
        start = time.perf_counter()
        key.sign(data)
        samples.append(time.perf_counter() - start)
    return samples


def bench_share(app, issuer_key, issuer_did) -> tuple[list[float], list[float], int]:
    client = _signed_in_client(app, "sharer")
    jwk, _ = _holder_jwk(app, "sharer")
    credential = issue_sd_jwt_vc(vct=MICRO_CREDENTIAL_VCT, claims=CLAIMS, frame=disclosure_frame(CLAIMS),
                                 issuer_key=issuer_key, issuer=issuer_did, kid=verification_method_id(issuer_did),
                                 iat=int(time.time()) - 60, holder_jwk=jwk).serialization
    page = client.get("/credentials/add").get_data(as_text=True)
    location = client.post("/credentials/add", data={**_tokens(page), "credential": credential}).headers["Location"]
    credential_id = int(location.rsplit("/", 1)[1])
    claims = ['["title"]', '["ects"]', '["eqf_level"]', '["learning_outcomes",0]']
    preview = client.post(f"/credentials/{credential_id}/share/preview",
                          data={**_tokens(client.get(f"/credentials/{credential_id}/share").get_data(as_text=True)),
                                "claim": claims}).get_data(as_text=True)
    csrf = _tokens(preview)["csrf_token"]
    http_samples, core_samples = [], []
    for round_number in range(SHARE_ROUNDS):
        start = time.perf_counter()
        created = client.post(f"/credentials/{credential_id}/share",
                              data={"csrf_token": csrf, "form_id": f"bench-{round_number}", "claim": claims})
        shown = client.get(created.headers["Location"])
        http_samples.append(time.perf_counter() - start)
        if b"<svg" not in shown.data:
            raise RuntimeError("the share page did not render a QR code")
    holder = HolderSdJwt.parse(credential)
    key = PrivateKey.generate("ES256")
    from wallet.presenting import qr_svg

    size = 0
    for round_number in range(SHARE_ROUNDS):
        start = time.perf_counter()
        presentation = holder.present_with_key_binding(
            [("title",), ("ects",), ("eqf_level",), ("learning_outcomes", 0)], key,
            audience="urn:microcred:wallet-share:bench", nonce=f"n{round_number}", iat=0)
        qr_svg("http://127.0.0.1:5001/p/" + "t" * 32, inline=False)
        core_samples.append(time.perf_counter() - start)
        size = len(presentation)
    return http_samples, core_samples, size


def _fill(app, account_id: int, count: int, issuer_key, issuer_did) -> None:
    """``count`` real micro-credentials bound to the account's key, stored as an import stores them (parsed, not
    verified again: the page reads them back through the Annex I view like any other)."""
    import json

    from wallet.db import DB_FILE, open_database

    db = open_database(Path(app.config["DATA_DIR"]) / DB_FILE)
    try:
        key_id, jwk = db.execute("SELECT id, public_jwk FROM holder_keys WHERE account_id = ?", [account_id]).fetchone()
        with db.atomic():
            for number in range(count):
                claims = {**CLAIMS, "title": f"Micro-credential number {number}", "ects": 1 + number % 10,
                          "awarding_body": [{"name": f"University {number % 17}", "id": "https://uni.example",
                                             "country": "PT"}]}
                raw = issue_sd_jwt_vc(vct=MICRO_CREDENTIAL_VCT, claims=claims, frame=disclosure_frame(claims),
                                      issuer_key=issuer_key, issuer=issuer_did, kid=verification_method_id(issuer_did),
                                      iat=1_700_000_000 + number, holder_jwk=json.loads(jwk)).serialization
                db.execute(
                    "INSERT INTO credentials (account_id, holder_key_id, format, raw, raw_sha256, issuer, vct, title, "
                    "issuer_name, ects, eqf_level, issued_on, badge, badge_detail, checked_at, imported_at) "
                    "VALUES (?, ?, 'dc+sd-jwt', ?, ?, ?, ?, ?, ?, ?, ?, '2026-05-01', 'unchecked', '{}', 0, ?)",
                    [account_id, key_id, raw, hashlib.sha256(raw.encode()).hexdigest(), issuer_did,
                     MICRO_CREDENTIAL_VCT, claims["title"], f"University {number % 17}", claims["ects"],
                     CLAIMS["eqf_level"], number],
                )
    finally:
        db.close()


def bench_list(app, issuer_key, issuer_did) -> tuple[list[float], list[float], list[float], float]:
    """Wall time of the empty and the full page, the full page's CPU time (this thread: the test client runs the
    app in it, so other processes on a busy machine do not count), and the first visit's wall time."""
    empty = _signed_in_client(app, "empty")
    full = _signed_in_client(app, "full")
    _, account_id = _holder_jwk(app, "full")
    _fill(app, account_id, CREDENTIALS, issuer_key, issuer_did)
    empty.get("/credentials")  # warm the template cache
    start = time.perf_counter()
    full.get("/credentials")  # the first visit also makes each credential's Annex I view
    first = time.perf_counter() - start
    empty_samples, full_samples, full_cpu = [], [], []
    for _ in range(LIST_ROUNDS):
        start = time.perf_counter()
        response = empty.get("/credentials")
        empty_samples.append(time.perf_counter() - start)
        start, cpu = time.perf_counter(), time.thread_time()
        full_response = full.get("/credentials")
        full_samples.append(time.perf_counter() - start)
        full_cpu.append(time.thread_time() - cpu)
    if response.status_code != 200 or full_response.data.count(b'class="card"') < CREDENTIALS:
        raise RuntimeError("the list page did not render every credential")
    if full_response.data.count(b" ECTS \xc2\xb7 EQF ") < CREDENTIALS:
        raise RuntimeError("the list page did not show each credential's ECTS and level from its Annex I view")
    return empty_samples, full_samples, full_cpu, first


def main() -> int:
    from wallet import create_app

    issuer_key = PrivateKey.generate("ES256")
    issuer_did = did_key_from_public_key(issuer_key.public_key())
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app({"DATA_DIR": data_dir, "SESSION_COOKIE_SECURE": False, "ARGON2_TIME_COST": 1,
                          "ARGON2_MEMORY_COST": 8 * 1024, "ARGON2_PARALLELISM": 1,
                          "PUBLIC_URL": "http://127.0.0.1:5001"})
        list_only = "--list" in sys.argv[1:]
        if not list_only:
            signature = baseline_signature()
            http_share, core_share, size = bench_share(app, issuer_key, issuer_did)
        empty, full, full_cpu, first = bench_list(app, issuer_key, issuer_did)
    if not list_only:
        _print_share(signature, http_share, core_share, size)
    empty50, empty95 = _ms(empty)
    full50, full95 = _ms(full)
    print(f"baseline: empty list page               p50 {empty50:7.2f} ms  p95 {empty95:7.2f} ms")
    print(f"list page, {CREDENTIALS} credentials          p50 {full50:7.2f} ms  p95 {full95:7.2f} ms"
          f"  ({full50 / empty50:.1f}x the empty page)   goal p95 <= 150 ms: {'met' if full95 <= 150 else 'MISSED'}")
    cpu50, cpu95 = _ms(full_cpu)
    print(f"list page, {CREDENTIALS} credentials, CPU    p50 {cpu50:7.2f} ms  p95 {cpu95:7.2f} ms"
          f"  (first visit after start, making every view: {first * 1000:.0f} ms)")
    return 0


def _print_share(signature: list[float], http_share: list[float], core_share: list[float], size: int) -> None:
    sig50, sig95 = _ms(signature)
    http50, http95 = _ms(http_share)
    core50, core95 = _ms(core_share)
    print(f"baseline: one ES256 signature          p50 {sig50:7.3f} ms  p95 {sig95:7.3f} ms")
    print(f"share: presentation ({size} chars) + link QR, core  p50 {core50:7.2f} ms  p95 {core95:7.2f} ms"
          f"  ({core50 / sig50:.0f}x / {core95 / sig95:.0f}x a signature)")
    print(f"share: POST share + GET QR page (server)  p50 {http50:7.2f} ms  p95 {http95:7.2f} ms"
          f"  ({http50 / sig50:.0f}x / {http95 / sig95:.0f}x a signature)   goal p95 <= 50 ms: "
          f"{'met' if http95 <= 50 else 'MISSED'}")


if __name__ == "__main__":
    raise SystemExit(main())
