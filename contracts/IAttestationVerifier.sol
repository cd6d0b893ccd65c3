// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// What an attestation verifier vouches for: one enclave key, the digests of the
/// evidence it saw, and until when that judgement holds (the collateral's next update).
struct Attested {
    /// The enclave's signing address, taken from the quote's report_data (never from the caller).
    address enclave;
    /// keccak256 of the raw evidence the verifier checked.
    bytes32 attestationDigest;
    /// keccak256 of the measurement registers (docs/protocol.md "Market contracts").
    bytes32 measurementsDigest;
    /// SHA-256 of the exact nvidia_payload string, or zero when there are no GPUs.
    bytes32 gpuEvidenceDigest;
    /// Automata's TCBStatus enum, verbatim: 0 is UpToDate; the policy lists what else is accepted.
    uint8 tcbStatus;
    /// Unix seconds after which the evidence's collateral must be fetched again.
    uint64 notAfter;
    /// True for the loudly-not-secure simulator.
    bool simulated;
}

/// One door for admission (DESIGN.md "The market"): a k-of-n quorum of verifier enclaves,
/// or an adapter for an on-chain DCAP verifier. Reverts when the evidence does not verify.
interface IAttestationVerifier {
    function verify(bytes calldata evidence) external returns (Attested memory);
}
