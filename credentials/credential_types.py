"""The SD-JWT VC types the verifier knows: vct → schema check, Annex I mapper, EQF claim.

A vct in :data:`SD_JWT_VC_TYPES` gets its disclosed claims checked against its
JSON Schema (the ``schema`` check) and can be shown through one
:class:`~credentials.annex_view.AnnexView`; any other vct the verifier's
policy accepts is verified without a ``schema`` check (``skipped``, saying
so). Known today:

* ``urn:microcred:vct:micro-credential:1`` (:mod:`credentials.microcredential`)
* ``urn:eu.europa.ec.eudi:learning:credential:1`` (:mod:`credentials.eudi_learning`)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from credentials.annex_mappers import annex_from_eudi_learning, annex_from_microcred
from credentials.annex_view import AnnexView
from credentials.eudi_learning import EUDI_LEARNING_VCT, validate_eudi_learning_disclosed
from credentials.microcredential import EQF_LEVEL, MICRO_CREDENTIAL_VCT, validate_disclosed

__all__ = ["SdJwtVcType", "SD_JWT_VC_TYPES", "KNOWN_VCTS", "sd_jwt_vc_type"]


@dataclass(frozen=True)
class SdJwtVcType:
    """What the verifier knows about one vct.

    ``validate_disclosed`` raises :class:`~credentials.errors.SchemaViolation`;
    ``eqf_level_claim`` names the top-level claim holding the EQF level (the
    ``issuer_trust`` check compares it with the accreditation's maximum).
    """

    vct: str
    name: str
    schema_name: str
    validate_disclosed: Callable[[Mapping[str, Any]], None]
    annex_view: Callable[[Mapping[str, Any]], AnnexView]
    eqf_level_claim: str

    def eqf_level(self, claims: Mapping[str, Any]) -> int | None:
        """The disclosed EQF level, if it is an integer (the schema check judges the rest)."""
        level = claims.get(self.eqf_level_claim)
        return level if isinstance(level, int) and not isinstance(level, bool) else None


SD_JWT_VC_TYPES: Mapping[str, SdJwtVcType] = MappingProxyType({
    MICRO_CREDENTIAL_VCT: SdJwtVcType(
        MICRO_CREDENTIAL_VCT, "micro-credential", "micro-credential", validate_disclosed, annex_from_microcred,
        EQF_LEVEL),
    EUDI_LEARNING_VCT: SdJwtVcType(
        EUDI_LEARNING_VCT, "EUDI learning credential", "EUDI learning credential",
        validate_eudi_learning_disclosed, annex_from_eudi_learning, "level_of_learning_experience"),
})

#: Every vct with a schema and an Annex I mapper.
KNOWN_VCTS = frozenset(SD_JWT_VC_TYPES)


def sd_jwt_vc_type(vct: str) -> SdJwtVcType | None:
    """The known type of ``vct``, or None."""
    return SD_JWT_VC_TYPES.get(vct)
