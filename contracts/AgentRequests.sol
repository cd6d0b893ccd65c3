// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {NodeRegistry} from "./NodeRegistry.sol";

/// Work posted by a contract or a user (an agent or a model, an input hash or a sealed input,
/// a maximum fee, a deadline, and the measurements the answering enclave must have). The fee
/// is released only for a result signed (EIP-712) by an enclave that is registered, unexpired
/// and satisfies the policy; after the deadline the requester takes the fee back.
contract AgentRequests is EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    enum State {
        None,
        Open,
        Fulfilled,
        Refunded
    }

    struct Request {
        address requester;
        address token; // address(0): native
        uint64 deadline;
        State state;
        uint256 maxFee;
        bytes32 target; // agent or model id
        bytes32 inputHash;
        bytes32 policy; // required measurementsDigest, or zero for any registered enclave
    }

    bytes32 public constant RESULT_TYPEHASH =
        keccak256("Result(uint256 requestId,address enclave,bytes32 outputHash,uint256 fee)");

    NodeRegistry public immutable registry;
    uint256 public nextId = 1;
    mapping(uint256 => Request) public requests;
    mapping(address who => mapping(address token => uint256)) public claimable;

    event Posted(
        uint256 indexed id,
        address indexed requester,
        bytes32 indexed target,
        bytes32 inputHash,
        bytes sealedInput,
        bytes32 policy,
        address token,
        uint256 maxFee,
        uint64 deadline
    );
    event Fulfilled(uint256 indexed id, address indexed enclave, bytes32 outputHash, uint256 fee);
    event Refunded(uint256 indexed id);
    event Claimed(address indexed who, address indexed token, uint256 amount);

    error BadRequest();
    error NotOpen();
    error PastDeadline();
    error BeforeDeadline();
    error FeeTooHigh();
    error BadSignature(address signer);
    error EnclaveNotActive();
    error PolicyNotSatisfied();
    error ZeroAmount();
    error TransferFailed();

    constructor(NodeRegistry registry_) EIP712("Cloister AgentRequests", "1") {
        registry = registry_;
    }

    function post(
        bytes32 target,
        bytes32 inputHash,
        bytes calldata sealedInput,
        bytes32 policy,
        address token,
        uint256 maxFee,
        uint64 deadline
    ) external payable nonReentrant returns (uint256 id) {
        if (deadline <= block.timestamp || maxFee == 0) revert BadRequest();
        if (token == address(0)) {
            if (msg.value != maxFee) revert BadRequest();
        } else {
            if (msg.value != 0) revert BadRequest();
            uint256 before = IERC20(token).balanceOf(address(this));
            IERC20(token).safeTransferFrom(msg.sender, address(this), maxFee);
            if (IERC20(token).balanceOf(address(this)) - before != maxFee) revert BadRequest();
        }
        id = nextId++;
        requests[id] = Request(msg.sender, token, deadline, State.Open, maxFee, target, inputHash, policy);
        emit Posted(id, msg.sender, target, inputHash, sealedInput, policy, token, maxFee, deadline);
    }

    /// Anyone may relay the result; only the enclave's signature counts.
    function fulfil(uint256 id, address enclave, bytes32 outputHash, uint256 fee, bytes calldata signature)
        external
        nonReentrant
    {
        Request storage q = requests[id];
        if (q.state != State.Open) revert NotOpen();
        if (block.timestamp > q.deadline) revert PastDeadline();
        if (fee > q.maxFee) revert FeeTooHigh();
        address signer = ECDSA.recover(resultDigest(id, enclave, outputHash, fee), signature);
        if (signer != enclave) revert BadSignature(signer);
        if (!registry.isActive(enclave)) revert EnclaveNotActive();
        (, address payout, bytes32 measurements) = registry.payInfo(enclave);
        if (q.policy != bytes32(0) && q.policy != measurements) revert PolicyNotSatisfied();
        q.state = State.Fulfilled;
        if (fee > 0) claimable[payout][q.token] += fee;
        if (q.maxFee > fee) claimable[q.requester][q.token] += q.maxFee - fee;
        emit Fulfilled(id, enclave, outputHash, fee);
    }

    function refund(uint256 id) external nonReentrant {
        Request storage q = requests[id];
        if (q.state != State.Open) revert NotOpen();
        if (block.timestamp <= q.deadline) revert BeforeDeadline();
        q.state = State.Refunded;
        claimable[q.requester][q.token] += q.maxFee;
        emit Refunded(id);
    }

    function claim(address token) external nonReentrant {
        uint256 amount = claimable[msg.sender][token];
        if (amount == 0) revert ZeroAmount();
        claimable[msg.sender][token] = 0;
        emit Claimed(msg.sender, token, amount);
        if (token == address(0)) {
            (bool ok,) = msg.sender.call{value: amount}("");
            if (!ok) revert TransferFailed();
        } else {
            IERC20(token).safeTransfer(msg.sender, amount);
        }
    }

    function resultDigest(uint256 id, address enclave, bytes32 outputHash, uint256 fee) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(RESULT_TYPEHASH, id, enclave, outputHash, fee)));
    }
}
