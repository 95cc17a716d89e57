// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IDidRegistry} from "./IDidRegistry.sol";

/// @title DidRegistry: `did:mcr` DIDs, their keys' validity in blocks, rotation and revocation
/// @notice See IDidRegistry for the rules. Records are never deleted or
/// overwritten: a method's end and revocation are the only changes it sees.
contract DidRegistry is IDidRegistry {
    /// @notice The most methods one DID holds over its life (bounds `recordOf`).
    uint256 public constant MAX_METHODS = 64;

    mapping(bytes16 id => Record record) private _records;
    mapping(bytes16 id => mapping(bytes32 keyId => uint256 indexPlusOne)) private _methodIndex;
    mapping(bytes16 id => address proposed) private _pendingControllers;

    // ---------------------------------------------------------------- changes

    /// @inheritdoc IDidRegistry
    function register(bytes32 salt, MethodInput calldata first) external returns (bytes16 id) {
        // Guards, in order: (1) the identifier is new, (2) the first key is well formed (in _add).
        id = identifierFor(msg.sender, salt);
        Record storage record = _records[id];
        if (record.controller != address(0)) revert IdentifierTaken(id);
        record.controller = msg.sender;
        record.registeredAtBlock = _now();
        emit DidRegistered(id, msg.sender, record.registeredAtBlock);
        _add(id, record, first);
    }

    /// @inheritdoc IDidRegistry
    function addMethod(bytes16 id, MethodInput calldata method) external {
        // Guards: (1) the DID exists, (2) the caller controls it, (3) the key is well formed and new (in _add).
        Record storage record = _controlled(id);
        _add(id, record, method);
    }

    /// @inheritdoc IDidRegistry
    function rotate(bytes16 id, bytes32 oldKeyId, MethodInput calldata next) external {
        // Guards: (1) the DID exists, (2) the caller controls it, (3) the old key exists and has not
        // ended, (4) the new key is well formed and new. Both changes happen at this block, or neither.
        Record storage record = _controlled(id);
        Method storage old = _method(id, record, oldKeyId);
        if (old.validUntilBlock != 0) revert MethodAlreadyEnded(oldKeyId, old.validUntilBlock);
        old.validUntilBlock = _now();
        emit MethodEnded(id, oldKeyId, msg.sender, old.validUntilBlock);
        _add(id, record, next);
    }

    /// @inheritdoc IDidRegistry
    function revokeMethod(bytes16 id, bytes32 keyId) external {
        // Guards: (1) the DID exists, (2) the caller controls it, (3) the key exists, (4) it is not revoked.
        // A key rotated out earlier keeps its end; revoking it only marks it.
        Record storage record = _controlled(id);
        Method storage method = _method(id, record, keyId);
        if (method.revokedAtBlock != 0) revert MethodAlreadyRevoked(keyId, method.revokedAtBlock);
        uint64 at = _now();
        method.revokedAtBlock = at;
        if (method.validUntilBlock == 0 || method.validUntilBlock > at) method.validUntilBlock = at;
        emit MethodRevoked(id, keyId, msg.sender, at);
    }

    /// @inheritdoc IDidRegistry
    function proposeController(bytes16 id, address newController) external {
        // Guards: (1) a real address, (2) the DID exists, (3) the caller controls it.
        if (newController == address(0)) revert ZeroController();
        Record storage record = _controlled(id);
        _pendingControllers[id] = newController;
        emit ControllerTransferProposed(id, record.controller, newController);
    }

    /// @inheritdoc IDidRegistry
    function cancelControllerTransfer(bytes16 id) external {
        // Guards: (1) the DID exists, (2) the caller controls it, (3) a proposal is pending.
        Record storage record = _controlled(id);
        address proposed = _pendingControllers[id];
        if (proposed == address(0)) revert NoPendingControllerTransfer(id);
        delete _pendingControllers[id];
        emit ControllerTransferCancelled(id, record.controller, proposed);
    }

    /// @inheritdoc IDidRegistry
    function acceptController(bytes16 id) external {
        // Guards: (1) the DID exists, (2) the caller is the proposed address (never zero).
        Record storage record = _existing(id);
        address proposed = _pendingControllers[id];
        if (msg.sender != proposed) revert NotPendingController(msg.sender, proposed);
        address previous = record.controller;
        record.controller = proposed;
        delete _pendingControllers[id];
        emit ControllerTransferred(id, previous, proposed);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IDidRegistry
    function identifierFor(address registrant, bytes32 salt) public view returns (bytes16) {
        return bytes16(keccak256(abi.encode(block.chainid, registrant, salt)));
    }

    /// @inheritdoc IDidRegistry
    function recordOf(bytes16 id) external view returns (Record memory) {
        return _records[id];
    }

    /// @inheritdoc IDidRegistry
    function pendingControllerOf(bytes16 id) external view returns (address) {
        return _pendingControllers[id];
    }

    // --------------------------------------------------------------- internal

    /// @dev The one source of time for every rule in this contract: validity is counted in blocks.
    function _now() internal view returns (uint64) {
        return uint64(block.number);
    }

    function _existing(bytes16 id) private view returns (Record storage record) {
        record = _records[id];
        if (record.controller == address(0)) revert UnknownIdentifier(id);
    }

    function _controlled(bytes16 id) private view returns (Record storage record) {
        record = _existing(id);
        if (msg.sender != record.controller) revert NotController(msg.sender, record.controller);
    }

    function _method(bytes16 id, Record storage record, bytes32 keyId) private view returns (Method storage) {
        uint256 indexPlusOne = _methodIndex[id][keyId];
        if (indexPlusOne == 0) revert UnknownKeyId(id, keyId);
        return record.methods[indexPlusOne - 1];
    }

    function _add(bytes16 id, Record storage record, MethodInput calldata input) private {
        if (input.keyId == bytes32(0)) revert ZeroKeyId();
        _checkKey(input.keyType, input.publicKey);
        if (_methodIndex[id][input.keyId] != 0) revert DuplicateKeyId(input.keyId);
        if (record.methods.length >= MAX_METHODS) revert TooManyMethods(MAX_METHODS);
        uint64 at = _now();
        record.methods.push(Method(input.keyId, input.keyType, input.publicKey, at, 0, 0, msg.sender));
        _methodIndex[id][input.keyId] = record.methods.length;
        emit MethodAdded(id, input.keyId, msg.sender, at);
    }

    function _checkKey(KeyType keyType, bytes calldata publicKey) private pure {
        uint256 length = publicKey.length;
        if (keyType == KeyType.Ed25519 && length == 32) return;
        if (keyType == KeyType.P256) {
            if (length == 33 && (publicKey[0] == 0x02 || publicKey[0] == 0x03)) return;
            if (length == 65 && publicKey[0] == 0x04) return;
        }
        revert InvalidPublicKey(keyType, length);
    }
}
