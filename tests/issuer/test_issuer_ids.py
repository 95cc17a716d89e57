"""Credential and batch ids (issuer.service._random_id): 24 lowercase base32 characters of 15 CSPRNG bytes.

The ids are looked up two base32 characters at a time instead of through the
standard library's pure-Python ``b32encode`` (issue 16); they must stay exactly
``base64.b32encode(bytes).lower()`` (RFC 4648 §6), so old and new ids look alike.
"""

from __future__ import annotations

import base64
import os

import pytest

from issuer import service


@pytest.mark.parametrize("raw", [bytes(15), b"\xff" * 15, bytes(range(15)), *(os.urandom(15) for _ in range(200))])
def test_an_id_is_the_lowercase_base32_of_its_15_random_bytes(raw, monkeypatch):
    monkeypatch.setattr(service.secrets, "token_bytes", lambda n: raw if n == 15 else pytest.fail(f"asked {n}"))
    assert service._random_id() == base64.b32encode(raw).decode("ascii").lower()


def test_ids_are_24_letters_or_digits_and_distinct():
    ids = {service._random_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert {len(i) for i in ids} == {24}
    assert all(i.isalnum() for i in ids)
    assert all(i == i.lower() for i in ids)
