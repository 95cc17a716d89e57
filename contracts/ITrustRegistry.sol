// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title Trusted issuers registry for micro-credentials
/// @notice Imitates EBSI's Trusted Issuers Registry: a root authority (RootTAO)
/// accredits accreditation organisations (TAO), which accredit issuers (TI).
/// Every entry is keyed by keccak256 of its DID string, scoped to credential
/// types (`vct`) and optionally a maximum EQF level, valid in
/// [validFrom, validUntil), and controlled by one Ethereum address.
/// @dev A DID is "accredited for type T at time t" when its own entry and every
/// entry up to the root are valid at t (not before validFrom, before validUntil,
/// not revoked at or before t, not currently suspended from before t) and T is
/// in the entry's own scope. Revocation is permanent and keeps its time, so
/// credentials issued before it still check; suspension is a present state
/// (use a historical block to ask about a past suspension).
///
/// Control of an entry (the root's too) changes hands in two steps, as in
/// OpenZeppelin's Ownable2Step: the controller proposes an address, and only
/// that address can accept. Until it does, the old controller stays in charge
/// and may propose again or cancel, so a mistyped address cannot lock anyone
/// out. There is no one-step setter. Every address in an event is an indexed
/// topic, so logs can be filtered by who acted or who controls an entry.
interface ITrustRegistry {
    /// @notice The place of an entry in the chain of trust.
    enum Role {
        None,
        Root,
        Tao,
        Issuer
    }

    /// @notice Why a DID is or is not accredited at a given time.
    enum Standing {
        Accredited,
        Unknown,
        NotYetValid,
        Expired,
        Suspended,
        Revoked,
        AccreditorNotAccredited,
        TypeNotAccredited
    }

    /// @notice What an accreditor grants (the input of `accredit`).
    struct Grant {
        string did;
        string legalName;
        string country;
        Role role;
        string[] vcts;
        uint8 maxEqfLevel; // 0: no limit
        uint64 validFrom;
        uint64 validUntil;
        address controller;
    }

    /// @notice A stored accreditation.
    struct Entry {
        string did;
        string legalName;
        string country;
        string accreditedBy; // DID of the accreditor; empty for the root
        bytes32 accreditedByHash;
        Role role;
        uint8 maxEqfLevel;
        uint8 depth; // 0 for the root
        uint64 validFrom;
        uint64 validUntil;
        uint64 suspendedAt; // 0: not suspended
        uint64 revokedAt; // 0: not revoked
        address controller;
        string[] vcts; // empty for the root, whose scope is every type
    }

    /// @notice The grant names no DID.
    error EmptyDid();
    /// @notice Only `Tao` and `Issuer` can be granted.
    error InvalidRole(Role role);
    /// @notice validFrom must be before validUntil.
    error InvalidValidity(uint64 validFrom, uint64 validUntil);
    /// @notice EQF levels run from 1 to 8 (0 means no limit).
    error InvalidEqfLevel(uint8 level);
    /// @notice A grant must name at least one credential type.
    error NoTypes();
    /// @notice The controller must be a real address.
    error ZeroController();
    /// @notice No entry exists for this DID.
    error UnknownDid(string did);
    /// @notice The DID already has an entry (entries are never overwritten).
    error AlreadyRegistered(string did);
    /// @notice The caller does not control the entry it acts for.
    error NotController(address caller, address controller);
    /// @notice The acting entry is an issuer, which cannot accredit.
    error NotAnAccreditor(string did, Role role);
    /// @notice The acting accreditor is not accredited now.
    error AccreditorNotActive(string did, Standing standing);
    /// @notice The accreditor may not grant this credential type.
    error TypeOutOfScope(string vct);
    /// @notice The accreditor may not grant this EQF level (0 = unlimited).
    error EqfLevelOutOfScope(uint8 requested, uint8 allowed);
    /// @notice The validity reaches beyond the accreditor's own.
    error ValidityOutOfScope(uint64 validFrom, uint64 validUntil, uint64 allowedFrom, uint64 allowedUntil);
    /// @notice The chain of trust would become deeper than the registry allows.
    error ChainTooDeep(uint8 depth);
    /// @notice Only whoever granted the accreditation, or the root, may change it.
    error NotGrantor(address caller, string did);
    /// @notice The root entry cannot be suspended, revoked or renewed.
    error CannotChangeRoot();
    /// @notice The entry is revoked; nothing can change it any more.
    error AlreadyRevoked(string did, uint64 revokedAt);
    /// @notice The entry is already suspended.
    error AlreadySuspended(string did, uint64 suspendedAt);
    /// @notice The entry is not suspended, so it cannot be reinstated.
    error NotSuspended(string did);
    /// @notice Only the address proposed as the entry's next controller may accept (`pending` is 0 when none is).
    error NotPendingController(address caller, address pending);
    /// @notice There is no proposed controller to cancel.
    error NoPendingTransfer(string did);

    /// @notice A DID was accredited; `controller` is `grant.controller`, indexed so that entries can be found by it.
    event Accredited(
        bytes32 indexed didHash,
        bytes32 indexed accreditedByHash,
        address indexed controller,
        string did,
        string accreditedBy,
        Grant grant
    );
    /// @notice An accreditation was suspended by `by`.
    event Suspended(bytes32 indexed didHash, address indexed by, string did, uint64 at);
    /// @notice A suspended accreditation was reinstated by `by`.
    event Reinstated(bytes32 indexed didHash, address indexed by, string did, uint64 at);
    /// @notice An accreditation was revoked for good by `by`.
    event Revoked(bytes32 indexed didHash, address indexed by, string did, uint64 at);
    /// @notice `by` moved the end of an accreditation's validity.
    event Renewed(bytes32 indexed didHash, address indexed by, string did, uint64 validUntil);
    /// @notice The controller `from` proposed `to` as the entry's next controller (key rotation, step 1).
    event ControllerTransferProposed(bytes32 indexed didHash, address indexed from, address indexed to, string did);
    /// @notice The controller `from` withdrew its proposal of `to`.
    event ControllerTransferCancelled(bytes32 indexed didHash, address indexed from, address indexed to, string did);
    /// @notice `to` accepted, and now controls the entry instead of `from` (key rotation, step 2).
    event ControllerTransferred(bytes32 indexed didHash, address indexed from, address indexed to, string did);

    /// @notice `accreditorDid` (whose controller must be the caller) accredits `grant.did`.
    function accredit(string calldata accreditorDid, Grant calldata grant) external;

    /// @notice Suspends an accreditation (the grantor's controller or the root).
    function suspend(string calldata did) external;

    /// @notice Lifts a suspension (the grantor's controller or the root).
    function reinstate(string calldata did) external;

    /// @notice Revokes an accreditation for good (the grantor's controller or the root).
    function revoke(string calldata did) external;

    /// @notice Moves the end of validity, within the grantor's own (the grantor's controller or the root).
    function renew(string calldata did, uint64 validUntil) external;

    /// @notice The entry's controller proposes `newController` as the next one (step 1 of 2).
    /// @dev Replaces an earlier proposal; the zero address is refused (use `cancelControllerTransfer`).
    /// Works for the root's entry too. Control does not change until `acceptController`.
    function proposeController(string calldata did, address newController) external;

    /// @notice The entry's controller withdraws its pending proposal.
    function cancelControllerTransfer(string calldata did) external;

    /// @notice The proposed address takes control of the entry (step 2 of 2).
    function acceptController(string calldata did) external;

    /// @notice The address proposed as the entry's next controller (zero when none is).
    function pendingControllerOf(string calldata did) external view returns (address);

    /// @notice The DID of the root authority.
    function rootDid() external view returns (string memory);

    /// @notice The entry for `did` (role `None` when there is none).
    function entryOf(string calldata did) external view returns (Entry memory);

    /// @notice The entry for `did` and those of its accreditors up to the root.
    function chainOf(string calldata did) external view returns (Entry[] memory);

    /// @notice Whether `did` was accredited for `vct` (empty: any type) at `at`, and its chain to the root.
    function accreditationAt(string calldata did, string calldata vct, uint64 at)
        external
        view
        returns (Standing standing, Entry[] memory chain);

    /// @notice Whether `did` was accredited for `vct` (empty: any type) at `at`.
    function standingAt(string calldata did, string calldata vct, uint64 at) external view returns (Standing);

    /// @notice Standing at `at` (any type), role and controller of the entry keyed `didHash`.
    function standingOf(bytes32 didHash, uint64 at) external view returns (Standing, Role, address);
}
