// The other side of tests/interop/test_dcql_interop.py: the `dcql` package (npm, pinned), an
// independent TypeScript implementation of DCQL (OpenID4VP 1.0 §6, §7). Reads a JSON batch on
// stdin, writes one JSON answer per case on stdout, in order:
//   {kind: "parse", query}                     -> {valid} (parse + validate)
//   {kind: "match", query, credentials}        -> {valid, satisfiable, per_query: {id: [indexes]},
//                                                  claim_sets: {id: [index of the first satisfied
//                                                  claim set | null]}, sets: [[matching options] | null]}
//   {kind: "answer", query, presentation}      -> {valid, satisfiable} (a presentation record that
//                                                  throws counts as not satisfied)
// A credential is {format, type_values, claims, holder_binding}, as microcred's Candidate.
import { DcqlPresentationResult, DcqlQuery } from "dcql";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => { text += chunk; });
  process.stdin.on("end", () => resolve(text));
}));

function credential({ format, type_values: types, claims, holder_binding: bound }) {
  const base = { credential_format: format, cryptographic_holder_binding: bound };
  if (format === "dc+sd-jwt") return { ...base, vct: types[0], claims };
  if (format === "mso_mdoc") return { ...base, doctype: types[0], namespaces: claims };
  return { ...base, type: types, claims };
}

function parsed(query) {
  try {
    const result = DcqlQuery.parse(query);
    DcqlQuery.validate(result);
    return result;
  } catch {
    return null;
  }
}

function run(item) {
  const query = parsed(item.query);
  if (item.kind === "parse") return { valid: query !== null };
  if (query === null) return { valid: false };
  if (item.kind === "match") {
    const result = DcqlQuery.query(query, item.credentials.map(credential));
    const perQuery = {};
    const claimSets = {};
    for (const [id, found] of Object.entries(result.credential_matches)) {
      perQuery[id] = (found.valid_credentials ?? []).map((entry) => entry.input_credential_index);
      claimSets[id] = (found.valid_credentials ?? []).map(
        (entry) => entry.claims.valid_claim_sets[0].claim_set_index ?? null);
    }
    return {
      valid: true,
      satisfiable: result.can_be_satisfied,
      per_query: perQuery,
      claim_sets: claimSets,
      sets: (result.credential_sets ?? []).map((set) => set.matching_options ?? null),
    };
  }
  const presentation = Object.fromEntries(
    Object.entries(item.presentation).map(([id, list]) => [id, list.map(credential)]));
  try {
    const result = DcqlPresentationResult.fromDcqlPresentation(presentation, { dcqlQuery: query });
    return { valid: true, satisfiable: result.can_be_satisfied };
  } catch (error) {
    return { valid: true, satisfiable: false, error: String(error.message ?? error).slice(0, 300) };
  }
}

process.stdout.write(JSON.stringify(input.cases.map(run)));
