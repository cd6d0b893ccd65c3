// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {NodeRegistry} from "./NodeRegistry.sol";

/// Reward pools for private data contributions (issue #12, DESIGN.md "Data contributions").
/// A dataset's sponsor creates a pool and funds it; a contributor claims with the reward
/// claim the pipeline's enclave signed in its contribution receipt. A claim pays only if
/// - it is signed by a key the pool trusts: the pipeline key the sponsor bound to the pool
///   (after attesting that pipeline), or, when none is bound, an enclave the NodeRegistry
///   lists as active under the measurements digest the pool names;
/// - it was cleaned under the pool's pipeline measurement and is for the pool's dataset;
/// - its contribution was never paid before (by any pool of this contract);
/// - the pool holds the whole amount (units x reward per unit): never more than it holds.
/// The payout address is committed to in the claim (keccak256(payout || salt)) and only
/// revealed here, so the pipeline never learns where a contributor is paid.
/// Every pool has a claim deadline, fixed at creation and only ever moved later: until it
/// passes, contributions can be claimed and nobody can take the money out; after it, claims
/// and funding stop and the sponsor alone may withdraw what is left, once. A sponsor can
/// therefore never pull a balance out from under contributors who are still in time.
contract DataPool is EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    struct RewardClaim {
        bytes32 contributionId;
        string dataset;
        bytes32 pipeline;
        bytes32 contributor;
        bytes32 payoutCommitment;
        uint256 units;
        uint64 issuedAt;
    }

    struct Pool {
        address sponsor;
        IERC20 token;
        uint256 rewardPerUnit;
        uint256 balance;
        bytes32 datasetHash;
        bytes32 pipeline; // the data pipeline measurement claims must carry
        address pipelineKey; // a bound enclave key, or zero to trust the registry
        bytes32 nodeMeasurements; // registry mode: the node's measurements digest
        uint64 claimUntil; // claims pay while block.timestamp <= claimUntil; then the sponsor may withdraw
        bool withdrawn; // the sponsor took the remainder: the pool is closed for good
    }

    bytes32 public constant CLAIM_TYPEHASH = keccak256(
        "RewardClaim(bytes32 contributionId,string dataset,bytes32 pipeline,bytes32 contributor,bytes32 payoutCommitment,uint256 units,uint64 issuedAt)"
    );

    NodeRegistry public immutable registry;
    mapping(bytes32 poolId => Pool) private _pools;
    mapping(bytes32 contributionId => bool) public claimed;

    event PoolCreated(
        bytes32 indexed poolId,
        address indexed sponsor,
        string dataset,
        address token,
        uint256 rewardPerUnit,
        bytes32 pipeline,
        address pipelineKey,
        bytes32 nodeMeasurements,
        uint64 claimUntil
    );
    event ClaimDeadlineExtended(bytes32 indexed poolId, uint64 claimUntil);
    event Withdrawn(bytes32 indexed poolId, address indexed sponsor, uint256 amount);
    event PoolFunded(bytes32 indexed poolId, address indexed from, uint256 amount, uint256 balance);
    event Claimed(bytes32 indexed poolId, bytes32 indexed contributionId, address payout, uint256 amount);

    error PoolExists();
    error UnknownPool();
    error NoTrustedKey();
    error ZeroAmount();
    error WrongDataset();
    error WrongPipeline(bytes32 pipeline);
    error AlreadyClaimed();
    error UntrustedSigner(address signer);
    error PayoutMismatch();
    error PoolExhausted(uint256 owed, uint256 balance);
    error DeadlineInPast(uint64 claimUntil);
    error DeadlineNotLater(uint64 current, uint64 requested);
    error ClaimPeriodOver(uint64 claimUntil);
    error ClaimPeriodOpen(uint64 claimUntil);
    error NotSponsor();
    error AlreadyWithdrawn();

    constructor(NodeRegistry registry_) EIP712("Cloister Data", "1") {
        registry = registry_;
    }

    /// The pool id: one pool per sponsor and dataset name.
    function poolIdOf(address sponsor, string calldata dataset) public pure returns (bytes32) {
        return keccak256(abi.encode(sponsor, keccak256(bytes(dataset))));
    }

    function createPool(
        string calldata dataset,
        IERC20 token,
        uint256 rewardPerUnit,
        bytes32 pipeline,
        address pipelineKey,
        bytes32 nodeMeasurements,
        uint64 claimUntil
    ) external returns (bytes32 poolId) {
        if (rewardPerUnit == 0) revert ZeroAmount();
        if (claimUntil <= block.timestamp) revert DeadlineInPast(claimUntil);
        // Registry mode needs a registry and a measurement to look enclaves up under.
        if (pipelineKey == address(0) && (address(registry) == address(0) || nodeMeasurements == bytes32(0))) revert NoTrustedKey();
        poolId = poolIdOf(msg.sender, dataset);
        if (_pools[poolId].sponsor != address(0)) revert PoolExists();
        _pools[poolId] = Pool({
            sponsor: msg.sender,
            token: token,
            rewardPerUnit: rewardPerUnit,
            balance: 0,
            datasetHash: keccak256(bytes(dataset)),
            pipeline: pipeline,
            pipelineKey: pipelineKey,
            nodeMeasurements: nodeMeasurements,
            claimUntil: claimUntil,
            withdrawn: false
        });
        emit PoolCreated(poolId, msg.sender, dataset, address(token), rewardPerUnit, pipeline, pipelineKey, nodeMeasurements, claimUntil);
    }

    /// Gives contributors more time. Only later, never earlier (a shortened deadline would
    /// be a withdrawal before the promised date); also after the deadline passed, so a
    /// sponsor can reopen claims, but not once the remainder was withdrawn.
    function extendClaimDeadline(bytes32 poolId, uint64 claimUntil) external {
        Pool storage p = _pools[poolId];
        if (p.sponsor == address(0)) revert UnknownPool();
        if (msg.sender != p.sponsor) revert NotSponsor();
        if (p.withdrawn) revert AlreadyWithdrawn();
        if (claimUntil <= p.claimUntil) revert DeadlineNotLater(p.claimUntil, claimUntil);
        p.claimUntil = claimUntil;
        emit ClaimDeadlineExtended(poolId, claimUntil);
    }

    /// After the claim deadline: the sponsor takes what no claim took, once. The pool is then
    /// closed (no claims, no funding, no extension).
    function withdraw(bytes32 poolId) external nonReentrant returns (uint256 amount) {
        Pool storage p = _pools[poolId];
        if (p.sponsor == address(0)) revert UnknownPool();
        if (msg.sender != p.sponsor) revert NotSponsor();
        if (block.timestamp <= p.claimUntil) revert ClaimPeriodOpen(p.claimUntil);
        if (p.withdrawn) revert AlreadyWithdrawn();
        amount = p.balance;
        p.balance = 0;
        p.withdrawn = true;
        emit Withdrawn(poolId, p.sponsor, amount);
        if (amount > 0) p.token.safeTransfer(p.sponsor, amount);
    }

    /// Anyone may fund a pool; the tokens are pulled (approve first). The credited amount
    /// is what arrived, so a fee-on-transfer token cannot inflate the balance.
    function fund(bytes32 poolId, uint256 amount) external nonReentrant {
        Pool storage p = _pools[poolId];
        if (p.sponsor == address(0)) revert UnknownPool();
        if (amount == 0) revert ZeroAmount();
        // Money sent after the deadline could only go back to the sponsor: refuse it.
        if (block.timestamp > p.claimUntil) revert ClaimPeriodOver(p.claimUntil);
        uint256 before = p.token.balanceOf(address(this));
        p.token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = p.token.balanceOf(address(this)) - before;
        p.balance += received;
        emit PoolFunded(poolId, msg.sender, received, p.balance);
    }

    function claimDigest(RewardClaim calldata c) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    CLAIM_TYPEHASH,
                    c.contributionId,
                    keccak256(bytes(c.dataset)),
                    c.pipeline,
                    c.contributor,
                    c.payoutCommitment,
                    c.units,
                    c.issuedAt
                )
            )
        );
    }

    /// Pays a claim to `payout`, revealed with the salt of the claim's commitment. Anyone
    /// may submit it (a relayer pays the gas); the money only goes to the committed address.
    function claim(bytes32 poolId, RewardClaim calldata c, bytes calldata signature, address payout, bytes32 salt)
        external
        nonReentrant
        returns (uint256 amount)
    {
        Pool storage p = _pools[poolId];
        if (p.sponsor == address(0)) revert UnknownPool();
        if (block.timestamp > p.claimUntil) revert ClaimPeriodOver(p.claimUntil);
        if (keccak256(bytes(c.dataset)) != p.datasetHash) revert WrongDataset();
        if (c.pipeline != p.pipeline) revert WrongPipeline(c.pipeline);
        if (claimed[c.contributionId]) revert AlreadyClaimed();
        address signer = ECDSA.recover(claimDigest(c), signature);
        if (!_trusted(p, signer)) revert UntrustedSigner(signer);
        if (keccak256(abi.encodePacked(payout, salt)) != c.payoutCommitment) revert PayoutMismatch();
        amount = c.units * p.rewardPerUnit;
        if (amount > p.balance) revert PoolExhausted(amount, p.balance);
        claimed[c.contributionId] = true;
        p.balance -= amount;
        emit Claimed(poolId, c.contributionId, payout, amount);
        p.token.safeTransfer(payout, amount);
    }

    function _trusted(Pool storage p, address signer) private view returns (bool) {
        if (p.pipelineKey != address(0)) return signer == p.pipelineKey;
        if (!registry.isActive(signer)) return false;
        return registry.getNode(signer).measurementsDigest == p.nodeMeasurements;
    }

    function getPool(bytes32 poolId) external view returns (Pool memory) {
        return _pools[poolId];
    }
}
