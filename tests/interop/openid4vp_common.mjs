// What both sides of the OpenID4VP interop tests share: the crypto callbacks the independent
// implementation (@openid4vc/openid4vp, @openid4vc/oauth2) asks its user for, made with panva's
// `jose` and node's X509Certificate, and the SD-JWT VC functions of @sd-jwt (OpenWallet Foundation).
//
// Nothing here comes from microcred: X.509 chains are checked with node's own certificate code
// (signature, issuer name, validity, CA flag of the issuers, not-a-CA leaf), JWE with jose.
import { createHash, randomBytes, X509Certificate } from "node:crypto";
import * as jose from "jose";
import { setGlobalConfig } from "@openid4vc/utils";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { digest, ES256, generateSalt } from "@sd-jwt/crypto-nodejs";

// The microcred servers of the tests listen on 127.0.0.1 over plain http.
setGlobalConfig({ allowInsecureUrls: true });

export async function readInput() {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return JSON.parse(text);
}

export function emit(value) {
  process.stdout.write(JSON.stringify(value) + "\n");
}

export function fail(message) {
  process.stderr.write(String(message) + "\n");
  process.exit(1);
}

export const hash = (data, alg) => {
  const name = { "sha-256": "sha256", "sha-384": "sha384", "sha-512": "sha512" }[alg];
  if (!name) throw new Error(`unsupported hash ${alg}`);
  return new Uint8Array(createHash(name).update(data).digest());
};

export const random = (bytes = 16) => randomBytes(bytes).toString("base64url");

/** The X.509 chain of an x5c header (leaf first, no anchor), checked up to one of `anchorsPem`. */
export function checkX5c(x5c, anchorsPem, now = new Date()) {
  if (!Array.isArray(x5c) || x5c.length === 0) throw new Error("no x5c header");
  const chain = x5c.map((der) => new X509Certificate(Buffer.from(der, "base64")));
  const anchors = splitPem(anchorsPem).map((pem) => new X509Certificate(pem));
  if (chain[0].ca) throw new Error("the signing certificate is a CA certificate");
  if (chain[0].checkIssued(chain[0])) throw new Error("the signing certificate is self-signed");
  for (const cert of chain) {
    if (new Date(cert.validFrom) > now || new Date(cert.validTo) < now) {
      throw new Error(`certificate ${cert.subject} is not valid now`);
    }
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i + 1].ca || !chain[i].checkIssued(chain[i + 1]) || !chain[i].verify(chain[i + 1].publicKey)) {
      throw new Error(`certificate ${i} is not issued by certificate ${i + 1}`);
    }
  }
  const last = chain[chain.length - 1];
  if (anchors.some((anchor) => anchor.raw.equals(last.raw))) throw new Error("x5c carries the trust anchor");
  const anchor = anchors.find((a) => a.ca && last.checkIssued(a) && last.verify(a.publicKey));
  if (!anchor) throw new Error("the chain does not end at a trusted anchor");
  return { leaf: chain[0], anchor };
}

/** The public JWK a did:jwk URL names (did:jwk is resolved offline: the DID is the key). */
export function didJwkKey(didUrl) {
  const did = didUrl.split("#")[0];
  return JSON.parse(Buffer.from(did.slice("did:jwk:".length), "base64url").toString("utf8"));
}

/** The did:jwk of a public JWK. */
export function didJwkOf(publicJwk) {
  const { kty, crv, x, y } = publicJwk;
  return "did:jwk:" + Buffer.from(JSON.stringify({ crv, kty, x, y })).toString("base64url");
}

function splitPem(pem) {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []);
}

/** The callbacks of @openid4vc for one party: `signingKey` (a private JWK) signs, `decryptionKeys` (private JWKs by kid) decrypt. */
export function callbacks({ signingKey = null, decryptionKeys = {}, anchorsPem = "" } = {}) {
  return {
    hash,
    generateRandom: (n) => new Uint8Array(randomBytes(n)),
    getX509CertificateMetadata: (certificate) => {
      const names = (new X509Certificate(Buffer.from(certificate, "base64")).subjectAltName ?? "").split(", ");
      return { sanDnsNames: names.filter((n) => n.startsWith("DNS:")).map((n) => n.slice(4)),
        sanUriNames: names.filter((n) => n.startsWith("URI:")).map((n) => n.slice(4)) };
    },
    fetch: (...args) => fetch(...args),
    signJwt: async (signer, { header, payload }) => {
      const key = await jose.importJWK(signingKey, signer.alg);
      const jwt = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
        .setProtectedHeader(header).sign(key);
      const { d, ...publicJwk } = signingKey;
      return { jwt, signerJwk: publicJwk };
    },
    verifyJwt: async (signer, { compact }) => {
      try {
        let key;
        if (signer.method === "x5c") {
          const { leaf } = checkX5c(signer.x5c, anchorsPem);
          key = await jose.importX509(leaf.toString(), signer.alg);
        } else if (signer.method === "jwk") {
          key = await jose.importJWK(signer.publicJwk, signer.alg);
        } else if (signer.method === "did" && signer.didUrl.startsWith("did:jwk:")) {
          key = await jose.importJWK(didJwkKey(signer.didUrl), signer.alg);
        } else {
          return { verified: false };
        }
        await jose.compactVerify(compact, key, { algorithms: [signer.alg] });
        return { verified: true, signerJwk: await jose.exportJWK(key) };
      } catch (error) {
        process.stderr.write(`JWT not verified: ${error.message}\n`);
        return { verified: false };
      }
    },
    encryptJwe: async (encryptor, data) => {
      const key = await jose.importJWK(encryptor.publicJwk, encryptor.alg);
      const header = { alg: encryptor.alg, enc: encryptor.enc };
      if (encryptor.publicJwk.kid) header.kid = encryptor.publicJwk.kid;
      const jwe = new jose.CompactEncrypt(new TextEncoder().encode(data)).setProtectedHeader(header);
      const parameters = {};
      if (encryptor.apu) parameters.apu = jose.base64url.decode(encryptor.apu);
      if (encryptor.apv) parameters.apv = jose.base64url.decode(encryptor.apv);
      if (Object.keys(parameters).length) jwe.setKeyManagementParameters(parameters);
      return { jwe: await jwe.encrypt(key), encryptionJwk: encryptor.publicJwk };
    },
    decryptJwe: async (jwe) => {
      const header = jose.decodeProtectedHeader(jwe);
      const privateJwk = decryptionKeys[header.kid];
      if (!privateJwk) return { decrypted: false };
      try {
        const key = await jose.importJWK(privateJwk, "ECDH-ES");
        const { plaintext } = await jose.compactDecrypt(jwe, key, {
          keyManagementAlgorithms: ["ECDH-ES"], contentEncryptionAlgorithms: ["A128GCM", "A256GCM"],
        });
        const { d, ...publicJwk } = privateJwk;
        return { decrypted: true, decryptionJwk: publicJwk, payload: new TextDecoder().decode(plaintext) };
      } catch (error) {
        process.stderr.write(`JWE not decrypted: ${error.message}\n`);
        return { decrypted: false };
      }
    },
  };
}

/** An ephemeral P-256 ECDH-ES key pair as JWKs, with a random kid (OpenID4VP 1.0 §8.3, HAIP 1.0 §5). */
export async function ephemeralEncryptionKey() {
  const { publicKey, privateKey } = await jose.generateKeyPair("ECDH-ES", { crv: "P-256", extractable: true });
  const kid = random(8);
  const extra = { kid, use: "enc", alg: "ECDH-ES" };
  return { publicJwk: { ...(await jose.exportJWK(publicKey)), ...extra },
    privateJwk: { ...(await jose.exportJWK(privateKey)), ...extra } };
}

const sdHasher = (data, alg) => digest(data, alg);

/** @sd-jwt's SD-JWT VC: verify an issuer-signed SD-JWT VC with KB-JWT (the holder key is the cnf.jwk). */
export async function verifySdJwtVc(presentation, { issuerJwk, nonce, audience }) {
  const instance = new SDJwtVcInstance({
    hasher: sdHasher,
    verifier: await ES256.getVerifier(issuerJwk),
    kbVerifier: async (data, signature, payload) => (await ES256.getVerifier(payload.cnf.jwk))(data, signature),
  });
  const result = await instance.verify(presentation, { keyBindingNonce: nonce });
  if (!result.kb) throw new Error("the presentation has no KB-JWT");
  if (result.kb.payload.aud !== audience) {
    throw new Error(`the KB-JWT's aud is ${JSON.stringify(result.kb.payload.aud)}, expected ${JSON.stringify(audience)}`);
  }
  return result;
}

/** @sd-jwt's SD-JWT VC: present `credential` disclosing `frame` with a KB-JWT signed by `holderJwk`. */
export async function presentSdJwtVc(credential, frame, { holderJwk, nonce, audience, iat }) {
  const instance = new SDJwtVcInstance({
    hasher: sdHasher,
    saltGenerator: generateSalt,
    kbSigner: await ES256.getSigner(holderJwk),
    kbSignAlg: "ES256",
  });
  return instance.present(credential, frame, { kb: { payload: { aud: audience, nonce, iat } } });
}
