"""Benchmark the verifier (issue 6): core and HTTP throughput against a bound measured in the same run.

What it does, on its own Anvil (started and stopped here) and a loopback status-list server:

1. bound: ``cryptography`` ES256 verifications per second, divided by two (an SD-JWT+KB
   presentation carries two signatures) = the physical bound for presentations per core;
2. core: presentations verified per second by ``VerifierService.verify`` (the pure core with
   the chain-backed resolvers, caches warm): an SD-JWT VC with 12 claims, 6 disclosed, a
   KB-JWT, trust and status from the chain; goal ≥ 0.6 of the bound. Two lines (issue 16):
   fresh credentials (each presented once), and one credential shown again (a new KB-JWT each
   time; the service's memo serves its parsed issuer JWT and issuer signature), each read against
   the bound measured right before and after it; then the two peer libraries of ``bench/_peers.py``
   on the same kind of presentation (without trust, status or replay);
3. revocation delay: from the moment the anchoring transaction returns until the first
   verification that sees the revocation (contract: honoured by every verification that
   starts more than 1 s after the block);
4. HTTP: ``POST /api/v1/verify`` under the shipped server (:data:`infra.serving.DEFAULT_SERVER`,
   granian), started as ``microcred verifier serve`` starts it (bench/_http_serve.py: 2 workers),
   on loopback for a bounded time, against the bound for two cores; goal ≥ 0.3; the server's CPU
   per request and the workers' resident memory (bench/http_servers.py compares the servers); the
   credential is shown again (a new KB-JWT per request), as in the core's second line.

Prints one line per figure and the ratios. Machines are noisy (BASELINES.md): read ratios.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from credentials.dids import did_key_from_public_key, verification_method_id  # noqa: E402
from credentials.jose import PrivateKey, UnverifiedJws, b64url_decode  # noqa: E402
from credentials.microcredential import MICRO_CREDENTIAL_VCT, disclosure_frame  # noqa: E402
from credentials.sd_jwt import HolderSdJwt  # noqa: E402
from credentials.sd_jwt_vc import issue_sd_jwt_vc  # noqa: E402
from credentials.status_list import StatusList, sign_status_list_token  # noqa: E402

CORE_SECONDS = 3.0
HTTP_SECONDS = 5.0
CLIENT_PROCESSES = 3
CLAIMS = {  # 12 claims
    "learner": {"given_name": "Giulia", "family_name": "Rossi", "birth_date": "1999-04-02", "student_id": "S-77"},
    "title": "Introduction to Smart Contracts", "issuer_country": ["IT"],
    "awarding_body": [{"name": "Università di Prova", "id": "https://uni.example", "country": "IT"}],
    "issued_on": "2026-03-01", "learning_outcomes": ["Write and test a Solidity contract", "Explain gas costs"],
    "ects": 5, "eqf_level": 6, "qf_ehea_cycle": "first", "assessment_type": "Project", "participation": "blended",
    "quality_assurance": "ANVUR accredited programme",
}
SHOWN = [("title",), ("ects",), ("eqf_level",), ("issued_on",), ("assessment_type",), ("participation",)]
AUDIENCE = "https://employer.example"


def es256_bound(seconds: float = 1.5) -> float:
    key = ec.generate_private_key(ec.SECP256R1())
    public, data = key.public_key(), b"x" * 300
    signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(200):
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        count += 200
    return count / elapsed


class _Lists(BaseHTTPRequestHandler):
    tokens: dict = {}

    def do_GET(self):  # noqa: N802
        body = self.tokens.get(self.path, b"")
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/statuslist+jwt")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        return


class World:
    """Anvil, a deployment, an accredited did:key issuer, an anchored list served on loopback."""

    def __init__(self, directory: Path):
        from eth_account import Account

        from ledger.artifacts import Role
        from ledger.chain import Chain
        from ledger.config import DEPLOYMENT_FILE
        from ledger.deployment import attach, deploy
        from ledger.devnet import ANVIL_DEV_KEYS, Devnet

        self.directory = directory
        self.devnet = Devnet(directory / "devnet")
        self.record = self.devnet.start(persist_state=False)
        chain = Chain(self.record.url)
        root = Account.from_key(ANVIL_DEV_KEYS[0])
        deployment = deploy(chain, root)
        deployment.save(directory / DEPLOYMENT_FILE)
        self.ledger = attach(chain, deployment, account=root)
        tao_account, self.account = Account.from_key(ANVIL_DEV_KEYS[1]), Account.from_key(ANVIL_DEV_KEYS[2])
        start = min(chain.block_timestamp(), int(time.time())) - 3600
        self.key = PrivateKey.generate("ES256")
        self.did = did_key_from_public_key(self.key.public_key())
        self.ledger.trust.accredit(deployment.root_did, "did:web:tao.bench.example", role=Role.TAO,
                                   vcts=[MICRO_CREDENTIAL_VCT], legal_name="Agency", country="IT", valid_from=start,
                                   valid_until=None, controller=tao_account.address)
        self.ledger.trust.accredit("did:web:tao.bench.example", self.did, role=Role.ISSUER,
                                   vcts=[MICRO_CREDENTIAL_VCT], legal_name="Bench University", country="IT",
                                   valid_from=start, valid_until=None, controller=self.account.address,
                                   account=tao_account)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Lists)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}/status/bench-list"
        self.status_list, self.version = StatusList.new(), 0
        self.publish()
        self.holder = PrivateKey.generate("ES256")
        self.credential = self.issue()
        self.holder_view = HolderSdJwt.parse(self.credential)

    def issue(self) -> str:
        """A new credential (new salts, so a new issuer-signed JWT) for the holder, at index 4242 of the list."""
        return issue_sd_jwt_vc(
            vct=MICRO_CREDENTIAL_VCT, claims=CLAIMS, frame=disclosure_frame(CLAIMS), issuer_key=self.key,
            issuer=self.did, kid=verification_method_id(self.did), iat=int(time.time()) - 60,
            holder_jwk=self.holder.public_key().to_jwk(), status={"status_list": {"idx": 4242, "uri": self.uri}},
        ).serialization

    def publish(self) -> None:
        from ledger.status import StatusRegistryClient

        token = sign_status_list_token(self.status_list, self.key, uri=self.uri, iat=int(time.time()) - 5,
                                       kid=verification_method_id(self.did))
        _Lists.tokens["/status/bench-list"] = token.encode()
        self.version += 1
        lst = b64url_decode(UnverifiedJws.parse(token).payload["status_list"]["lst"])
        client = StatusRegistryClient(self.ledger.chain, self.ledger.status.contract, account=self.account)
        client.anchor(self.did, "bench-list", hashlib.sha256(token.encode()).digest(), self.version, lst)

    def presentations(self, count: int) -> list[str]:
        # A nonce never used before by this world: two calls within one second must not make the same
        # KB-JWT, which the verifier rightly refuses as a replay (its id is the KB-JWT's signed content).
        now = int(time.time())
        return [self.holder_view.present_with_key_binding(SHOWN, self.holder, audience=AUDIENCE,
                                                          nonce=f"n{next(_NONCES)}-{now}", iat=now)
                for _ in range(count)]

    def fresh_presentations(self, count: int) -> list[str]:
        """Presentations each of a credential never shown before (the verifier's memo cannot serve them)."""
        now = int(time.time())
        return [HolderSdJwt.parse(self.issue()).present_with_key_binding(
            SHOWN, self.holder, audience=AUDIENCE, nonce=f"n{next(_NONCES)}-{now}", iat=now) for _ in range(count)]

    def config(self) -> dict:
        return {"DATA_DIR": str(self.directory), "RPC_URL": self.record.url, "VERIFIER_FETCH_ALLOW_HTTP": True,
                "VERIFIER_FETCH_ALLOW_LOOPBACK": True, "VERIFIER_POLL_INTERVAL": 0.2}

    def close(self) -> None:
        self.server.shutdown()
        self.devnet.stop()


_NONCES = itertools.count()


def _core_rate(service, batch: list[str]) -> float:
    done, start = 0, time.perf_counter()
    for presentation in batch:
        result = service.verify(presentation)
        if not result.verified:
            failed = [(c.check, c.status, c.detail) for c in result.checks if c.status not in ("passed", "skipped")]
            raise SystemExit(f"a benchmark presentation did not verify: {failed}")
        done += 1
        if time.perf_counter() - start > CORE_SECONDS:
            break
    return done / (time.perf_counter() - start)


def bench_core(world: World, bound: float) -> None:
    from verifier.service import VerifierService

    service = VerifierService(world.config())
    warm = service.verify(world.presentations(1)[0])
    if not warm.verified:
        raise SystemExit(f"the warm-up presentation did not verify: {json.dumps(warm.to_json())[:400]}")
    # Fresh: each presentation of a credential the verifier has not seen (issued beforehand, untimed).
    batch = world.fresh_presentations(int(bound * CORE_SECONDS * 0.8) + 100)
    fresh, near = _beside_bound(lambda: _core_rate(service, batch))
    print(f"core, fresh credentials: {fresh:,.0f} presentations/s; ratio to bound {fresh / near:.2f} (goal >= 0.6)")
    from bench._verify_breakdown import breakdown, print_breakdown

    print_breakdown("core, fresh credentials, where the time goes", breakdown(service, world.fresh_presentations(1500)),
                    1e6 / near)
    # Shown again: one credential, a new KB-JWT each time; the memo serves its parsed issuer JWT and issuer
    # signature (same bytes, same key); the KB-JWT's signature and every check still run.
    batch = world.presentations(int(bound * CORE_SECONDS * 1.2) + 100)
    again, near = _beside_bound(lambda: _core_rate(service, batch))
    print(f"core, a credential shown again: {again:,.0f} presentations/s; ratio to bound {again / near:.2f} "
          f"(issuer signature served by the memo; KB-JWT, trust, status, replay, schema checked every time)")
    print_breakdown("core, a credential shown again, where the time goes",
                    breakdown(service, world.presentations(1500)), 1e6 / near)
    _peer_lines()

    delays = []
    for _ in range(3):
        probes = world.presentations(400)
        world.status_list.set(4242, 1 - world.status_list.get(4242))
        world.publish()
        anchored = time.monotonic()
        for presentation in probes:
            started = time.monotonic()
            revoked = service.verify(presentation).check("revocation").status == "failed"
            if revoked == (world.status_list.get(4242) == 1):
                delays.append(started - anchored)
                break
            time.sleep(0.005)
    print(f"revocation delay (anchor transaction returned -> first verification honouring it): "
          f"max {max(delays) * 1000:.0f} ms over {len(delays)} trials (contract: < 1000 ms)")
    if world.status_list.get(4242) == 1:
        world.status_list.set(4242, 0)
        world.publish()
    service.close()


def _beside_bound(measure) -> tuple[float, float]:
    """``measure()`` and the bound measured right before and right after it (their mean): on a shared machine
    the load changes within a run, so each figure is read against the bound of its own moment."""
    before = es256_bound(0.75) / 2
    figure = measure()
    return figure, (before + es256_bound(0.75) / 2) / 2


def _peer_lines() -> None:
    """The two independent SD-JWT libraries on the same kind of presentation (no trust, status or replay)."""
    from bench._peers import openvc_verify_rate, owf_verify_rate, peer_line

    shown = [path[0] for path in SHOWN]
    for label, measure in (
            ("OWF sd-jwt verify", lambda: owf_verify_rate(CLAIMS, shown, CORE_SECONDS)),
            ("openvc-core verify", lambda: openvc_verify_rate(CLAIMS, shown, MICRO_CREDENTIAL_VCT, CORE_SECONDS))):
        figure, near = _beside_bound(measure)
        print(peer_line(label, figure, near, "presentations"))


def _client(url_port: int, presentations: list[str], seconds: float, queue) -> None:
    from bench.http_servers import loopback_request

    done = failed = 0
    deadline = time.monotonic() + seconds
    for presentation in presentations:
        if time.monotonic() > deadline:
            break
        status, body = loopback_request(url_port, "POST", "/api/v1/verify", presentation)
        if status == 200 and b'"verified":true' in body:
            done += 1
        else:
            failed += 1
    queue.put((done, failed))


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_http(world: World, bound: float) -> None:
    # here: bench.http_servers imports this module (World) for its own run
    from bench.http_servers import Served, loopback_request
    from infra.serving import DEFAULT_SERVER

    server = "gunicorn-gthread" if DEFAULT_SERVER == "gunicorn" else DEFAULT_SERVER
    with tempfile.TemporaryDirectory() as logs:
        # Rate limits off (the load generator is one client on loopback: they would measure the limiter).
        served = Served(server, world, Path(logs))
        try:
            for warm in world.presentations(8):  # both workers open the ledger and warm their caches
                loopback_request(served.port, "POST", "/api/v1/verify", warm)
            per_client = int(bound * 2 * HTTP_SECONDS / CLIENT_PROCESSES) + 50
            batches = [world.presentations(per_client) for _ in range(CLIENT_PROCESSES)]
            workers = served.workers()
            serving = [served.process.pid, *workers]
            cpu_before = sum(_cpu_seconds(pid) for pid in serving)
            queue = multiprocessing.Queue()
            clients = [multiprocessing.Process(target=_client, args=(served.port, batch, HTTP_SECONDS, queue))
                       for batch in batches]
            start = time.perf_counter()
            for client in clients:
                client.start()
            results = [queue.get() for _ in clients]
            elapsed = time.perf_counter() - start
            for client in clients:
                client.join()
            cpu = sum(_cpu_seconds(pid) for pid in serving) - cpu_before
            done, failed = sum(r[0] for r in results), sum(r[1] for r in results)
            rate = done / elapsed
            print(f"http: {rate:,.0f} verified presentations/s with {server}, 2 workers (the shipped server; a "
                  f"credential shown again; {failed} not verified); ratio to the two-core bound "
                  f"{rate / (2 * bound):.2f} (goal >= 0.3)")
            per_request = cpu / max(done + failed, 1)
            print(f"http: server CPU {per_request * 1e6:,.0f} us per request (the load generator shares the two "
                  f"cores); CPU-bound capacity {2 / per_request:,.0f}/s, ratio {2 / per_request / (2 * bound):.2f}")
            rss = [_rss_kib(pid) for pid in workers]
            print(f"memory: {server} workers resident {', '.join(f'{r / 1024:.0f} MiB' for r in rss)}; "
                  f"main process {_rss_kib(served.process.pid) / 1024:.0f} MiB")
        finally:
            served.stop()


def main() -> None:
    raw = es256_bound()
    bound = raw / 2
    print(f"bound: cryptography ES256 verify {raw:,.0f}/s -> {bound:,.0f} presentations/s per core")
    with tempfile.TemporaryDirectory() as directory:
        world = World(Path(directory))
        try:
            bench_core(world, bound)
            bench_http(world, bound)
        finally:
            world.close()


if __name__ == "__main__":
    main()
