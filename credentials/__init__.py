"""The pure core of microcred: credential formats and their checks.

SD-JWT (RFC 9901), SD-JWT VC (draft-ietf-oauth-sd-jwt-vc), Key Binding JWTs,
W3C VC as JWT (VCDM 2.0 ``vc+jwt`` and VCDM 1.1 ``jwt_vc_json``), did:key and
did:jwk, IETF Token Status List and W3C Bitstring Status List, and the
micro-credential claim set (EU Council Recommendation 2022/C 243/02, Annex I).

Nothing here does I/O: no network, files, database, clock or randomness of its
own. Time and randomness are parameters; keys, trust entries and status lists
come in through resolvers the caller passes. ``tests/test_purity.py`` keeps it so.
"""
