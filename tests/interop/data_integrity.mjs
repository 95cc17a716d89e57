// An independent Data Integrity implementation (Digital Bazaar's @digitalbazaar/vc,
// data-integrity and cryptosuite packages), driven by tests/interop/test_data_integrity_interop.py.
//
//   node data_integrity.mjs issue   < {"credential", "cryptosuite", "created", "contexts"}  -> signed credential
//   node data_integrity.mjs verify  < {"credential", "cryptosuite", "contexts"}              -> {"verified", "errors"}
//
// "contexts" maps every context URL the loader may answer to its document (microcred's vendored
// ones); did:key verification methods and controller documents are built from the DID itself.
// Nothing is fetched: any other URL is an error.
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {createSignCryptosuite, createVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {cryptosuite as ecdsaRdfc2019} from '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';

const SUITES = {
  'eddsa-rdfc-2022': {cryptosuite: eddsaRdfc2022, keys: Ed25519Multikey, generate: {}},
  'eddsa-jcs-2022': {
    sign: createSignCryptosuite(), verify: createVerifyCryptosuite(), keys: Ed25519Multikey, generate: {}
  },
  'ecdsa-rdfc-2019': {cryptosuite: ecdsaRdfc2019, keys: EcdsaMultikey, generate: {curve: 'P-256'}},
};
const MULTIKEY_CONTEXT = 'https://w3id.org/security/multikey/v1';

function loaderFor(contexts) {
  return async url => {
    if(Object.hasOwn(contexts, url)) {
      return {contextUrl: null, documentUrl: url, document: contexts[url]};
    }
    if(url.startsWith('did:key:')) {
      const [did, fragment] = url.split('#');
      const id = `${did}#${did.slice('did:key:'.length)}`;
      const method = {
        '@context': MULTIKEY_CONTEXT, id, type: 'Multikey', controller: did,
        publicKeyMultibase: did.slice('did:key:'.length)
      };
      if(fragment) {
        return {contextUrl: null, documentUrl: url, document: method};
      }
      const controller = {
        '@context': ['https://www.w3.org/ns/did/v1', MULTIKEY_CONTEXT], id: did,
        verificationMethod: [method], assertionMethod: [id], authentication: [id]
      };
      return {contextUrl: null, documentUrl: url, document: controller};
    }
    throw new Error(`refusing to load ${url}: not a vendored context or a did:key`);
  };
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function issue({credential, cryptosuite, created, contexts}) {
  const suiteInfo = SUITES[cryptosuite];
  const keyPair = await suiteInfo.keys.generate(suiteInfo.generate);
  const did = `did:key:${keyPair.publicKeyMultibase}`;
  keyPair.controller = did;
  keyPair.id = `${did}#${keyPair.publicKeyMultibase}`;
  if(typeof credential.issuer === 'object') {
    credential.issuer.id = did;
  } else {
    credential.issuer = did;
  }
  const suite = new DataIntegrityProof({
    signer: keyPair.signer(), cryptosuite: suiteInfo.sign || suiteInfo.cryptosuite, date: created
  });
  return vc.issue({credential, suite, documentLoader: loaderFor(contexts)});
}

async function verify({credential, cryptosuite, contexts}) {
  const suiteInfo = SUITES[cryptosuite];
  const suite = new DataIntegrityProof({cryptosuite: suiteInfo.verify || suiteInfo.cryptosuite});
  const result = await vc.verifyCredential({
    credential, suite, documentLoader: loaderFor(contexts),
    checkStatus: async () => ({verified: true})
  });
  const errors = [];
  for(const item of result.results || []) {
    if(item.error) {
      errors.push(String(item.error.message || item.error));
    }
  }
  if(result.error) {
    errors.push(String(result.error.message || result.error));
  }
  return {verified: result.verified, errors};
}

const mode = process.argv[2];
const input = await readStdin();
const output = mode === 'issue' ? await issue(input) : await verify(input);
process.stdout.write(JSON.stringify(output));
