// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ITrustRegistry} from "./ITrustRegistry.sol";

/// @title TrustRegistry: RootTAO → TAO → TI accreditation with validity and scope
/// @notice See ITrustRegistry for the rules. Entries are never overwritten or
/// deleted, so the registry is an audit trail; every change emits an event.
contract TrustRegistry is ITrustRegistry {
    /// @notice The deepest chain allowed (root = 0); bounds every chain walk.
    uint8 public constant MAX_DEPTH = 8;
    /// @notice Highest EQF level.
    uint8 public constant MAX_EQF_LEVEL = 8;

    bytes32 private immutable _rootHash;

    mapping(bytes32 didHash => Entry entry) private _entries;
    mapping(bytes32 didHash => mapping(bytes32 vctHash => bool granted)) private _scope;
    mapping(bytes32 didHash => address proposed) private _pendingControllers;

    /// @param rootDid_ DID of the root authority.
    /// @param legalName legal name of the root authority.
    /// @param country ISO 3166-1 alpha-2 code (or "EU") of the root authority.
    /// @param controller address that acts for the root.
    constructor(string memory rootDid_, string memory legalName, string memory country, address controller) {
        if (bytes(rootDid_).length == 0) revert EmptyDid();
        if (controller == address(0)) revert ZeroController();
        bytes32 rootHash = keccak256(bytes(rootDid_));
        _rootHash = rootHash;
        Entry storage root = _entries[rootHash];
        root.did = rootDid_;
        root.legalName = legalName;
        root.country = country;
        root.role = Role.Root;
        root.validFrom = 0; // the root vouches for any time; its grants may be backdated
        root.validUntil = type(uint64).max;
        root.controller = controller;
        Grant memory grant = Grant(rootDid_, legalName, country, Role.Root, new string[](0), 0, root.validFrom, root.validUntil, controller);
        emit Accredited(rootHash, bytes32(0), controller, rootDid_, "", grant);
    }

    // ---------------------------------------------------------------- changes

    /// @inheritdoc ITrustRegistry
    function accredit(string calldata accreditorDid, Grant calldata grant) external {
        // Guards, in order: (1) the grant is well formed, (2) the caller controls
        // the accreditor, (3) the accreditor may accredit and (4) is accredited
        // now, (5) the grant fits in its scope, (6) the DID is new.
        if (bytes(grant.did).length == 0) revert EmptyDid();
        if (grant.role != Role.Tao && grant.role != Role.Issuer) revert InvalidRole(grant.role);
        if (grant.validFrom >= grant.validUntil) revert InvalidValidity(grant.validFrom, grant.validUntil);
        if (grant.maxEqfLevel > MAX_EQF_LEVEL) revert InvalidEqfLevel(grant.maxEqfLevel);
        if (grant.vcts.length == 0) revert NoTypes();
        if (grant.controller == address(0)) revert ZeroController();

        bytes32 accreditorHash = keccak256(bytes(accreditorDid));
        Entry storage accreditor = _existing(accreditorHash, accreditorDid);
        if (msg.sender != accreditor.controller) revert NotController(msg.sender, accreditor.controller);

        if (accreditor.role == Role.Issuer) revert NotAnAccreditor(accreditorDid, accreditor.role);
        Standing standing = _standing(accreditorHash, bytes32(0), _now());
        if (standing != Standing.Accredited) revert AccreditorNotActive(accreditorDid, standing);

        _checkScope(accreditorHash, accreditor, grant);

        bytes32 didHash = keccak256(bytes(grant.did));
        if (_entries[didHash].role != Role.None) revert AlreadyRegistered(grant.did);

        Entry storage entry = _entries[didHash];
        entry.did = grant.did;
        entry.legalName = grant.legalName;
        entry.country = grant.country;
        entry.accreditedBy = accreditorDid;
        entry.accreditedByHash = accreditorHash;
        entry.role = grant.role;
        entry.maxEqfLevel = grant.maxEqfLevel;
        entry.depth = accreditor.depth + 1;
        entry.validFrom = grant.validFrom;
        entry.validUntil = grant.validUntil;
        entry.controller = grant.controller;
        for (uint256 i = 0; i < grant.vcts.length; i++) {
            entry.vcts.push(grant.vcts[i]);
            _scope[didHash][keccak256(bytes(grant.vcts[i]))] = true;
        }
        emit Accredited(didHash, accreditorHash, grant.controller, grant.did, accreditorDid, grant);
    }

    /// @inheritdoc ITrustRegistry
    function suspend(string calldata did) external {
        // Guards: (1) the entry exists and is not the root, (2) the caller is its
        // grantor or the root, (3) it is neither revoked nor already suspended.
        (bytes32 didHash, Entry storage entry) = _changeable(did);
        if (entry.revokedAt != 0) revert AlreadyRevoked(did, entry.revokedAt);
        if (entry.suspendedAt != 0) revert AlreadySuspended(did, entry.suspendedAt);
        entry.suspendedAt = _now();
        emit Suspended(didHash, msg.sender, did, entry.suspendedAt);
    }

    /// @inheritdoc ITrustRegistry
    function reinstate(string calldata did) external {
        // Guards: (1) exists, not the root, (2) grantor or root, (3) not revoked, suspended.
        (bytes32 didHash, Entry storage entry) = _changeable(did);
        if (entry.revokedAt != 0) revert AlreadyRevoked(did, entry.revokedAt);
        if (entry.suspendedAt == 0) revert NotSuspended(did);
        entry.suspendedAt = 0;
        emit Reinstated(didHash, msg.sender, did, _now());
    }

    /// @inheritdoc ITrustRegistry
    function revoke(string calldata did) external {
        // Guards: (1) exists, not the root, (2) grantor or root, (3) not yet revoked.
        (bytes32 didHash, Entry storage entry) = _changeable(did);
        if (entry.revokedAt != 0) revert AlreadyRevoked(did, entry.revokedAt);
        entry.revokedAt = _now();
        emit Revoked(didHash, msg.sender, did, entry.revokedAt);
    }

    /// @inheritdoc ITrustRegistry
    function renew(string calldata did, uint64 validUntil) external {
        // Guards: (1) exists, not the root, (2) grantor or root, (3) not revoked,
        // (4) a valid period (5) within the grantor's own validity.
        (bytes32 didHash, Entry storage entry) = _changeable(did);
        if (entry.revokedAt != 0) revert AlreadyRevoked(did, entry.revokedAt);
        if (validUntil <= entry.validFrom) revert InvalidValidity(entry.validFrom, validUntil);
        Entry storage grantor = _entries[entry.accreditedByHash];
        if (validUntil > grantor.validUntil) {
            revert ValidityOutOfScope(entry.validFrom, validUntil, grantor.validFrom, grantor.validUntil);
        }
        entry.validUntil = validUntil;
        emit Renewed(didHash, msg.sender, did, validUntil);
    }

    /// @inheritdoc ITrustRegistry
    function proposeController(string calldata did, address newController) external {
        // Guards: (1) a real address, (2) the entry exists, (3) the caller is its controller.
        // Nothing else changes: the current controller keeps control until the proposal is accepted.
        if (newController == address(0)) revert ZeroController();
        (bytes32 didHash, Entry storage entry) = _controlled(did);
        _pendingControllers[didHash] = newController;
        emit ControllerTransferProposed(didHash, entry.controller, newController, did);
    }

    /// @inheritdoc ITrustRegistry
    function cancelControllerTransfer(string calldata did) external {
        // Guards: (1) the entry exists, (2) the caller is its controller, (3) a proposal is pending.
        (bytes32 didHash, Entry storage entry) = _controlled(did);
        address proposed = _pendingControllers[didHash];
        if (proposed == address(0)) revert NoPendingTransfer(did);
        delete _pendingControllers[didHash];
        emit ControllerTransferCancelled(didHash, entry.controller, proposed, did);
    }

    /// @inheritdoc ITrustRegistry
    function acceptController(string calldata did) external {
        // Guards: (1) the entry exists, (2) the caller is the proposed address (never zero,
        // so an entry without a proposal cannot be accepted by anyone).
        bytes32 didHash = keccak256(bytes(did));
        Entry storage entry = _existing(didHash, did);
        address proposed = _pendingControllers[didHash];
        if (msg.sender != proposed) revert NotPendingController(msg.sender, proposed);
        address previous = entry.controller;
        entry.controller = proposed;
        delete _pendingControllers[didHash];
        emit ControllerTransferred(didHash, previous, proposed, did);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ITrustRegistry
    function rootDid() external view returns (string memory) {
        return _entries[_rootHash].did;
    }

    /// @inheritdoc ITrustRegistry
    function pendingControllerOf(string calldata did) external view returns (address) {
        return _pendingControllers[keccak256(bytes(did))];
    }

    /// @inheritdoc ITrustRegistry
    function entryOf(string calldata did) external view returns (Entry memory) {
        return _entries[keccak256(bytes(did))];
    }

    /// @inheritdoc ITrustRegistry
    function chainOf(string calldata did) public view returns (Entry[] memory chain) {
        bytes32 didHash = keccak256(bytes(did));
        Entry storage entry = _entries[didHash];
        if (entry.role == Role.None) return new Entry[](0);
        chain = new Entry[](uint256(entry.depth) + 1);
        for (uint256 i = 0; i < chain.length; i++) {
            chain[i] = entry;
            entry = _entries[entry.accreditedByHash];
        }
    }

    /// @inheritdoc ITrustRegistry
    function accreditationAt(string calldata did, string calldata vct, uint64 at)
        external
        view
        returns (Standing standing, Entry[] memory chain)
    {
        bytes32 vctHash = bytes(vct).length == 0 ? bytes32(0) : keccak256(bytes(vct));
        return (_standing(keccak256(bytes(did)), vctHash, at), chainOf(did));
    }

    /// @inheritdoc ITrustRegistry
    function standingAt(string calldata did, string calldata vct, uint64 at) external view returns (Standing) {
        bytes32 vctHash = bytes(vct).length == 0 ? bytes32(0) : keccak256(bytes(vct));
        return _standing(keccak256(bytes(did)), vctHash, at);
    }

    /// @inheritdoc ITrustRegistry
    function standingOf(bytes32 didHash, uint64 at) external view returns (Standing, Role, address) {
        Entry storage entry = _entries[didHash];
        return (_standing(didHash, bytes32(0), at), entry.role, entry.controller);
    }

    // --------------------------------------------------------------- internal

    /// @dev The one source of time for every rule in this contract.
    function _now() internal view returns (uint64) {
        return uint64(block.timestamp);
    }

    function _existing(bytes32 didHash, string calldata did) private view returns (Entry storage entry) {
        entry = _entries[didHash];
        if (entry.role == Role.None) revert UnknownDid(did);
    }

    function _controlled(string calldata did) private view returns (bytes32 didHash, Entry storage entry) {
        didHash = keccak256(bytes(did));
        entry = _existing(didHash, did);
        if (msg.sender != entry.controller) revert NotController(msg.sender, entry.controller);
    }

    function _changeable(string calldata did) private view returns (bytes32 didHash, Entry storage entry) {
        didHash = keccak256(bytes(did));
        entry = _existing(didHash, did);
        if (entry.role == Role.Root) revert CannotChangeRoot();
        if (msg.sender != _entries[entry.accreditedByHash].controller && msg.sender != _entries[_rootHash].controller) {
            revert NotGrantor(msg.sender, did);
        }
    }

    function _checkScope(bytes32 accreditorHash, Entry storage accreditor, Grant calldata grant) private view {
        if (accreditor.depth + 1 > MAX_DEPTH) revert ChainTooDeep(accreditor.depth + 1);
        if (accreditor.role != Role.Root) {
            for (uint256 i = 0; i < grant.vcts.length; i++) {
                if (!_scope[accreditorHash][keccak256(bytes(grant.vcts[i]))]) revert TypeOutOfScope(grant.vcts[i]);
            }
        }
        uint8 allowed = accreditor.maxEqfLevel;
        if (allowed != 0 && (grant.maxEqfLevel == 0 || grant.maxEqfLevel > allowed)) {
            revert EqfLevelOutOfScope(grant.maxEqfLevel, allowed);
        }
        if (grant.validFrom < accreditor.validFrom || grant.validUntil > accreditor.validUntil) {
            revert ValidityOutOfScope(grant.validFrom, grant.validUntil, accreditor.validFrom, accreditor.validUntil);
        }
    }

    /// @dev Walks from the entry up to the root; the entry's own failure is
    /// reported as such, an ancestor's as AccreditorNotAccredited.
    function _standing(bytes32 didHash, bytes32 vctHash, uint64 at) private view returns (Standing) {
        Entry storage entry = _entries[didHash];
        if (entry.role == Role.None) return Standing.Unknown;
        Standing own = _ownStanding(entry, at);
        if (own != Standing.Accredited) return own;
        if (vctHash != bytes32(0) && entry.role != Role.Root && !_scope[didHash][vctHash]) {
            return Standing.TypeNotAccredited;
        }
        for (uint256 i = 0; i < MAX_DEPTH && entry.role != Role.Root; i++) {
            entry = _entries[entry.accreditedByHash];
            if (entry.role == Role.None || _ownStanding(entry, at) != Standing.Accredited) {
                return Standing.AccreditorNotAccredited;
            }
        }
        return Standing.Accredited;
    }

    function _ownStanding(Entry storage entry, uint64 at) private view returns (Standing) {
        if (at < entry.validFrom) return Standing.NotYetValid;
        if (at >= entry.validUntil) return Standing.Expired;
        if (entry.revokedAt != 0 && at >= entry.revokedAt) return Standing.Revoked;
        if (entry.suspendedAt != 0 && at >= entry.suspendedAt) return Standing.Suspended;
        return Standing.Accredited;
    }
}
