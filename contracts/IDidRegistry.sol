// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title DID registry for issuers' signing keys (DID method `did:mcr`)
/// @notice Imitates EBSI's DID Registry: a DID document whose verification
/// methods are valid from one block until another, controlled by one Ethereum
/// account. The DID is `did:mcr:<chain id>:<id>`, where `id` is the 16-byte
/// (32 hex) identifier `register` derives from the caller and a salt.
///
/// A verification method is an issuer's public key (P-256 or Ed25519), named
/// by its RFC 7638 JWK thumbprint (`keyId`, also the DID URL fragment in
/// base64url). It is valid in [validFromBlock, validUntilBlock) (until 0:
/// no end yet). `rotate` adds a new method and ends an old one in the same
/// transaction, so there is no block where neither or both are valid.
/// `revokeMethod` ends a method and marks it revoked: a credential signed with
/// it is trusted only if its issuance was anchored before the revocation.
/// Nothing is ever deleted: the records are the key history a verifier needs to
/// check a credential issued years ago.
///
/// Control changes hands in two steps, as in OpenZeppelin's Ownable2Step (and
/// the TrustRegistry): the controller proposes, only the proposed address can
/// accept. Every address in an event is an indexed topic.
interface IDidRegistry {
    /// @notice The kind of key a verification method holds.
    enum KeyType {
        None,
        P256, // SEC1 point: 33 bytes compressed (0x02/0x03 ‖ x) or 65 uncompressed (0x04 ‖ x ‖ y)
        Ed25519 // RFC 8032 public key: 32 bytes
    }

    /// @notice A key to add (the input of `register`, `addMethod`, `rotate`).
    struct MethodInput {
        bytes32 keyId; // RFC 7638 JWK thumbprint (SHA-256) of the public key
        KeyType keyType;
        bytes publicKey;
    }

    /// @notice A stored verification method.
    struct Method {
        bytes32 keyId;
        KeyType keyType;
        bytes publicKey;
        uint64 validFromBlock;
        uint64 validUntilBlock; // 0: no end yet
        uint64 revokedAtBlock; // 0: not revoked
        address addedBy;
    }

    /// @notice A DID's record: who controls it, since when, and every key it ever had.
    struct Record {
        address controller;
        uint64 registeredAtBlock;
        Method[] methods;
    }

    /// @notice No DID has this identifier.
    error UnknownIdentifier(bytes16 id);
    /// @notice A DID with this identifier exists (the same caller and salt were used before).
    error IdentifierTaken(bytes16 id);
    /// @notice The caller does not control the DID it acts for.
    error NotController(address caller, address controller);
    /// @notice The controller must be a real address.
    error ZeroController();
    /// @notice The key id must be a thumbprint, not zero.
    error ZeroKeyId();
    /// @notice The key bytes do not have a length or prefix its type allows.
    error InvalidPublicKey(KeyType keyType, uint256 length);
    /// @notice The DID already lists a method with this key id (ids are never reused).
    error DuplicateKeyId(bytes32 keyId);
    /// @notice The DID lists no method with this key id.
    error UnknownKeyId(bytes16 id, bytes32 keyId);
    /// @notice The method already ended (rotated out or revoked) at `validUntilBlock`.
    error MethodAlreadyEnded(bytes32 keyId, uint64 validUntilBlock);
    /// @notice The method was already revoked at `revokedAtBlock`.
    error MethodAlreadyRevoked(bytes32 keyId, uint64 revokedAtBlock);
    /// @notice A DID holds at most `max` methods, old ones included (they are its key history).
    error TooManyMethods(uint256 max);
    /// @notice Only the address proposed as the next controller may accept (`pending` is 0 when none is).
    error NotPendingController(address caller, address pending);
    /// @notice There is no proposed controller to cancel.
    error NoPendingControllerTransfer(bytes16 id);

    /// @notice `controller` registered the DID `id`.
    event DidRegistered(bytes16 indexed id, address indexed controller, uint64 atBlock);
    /// @notice `by` added the method `keyId` to `id`, valid from `validFromBlock`.
    event MethodAdded(bytes16 indexed id, bytes32 indexed keyId, address indexed by, uint64 validFromBlock);
    /// @notice `by` ended the method `keyId` of `id` (a rotation): valid until `validUntilBlock`, exclusive.
    event MethodEnded(bytes16 indexed id, bytes32 indexed keyId, address indexed by, uint64 validUntilBlock);
    /// @notice `by` revoked the method `keyId` of `id` at `revokedAtBlock`.
    event MethodRevoked(bytes16 indexed id, bytes32 indexed keyId, address indexed by, uint64 revokedAtBlock);
    /// @notice The controller `from` proposed `to` as the next controller (step 1 of 2).
    event ControllerTransferProposed(bytes16 indexed id, address indexed from, address indexed to);
    /// @notice The controller `from` withdrew its proposal of `to`.
    event ControllerTransferCancelled(bytes16 indexed id, address indexed from, address indexed to);
    /// @notice `to` accepted and now controls the DID instead of `from` (step 2 of 2).
    event ControllerTransferred(bytes16 indexed id, address indexed from, address indexed to);

    /// @notice Registers a DID controlled by the caller, with its first key valid from this block.
    /// @return id the DID's identifier: the first 16 bytes of keccak256(chain id, caller, salt).
    function register(bytes32 salt, MethodInput calldata first) external returns (bytes16 id);

    /// @notice The controller adds a key, valid from this block; the others stay valid.
    function addMethod(bytes16 id, MethodInput calldata method) external;

    /// @notice The controller adds `next` and ends `oldKeyId`, both at this block (one transaction).
    function rotate(bytes16 id, bytes32 oldKeyId, MethodInput calldata next) external;

    /// @notice The controller revokes a key: it ends at this block (unless it ended earlier) and is marked revoked.
    function revokeMethod(bytes16 id, bytes32 keyId) external;

    /// @notice The controller proposes `newController` (step 1 of 2); replaces an earlier proposal.
    function proposeController(bytes16 id, address newController) external;

    /// @notice The controller withdraws its pending proposal.
    function cancelControllerTransfer(bytes16 id) external;

    /// @notice The proposed address takes control (step 2 of 2).
    function acceptController(bytes16 id) external;

    /// @notice The identifier `register` gives `registrant` for `salt`.
    function identifierFor(address registrant, bytes32 salt) external view returns (bytes16);

    /// @notice The DID's record (controller zero when there is none).
    function recordOf(bytes16 id) external view returns (Record memory);

    /// @notice The address proposed as the next controller (zero when none is).
    function pendingControllerOf(bytes16 id) external view returns (address);
}
