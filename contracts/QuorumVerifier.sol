// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Attested, IAttestationVerifier} from "./IAttestationVerifier.sol";

/// A k-of-n quorum of attestation-verifier enclaves. Each member runs src/attest (which also
/// checks NVIDIA GPU evidence, which nothing on chain can) and signs an EIP-712 Verdict; the
/// registry admits a node when at least `threshold` distinct members signed the same verdict.
/// Members are added by the owner after the owner attested the member enclave itself.
contract QuorumVerifier is IAttestationVerifier, Ownable2Step, EIP712 {
    bytes32 public constant VERDICT_TYPEHASH = keccak256(
        "Verdict(address enclave,bytes32 attestationDigest,bytes32 measurementsDigest,bytes32 gpuEvidenceDigest,uint8 tcbStatus,uint64 notAfter,bool simulated,uint64 issuedAt)"
    );

    struct Verdict {
        address enclave;
        bytes32 attestationDigest;
        bytes32 measurementsDigest;
        bytes32 gpuEvidenceDigest;
        uint8 tcbStatus;
        uint64 notAfter;
        bool simulated;
        uint64 issuedAt;
    }

    mapping(address => bool) public isMember;
    uint256 public memberCount;
    uint256 public threshold;
    /// A verdict older than this is stale: the quorum must look at fresh evidence.
    uint64 public maxVerdictAge;

    event MemberAdded(address indexed member);
    event MemberRemoved(address indexed member);
    event ThresholdChanged(uint256 threshold);

    error BadThreshold();
    error NotEnoughSignatures(uint256 got, uint256 needed);
    error SignersNotAscending();
    error NotAMember(address signer);
    error StaleVerdict();

    constructor(address owner_, address[] memory members, uint256 threshold_, uint64 maxVerdictAge_)
        Ownable(owner_)
        EIP712("Cloister QuorumVerifier", "1")
    {
        for (uint256 i = 0; i < members.length; i++) _add(members[i]);
        _setThreshold(threshold_);
        maxVerdictAge = maxVerdictAge_;
    }

    function addMember(address member) external onlyOwner {
        _add(member);
    }

    function removeMember(address member) external onlyOwner {
        if (!isMember[member]) revert NotAMember(member);
        isMember[member] = false;
        memberCount -= 1;
        emit MemberRemoved(member);
        if (threshold > memberCount) revert BadThreshold();
    }

    function setThreshold(uint256 threshold_) external onlyOwner {
        _setThreshold(threshold_);
    }

    function verdictDigest(Verdict memory v) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    VERDICT_TYPEHASH,
                    v.enclave,
                    v.attestationDigest,
                    v.measurementsDigest,
                    v.gpuEvidenceDigest,
                    v.tcbStatus,
                    v.notAfter,
                    v.simulated,
                    v.issuedAt
                )
            )
        );
    }

    /// evidence = abi.encode(Verdict, bytes[] signatures), signatures ordered by ascending
    /// signer address so that one member cannot be counted twice.
    function verify(bytes calldata evidence) external view returns (Attested memory) {
        (Verdict memory v, bytes[] memory sigs) = abi.decode(evidence, (Verdict, bytes[]));
        if (v.issuedAt > block.timestamp || block.timestamp - v.issuedAt > maxVerdictAge) revert StaleVerdict();
        bytes32 digest = verdictDigest(v);
        address last = address(0);
        uint256 valid = 0;
        for (uint256 i = 0; i < sigs.length; i++) {
            address signer = ECDSA.recover(digest, sigs[i]);
            if (signer <= last) revert SignersNotAscending();
            if (!isMember[signer]) revert NotAMember(signer);
            last = signer;
            valid++;
        }
        if (valid < threshold) revert NotEnoughSignatures(valid, threshold);
        return Attested({
            enclave: v.enclave,
            attestationDigest: v.attestationDigest,
            measurementsDigest: v.measurementsDigest,
            gpuEvidenceDigest: v.gpuEvidenceDigest,
            tcbStatus: v.tcbStatus,
            notAfter: v.notAfter,
            simulated: v.simulated
        });
    }

    function _add(address member) private {
        if (member == address(0) || isMember[member]) revert NotAMember(member);
        isMember[member] = true;
        memberCount += 1;
        emit MemberAdded(member);
    }

    function _setThreshold(uint256 threshold_) private {
        if (threshold_ == 0 || threshold_ > memberCount) revert BadThreshold();
        threshold = threshold_;
        emit ThresholdChanged(threshold_);
    }
}
