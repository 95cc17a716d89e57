// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title NaiveRevocationRegistry: one storage slot and one transaction per revoked credential
/// @notice The baseline `bench/bench_ledger.py` compares status-list anchoring
/// against. It is deliberately what a first design often looks like; it is not
/// used by microcred itself.
contract NaiveRevocationRegistry {
    /// @notice Only the issuer that deployed the registry may revoke.
    error NotIssuer(address caller, address issuer);
    /// @notice The credential is already revoked.
    error AlreadyRevoked(bytes32 credentialId);

    /// @notice A credential was revoked.
    event CredentialRevoked(bytes32 indexed credentialId, uint64 at);

    address private immutable _issuer;

    mapping(bytes32 credentialId => uint64 revokedAt) public revokedAt;

    constructor() {
        _issuer = msg.sender;
    }

    /// @notice Revokes one credential.
    function revoke(bytes32 credentialId) external {
        // Guards: (1) the issuer, (2) not yet revoked.
        if (msg.sender != _issuer) revert NotIssuer(msg.sender, _issuer);
        if (revokedAt[credentialId] != 0) revert AlreadyRevoked(credentialId);
        revokedAt[credentialId] = _now();
        emit CredentialRevoked(credentialId, _now());
    }

    /// @dev The one source of time.
    function _now() internal view returns (uint64) {
        return uint64(block.timestamp);
    }
}
