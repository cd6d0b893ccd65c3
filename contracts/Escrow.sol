// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {NodeRegistry} from "./NodeRegistry.sol";

/// Users' deposits, their EIP-712 spend permits, and settlement of enclave-signed usage
/// receipts. A receipt carries the cumulative amount owed on its channel
/// (permit, enclave, model) and a sequence number, so one settlement pays for any number of
/// requests, a receipt pays once, and two receipts with one sequence number are proof that
/// the enclave key signed two histories (its operator's stake is slashed). Payouts are
/// credited and pulled with claim(), never pushed, and every entry point is nonReentrant.
/// Token address(0) is the chain's native token.
contract Escrow is Ownable2Step, EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    struct SpendPermit {
        address user;
        address node; // an enclave address, or zero to allow any node matching `policy`
        bytes32 policy; // a measurementsDigest the node must have, or zero
        address token;
        uint256 maxAmount;
        uint64 expiry;
        uint64 nonce;
    }

    struct Receipt {
        bytes32 permitId;
        address enclave;
        bytes32 model;
        uint32 priceVersion;
        bytes32 requestHash;
        bytes32 responseHash;
        uint64 promptTokens;
        uint64 completionTokens;
        uint256 cumulative;
        uint64 seq;
    }

    struct Settlement {
        SpendPermit permit;
        bytes userSignature;
        Receipt receipt;
        bytes enclaveSignature;
    }

    // One slot per permit and one per channel: settlement's gas is mostly storage. The
    // permit's fields (user, token, cap, expiry) are not stored: the permit id is their
    // EIP-712 digest, so the calldata copy is the signed one whenever its id is `opened`.
    struct PermitState {
        uint128 spent;
        bool opened; // the user's signature over this id was checked
    }

    struct Channel {
        uint128 settled;
        uint64 lastSeq;
    }

    /// One settlement's permit and receipt, copied from calldata in one go (every member is
    /// one ABI word, so the copy is the EIP-712 encodeData of both): the word before each
    /// struct is set to its type hash, so each struct hash is one keccak over memory, and
    /// (permitId, enclave, model) is the channel id's preimage as it lies.
    struct Item {
        bytes32 permitTypeHash;
        address user;
        address node;
        bytes32 policy;
        address token;
        uint256 maxAmount;
        uint64 expiry;
        uint64 nonce;
        bytes32 receiptTypeHash; // in calldata: the offset of userSignature
        bytes32 permitId;
        address enclave;
        bytes32 model;
        uint32 priceVersion;
        bytes32 requestHash;
        bytes32 responseHash;
        uint64 promptTokens;
        uint64 completionTokens;
        uint256 cumulative;
        uint64 seq;
    }

    /// A credit owed to one payee in one token, summed over consecutive receipts of a batch.
    struct Credit {
        address to;
        address token;
        uint256 amount;
    }

    /// What a batch reads once and writes once: the fee, the registry's answer for the last
    /// enclave, the last model's royalty, the last payer's balance, and the credits owed to
    /// the last payee of each kind. A cached value is replaced (and a credit or balance
    /// flushed to storage) when the next receipt names another key, and everything is
    /// flushed at the end, so the stored result is that of settling one receipt at a time.
    /// Nothing settlement writes is read through these caches except the balance itself.
    struct Batch {
        bytes32 domain; // the EIP-712 domain separator
        uint16 feeBps;
        address treasury;
        address enclave; // zero: none loaded (a recovered signer is never zero)
        address payout;
        bytes32 measurements;
        bool modelLoaded;
        bytes32 model;
        address modelOwner;
        uint16 royaltyBps;
        address user; // zero: none loaded (an opened permit's user is never zero)
        address userToken;
        uint256 balance;
        bool balanceDirty;
        Credit operator;
        Credit royalty;
        Credit fee;
    }

    struct Pending {
        uint256 amount;
        uint64 unlockAt;
    }

    struct Model {
        address owner;
        uint16 royaltyBps;
    }

    bytes32 public constant PERMIT_TYPEHASH = keccak256(
        "SpendPermit(address user,address node,bytes32 policy,address token,uint256 maxAmount,uint64 expiry,uint64 nonce)"
    );
    bytes32 public constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(bytes32 permitId,address enclave,bytes32 model,uint32 priceVersion,bytes32 requestHash,bytes32 responseHash,uint64 promptTokens,uint64 completionTokens,uint256 cumulative,uint64 seq)"
    );
    uint16 public constant MAX_FEE_BPS = 1000;
    uint16 public constant MAX_ROYALTY_BPS = 9000;

    NodeRegistry public immutable registry;
    /// Withdrawals and unstaking wait this long, so nodes can settle what they served first.
    uint64 public immutable withdrawDelay;

    uint16 public protocolFeeBps;
    address public treasury;

    mapping(address user => mapping(address token => uint256)) public balanceOf;
    mapping(address user => mapping(address token => Pending)) public pendingWithdrawal;
    mapping(address who => mapping(address token => uint256)) public claimable;
    mapping(address operator => uint256) public stakeOf;
    mapping(address operator => Pending) public pendingUnstake;
    mapping(bytes32 permitId => PermitState) public permits;
    mapping(bytes32 channelId => Channel) public channels;
    mapping(bytes32 model => Model) public models;
    mapping(address enclave => bool) public slashedEnclave;

    /// Totals per token, for audits: everything in = balances + pending claims + claimed + slashed.
    mapping(address token => uint256) public totalDeposited;
    mapping(address token => uint256) public totalClaimed;
    uint256 public totalStaked;
    uint256 public totalSlashed;

    event Deposited(address indexed user, address indexed token, uint256 amount);
    event WithdrawalRequested(address indexed user, address indexed token, uint256 amount, uint64 unlockAt);
    event Withdrawn(address indexed user, address indexed token, uint256 amount);
    event Settled(
        bytes32 indexed permitId,
        address indexed enclave,
        bytes32 indexed model,
        uint64 seq,
        uint256 cumulative,
        uint256 paid,
        uint256 operatorShare,
        uint256 royalty,
        uint256 fee
    );
    event Claimed(address indexed who, address indexed token, uint256 amount);
    event Staked(address indexed operator, uint256 amount);
    event UnstakeRequested(address indexed operator, uint256 amount, uint64 unlockAt);
    event Unstaked(address indexed operator, uint256 amount);
    event Slashed(address indexed enclave, address indexed operator, uint256 amount, bytes32 permitId, uint64 seq);
    event ModelSet(bytes32 indexed model, address indexed owner, uint16 royaltyBps);
    event FeeSet(uint16 feeBps, address treasury);

    error ZeroAmount();
    error NotYet(uint64 unlockAt);
    error NothingPending();
    error TransferFailed();
    error WrongNativeValue();
    error BadPermitSignature();
    error PermitMismatch();
    error PermitExpired();
    error BadReceiptSignature(address signer);
    error NodeNotAllowed();
    error UnknownEnclave();
    error EnclaveSlashed();
    error ReceiptAlreadySettled();
    error ReceiptOutOfOrder(uint64 lastSeq);
    error CumulativeDecreased(uint256 settled);
    error NotEquivocation();
    error BadBps();
    error NotModelOwner();

    constructor(address owner_, NodeRegistry registry_, uint64 withdrawDelay_, address treasury_)
        Ownable(owner_)
        EIP712("Cloister Escrow", "1")
    {
        registry = registry_;
        withdrawDelay = withdrawDelay_;
        treasury = treasury_;
    }

    // ---- governance ----

    function setFee(uint16 feeBps, address treasury_) external onlyOwner {
        if (feeBps > MAX_FEE_BPS) revert BadBps();
        protocolFeeBps = feeBps;
        treasury = treasury_;
        emit FeeSet(feeBps, treasury_);
    }

    /// A model id (keccak256 of its name) is claimed by the first caller; only its owner may
    /// change the royalty or hand it on. Sealed models (#11) will bind the id to their key broker.
    function setModel(bytes32 model, address owner_, uint16 royaltyBps) external {
        Model storage m = models[model];
        if (m.owner != address(0) && m.owner != msg.sender) revert NotModelOwner();
        if (m.owner == address(0) && owner_ != msg.sender) revert NotModelOwner();
        if (royaltyBps > MAX_ROYALTY_BPS || owner_ == address(0)) revert BadBps();
        m.owner = owner_;
        m.royaltyBps = royaltyBps;
        emit ModelSet(model, owner_, royaltyBps);
    }

    // ---- users ----

    function depositNative() external payable nonReentrant {
        if (msg.value == 0) revert ZeroAmount();
        balanceOf[msg.sender][address(0)] += msg.value;
        totalDeposited[address(0)] += msg.value;
        emit Deposited(msg.sender, address(0), msg.value);
    }

    /// Credits what actually arrived (a fee-on-transfer token credits less than `amount`).
    function deposit(IERC20 token, uint256 amount) external nonReentrant {
        if (amount == 0 || address(token) == address(0)) revert ZeroAmount();
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        balanceOf[msg.sender][address(token)] += received;
        totalDeposited[address(token)] += received;
        emit Deposited(msg.sender, address(token), received);
    }

    /// Funds stay spendable by settlement until withdrawn; a new request replaces the old one.
    function requestWithdraw(address token, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint64 unlockAt = uint64(block.timestamp) + withdrawDelay;
        pendingWithdrawal[msg.sender][token] = Pending(amount, unlockAt);
        emit WithdrawalRequested(msg.sender, token, amount, unlockAt);
    }

    function withdraw(address token) external nonReentrant {
        Pending memory p = pendingWithdrawal[msg.sender][token];
        if (p.amount == 0) revert NothingPending();
        if (block.timestamp < p.unlockAt) revert NotYet(p.unlockAt);
        uint256 bal = balanceOf[msg.sender][token];
        uint256 amount = p.amount < bal ? p.amount : bal;
        delete pendingWithdrawal[msg.sender][token];
        balanceOf[msg.sender][token] = bal - amount;
        totalClaimed[token] += amount;
        emit Withdrawn(msg.sender, token, amount);
        _send(token, msg.sender, amount);
    }

    // ---- operators ----

    function stake() external payable nonReentrant {
        if (msg.value == 0) revert ZeroAmount();
        stakeOf[msg.sender] += msg.value;
        totalStaked += msg.value;
        emit Staked(msg.sender, msg.value);
    }

    /// Moves stake out of reach of new withdrawals but keeps it slashable until unstaked.
    function requestUnstake(uint256 amount) external nonReentrant {
        if (amount == 0 || amount > stakeOf[msg.sender]) revert ZeroAmount();
        uint64 unlockAt = uint64(block.timestamp) + withdrawDelay;
        pendingUnstake[msg.sender] = Pending(amount, unlockAt);
        emit UnstakeRequested(msg.sender, amount, unlockAt);
    }

    function unstake() external nonReentrant {
        Pending memory p = pendingUnstake[msg.sender];
        if (p.amount == 0) revert NothingPending();
        if (block.timestamp < p.unlockAt) revert NotYet(p.unlockAt);
        uint256 s = stakeOf[msg.sender];
        uint256 amount = p.amount < s ? p.amount : s;
        delete pendingUnstake[msg.sender];
        stakeOf[msg.sender] = s - amount;
        totalStaked -= amount;
        totalClaimed[address(0)] += amount;
        emit Unstaked(msg.sender, amount);
        _send(address(0), msg.sender, amount);
    }

    // ---- settlement ----

    function settle(Settlement calldata s) external nonReentrant {
        Batch memory b = _batch();
        Item memory it;
        _settle(b, it, s);
        _flush(b);
    }

    /// Many channels in one transaction; each receipt already covers any number of requests.
    function settleBatch(Settlement[] calldata batch) external nonReentrant {
        Batch memory b = _batch();
        Item memory it;
        uint256 n = batch.length;
        for (uint256 i = 0; i < n;) {
            _settle(b, it, batch[i]);
            unchecked {
                ++i;
            }
        }
        _flush(b);
    }

    function claim(address token) external nonReentrant {
        uint256 amount = claimable[msg.sender][token];
        if (amount == 0) revert ZeroAmount();
        claimable[msg.sender][token] = 0;
        totalClaimed[token] += amount;
        emit Claimed(msg.sender, token, amount);
        _send(token, msg.sender, amount);
    }

    /// Two receipts for one channel and one seq with different content, both signed by the
    /// enclave key: the key (so its code, or its operator's control of it) is cheating.
    function slash(Receipt calldata a, bytes calldata sigA, Receipt calldata b, bytes calldata sigB)
        external
        nonReentrant
    {
        bytes32 da = receiptDigest(a);
        bytes32 db = receiptDigest(b);
        if (
            da == db || a.enclave != b.enclave || a.permitId != b.permitId || a.model != b.model || a.seq != b.seq
        ) revert NotEquivocation();
        if (ECDSA.recover(da, sigA) != a.enclave || ECDSA.recover(db, sigB) != a.enclave) {
            revert NotEquivocation();
        }
        (address operator,,) = registry.payInfo(a.enclave);
        if (operator == address(0)) revert UnknownEnclave();
        slashedEnclave[a.enclave] = true;
        uint256 amount = stakeOf[operator];
        stakeOf[operator] = 0;
        delete pendingUnstake[operator];
        totalStaked -= amount;
        totalSlashed += amount;
        claimable[treasury][address(0)] += amount;
        emit Slashed(a.enclave, operator, amount, a.permitId, a.seq);
    }

    function permitDigest(SpendPermit calldata p) public view returns (bytes32) {
        return _hashTypedDataV4(_structHash(PERMIT_TYPEHASH, p));
    }

    function receiptDigest(Receipt calldata r) public view returns (bytes32) {
        return _hashTypedDataV4(_structHash(RECEIPT_TYPEHASH, r));
    }

    function channelId(bytes32 permitId, address enclave, bytes32 model) public pure returns (bytes32 id) {
        // keccak256(abi.encode(permitId, enclave, model)) without allocating memory.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, permitId)
            mstore(add(ptr, 0x20), enclave)
            mstore(add(ptr, 0x40), model)
            id := keccak256(ptr, 0x60)
        }
    }

    /// EIP-712 hashStruct of a static struct: its calldata words are already its encodeData
    /// (every member is one word), so they are hashed in place rather than re-encoded. A word
    /// with dirty high bits hashes to a digest no signer produced, so the signature check
    /// fails on it; the members settlement uses are validated when read.
    function _structHash(bytes32 typeHash, SpendPermit calldata p) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typeHash)
            calldatacopy(add(ptr, 0x20), p, 0xe0) // 7 words
            h := keccak256(ptr, 0x100)
        }
    }

    function _structHash(bytes32 typeHash, Receipt calldata r) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typeHash)
            calldatacopy(add(ptr, 0x20), r, 0x140) // 10 words
            h := keccak256(ptr, 0x160)
        }
    }

    function _batch() private view returns (Batch memory b) {
        b.domain = _domainSeparatorV4();
        b.feeBps = protocolFeeBps;
        b.treasury = treasury;
    }

    /// Copies the settlement's permit and receipt words into `it`, refusing what the ABI
    /// decoder would refuse (an address, uint64 or uint32 member with high bits set), and
    /// returns the permit id (its EIP-712 digest) and the receipt's digest.
    function _load(Item memory it, Settlement calldata s, bytes32 domain)
        private
        pure
        returns (bytes32 permitId, bytes32 receiptHash)
    {
        bytes32 pt = PERMIT_TYPEHASH;
        bytes32 rt = RECEIPT_TYPEHASH;
        assembly ("memory-safe") {
            calldatacopy(add(it, 0x20), s, 0x240) // permit (7 words), userSignature offset, receipt (10 words)
            // addresses: user, node, token, enclave; uint64s: expiry, nonce, promptTokens,
            // completionTokens, seq; uint32: priceVersion
            let dirty := or(
                shr(160, or(or(mload(add(it, 0x20)), mload(add(it, 0x40))), or(mload(add(it, 0x80)), mload(add(it, 0x140))))),
                or(
                    shr(64, or(or(or(mload(add(it, 0xc0)), mload(add(it, 0xe0))), or(mload(add(it, 0x1e0)), mload(add(it, 0x200)))), mload(add(it, 0x240)))),
                    shr(32, mload(add(it, 0x180)))
                )
            )
            if dirty { revert(0, 0) }
            mstore(it, pt)
            mstore(add(it, 0x100), rt)
            // EIP-712 digests, as MessageHashUtils.toTypedDataHash: keccak256("\x19\x01" || domain || structHash).
            let ptr := mload(0x40)
            mstore(ptr, hex"1901")
            mstore(add(ptr, 0x02), domain)
            mstore(add(ptr, 0x22), keccak256(it, 0x100))
            permitId := keccak256(ptr, 0x42)
            mstore(add(ptr, 0x22), keccak256(add(it, 0x100), 0x160))
            receiptHash := keccak256(ptr, 0x42)
        }
    }

    function _settle(Batch memory b, Item memory it, Settlement calldata s) private {
        (bytes32 permitId, bytes32 receiptHash) = _load(it, s, b.domain);
        bytes32 pslot;
        uint256 pword;
        assembly ("memory-safe") {
            mstore(0, permitId)
            mstore(0x20, permits.slot)
            pslot := keccak256(0, 0x40)
            pword := sload(pslot)
        }
        uint256 spent = uint128(pword);
        bool opened = (pword >> 128) & 1 == 1;
        if (!opened) {
            // First settlement on this permit: check the user's signature once and keep that.
            if (it.user == address(0) || ECDSA.recoverCalldata(permitId, s.userSignature) != it.user) {
                revert BadPermitSignature();
            }
            if (it.node == address(0) && it.policy == bytes32(0)) revert NodeNotAllowed();
        }
        // Receipts can be settled for one withdrawal delay after the permit expired (the node
        // stops serving at expiry; the user cannot withdraw faster than that).
        uint256 lastDay;
        unchecked {
            lastDay = uint256(it.expiry) + withdrawDelay; // two uint64s: no overflow
        }
        if (block.timestamp > lastDay) revert PermitExpired();
        if (it.permitId != permitId) revert PermitMismatch();
        address signer = ECDSA.recoverCalldata(receiptHash, s.enclaveSignature);
        if (signer != it.enclave) revert BadReceiptSignature(signer);
        // The enclave must have been admitted once (a node that left can still be paid for
        // what it served), must not be slashed, and must be the permit's node or match its
        // policy.
        if (signer != b.enclave) _loadNode(b, signer);
        address node = it.node;
        if (node != address(0) && node != signer) revert NodeNotAllowed();
        bytes32 policy = it.policy;
        if (policy != bytes32(0) && policy != b.measurements) revert NodeNotAllowed();
        uint256 due = _advance(b, it, spent);
        if (due > 0 || !opened) {
            uint256 pword;
            unchecked {
                pword = (spent + due) | (uint256(1) << 128); // spent + due <= cap < 2^128
            }
            assembly ("memory-safe") {
                sstore(pslot, pword)
            }
        }
        address token = it.token;
        if (due > 0) {
            unchecked {
                b.balance -= due; // due <= balance (above)
            }
            b.balanceDirty = true;
        }
        _distribute(b, it, token, due);
    }

    /// Checks the receipt against its channel, writes the channel's new (settled, lastSeq)
    /// and returns what is paid now: the increase of the cumulative amount, never past the
    /// permit's cap nor the user's balance; what is not paid now stays owed on the channel.
    function _advance(Batch memory b, Item memory it, uint256 spent) private returns (uint256 due) {
        bytes32 cslot;
        uint256 word;
        assembly ("memory-safe") {
            mstore(0, keccak256(add(it, 0x120), 0x60)) // channelId(permitId, enclave, model)
            mstore(0x20, channels.slot)
            cslot := keccak256(0, 0x40)
            word := sload(cslot)
        }
        uint256 settled = uint128(word);
        uint64 lastSeq = uint64(word >> 128);
        uint64 seq = it.seq;
        uint256 cumulative = it.cumulative;
        // One seq is settled at most once (the same receipt again, or a second history for it).
        if (seq == lastSeq) revert ReceiptAlreadySettled();
        if (seq < lastSeq) revert ReceiptOutOfOrder(lastSeq);
        if (cumulative < settled) revert CumulativeDecreased(settled);
        unchecked {
            due = cumulative - settled; // checked just above
        }
        uint256 cap = it.maxAmount > type(uint128).max ? type(uint128).max : it.maxAmount;
        uint256 room;
        unchecked {
            room = cap - spent; // spent only grows by what fits in room, so spent <= cap
        }
        if (due > room) due = room;
        address user = it.user;
        address token = it.token;
        if (user != b.user || token != b.userToken) _loadBalance(b, user, token);
        if (due > b.balance) due = b.balance;
        // due <= cap - spent < 2^128 and a channel's settled <= its permit's spent, so the
        // sum stays under 2^128 and leaves lastSeq's bits alone.
        unchecked {
            word = (settled + due) | (uint256(seq) << 128);
        }
        assembly ("memory-safe") {
            sstore(cslot, word)
        }
    }

    /// The registry's answer for an enclave, refused if it is slashed or was never admitted.
    /// Neither the registry nor slashing changes during a settlement (nonReentrant), so the
    /// answer is reused by the next receipts of the same enclave.
    function _loadNode(Batch memory b, address enclave) private view {
        if (slashedEnclave[enclave]) revert EnclaveSlashed();
        (address operator, address payout, bytes32 measurements) = registry.payInfo(enclave);
        if (operator == address(0)) revert UnknownEnclave();
        b.enclave = enclave;
        b.payout = payout;
        b.measurements = measurements;
    }

    function _loadBalance(Batch memory b, address user, address token) private {
        if (b.balanceDirty) balanceOf[b.user][b.userToken] = b.balance;
        b.user = user;
        b.userToken = token;
        b.balance = balanceOf[user][token];
        b.balanceDirty = false;
    }

    function _distribute(Batch memory b, Item memory it, address token, uint256 due) private {
        bytes32 model = it.model;
        if (!b.modelLoaded || model != b.model) {
            Model memory m = models[model];
            b.modelLoaded = true;
            b.model = model;
            b.modelOwner = m.owner;
            b.royaltyBps = m.royaltyBps;
        }
        uint256 fee;
        uint256 royalty;
        uint256 operatorShare;
        // due < 2^128 and both rates are under 2^16, so the products cannot overflow, and
        // fee + royalty <= due * (MAX_FEE_BPS + MAX_ROYALTY_BPS) / 10_000 <= due.
        unchecked {
            fee = (due * b.feeBps) / 10_000;
            royalty = b.modelOwner == address(0) ? 0 : (due * b.royaltyBps) / 10_000;
            operatorShare = due - fee - royalty;
        }
        // The running credit usually has this payee and token already: add to it in place.
        if (operatorShare > 0) {
            Credit memory c = b.operator;
            address to = b.payout;
            if (c.to == to && c.token == token) c.amount += operatorShare;
            else _credit(c, to, token, operatorShare);
        }
        if (royalty > 0) {
            Credit memory c = b.royalty;
            address to = b.modelOwner;
            if (c.to == to && c.token == token) c.amount += royalty;
            else _credit(c, to, token, royalty);
        }
        if (fee > 0) _credit(b.fee, b.treasury, token, fee);
        // emit Settled(it.permitId, it.enclave, model, it.seq, it.cumulative, due, operatorShare,
        // royalty, fee), encoded by hand: the same log, without the generic encoder's cleanup
        // of members `_load` already validated.
        bytes32 topic = Settled.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, mload(add(it, 0x240))) // seq
            mstore(add(ptr, 0x20), mload(add(it, 0x220))) // cumulative
            mstore(add(ptr, 0x40), due)
            mstore(add(ptr, 0x60), operatorShare)
            mstore(add(ptr, 0x80), royalty)
            mstore(add(ptr, 0xa0), fee)
            log4(ptr, 0xc0, topic, mload(add(it, 0x120)), mload(add(it, 0x140)), model)
        }
    }

    /// Adds to the running credit, first writing out the one for another payee or token.
    function _credit(Credit memory c, address to, address token, uint256 amount) private {
        if (c.to != to || c.token != token) {
            if (c.amount > 0) claimable[c.to][c.token] += c.amount;
            c.to = to;
            c.token = token;
            c.amount = amount;
            return;
        }
        c.amount += amount;
    }

    function _flush(Batch memory b) private {
        if (b.balanceDirty) balanceOf[b.user][b.userToken] = b.balance;
        if (b.operator.amount > 0) claimable[b.operator.to][b.operator.token] += b.operator.amount;
        if (b.royalty.amount > 0) claimable[b.royalty.to][b.royalty.token] += b.royalty.amount;
        if (b.fee.amount > 0) claimable[b.fee.to][b.fee.token] += b.fee.amount;
    }

    function _send(address token, address to, uint256 amount) private {
        if (amount == 0) return;
        if (token == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert TransferFailed();
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }
}
