// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// Sealed models on chain (issue #11, docs/protocol.md "Sealed models on chain"). An owner
/// registers a model id (keccak256 of its name, the id Escrow pays royalties under) with the
/// sealed file's and the plaintext's SHA-256, its price and royalty share, the key brokers it
/// trusts, and the SHA-256 of its owner-signed registration document: the document carries
/// the key-release policy (measurements, TCB statuses, GPU claims), and a broker releases a
/// share only under the document whose digest is on chain now. Revoking a node here takes
/// effect at the next lease renewal. Every release is an event, submitted by anyone but
/// signed (EIP-712) by a broker the owner listed, and only while the node is not revoked and
/// the release names the current registration.
contract ModelRegistry is EIP712 {
    struct Terms {
        bytes32 sealedSha256;
        bytes32 plaintextSha256;
        bytes32 policyDigest; // SHA-256 of the owner-signed registration document's payload
        uint64 sequence; // the document's sequence: strictly increasing
        address priceToken; // address(0): the chain's native token
        uint256 pricePerMTok; // token units per million tokens served
        uint16 royaltyBps; // the owner's share of what nodes are paid for this model
        string policyUri; // where the document can be fetched (may be empty)
    }

    struct Model {
        address owner;
        uint16 royaltyBps;
        uint64 sequence;
        address priceToken;
        uint256 pricePerMTok;
        bytes32 sealedSha256;
        bytes32 plaintextSha256;
        bytes32 policyDigest;
    }

    struct Release {
        bytes32 model;
        address node; // the node's attested signing address
        uint64 sequence;
        bytes32 policyDigest;
        uint8 shareIndex;
        uint64 expiresAt; // the lease's end, unix seconds
        bytes32 leaseHash; // SHA-256 of the broker's signed lease text
    }

    bytes32 public constant RELEASE_TYPEHASH = keccak256(
        "Release(bytes32 model,address node,uint64 sequence,bytes32 policyDigest,uint8 shareIndex,uint64 expiresAt,bytes32 leaseHash)"
    );
    uint16 public constant MAX_ROYALTY_BPS = 9000; // as Escrow

    mapping(bytes32 model => Model) public models;
    mapping(bytes32 model => mapping(address broker => bool)) public isBroker;
    mapping(bytes32 model => mapping(address node => bool)) public revoked;
    mapping(bytes32 leaseHash => bool) public released;

    event ModelRegistered(bytes32 indexed model, address indexed owner, string name, Terms terms);
    event BrokerSet(bytes32 indexed model, address indexed broker, bool allowed);
    event NodeRevoked(bytes32 indexed model, address indexed node, bool revoked);
    event KeyReleased(
        bytes32 indexed model,
        address indexed broker,
        address indexed node,
        uint64 sequence,
        bytes32 policyDigest,
        uint8 shareIndex,
        uint64 expiresAt,
        bytes32 leaseHash
    );

    error NotModelOwner();
    error StaleSequence(uint64 current);
    error BadTerms();
    error UnknownModel();
    error NotBroker(address signer);
    error NodeIsRevoked();
    error NotCurrentRegistration();
    error AlreadyRecorded();

    constructor() EIP712("Cloister ModelRegistry", "1") {}

    /// The first caller claims `name`; later calls must come from its owner with a higher
    /// sequence (a policy change, a reshare). Brokers are added, never silently dropped:
    /// remove one with setBroker.
    function register(string calldata name, Terms calldata t, address[] calldata brokers) external returns (bytes32 model) {
        model = keccak256(bytes(name));
        Model storage m = models[model];
        if (m.owner != address(0) && m.owner != msg.sender) revert NotModelOwner();
        if (t.sequence <= m.sequence) revert StaleSequence(m.sequence);
        if (t.royaltyBps > MAX_ROYALTY_BPS || t.policyDigest == bytes32(0) || t.plaintextSha256 == bytes32(0)) revert BadTerms();
        m.owner = msg.sender;
        m.royaltyBps = t.royaltyBps;
        m.sequence = t.sequence;
        m.priceToken = t.priceToken;
        m.pricePerMTok = t.pricePerMTok;
        m.sealedSha256 = t.sealedSha256;
        m.plaintextSha256 = t.plaintextSha256;
        m.policyDigest = t.policyDigest;
        emit ModelRegistered(model, msg.sender, name, t);
        for (uint256 i = 0; i < brokers.length; i++) _setBroker(model, brokers[i], true);
    }

    function setBroker(bytes32 model, address broker, bool allowed) external {
        _onlyOwner(model);
        _setBroker(model, broker, allowed);
    }

    /// Brokers read this on every release: a revoked node gets no renewal, so its lease
    /// (at most the document's lease_seconds) is the longest it keeps the key.
    function setRevoked(bytes32 model, address node, bool isRevoked) external {
        _onlyOwner(model);
        revoked[model][node] = isRevoked;
        emit NodeRevoked(model, node, isRevoked);
    }

    /// Anyone may submit; the broker's signature is what counts.
    function recordRelease(Release calldata r, bytes calldata brokerSignature) external {
        Model storage m = models[r.model];
        if (m.owner == address(0)) revert UnknownModel();
        address signer = ECDSA.recover(releaseDigest(r), brokerSignature);
        if (!isBroker[r.model][signer]) revert NotBroker(signer);
        if (revoked[r.model][r.node]) revert NodeIsRevoked();
        if (r.sequence != m.sequence || r.policyDigest != m.policyDigest) revert NotCurrentRegistration();
        if (released[r.leaseHash]) revert AlreadyRecorded();
        released[r.leaseHash] = true;
        emit KeyReleased(r.model, signer, r.node, r.sequence, r.policyDigest, r.shareIndex, r.expiresAt, r.leaseHash);
    }

    function releaseDigest(Release calldata r) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(RELEASE_TYPEHASH, r.model, r.node, r.sequence, r.policyDigest, r.shareIndex, r.expiresAt, r.leaseHash))
        );
    }

    function _onlyOwner(bytes32 model) private view {
        address owner = models[model].owner;
        if (owner == address(0)) revert UnknownModel();
        if (owner != msg.sender) revert NotModelOwner();
    }

    function _setBroker(bytes32 model, address broker, bool allowed) private {
        isBroker[model][broker] = allowed;
        emit BrokerSet(model, broker, allowed);
    }
}
