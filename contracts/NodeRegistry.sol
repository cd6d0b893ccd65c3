// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Attested, IAttestationVerifier} from "./IAttestationVerifier.sol";
import {MeasurementPolicy} from "./MeasurementPolicy.sol";

/// The on-chain list of attested nodes (DESIGN.md "The market"). Everything a registration
/// says is in one EIP-712 statement signed by the enclave key that an approved
/// IAttestationVerifier vouched for, so an operator (or anyone relaying) cannot swap the
/// endpoint, payout or prices of someone else's enclave. The registry is a hint for
/// discovery: clients still attest every node themselves.
contract NodeRegistry is Ownable2Step, EIP712 {
    struct Price {
        bytes32 model; // keccak256 of the model name as served (docs/protocol.md)
        uint128 promptPerMTok; // token units per million prompt tokens
        uint128 completionPerMTok; // token units per million completion tokens
    }

    struct Registration {
        address enclave;
        address operator;
        address payout;
        string endpoint;
        string region;
        int32 latE6; // latitude in micro-degrees
        int32 lonE6; // longitude in micro-degrees
        bytes32 attestationDigest;
        bytes32 measurementsDigest;
        bytes32 gpuEvidenceDigest;
        Price[] prices;
        uint64 nonce; // must equal statementNonce[enclave]: a statement is used once
        uint64 deadline;
    }

    struct Node {
        address operator;
        uint64 expiresAt; // 0 once the node left or was invalidated
        uint32 priceVersion;
        uint8 tcbStatus;
        bool simulated;
        address payout;
        int32 latE6;
        int32 lonE6;
        IAttestationVerifier verifier;
        uint64 registeredAt;
        bytes32 attestationDigest;
        bytes32 measurementsDigest;
        bytes32 gpuEvidenceDigest;
        bytes32 pricesHash;
        string endpoint;
        string region;
    }

    bytes32 public constant PRICE_TYPEHASH =
        keccak256("Price(bytes32 model,uint128 promptPerMTok,uint128 completionPerMTok)");
    bytes32 public constant REGISTRATION_TYPEHASH = keccak256(
        "Registration(address enclave,address operator,address payout,string endpoint,string region,int32 latE6,int32 lonE6,bytes32 attestationDigest,bytes32 measurementsDigest,bytes32 gpuEvidenceDigest,Price[] prices,uint64 nonce,uint64 deadline)Price(bytes32 model,uint128 promptPerMTok,uint128 completionPerMTok)"
    );

    MeasurementPolicy public immutable policy;
    /// Fixed at deployment: a production registry can never admit the simulator.
    bool public immutable allowSimulated;
    /// Governed upper bound on a registration's life, whatever the collateral says.
    uint64 public maxValidity;

    mapping(IAttestationVerifier => bool) public verifierApproved;
    mapping(address enclave => Node) private _nodes;
    mapping(address enclave => uint64) public statementNonce;
    mapping(address enclave => mapping(uint32 version => mapping(bytes32 model => Price))) private _prices;

    event VerifierSet(address indexed verifier, bool approved);
    event MaxValiditySet(uint64 maxValidity);
    event NodeRegistered(
        address indexed enclave,
        address indexed operator,
        address payout,
        string endpoint,
        string region,
        int32 latE6,
        int32 lonE6,
        bytes32 measurementsDigest,
        bytes32 gpuEvidenceDigest,
        bytes32 attestationDigest,
        uint8 tcbStatus,
        bool simulated,
        uint64 expiresAt,
        uint32 priceVersion
    );
    event PricesSet(address indexed enclave, uint32 indexed version, Price[] prices);
    event NodeLeft(address indexed enclave);
    event NodeInvalidated(address indexed enclave, address indexed by);

    error VerifierNotApproved();
    error NotOperator();
    error StatementExpired();
    error StatementReplayed(uint64 expected);
    error ForeignSignature(address signer);
    error AttestedKeyMismatch(address attested);
    error EvidenceMismatch();
    error SimulatedNotAllowed();
    error MeasurementNotAllowed(bytes32 measurementsDigest, uint8 tcbStatus);
    error EvidenceExpired();
    error UnknownNode();
    error StillValid();
    error TooManyPrices();

    constructor(address owner_, MeasurementPolicy policy_, bool allowSimulated_, uint64 maxValidity_)
        Ownable(owner_)
        EIP712("Cloister NodeRegistry", "1")
    {
        policy = policy_;
        allowSimulated = allowSimulated_;
        maxValidity = maxValidity_;
        emit MaxValiditySet(maxValidity_);
    }

    function setVerifier(IAttestationVerifier verifier, bool approved) external onlyOwner {
        verifierApproved[verifier] = approved;
        emit VerifierSet(address(verifier), approved);
    }

    function setMaxValidity(uint64 maxValidity_) external onlyOwner {
        maxValidity = maxValidity_;
        emit MaxValiditySet(maxValidity_);
    }

    /// Registers, refreshes (fresh evidence) or updates (new endpoint, prices...) a node:
    /// every call carries a fresh statement signed by the enclave and fresh evidence.
    function register(
        Registration calldata reg,
        bytes calldata enclaveSignature,
        IAttestationVerifier verifier,
        bytes calldata evidence
    ) external {
        if (!verifierApproved[verifier]) revert VerifierNotApproved();
        if (msg.sender != reg.operator) revert NotOperator();
        if (block.timestamp > reg.deadline) revert StatementExpired();
        if (reg.nonce != statementNonce[reg.enclave]) revert StatementReplayed(statementNonce[reg.enclave]);
        if (reg.prices.length > 64) revert TooManyPrices();
        bytes32 pricesHash = _hashPrices(reg.prices);
        address signer = ECDSA.recover(registrationDigest(reg, pricesHash), enclaveSignature);
        if (signer != reg.enclave) revert ForeignSignature(signer);

        Attested memory a = verifier.verify(evidence);
        if (a.enclave != reg.enclave) revert AttestedKeyMismatch(a.enclave);
        if (
            a.attestationDigest != reg.attestationDigest || a.measurementsDigest != reg.measurementsDigest
                || a.gpuEvidenceDigest != reg.gpuEvidenceDigest
        ) revert EvidenceMismatch();
        if (a.simulated && !allowSimulated) revert SimulatedNotAllowed();
        if (!policy.isAllowed(a.measurementsDigest, a.tcbStatus)) {
            revert MeasurementNotAllowed(a.measurementsDigest, a.tcbStatus);
        }
        if (a.notAfter <= block.timestamp) revert EvidenceExpired();

        statementNonce[reg.enclave] = reg.nonce + 1;
        Node storage n = _nodes[reg.enclave];
        uint64 cap = uint64(block.timestamp) + maxValidity;
        n.operator = reg.operator;
        n.expiresAt = a.notAfter < cap ? a.notAfter : cap;
        n.tcbStatus = a.tcbStatus;
        n.simulated = a.simulated;
        n.payout = reg.payout;
        n.latE6 = reg.latE6;
        n.lonE6 = reg.lonE6;
        n.verifier = verifier;
        n.registeredAt = uint64(block.timestamp);
        n.attestationDigest = a.attestationDigest;
        n.measurementsDigest = a.measurementsDigest;
        n.gpuEvidenceDigest = a.gpuEvidenceDigest;
        n.endpoint = reg.endpoint;
        n.region = reg.region;
        if (n.priceVersion == 0 || n.pricesHash != pricesHash) {
            n.priceVersion += 1;
            n.pricesHash = pricesHash;
            for (uint256 i = 0; i < reg.prices.length; i++) {
                _prices[reg.enclave][n.priceVersion][reg.prices[i].model] = reg.prices[i];
            }
            emit PricesSet(reg.enclave, n.priceVersion, reg.prices);
        }
        _emitRegistered(reg.enclave, n);
    }

    function _emitRegistered(address enclave, Node storage n) private {
        emit NodeRegistered(
            enclave,
            n.operator,
            n.payout,
            n.endpoint,
            n.region,
            n.latE6,
            n.lonE6,
            n.measurementsDigest,
            n.gpuEvidenceDigest,
            n.attestationDigest,
            n.tcbStatus,
            n.simulated,
            n.expiresAt,
            n.priceVersion
        );
    }

    function leave(address enclave) external {
        Node storage n = _nodes[enclave];
        if (n.operator != msg.sender) revert NotOperator();
        n.expiresAt = 0;
        emit NodeLeft(enclave);
    }

    /// Anyone may clear a registration that is no longer valid: expired, its measurement or
    /// TCB status removed from the policy, or its verifier withdrawn.
    function invalidate(address enclave) external {
        Node storage n = _nodes[enclave];
        if (n.operator == address(0) || n.expiresAt == 0) revert UnknownNode();
        if (isActive(enclave)) revert StillValid();
        n.expiresAt = 0;
        emit NodeInvalidated(enclave, msg.sender);
    }

    function isActive(address enclave) public view returns (bool) {
        Node storage n = _nodes[enclave];
        return n.expiresAt > block.timestamp && verifierApproved[n.verifier]
            && policy.isAllowed(n.measurementsDigest, n.tcbStatus);
    }

    /// The node's record; `operator` stays set after it left, so stake can still be slashed.
    function getNode(address enclave) external view returns (Node memory) {
        return _nodes[enclave];
    }

    /// What settlement needs, without copying strings: who runs it, who is paid, what it runs.
    function payInfo(address enclave) external view returns (address operator, address payout, bytes32 measurementsDigest) {
        Node storage n = _nodes[enclave];
        return (n.operator, n.payout, n.measurementsDigest);
    }

    function priceOf(address enclave, uint32 version, bytes32 model) external view returns (Price memory) {
        return _prices[enclave][version][model];
    }

    function registrationDigest(Registration calldata reg, bytes32 pricesHash) public view returns (bytes32) {
        bytes memory head = abi.encode(
            REGISTRATION_TYPEHASH,
            reg.enclave,
            reg.operator,
            reg.payout,
            keccak256(bytes(reg.endpoint)),
            keccak256(bytes(reg.region)),
            reg.latE6,
            reg.lonE6,
            reg.attestationDigest,
            reg.measurementsDigest,
            reg.gpuEvidenceDigest
        );
        return _hashTypedDataV4(keccak256(abi.encodePacked(head, abi.encode(pricesHash, reg.nonce, reg.deadline))));
    }

    /// EIP-712 encoding of a struct array: keccak256 of the concatenated struct hashes.
    function _hashPrices(Price[] calldata prices) private pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](prices.length);
        for (uint256 i = 0; i < prices.length; i++) {
            hashes[i] = keccak256(
                abi.encode(PRICE_TYPEHASH, prices[i].model, prices[i].promptPerMTok, prices[i].completionPerMTok)
            );
        }
        return keccak256(abi.encodePacked(hashes));
    }
}
