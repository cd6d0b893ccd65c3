// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// The entry point of Automata's on-chain DCAP verifier (automata-dcap-attestation, evm).
/// On success `output` is abi.encodePacked(uint16 quoteVersion, bytes4 tee, uint8 tcbStatus,
/// bytes6 fmspc, bytes quoteBody, [abi.encode(string[] advisoryIDs)]); on failure it is the
/// error message. Their README: ~4M gas fully on chain, ~300k with a RISC Zero proof.
interface IAutomataDcapAttestation {
    function verifyAndAttestOnChain(bytes calldata rawQuote) external payable returns (bool success, bytes memory output);
}
