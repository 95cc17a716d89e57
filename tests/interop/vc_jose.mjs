// The other side of tests/interop/test_vc_jose_interop.py: panva's `jose` (npm), an independent
// JOSE implementation. Reads a JSON request on stdin, writes a JSON answer on stdout.
//   issue:  {alg, credential}            -> {token, jwk}   a VC-JOSE `vc+jwt` signed with a fresh key,
//                                                            issuer = the did:jwk of that key
//   verify: {token, jwk, typ}            -> {payload, header} or exit 1 with the error
import * as jose from "jose";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => { text += chunk; });
  process.stdin.on("end", () => resolve(text));
}));
const mode = process.argv[2];

if (mode === "issue") {
  const { publicKey, privateKey } = await jose.generateKeyPair(input.alg, { extractable: true });
  const jwk = await jose.exportJWK(publicKey);
  const did = "did:jwk:" + Buffer.from(JSON.stringify(jwk)).toString("base64url");
  const credential = { ...input.credential, issuer: did };
  const token = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(credential)))
    .setProtectedHeader({ alg: input.alg, typ: "vc+jwt", kid: `${did}#0` })
    .sign(privateKey);
  process.stdout.write(JSON.stringify({ token, jwk, did }));
} else if (mode === "verify") {
  try {
    const key = await jose.importJWK(input.jwk, input.jwk.kty === "OKP" ? "EdDSA" : "ES256");
    const { payload, protectedHeader } = await jose.compactVerify(input.token, key, { algorithms: ["ES256", "EdDSA"] });
    if (protectedHeader.typ !== input.typ) throw new Error(`typ ${protectedHeader.typ}`);
    process.stdout.write(JSON.stringify({ payload: JSON.parse(new TextDecoder().decode(payload)), header: protectedHeader }));
  } catch (error) {
    process.stderr.write(String(error));
    process.exit(1);
  }
} else {
  process.stderr.write(`unknown mode ${mode}`);
  process.exit(2);
}
