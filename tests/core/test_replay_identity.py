"""Issue 10 B4: the replay identity of a KB-JWT does not depend on its signature bytes.

ECDSA signatures are malleable: if (r, s) verifies, so does (r, n - s). A
replay id taken over the whole compact KB-JWT let the same presentation,
with s replaced by n - s, be accepted a second time.
"""

from __future__ import annotations

import hashlib

import pytest

from credentials.jose import b64url_decode
from credentials.verification import FAILED, PASSED, kb_jwt_id
from tests.core.test_verification import World
from tests.forging import P256_ORDER, malleate_es256


@pytest.fixture
def world():
    return World()


def _malleated(presentation: str) -> str:
    without_kb, kb_jwt = presentation.rsplit("~", 1)
    return f"{without_kb}~{malleate_es256(kb_jwt)}"


def test_malleated_kb_jwt_signature_is_a_replay(world):
    presentation = world.present()
    assert world.verify(presentation).verified
    malleated = _malleated(presentation)
    assert malleated != presentation
    result = world.verify(malleated)
    assert result.check("holder_binding").status == PASSED  # the other signature is valid too
    assert result.check("replay").status == FAILED
    assert not result.verified


def test_malleated_first_then_original_is_a_replay(world):
    presentation = world.present()
    assert world.verify(_malleated(presentation)).verified
    assert world.verify(presentation).check("replay").status == FAILED


def test_replay_id_covers_the_signing_input_only():
    signature_a = "A" * 86
    assert kb_jwt_id(f"aGVhZA.cGF5bG9hZA.{signature_a}") == kb_jwt_id("aGVhZA.cGF5bG9hZA.other")
    assert kb_jwt_id("aGVhZA.cGF5bG9hZA.x") != kb_jwt_id("aGVhZA.cGF5bG9hZB.x")
    assert kb_jwt_id("h.p.s") == hashlib.sha256(b"h.p").hexdigest()


def test_the_malleation_helper_really_changes_s():
    world = World()
    kb_jwt = world.present().rsplit("~", 1)[1]
    before, after = (b64url_decode(t.split(".")[2]) for t in (kb_jwt, malleate_es256(kb_jwt)))
    assert before[:32] == after[:32]
    assert int.from_bytes(before[32:], "big") + int.from_bytes(after[32:], "big") == P256_ORDER
