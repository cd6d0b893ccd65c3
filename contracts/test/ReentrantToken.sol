// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// A malicious ERC-20: on every transfer out of the victim it calls back into the victim
/// with `payload` (e.g. claim(token) again) and records whether the re-entry succeeded.
contract ReentrantToken is ERC20 {
    address public victim;
    bytes public payload;
    bool public reentered;
    bool public reentrySucceeded;
    bytes public lastRevert;

    constructor() ERC20("Evil", "EVIL") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(address victim_, bytes calldata payload_) external {
        victim = victim_;
        payload = payload_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (from == victim && victim != address(0) && !reentered) {
            reentered = true;
            (bool ok, bytes memory ret) = victim.call(payload);
            reentrySucceeded = ok;
            if (!ok) lastRevert = ret;
        }
    }
}
