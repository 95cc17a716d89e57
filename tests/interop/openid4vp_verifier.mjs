// An independent OpenID4VP 1.0 verifier (@openid4vc/openid4vp's Openid4vpVerifier, SD-JWT VC checks by
// @sd-jwt/sd-jwt-vc, the DCQL verdict by the `dcql` package) for tests/interop/test_openid4vp_interop.py:
// microcred's wallet answers it.
//
//   node openid4vp_verifier.mjs < {"x5c": [leaf, intermediates… (base64 DER)], "signing_jwk": <leaf's private JWK>,
//                                   "issuer_jwk": <public JWK of the credentials' issuer>, "dcql_query": {...},
//                                   "response_mode": "direct_post.jwt" | "direct_post",
//                                   "enc_values": ["A128GCM", "A256GCM"], "client_id_prefix": "x509_hash" | "x509_san_dns" |
//                                   "decentralized_identifier" (a did:jwk of signing_jwk, kid <did>#0),
//                                   "dns_name": "...", "jar_aud": "https://self-issued.me/v2" | null (the library's
//                                   default, the request_uri), "transaction_data": [...], "timeout_ms": 60000}
//
// It serves, on 127.0.0.1 and a free port, GET /request/<id> (the signed request object, JAR
// `typ: oauth-authz-req+jwt` with x5c) and POST /response (the wallet's answer), and writes JSON lines:
//   {"event": "ready", "url": "openid4vp://?client_id=…&request_uri=…", "client_id", "nonce", "state"}
//   {"event": "request_fetched", "count": n}
//   {"event": "answer", "verified": bool, "problems": [...], "jwe_header": {...} | null,
//    "presentations": {query id: [{"claims": {...}, "kb": {...}, "typ": "..."}]}, "error": ... }
// and exits after the first answer (or at timeout_ms with {"event": "timeout"}).
import { createServer } from "node:http";
import * as jose from "jose";
import { Openid4vpVerifier, calculateX509HashClientIdPrefixValue } from "@openid4vc/openid4vp";
import { DcqlPresentationResult, DcqlQuery } from "dcql";
import { callbacks, didJwkOf, emit, ephemeralEncryptionKey, fail, hash, random, readInput, verifySdJwtVc } from "./openid4vp_common.mjs";

const input = await readInput();
const responseMode = input.response_mode ?? "direct_post.jwt";
const encryption = await ephemeralEncryptionKey();
const verifierCallbacks = callbacks({ signingKey: input.signing_jwk, decryptionKeys: { [encryption.publicJwk.kid]: encryption.privateJwk } });
const verifier = new Openid4vpVerifier({ callbacks: verifierCallbacks });

const server = createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${server.address().port}`;
const requestId = random(16);
const prefix = input.client_id_prefix ?? "x509_hash";
const { d: _, ...signingPublic } = input.signing_jwk;
const did = didJwkOf(signingPublic);
const clientId = prefix === "x509_hash"
  ? `x509_hash:${await calculateX509HashClientIdPrefixValue({ x509Certificate: input.x5c[0], hash })}`
  : prefix === "decentralized_identifier" ? `decentralized_identifier:${did}` : `${prefix}:${input.dns_name}`;
const jwtSigner = prefix === "decentralized_identifier"
  ? { method: "did", didUrl: `${did}#0`, alg: "ES256" }
  : { method: "x5c", x5c: input.x5c, alg: "ES256" };
const nonce = random(16);
const state = random(16);
const created = await verifier.createOpenId4vpAuthorizationRequest({
  authorizationRequestPayload: {
    response_type: "vp_token",
    client_id: clientId,
    response_uri: `${base}/response`,
    response_mode: responseMode,
    nonce,
    state,
    dcql_query: input.dcql_query,
    ...(input.transaction_data ? { transaction_data: input.transaction_data } : {}),
    client_metadata: {
      client_name: "Independent Verifier (interop test)",
      ...(responseMode === "direct_post.jwt" ? {
        jwks: { keys: [encryption.publicJwk] },
        encrypted_response_enc_values_supported: input.enc_values ?? ["A128GCM", "A256GCM"],
      } : {}),
      vp_formats_supported: { "dc+sd-jwt": { "sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"] } },
    },
  },
  jar: {
    requestUri: `${base}/request/${requestId}`,
    jwtSigner,
    expiresInSeconds: 300,
    additionalJwtPayload: input.jar_aud === null ? {} : { aud: input.jar_aud ?? "https://self-issued.me/v2" },
  },
});
const requestPayload = created.authorizationRequestPayload;
let fetched = 0;

async function readBody(request) {
  let body = "";
  for await (const chunk of request) body += chunk;
  return body;
}

async function judge(form) {
  const problems = [];
  const parsed = await verifier.parseOpenid4vpAuthorizationResponse({
    authorizationResponse: form, authorizationRequestPayload: requestPayload, callbacks: verifierCallbacks,
  });
  const jweHeader = form.response ? jose.decodeProtectedHeader(form.response) : null;
  if (parsed.authorizationResponsePayload.state !== state) problems.push("state differs");
  const raw = parsed.authorizationResponsePayload.vp_token;  // direct_post: the form's JSON text
  const vpToken = typeof raw === "string" ? JSON.parse(raw) : raw;
  const presentations = {};
  const asked = new Set(input.dcql_query.credentials.map((query) => query.id));
  for (const [id, answers] of Object.entries(vpToken)) {
    if (!asked.has(id)) problems.push(`an answer for ${id}, which was not asked for`);
    if (!Array.isArray(answers) || answers.length === 0) {
      problems.push(`no presentation in the answer for ${id}`);
      continue;
    }
    presentations[id] = [];
    for (const presentation of answers) {
      const result = await verifySdJwtVc(presentation, { issuerJwk: input.issuer_jwk, nonce, audience: clientId });
      presentations[id].push({ claims: result.payload, kb: result.kb.payload, typ: result.header?.typ });
    }
  }
  // The DCQL verdict of the `dcql` package (another independent implementation, pinned in package.json).
  const query = DcqlQuery.parse(input.dcql_query);
  DcqlQuery.validate(query);
  const disclosed = Object.fromEntries(Object.entries(presentations).map(([id, list]) => [id, list.map((p) => ({
    credential_format: "dc+sd-jwt", vct: p.claims.vct, claims: p.claims, cryptographic_holder_binding: true,
  }))]));
  try {
    const dcql = DcqlPresentationResult.fromDcqlPresentation(disclosed, { dcqlQuery: query });
    if (!dcql.can_be_satisfied) problems.push("the answer does not satisfy the DCQL query");
  } catch (error) {
    problems.push(`the answer does not satisfy the DCQL query: ${String(error.message ?? error).slice(0, 300)}`);
  }
  return { verified: problems.length === 0, problems, jwe_header: jweHeader, presentations };
}

server.on("request", async (request, response) => {
  const url = new URL(request.url, base);
  if (request.method === "GET" && url.pathname === `/request/${requestId}`) {
    fetched += 1;
    emit({ event: "request_fetched", count: fetched, accept: request.headers.accept ?? null });
    response.writeHead(200, { "Content-Type": "application/oauth-authz-req+jwt" });
    response.end(created.jar.authorizationRequestJwt);
    return;
  }
  if (request.method === "POST" && url.pathname === "/response") {
    const form = Object.fromEntries(new URLSearchParams(await readBody(request)));
    let answer;
    try {
      answer = form.error ? { verified: false, problems: [], wallet_error: form.error, error_description: form.error_description ?? null }
        : await judge(form);
    } catch (error) {
      answer = { verified: false, problems: [String(error.message ?? error)], error: String(error.message ?? error) };
    }
    response.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
    response.end(JSON.stringify({ redirect_uri: `${base}/done#response_code=${random(16)}` }));
    emit({ event: "answer", form_keys: Object.keys(form).sort(), ...answer });
    server.close();
    process.exit(0);
  }
  response.writeHead(404, { "Content-Type": "text/plain" });
  response.end("not found");
});

emit({ event: "ready", url: created.authorizationRequest, client_id: clientId, nonce, state, base,
  request_object: created.jar.authorizationRequestJwt });
setTimeout(() => { emit({ event: "timeout" }); process.exit(0); }, input.timeout_ms ?? 60000).unref?.();
process.on("unhandledRejection", (error) => fail(error?.stack ?? error));
