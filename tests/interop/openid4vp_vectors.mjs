// The OpenID4VP 1.0 vectors (tests/vectors/openid4vp/) read by the independent implementation
// (@openid4vc/openid4vp), for tests/interop/test_openid4vp_vectors.py: a check that the vector files
// are what another implementation also takes them to be.
//
//   node openid4vp_vectors.mjs decrypt < s8_3_encrypted_response.json → {"payload", "header"}
//   node openid4vp_vectors.mjs parse   < s5_authorization_requests.json → {id: {"type", "params"} | {"error"}}
import * as jose from "jose";
import { parseOpenid4vpAuthorizationRequest, parseOpenid4vpAuthorizationResponse } from "@openid4vc/openid4vp";
import { callbacks, emit, fail, readInput } from "./openid4vp_common.mjs";

const mode = process.argv[2];
const input = await readInput();

if (mode === "decrypt") {
  const parsed = await parseOpenid4vpAuthorizationResponse({
    authorizationResponse: { response: input.response },
    authorizationRequestPayload: input.request,
    origin: "https://verifier.example",
    callbacks: callbacks({ decryptionKeys: { [input.decryption_jwk.kid]: input.decryption_jwk } }),
  });
  emit({ payload: parsed.authorizationResponsePayload, header: jose.decodeProtectedHeader(input.response) });
} else if (mode === "parse") {
  const out = {};
  for (const request of input.requests) {
    try {
      const parsed = parseOpenid4vpAuthorizationRequest({ authorizationRequest: `openid4vp://?${request.query}` });
      out[request.id] = { type: parsed.type, params: parsed.params };
    } catch (error) {
      out[request.id] = { error: String(error.message ?? error).split("\n")[0] };
    }
  }
  emit(out);
} else {
  fail(`unknown mode ${mode}`);
}
