// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAutomataDcapAttestation} from "../IAutomataDcapAttestation.sol";

/// Test stand-in with Automata's ABI. The real contract checks the quote's signature chain
/// against its on-chain PCCS; this one accepts exactly the quotes a test approved (standing
/// for "the chain verified") and then builds the output the way Automata's
/// QuoteVerifierBase.serializeOutput does, from the quote's own bytes (TDX v4: 48-byte header,
/// 584-byte TD report body).
contract MockAutomataDcap is IAutomataDcapAttestation {
    mapping(bytes32 => uint8) public approvedStatus; // status + 1; 0 = not approved

    function approve(bytes calldata quote, uint8 tcbStatus) external {
        approvedStatus[keccak256(quote)] = tcbStatus + 1;
    }

    function verifyAndAttestOnChain(bytes calldata rawQuote) external payable returns (bool, bytes memory) {
        uint8 s = approvedStatus[keccak256(rawQuote)];
        if (s == 0) return (false, bytes("Invalid quote signature"));
        if (rawQuote.length < 48 + 584) return (false, bytes("Quote too short"));
        return (
            true,
            abi.encodePacked(uint16(4), bytes4(0x00000081), uint8(s - 1), bytes6(0), rawQuote[48:48 + 584])
        );
    }
}
