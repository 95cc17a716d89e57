"""The issuer's archive (SQLite): what was issued, the status lists, the batches, offers and nonces.

European Maturity Model for Micro-credentials, Table 1 step 3: the issuer
"archives it for verification, revocation and re-issue". :class:`Archive`
is the one object callers use; each concern lives in a module of its own:

==========================  ==================================================
:mod:`.store`               the file: a connection per thread (WAL, busy
                            timeout), ``BEGIN IMMEDIATE`` transactions, disk
                            errors as one-line :class:`StorageError`
:mod:`.schema`              the schema, versioned by sqlite-utils migrations
                            (:mod:`infra.migrations`), upgraded on open
:mod:`.credentials`         archived credentials and their statuses
:mod:`.status_lists`        status lists, signed tokens, what is anchored
:mod:`.batches`             issuing batches, finished from the archive
:mod:`.offers`              OpenID4VCI offers and key-proof nonces
:mod:`.issuance`            each credential's Merkle leaf, the issuance
                            trees and what the IssuanceRegistry holds
:mod:`.status_log`          why each credential was revoked or suspended
==========================  ==================================================

The archive is the source of truth for statuses: a Status List Token is
rebuilt from it (:meth:`Archive.status_entries`) and signed with a version
one higher each time something changes; anchoring records which version the
StatusRegistry holds. Writes that must stay together run in one
``BEGIN IMMEDIATE`` transaction (:meth:`Archive.transaction`), so a reader
never sees half of a change and two processes (or threads) never interleave one.

Errors: a full, read-only or failing disk raises :class:`StorageError` (one
line naming the cause); the transaction is rolled back, never half-written.
"""

from __future__ import annotations

from credentials.errors import UnknownCredential
from infra.errors import StorageError
from issuer.archive.batches import BATCH_DELIVERED, BATCH_PENDING, BatchRecord, BatchTable
from issuer.archive.credentials import (
    DELIVERY_FILE,
    DELIVERY_OFFER,
    DELIVERY_REDEEMED,
    KIND_EUDI_LEARNING,
    KIND_MICROCRED,
    KIND_OB3,
    KINDS,
    STATUS_NAMES,
    CredentialRecord,
    CredentialTable,
)
from issuer.archive.issuance import IssuanceTable, IssuanceTreeRecord
from issuer.archive.offers import OfferTable
from issuer.archive.schema import ARCHIVE_MIGRATIONS
from issuer.archive.status_lists import LIST_KIND_BITSTRING, LIST_KIND_IETF, StatusListRecord, StatusListTable
from issuer.archive.status_log import StatusChangeRecord, StatusLogTable
from issuer.archive.store import storage_error

__all__ = [
    "STATUS_NAMES",
    "DELIVERY_FILE",
    "DELIVERY_OFFER",
    "DELIVERY_REDEEMED",
    "KIND_MICROCRED",
    "KIND_EUDI_LEARNING",
    "KIND_OB3",
    "KINDS",
    "LIST_KIND_IETF",
    "LIST_KIND_BITSTRING",
    "BATCH_PENDING",
    "BATCH_DELIVERED",
    "ARCHIVE_MIGRATIONS",
    "CredentialRecord",
    "StatusListRecord",
    "BatchRecord",
    "IssuanceTreeRecord",
    "StatusChangeRecord",
    "UnknownCredential",
    "StorageError",
    "storage_error",
    "Archive",
]


class Archive(CredentialTable, StatusListTable, BatchTable, OfferTable, StatusLogTable, IssuanceTable):
    """The SQLite archive of one issuer: open it once per process, share it between threads."""
