// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ITrustRegistry} from "./ITrustRegistry.sol";

/// @title Status list anchoring for micro-credentials
/// @notice Per (issuer DID, list id) the registry keeps the SHA-256 of the
/// latest Status List Token (IETF draft-ietf-oauth-status-list), a version that
/// only goes up, and the block time and number of the anchor. Only the
/// controller of an issuer that the TrustRegistry holds accredited at that
/// moment may anchor the issuer's own lists. Revoking k credentials costs one
/// anchor, whatever k is.
/// @dev `anchorWithList` also puts the zlib-compressed status list into the
/// event, so a verifier can read status from the chain alone when the issuer's
/// server is down. The bytes are authenticated by who may anchor, not by the
/// digest (the digest is that of the signed token, the bytes are the list).
/// `anchorMany` anchors several lists of one issuer in one transaction (a
/// revocation that touches a credential's IETF list and its twin's W3C
/// Bitstring list changes both at once); each gets its own event.
interface IStatusRegistry {
    /// @notice The latest anchor of one status list.
    struct Anchor {
        bytes32 statusListSha256;
        uint64 version;
        uint64 anchoredAt; // block timestamp
        uint64 blockNumber;
    }

    /// @notice One list to anchor in `anchorMany`; `compressedList` empty unless carried.
    struct ListAnchor {
        string listId;
        bytes32 statusListSha256;
        uint64 version;
        bytes compressedList;
    }

    /// @notice The list id is empty.
    error EmptyListId();
    /// @notice A zero digest is not a SHA-256 of anything we anchor.
    error ZeroDigest();
    /// @notice The issuer is not accredited at this moment (see ITrustRegistry.Standing).
    error IssuerNotAccredited(string issuerDid, ITrustRegistry.Standing standing);
    /// @notice Only issuers (not the root or a TAO) anchor status lists.
    error NotAnIssuer(string issuerDid, ITrustRegistry.Role role);
    /// @notice The caller is not the controller of the issuer's entry.
    error NotController(address caller, address controller);
    /// @notice A new anchor's version must be greater than the current one.
    error VersionNotIncreasing(string listId, uint64 current, uint64 given);
    /// @notice `anchorMany` was given no list.
    error NoListsGiven();

    /// @notice A status list was anchored; `compressedList` is empty unless carried.
    event StatusListAnchored(
        bytes32 indexed issuerHash,
        bytes32 indexed listHash,
        string issuerDid,
        string listId,
        bytes32 statusListSha256,
        uint64 version,
        uint64 anchoredAt,
        bytes compressedList
    );

    /// @notice The TrustRegistry this registry asks.
    function trustRegistry() external view returns (ITrustRegistry);

    /// @notice Anchors the SHA-256 of a Status List Token.
    function anchor(string calldata issuerDid, string calldata listId, bytes32 statusListSha256, uint64 version) external;

    /// @notice Anchors and also carries the compressed list in the event.
    function anchorWithList(
        string calldata issuerDid,
        string calldata listId,
        bytes32 statusListSha256,
        uint64 version,
        bytes calldata compressedList
    ) external;

    /// @notice Anchors several lists of one issuer at once: all or nothing, one
    /// `StatusListAnchored` event per list, in the order given. The same list
    /// may appear twice only with increasing versions.
    function anchorMany(string calldata issuerDid, ListAnchor[] calldata anchors) external;

    /// @notice The latest anchor (all zero when the list was never anchored).
    function latestAnchor(string calldata issuerDid, string calldata listId) external view returns (Anchor memory);
}
