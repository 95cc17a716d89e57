"""ETSI TS 119 602 Lists of Trusted Entities (credentials.lote): the vendored schema, writing, reading.

Pure: no chain. The export and import against the real registry are in
tests/verifier/test_trust_lists.py.
"""

from __future__ import annotations

import copy
import hashlib
import json
from importlib import resources

import pytest

from credentials.errors import InvalidInput
from credentials.lote import (
    SCHEMA_RESOURCE,
    STATUS_WITHDRAWN,
    SchemeInfo,
    TrustedEntry,
    build_lote,
    parse_lote,
    schema_errors,
)

NOW = 1_780_000_000
ROOT = TrustedEntry("did:web:ministry.example", "root", "Ministero", "IT", None, (), None, 0, None, None, None)
TAO = TrustedEntry("did:web:agency.example", "tao", "Agenzia", "IT", ROOT.did, ("urn:t",), None, 10, None, None, None)
ISSUER = TrustedEntry("did:jwk:eyJrdHkiOiJFQyJ9", "issuer", "Università", "IT", TAO.did, ("urn:t",), 7, 20,
                      NOW + 10**6, None, None)
SCHEME = SchemeInfo("Ministero", "IT", NOW - 60, NOW + 3600, 412, 31337, "0x" + "ab" * 20,
                    ("https://verifier.example/trust/lote.json",))


def _list(*entries: TrustedEntry, scheme: SchemeInfo = SCHEME) -> dict:
    return build_lote(list(entries) or [ROOT, TAO, ISSUER], scheme)


@pytest.mark.parametrize("name, sha256", [
    ("ts119602_1960201_json_schema.json", "37c0f82711f7cdeb2680fc64674735d8e5a632561bd40ddf962059ae9ffd1d5c"),
    ("ts119602_rfc7517.json", "2f959c526ac073952ffff7a3944164a20b12897b0aa1a7b61e79511fafa863c6"),
])
def test_the_vendored_schema_files_are_the_published_bytes(name, sha256):
    data = resources.files("credentials").joinpath("schemas", name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha256
    assert SCHEMA_RESOURCE.endswith("ts119602_1960201_json_schema.json")


def test_a_written_list_is_valid_and_reads_back_the_granted_dids():
    document = _list()
    assert schema_errors(document) == []
    imported = parse_lote(json.dumps(document), now=NOW)
    assert imported.trusted_dids == (ROOT.did, TAO.did, ISSUER.did)
    assert imported.sequence == 412
    assert imported.operator_name == "Ministero"


def test_a_withdrawn_service_is_not_trusted_even_if_granted_elsewhere():
    revoked = TrustedEntry(**{**vars(ISSUER), "revoked_at": NOW - 5})
    document = _list(ROOT, revoked)
    entity = copy.deepcopy(document["LoTE"]["TrustedEntitiesList"][1])
    entity["TrustedEntityServices"][0]["ServiceInformation"]["ServiceStatus"] = "http://granted.example"
    document["LoTE"]["TrustedEntitiesList"].append(entity)
    assert document["LoTE"]["TrustedEntitiesList"][1]["TrustedEntityServices"][0]["ServiceInformation"][
        "ServiceStatus"] == STATUS_WITHDRAWN
    imported = parse_lote(json.dumps(document), now=NOW)
    assert imported.trusted_dids == (ROOT.did,)
    assert imported.not_trusted == (ISSUER.did,)


def test_a_stale_list_is_refused_saying_when_it_was_due():
    with pytest.raises(InvalidInput, match=r"NextUpdate: the list was due to be replaced at .* a stale list"):
        parse_lote(json.dumps(_list()), now=SCHEME.next_update)


def test_a_list_that_is_not_json_says_line_and_column():
    with pytest.raises(InvalidInput, match="not JSON: Expecting ',' delimiter at line 2, column 1"):
        parse_lote('{"LoTE": {}\n"x": 1}', now=NOW)


def test_duplicate_members_are_refused():
    with pytest.raises(InvalidInput, match="duplicate JSON member 'LoTE'"):
        parse_lote('{"LoTE": {}, "LoTE": {}}', now=NOW)


def test_schema_violations_name_each_path():
    document = _list()
    del document["LoTE"]["TrustedEntitiesList"][0]["TrustedEntityInformation"]["TEAddress"]
    document["LoTE"]["ListAndSchemeInformation"]["SchemeTerritory"] = "ITA"
    with pytest.raises(InvalidInput) as caught:
        parse_lote(json.dumps(document), now=NOW)
    message = str(caught.value)
    assert "in 2 place(s)" in message
    assert "$.LoTE.ListAndSchemeInformation.SchemeTerritory: 'ITA' is too long" in message
    assert "$.LoTE.TrustedEntitiesList[0].TrustedEntityInformation: 'TEAddress' is a required property" in message


def test_a_date_not_in_the_clause_6_1_3_form_is_refused():
    document = _list()
    document["LoTE"]["ListAndSchemeInformation"]["ListIssueDateTime"] = "2026-05-28T10:00:00+02:00"
    with pytest.raises(InvalidInput, match=r"ListIssueDateTime: expected a UTC date-time YYYY-MM-DDThh:mm:ssZ"):
        parse_lote(json.dumps(document), now=NOW)


def test_a_list_trusting_nobody_is_refused():
    document = _list(TrustedEntry(**{**vars(ROOT), "suspended_at": NOW - 1}))
    with pytest.raises(InvalidInput, match="names no DID whose service is granted"):
        parse_lote(json.dumps(document), now=NOW)


def test_an_oversized_list_is_refused_before_parsing():
    with pytest.raises(InvalidInput, match="at most 8388608 bytes"):
        parse_lote(b" " * (8 * 1024 * 1024 + 1), now=NOW)
