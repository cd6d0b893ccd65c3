// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Attested, IAttestationVerifier} from "./IAttestationVerifier.sol";
import {IAutomataDcapAttestation} from "./IAutomataDcapAttestation.sol";

/// Admission by Automata's on-chain DCAP verifier for Intel TDX quotes. The quote's
/// signature chain, TCB and collateral are Automata's job; this adapter reads what the
/// verified TD report says: the measurements, the debug bit, and report_data v1
/// (docs/protocol.md), from which it recomputes the binding of the enclave key, the E2E key,
/// the TLS key digest and the GPU evidence digest.
contract AutomataDcapAdapter is IAttestationVerifier {
    IAutomataDcapAttestation public immutable dcap;
    /// Automata's PCCS rejects expired collateral at verification time but does not report
    /// its next update; a verdict from it is trusted for this long at most.
    uint64 public immutable collateralWindow;

    bytes4 private constant TEE_TDX = 0x00000081;
    uint256 private constant HEADER = 13; // version 2 + tee 4 + tcbStatus 1 + fmspc 6
    uint256 private constant TD_REPORT_LEN = 584; // TD10 report body (TDX quote v4)
    // Offsets inside the TD10 report body (Intel TDX DCAP Quoting Library API, A.3.2).
    uint256 private constant OFF_TD_ATTRIBUTES = 120;
    uint256 private constant OFF_MRTD = 136;
    uint256 private constant OFF_RTMR0 = 328;
    uint256 private constant OFF_REPORT_DATA = 520;

    error DcapRejected(bytes reason);
    error NotTdx();
    error DebugTd();
    error ReportDataMismatch();

    constructor(IAutomataDcapAttestation dcap_, uint64 collateralWindow_) {
        dcap = dcap_;
        collateralWindow = collateralWindow_;
    }

    /// evidence = abi.encode(bytes rawQuote, address signer, bytes32 e2ePublicKey,
    ///                       bytes32 tlsSpkiSha256, bytes32 gpuEvidenceSha256)
    /// with the two digests being SHA-256 of the empty string when absent (report_data v1).
    function verify(bytes calldata evidence) external returns (Attested memory a) {
        (bytes memory quote, address signer, bytes32 e2e, bytes32 tls, bytes32 gpu) =
            abi.decode(evidence, (bytes, address, bytes32, bytes32, bytes32));
        (bool ok, bytes memory out) = dcap.verifyAndAttestOnChain(quote);
        if (!ok) revert DcapRejected(out);
        if (out.length < HEADER + TD_REPORT_LEN || bytes4(_slice(out, 2, 4)) != TEE_TDX) revert NotTdx();
        uint256 body = HEADER;
        // TDATTRIBUTES bit 0 is DEBUG: a debuggable TD's memory is readable by the host.
        if (uint8(out[body + OFF_TD_ATTRIBUTES]) & 1 != 0) revert DebugTd();
        bytes memory expected = abi.encodePacked(
            sha256(abi.encodePacked("cloister/report-data/v1", signer, e2e, tls, gpu))
        );
        if (keccak256(_slice(out, body + OFF_REPORT_DATA, 32)) != keccak256(expected)) revert ReportDataMismatch();

        a.enclave = signer;
        a.attestationDigest = keccak256(quote);
        // measurementsDigest = keccak256(MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3), 5 × 48 bytes.
        a.measurementsDigest = keccak256(
            abi.encodePacked(_slice(out, body + OFF_MRTD, 48), _slice(out, body + OFF_RTMR0, 192))
        );
        a.gpuEvidenceDigest = gpu == sha256("") ? bytes32(0) : gpu;
        a.tcbStatus = uint8(out[6]);
        a.notAfter = uint64(block.timestamp) + collateralWindow;
        a.simulated = false;
    }

    function _slice(bytes memory b, uint256 start, uint256 len) private pure returns (bytes memory r) {
        r = new bytes(len);
        for (uint256 i = 0; i < len; i++) r[i] = b[start + i];
    }
}
