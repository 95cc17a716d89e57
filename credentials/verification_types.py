"""The credential type strings the TrustRegistry accredits, for every format (⚑ README "Verifier HTTP API").

An accreditation lists the types its issuer may issue (``vcts`` on chain, any
strings). A credential is of one or more of the types below; ``issuer_trust``
passes when its issuer was accredited for **any** of them at issuance (the
credential's own, most specific type, or the general one of its format):

=========================  ==============================================================
SD-JWT VC                  its ``vct`` (``urn:microcred:vct:micro-credential:1``,
                           ``urn:eu.europa.ec.eudi:learning:credential:1``)
Open Badges 3.0            ``urn:microcred:type:ob3:OpenBadgeCredential`` (any OB 3.0
                           ``OpenBadgeCredential`` / ``AchievementCredential``), and
                           ``urn:microcred:type:ob3:achievement:<achievementType>`` (the
                           OB 3.0 AchievementType of its achievement, e.g.
                           ``…:achievement:MicroCredential``, ``…:achievement:Certificate``)
CLR 2.0                    ``urn:microcred:type:clr2:ClrCredential``
Europass EDC (ELM 3)       each ``credentialProfiles`` concept IRI (e.g.
                           ``http://data.europa.eu/snb/credential/e34929035b``, "Generic"),
                           and ``urn:microcred:type:elm:EuropeanDigitalCredential`` (any EDC)
other JWT VCs              each of its ``type`` values the verifier's policy accepts
                           (``MICROCRED_VERIFIER_ACCEPTED_VCTS``)
=========================  ==============================================================

Issuers are identified by a DID (any method) or, for X.509-sealed
organisations, by ``x509:org:<organizationIdentifier>`` /
``x509:spki:sha256:<hex>`` (:func:`credentials.x509_trust.issuer_id_for`). No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from credentials.open_badges import CLR_CREDENTIAL

__all__ = ["OB3_TYPE", "OB3_ACHIEVEMENT_TYPE_PREFIX", "CLR2_TYPE", "EDC_TYPE_URN", "ob3_types", "edc_types",
           "jwt_vc_types"]

OB3_TYPE = "urn:microcred:type:ob3:OpenBadgeCredential"
OB3_ACHIEVEMENT_TYPE_PREFIX = "urn:microcred:type:ob3:achievement:"
CLR2_TYPE = "urn:microcred:type:clr2:ClrCredential"
EDC_TYPE_URN = "urn:microcred:type:elm:EuropeanDigitalCredential"
#: OB 3.0 AchievementType values (an enumeration, extensible with ``ext:`` names).
_ACHIEVEMENT_TYPE = re.compile(r"^(?:ext:)?[A-Za-z][A-Za-z0-9]{0,63}$")
_MAX_TYPES = 8


def ob3_types(kind: str, achievements: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The type strings of an Open Badge (``kind`` OpenBadgeCredential / AchievementCredential) or a CLR."""
    if kind == CLR_CREDENTIAL:
        return (CLR2_TYPE,)
    found = [OB3_TYPE]
    for achievement in achievements:
        value = achievement.get("achievementType")
        if isinstance(value, str) and _ACHIEVEMENT_TYPE.match(value):
            found.append(OB3_ACHIEVEMENT_TYPE_PREFIX + value)
    return tuple(dict.fromkeys(found))[:_MAX_TYPES]


def edc_types(credential_profiles: Iterable[str]) -> tuple[str, ...]:
    """The type strings of a Europass EDC: its ELM credential profiles, then the general EDC type."""
    profiles = [p for p in credential_profiles if isinstance(p, str) and p.startswith(("http://", "https://"))]
    return tuple(dict.fromkeys([*profiles[:_MAX_TYPES - 1], EDC_TYPE_URN]))


def jwt_vc_types(types: Any, accepted: Collection[str]) -> tuple[str, ...]:
    """The ``type`` values of a plain JWT VC that the verifier accepts (its policy's types)."""
    listed = types if isinstance(types, list) else [types]
    return tuple(t for t in listed if isinstance(t, str) and t in accepted)[:_MAX_TYPES]
