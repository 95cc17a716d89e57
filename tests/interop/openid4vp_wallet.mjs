// An independent OpenID4VP 1.0 wallet (@openid4vc/openid4vp's Openid4vpClient; the presentation made by
// @sd-jwt/sd-jwt-vc) for tests/interop/test_openid4vp_interop.py: it answers microcred's verifier.
//
//   node openid4vp_wallet.mjs resolve < {"url": "openid4vp://?…", "anchors_pem": "…"}
//       → {"client": {...}, "payload": <request object payload>, "header": <JAR header>, "version": n}
//   node openid4vp_wallet.mjs answer  < {"url", "anchors_pem", "credential": <SD-JWT VC>, "holder_jwk": <private JWK>,
//                                        "disclose": {query id: [[path…], …]} (default: what the query asks),
//                                        "enc": ["A256GCM", "A128GCM"] (preference), "iat": seconds,
//                                        "tamper": null | "nonce" | "aud" | "plain" | "kid" | "state" | "enc_a192",
//                                        "repeat": false (true: send the same answer a second time)}
//       → {"status": HTTP status, "body": <verifier's JSON answer>, "client_id", "jwe_header": {...} | null,
//          "replayed": {"status", "body"} | null}
//
// Exit status 1 (with the reason on stderr) when the request does not resolve: a bad signature, a
// chain to no trusted anchor, an x509_hash that does not match the leaf, a malformed request.
import * as jose from "jose";
import { Openid4vpClient } from "@openid4vc/openid4vp";
import { callbacks, emit, fail, presentSdJwtVc, random, readInput } from "./openid4vp_common.mjs";

const mode = process.argv[2];
const input = await readInput();
process.on("unhandledRejection", (error) => fail(error?.stack ?? error));

const client = new Openid4vpClient({ callbacks: callbacks({ anchorsPem: input.anchors_pem ?? "" }) });

async function resolve() {
  const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: input.url });
  try {
    return await client.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: parsed.params });
  } catch (error) {
    fail(`request refused: ${error.message ?? error} ${JSON.stringify(error.errorResponse ?? "")}`);
  }
}

/** The @sd-jwt presentation frame disclosing `paths` (arrays of names / indices). */
function frameOf(paths) {
  const frame = {};
  for (const path of paths) {
    let node = frame;
    path.forEach((step, i) => {
      const last = i === path.length - 1;
      if (step === null) throw new Error("null path steps are not used by these tests");
      if (last) node[step] = true;
      else node = node[step] = typeof node[step] === "object" ? node[step] : {};
    });
  }
  return frame;
}

const resolved = await resolve();
const request = resolved.authorizationRequestPayload;

if (mode === "resolve") {
  emit({ client: resolved.client, payload: request, header: resolved.jar?.jwt?.header ?? null, version: resolved.version });
  process.exit(0);
}
if (mode !== "answer") fail(`unknown mode ${mode}`);

const tamper = input.tamper ?? null;
const vpToken = {};
for (const query of resolved.dcql.query.credentials) {
  const paths = input.disclose?.[query.id] ?? (query.claims ?? []).map((claim) => claim.path);
  vpToken[query.id] = [await presentSdJwtVc(input.credential, frameOf(paths), {
    holderJwk: input.holder_jwk,
    nonce: tamper === "nonce" ? random(16) : request.nonce,
    audience: tamper === "aud" ? "x509_hash:someone-else" : request.client_id,
    iat: input.iat ?? Math.floor(Date.now() / 1000),
  })];
}

const encrypted = request.response_mode === "direct_post.jwt" && tamper !== "plain";
let answered = tamper === "state" ? { ...request, state: random(16) } : request;
if (tamper === "plain") answered = { ...answered, response_mode: "direct_post" };
const created = await client.createOpenid4vpAuthorizationResponse({
  authorizationRequestPayload: answered,
  authorizationResponsePayload: { vp_token: vpToken },
  jarm: encrypted ? {
    encryption: { nonce: random(16) },
    serverMetadata: {
      authorization_signing_alg_values_supported: ["ES256"],
      authorization_encryption_alg_values_supported: ["ECDH-ES"],
      authorization_encryption_enc_values_supported: input.enc ?? ["A256GCM", "A128GCM"],
    },
  } : undefined,
});

let responseJwt = created.jarm?.responseJwt;
if (responseJwt && tamper === "kid") {
  // The same answer encrypted to the same key, but naming a key the verifier never offered.
  const key = await jose.importJWK(created.jarm.encryptionJwk, "ECDH-ES");
  responseJwt = await new jose.CompactEncrypt(new TextEncoder().encode(JSON.stringify(created.authorizationResponsePayload)))
    .setProtectedHeader({ alg: "ECDH-ES", enc: "A128GCM", kid: "not-offered" }).encrypt(key);
}
if (responseJwt && tamper === "enc_a192") {
  const key = await jose.importJWK(created.jarm.encryptionJwk, "ECDH-ES");
  responseJwt = await new jose.CompactEncrypt(new TextEncoder().encode(JSON.stringify(created.authorizationResponsePayload)))
    .setProtectedHeader({ alg: "ECDH-ES", enc: "A192GCM", kid: created.jarm.encryptionJwk.kid }).encrypt(key);
}

const submitted = await client.submitOpenid4vpAuthorizationResponse({
  authorizationRequestPayload: request,
  authorizationResponsePayload: created.authorizationResponsePayload,
  jarm: responseJwt ? { responseJwt } : undefined,
});
const text = await submitted.response.text();
let body;
try { body = JSON.parse(text); } catch { body = text; }
let replayed = null;
if (input.repeat) {  // the same answer again, as a replaying eavesdropper of the first would send it
  const again = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: created.authorizationResponsePayload,
    jarm: responseJwt ? { responseJwt } : undefined,
  });
  replayed = { status: again.response.status, body: JSON.parse(await again.response.text()) };
}
emit({ status: submitted.response.status, body, client_id: request.client_id, replayed,
  jwe_header: responseJwt ? jose.decodeProtectedHeader(responseJwt) : null, response_mode: request.response_mode });
