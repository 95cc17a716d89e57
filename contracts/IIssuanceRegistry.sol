// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title Issuance anchors: the Merkle roots of issuing batches
/// @notice An issuer builds an RFC 9162 Merkle tree (SHA-256) over the digests
/// of the credentials of one issuing batch and anchors its root here in ONE
/// transaction, whatever the number of credentials. A verifier given a
/// credential and its inclusion proof recomputes the root and reads
/// `anchorOf(root)`: the account that anchored it, the block, and the number
/// of leaves. The credential then existed no later than that block.
/// @dev Anchors are never overwritten: a root is anchored once, by whoever
/// anchors it first. Which account an issuer anchors with is decided off this
/// contract (the TrustRegistry controller of the issuer's DID); a verifier
/// that finds a root anchored by another account treats the proof as failed.
/// The anchor is packed into one storage slot (address, 48-bit block number,
/// 48-bit size), so a batch costs one new slot.
interface IIssuanceRegistry {
    /// @notice The root is zero: not the root of any tree.
    error ZeroRoot();
    /// @notice A batch has at least one credential.
    error EmptyBatch();
    /// @notice The size does not fit the 48 bits an anchor keeps.
    error BatchTooLarge(uint64 size, uint64 maxSize);
    /// @notice The root was anchored before (by `issuer`, in `blockNumber`).
    error AlreadyAnchored(bytes32 root, address issuer, uint64 blockNumber);

    /// @notice A batch root was anchored by `issuer` (the sending account).
    event BatchAnchored(address indexed issuer, bytes32 indexed root, uint64 size);

    /// @notice Anchors the Merkle root of a batch of `size` credentials, sent by the issuer's account.
    function anchorBatch(bytes32 root, uint64 size) external;

    /// @notice Who anchored `root`, in which block, over how many leaves (all zero when never anchored).
    function anchorOf(bytes32 root) external view returns (address issuer, uint64 blockNumber, uint64 size);
}
