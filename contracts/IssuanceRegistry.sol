// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IIssuanceRegistry} from "./IIssuanceRegistry.sol";

/// @title IssuanceRegistry: anchored Merkle roots of issuing batches
/// @notice See IIssuanceRegistry. One storage slot per batch.
contract IssuanceRegistry is IIssuanceRegistry {
    uint64 private constant _MAX_SIZE = type(uint48).max;

    /// @dev issuer (160 bits) | block number (48 bits) | size (48 bits), from the high bits down.
    mapping(bytes32 root => uint256 packedAnchor) private _anchors;

    /// @inheritdoc IIssuanceRegistry
    function anchorBatch(bytes32 root, uint64 size) external {
        // Guards, in order: (1) a root, (2) a batch of at least one and (3) at most 2^48-1 credentials,
        // (4) never anchored before.
        if (root == bytes32(0)) revert ZeroRoot();
        if (size == 0) revert EmptyBatch();
        if (size > _MAX_SIZE) revert BatchTooLarge(size, _MAX_SIZE);
        uint256 existing = _anchors[root];
        if (existing != 0) {
            (address issuer, uint64 blockNumber,) = _unpack(existing);
            revert AlreadyAnchored(root, issuer, blockNumber);
        }
        _anchors[root] = (uint256(uint160(msg.sender)) << 96) | ((uint256(_blockNumber()) & _MAX_SIZE) << 48) | uint256(size);
        emit BatchAnchored(msg.sender, root, size);
    }

    /// @inheritdoc IIssuanceRegistry
    function anchorOf(bytes32 root) external view returns (address issuer, uint64 blockNumber, uint64 size) {
        return _unpack(_anchors[root]);
    }

    /// @dev The one source of the block number for every rule in this contract.
    function _blockNumber() internal view returns (uint64) {
        return uint64(block.number);
    }

    function _unpack(uint256 packed) private pure returns (address issuer, uint64 blockNumber, uint64 size) {
        issuer = address(uint160(packed >> 96));
        blockNumber = uint64((packed >> 48) & _MAX_SIZE);
        size = uint64(packed & _MAX_SIZE);
    }
}
