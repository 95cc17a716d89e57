// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ITrustRegistry} from "./ITrustRegistry.sol";
import {IStatusRegistry} from "./IStatusRegistry.sol";

/// @title StatusRegistry: the anchored hashes of issuers' status lists
/// @notice See IStatusRegistry. Only the latest anchor is stored; the history is
/// in the StatusListAnchored events.
contract StatusRegistry is IStatusRegistry {
    ITrustRegistry private immutable _trust;

    mapping(bytes32 issuerHash => mapping(bytes32 listHash => Anchor anchor)) private _anchors;

    /// @param trust the TrustRegistry that says who is accredited.
    constructor(ITrustRegistry trust) {
        _trust = trust;
    }

    /// @inheritdoc IStatusRegistry
    function trustRegistry() external view returns (ITrustRegistry) {
        return _trust;
    }

    /// @inheritdoc IStatusRegistry
    function anchor(string calldata issuerDid, string calldata listId, bytes32 statusListSha256, uint64 version) external {
        _anchor(issuerDid, listId, statusListSha256, version, "");
    }

    /// @inheritdoc IStatusRegistry
    function anchorWithList(
        string calldata issuerDid,
        string calldata listId,
        bytes32 statusListSha256,
        uint64 version,
        bytes calldata compressedList
    ) external {
        _anchor(issuerDid, listId, statusListSha256, version, compressedList);
    }

    /// @inheritdoc IStatusRegistry
    function anchorMany(string calldata issuerDid, ListAnchor[] calldata anchors) external {
        if (anchors.length == 0) revert NoListsGiven();
        for (uint256 i = 0; i < anchors.length; ++i) {
            ListAnchor calldata one = anchors[i];
            _anchor(issuerDid, one.listId, one.statusListSha256, one.version, one.compressedList);
        }
    }

    /// @inheritdoc IStatusRegistry
    function latestAnchor(string calldata issuerDid, string calldata listId) external view returns (Anchor memory) {
        return _anchors[keccak256(bytes(issuerDid))][keccak256(bytes(listId))];
    }

    /// @dev The one source of time for every rule in this contract.
    function _now() internal view returns (uint64) {
        return uint64(block.timestamp);
    }

    function _anchor(
        string calldata issuerDid,
        string calldata listId,
        bytes32 statusListSha256,
        uint64 version,
        bytes memory compressedList
    ) private {
        // Guards, in order: (1) well-formed input, (2) the issuer is known,
        // (3) the caller controls it, (4) it is an issuer (5) accredited now,
        // (6) the version goes up.
        if (bytes(listId).length == 0) revert EmptyListId();
        if (statusListSha256 == bytes32(0)) revert ZeroDigest();

        bytes32 issuerHash = keccak256(bytes(issuerDid));
        uint64 at = _now();
        (ITrustRegistry.Standing standing, ITrustRegistry.Role role, address controller) = _trust.standingOf(issuerHash, at);
        if (role == ITrustRegistry.Role.None) revert IssuerNotAccredited(issuerDid, ITrustRegistry.Standing.Unknown);
        if (msg.sender != controller) revert NotController(msg.sender, controller);
        if (role != ITrustRegistry.Role.Issuer) revert NotAnIssuer(issuerDid, role);
        if (standing != ITrustRegistry.Standing.Accredited) revert IssuerNotAccredited(issuerDid, standing);

        bytes32 listHash = keccak256(bytes(listId));
        Anchor storage current = _anchors[issuerHash][listHash];
        if (version <= current.version) revert VersionNotIncreasing(listId, current.version, version);

        current.statusListSha256 = statusListSha256;
        current.version = version;
        current.anchoredAt = at;
        current.blockNumber = uint64(block.number);
        emit StatusListAnchored(issuerHash, listHash, issuerDid, listId, statusListSha256, version, at, compressedList);
    }
}
