"""Batch issuing rate vs the raw ES256 signing rate of ``cryptography``, measured in the same run.

Issuance = parse and validate a 10,000-row CSV (micro-credential schema,
every row), build each SD-JWT VC (21 selectively disclosable claims and
array elements), sign it (ES256), and archive it (SQLite), as
``microcred issuer issue`` does minus writing the files. The baseline signs a
payload of the same size with ``cryptography`` directly, nothing else. Goal
(issue 4): ratio >= 0.5. Usage: ``python bench/bench_issue.py [rows]``.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from credentials.jose import PrivateKey  # noqa: E402
from issuer.archive import Archive  # noqa: E402
from issuer.batch import BatchDefaults, parse_csv  # noqa: E402
from issuer.identity import create_issuer  # noqa: E402
from issuer.service import IssuerService  # noqa: E402

ROWS = 10_000
NOW = 1_790_000_000


def make_csv(rows: int) -> str:
    holders = [json.dumps(PrivateKey.generate().public_key().to_jwk()) for _ in range(16)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["learner.given_name", "learner.family_name", "learner.birth_date", "learner.student_id",
                     "title", "learning_outcomes", "ects", "eqf_level", "qf_ehea_cycle", "assessment_type",
                     "participation", "quality_assurance", "holder_jwk"])
    for number in range(rows):
        writer.writerow([f"Given{number}", f"Family{number}", f"200{number % 10}-0{number % 9 + 1}-1{number % 9}",
                         f"S{number:06d}", "Foundations of Data Science",
                         "Explain sampling bias|Fit and check a linear model|Communicate uncertainty",
                         "5", "6", "first", "written exam", "online", "internal QA, ENQA-registered agency",
                         holders[number % len(holders)]])
    return buffer.getvalue()


def raw_sign_rate(message_size: int, seconds: float = 2.0) -> float:
    key = ec.generate_private_key(ec.SECP256R1())
    message = b"x" * message_size
    algorithm = ec.ECDSA(hashes.SHA256())
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            key.sign(message, algorithm)
        count += 200
    return count / (time.perf_counter() - start)


def main() -> int:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else ROWS
    text = make_csv(rows)
    with tempfile.TemporaryDirectory() as directory:
        home = create_issuer(Path(directory), "bench", legal_name="Bench University", country="IT")
        archive = Archive(home.archive_path)
        service = IssuerService(home.identity, archive, home.signing_key(), anchor=None)
        defaults = BatchDefaults("IT", home.identity.awarding_body(), "2026-09-21")
        start = time.perf_counter()
        entries = parse_csv(text, defaults)
        parsed = time.perf_counter()
        result = service.issue_batch(entries, now=NOW)
        done = time.perf_counter()
        sample = result.issued[0].sd_jwt or ""
        archive.close()
    signed_part = len(sample.split("~")[0].rsplit(".", 1)[0])
    baseline = raw_sign_rate(signed_part)
    rate = rows / (done - start)
    print(f"rows: {rows}; issuer-signed JWT signing input ≈ {signed_part} B; "
          f"{len(result.issued[0].sd_jwt.split('~')) - 2} disclosures per credential")
    print(f"parse + validate: {parsed - start:.2f} s ({(parsed - start) / rows * 1e6:.0f} µs/row)")
    print(f"build + sign + archive: {done - parsed:.2f} s ({(done - parsed) / rows * 1e6:.0f} µs/row)")
    print(f"issuance rate:            {rate:,.0f} credentials/s")
    print(f"raw ES256 sign rate:      {baseline:,.0f} signatures/s (cryptography, same run)")
    print(f"ratio issuance/raw sign:  {rate / baseline:.3f} (goal >= 0.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
