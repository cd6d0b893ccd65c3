// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// A payout address that is a contract: when paid in the native token it calls back into
/// the payer with `payload` (claim again) once, and remembers whether that worked. It does
/// not revert itself, so the outer payment goes through and only the re-entry is judged.
contract ReentrantReceiver {
    address public victim;
    bytes public payload;
    uint256 public received;
    bool public reentered;
    bool public reentrySucceeded;
    bytes public lastRevert;

    function arm(address victim_, bytes calldata payload_) external {
        victim = victim_;
        payload = payload_;
    }

    /// Lets the test act as this contract (deposit, claim) through one generic call.
    function exec(address to, uint256 value, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = to.call{value: value}(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    receive() external payable {
        received += msg.value;
        if (!reentered && victim != address(0)) {
            reentered = true;
            (bool ok, bytes memory ret) = victim.call(payload);
            reentrySucceeded = ok;
            if (!ok) lastRevert = ret;
        }
    }
}
