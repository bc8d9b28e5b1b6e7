// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {BillingErrors} from "./BillingErrors.sol";
import {BillingEvents} from "./BillingEvents.sol";

/// @title BillingState
/// @notice All of GpuPoolBilling's storage, and the helpers more than one part of it uses.
/// @dev Every state variable is declared here and only here, in one order, so the storage layout
///      does not depend on how the parts are inherited (docs/billing.md, "Storage layout"). The
///      settlement's pair words sit outside the declared layout, at the slot named by the pair key.
abstract contract BillingState is BillingErrors, BillingEvents {
    // ------------------------------------------------------------------ storage
    /// @dev A payer's escrow and, in the same slot, the spending window of the reporter that
    ///      charged it last: a settlement then reads and writes one slot per payer, not two. The
    ///      window lives here for one reporter at a time (the cached one, `reporterId`); any other
    ///      reporter's window lives in its Allowance, and moves here when that reporter charges.
    struct Escrow {
        uint96 balance; // available for settlement (up to ~7.9e28 wei)
        uint96 left; // what the cached reporter may still charge until windowEnd
        uint40 windowEnd; // unix seconds; the window restarts at the first charge from then on
        uint24 reporterId; // whose window this is (0: none)
    }

    /// @dev What one payer lets one reporter charge; one slot. `spent` and `windowStart` hold the
    ///      reporter's window only while it is not cached in the payer's Escrow slot; the limit
    ///      itself (`perPeriod`, `period`) is read only when a window starts or moves.
    struct Allowance {
        uint96 perPeriod;
        uint96 spent; // in the window that started at windowStart
        uint32 period; // seconds
        uint32 windowStart; // unix seconds (good until 2106)
    }

    /// @dev An announced withdrawal of escrow or stake: `amount` may leave from `endsAt` on.
    struct Thaw {
        uint128 amount;
        uint64 endsAt;
    }

    struct Provider {
        uint128 balance; // withdrawable earnings (collected, and disputes resolved as no fraud)
        bool registered; // never revoked: settlement remembers it in the pair's slot once seen
    }

    /// @dev An active reporter and its short id, one slot: settlement reads one per call.
    struct Reporter {
        bool active;
        uint24 id;
    }

    struct Proposal {
        address payout;
        uint64 readyAt;
    }

    struct Dispute {
        uint128 frozen; // frozen by the open dispute (0 when none is open)
        uint128 disputedTotal; // all amounts ever disputed over the pair: never disputed twice
        address whistleblower;
        uint64 openedAt;
        bool open;
    }

    struct TrustProposal {
        uint64 challengeWindow;
        uint16 slashShareBps;
        uint16 whistleblowerShareBps;
        uint64 readyAt;
    }

    uint256 internal constant AMOUNT_MASK = (uint256(1) << 128) - 1;
    uint256 internal constant BALANCE_MAX = (uint256(1) << 96) - 1;
    uint256 internal constant ENTRY_AMOUNT_MASK = (uint256(1) << 96) - 1;
    uint256 internal constant TIME_MASK = (uint256(1) << 40) - 1;
    /// @dev Pair word (its slot is the pair key itself): paid (bits 0..95) | owed (96..191) |
    ///      provider seen registered (192) | when everything paid leaves the challenge window
    ///      (193..232, unix seconds). A 96-byte key preimage cannot collide with a mapping's slot.
    uint256 internal constant REGISTERED_BIT = uint256(1) << 192;
    uint256 internal constant PAIR_MATURES_SHIFT = 193;
    /// @dev Collection word, per pair in `collections`, written by `collect` and disputes only:
    ///      taken out of the pair (collected or disputed, 0..95) | what the pair had paid when the
    ///      running checkpoint started (96..191) | when that checkpoint matures (192..231, 0: none).
    uint256 internal constant CHECKPOINT_AT_SHIFT = 192;
    uint256 internal constant BPS = 10_000;

    /// @notice Seconds between a payer's startThaw and the earliest withdrawEscrow.
    uint64 public immutable thawPeriod;
    /// @notice Seconds between the owner proposing a reporter or a provider and it taking effect.
    uint64 public immutable adminDelay;
    address public owner;
    address public pendingOwner;
    /// @dev The reentrancy lock, in transient storage (EIP-1153): a storage lock would cost ~50
    ///      gas per worst-case pair, the margin the gas target does not have.
    uint256 private transient locked;

    /// @notice When a proposed reporter may be activated (0 = none proposed).
    mapping(address => uint64) public reporterReadyAt;
    /// @dev Whether each address may settle, and its short id, given at its first activation and
    ///      kept for good: the id tags the spending window cached in an Escrow slot (an address would
    ///      not fit beside the balance).
    mapping(address => Reporter) internal reporters;
    mapping(uint256 => address) internal reporterById;
    uint24 internal reporterCount;
    mapping(address => Escrow) internal escrows;
    mapping(address => Thaw) internal escrowThaws;
    mapping(address => mapping(address => Allowance)) internal allowances;
    mapping(address => Provider) internal providers;
    mapping(address => address) public payoutAddress;
    mapping(address => Proposal) public providerProposal;
    /// @dev Per pair key: the collection word (see CHECKPOINT_AT_SHIFT). The pair word itself sits
    ///      at the slot named by the key.
    mapping(bytes32 => uint256) internal collections;
    /// @notice Sum of all deposits ever made; with totalPaid and totalEscrowWithdrawn an auditor can
    ///         check conservation against the contract's balance.
    uint256 public totalDeposited;
    uint256 public totalPaid;
    uint256 public totalEscrowWithdrawn;
    uint256 public totalProviderWithdrawn;

    /// @notice Seconds settled earnings wait before they can be withdrawn (0 = at once). Earnings
    ///         settled at t mature at the end of the window-aligned period after t + window, so
    ///         between one and two windows later.
    uint64 public challengeWindow;
    /// @notice Share of a provider's stake a fraud verdict slashes, in basis points.
    uint16 public slashShareBps;
    /// @notice Share of the slashed stake paid to the dispute's whistleblower, in basis points.
    uint16 public whistleblowerShareBps;
    TrustProposal public trustProposal;
    mapping(address => bool) public isVerifier;
    mapping(address => uint64) public verifierReadyAt;
    /// @dev A provider's stake: slashable, what is thawing included.
    mapping(address => uint256) internal stakes;
    mapping(address => Thaw) internal stakeThaws;
    mapping(bytes32 => Dispute) internal disputes;
    mapping(address => uint256) public rewardBalance;
    /// @notice Audit figures: with the ones above, contract balance = totalDeposited + totalStaked
    ///         - every total withdrawn.
    uint256 public totalStaked;
    uint256 public totalStakeWithdrawn;
    uint256 public totalRewardWithdrawn;
    uint256 public totalFrozen;
    uint256 public totalSlashed;
    /// @notice Slashed stake no one was harmed by (`slashStake`) beyond the whistleblower's reward:
    ///         held by the contract, moved by no function. Balance = escrows + earnings + stakes +
    ///         frozen + unclaimed rewards + totalBurned, where earnings = the providers' balances +
    ///         what every pair paid and has not yet given up (collected or disputed).
    uint256 public totalBurned;
    /// @notice When each provider's stake was last slashed by `slashStake` (0 = never).
    mapping(address => uint64) public lastStakeSlashAt;

    constructor(uint64 thawPeriodSeconds, uint64 adminDelaySeconds) {
        thawPeriod = thawPeriodSeconds;
        adminDelay = adminDelaySeconds;
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    modifier nonReentrant() {
        if (locked != 0) revert Reentrancy();
        locked = 1;
        _;
        locked = 0;
    }

    // ------------------------------------------------------------------ shared helpers
    /// @notice The key of a (payer, job, provider) pair: keccak256 of the three, each in a 32-byte
    ///         word. The pair word is stored at this slot; disputes and collections are keyed by it.
    function pairKey(address payer, bytes16 jobId, address provider) public pure returns (bytes32 key) {
        // Inline assembly sees values as they sit on the stack: clean them explicitly (a bytes16
        // cut from a packed batch entry still carries the entry's low bits).
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, and(payer, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(ptr, 0x20), and(jobId, not(0xffffffffffffffffffffffffffffffff)))
            mstore(add(ptr, 0x40), and(provider, 0xffffffffffffffffffffffffffffffffffffffff))
            key := keccak256(ptr, 0x60)
        }
    }

    function _pairWord(bytes32 key) internal view returns (uint256 word) {
        assembly ("memory-safe") {
            word := sload(key)
        }
    }

    /// @dev How much of the pair's paid amount has left the challenge window, at least what was
    ///      already taken out of it: all it paid once its last payment's window passed (at once
    ///      without a window); else what it had paid when the running checkpoint started, once
    ///      that checkpoint matured; else nothing beyond what was taken.
    function _matured(uint256 pairWord, uint256 word) internal view returns (uint256) {
        uint256 taken = word & ENTRY_AMOUNT_MASK;
        if (block.timestamp >= (pairWord >> PAIR_MATURES_SHIFT) & TIME_MASK) return pairWord & ENTRY_AMOUNT_MASK;
        uint256 checkpointAt = (word >> CHECKPOINT_AT_SHIFT) & TIME_MASK;
        if (checkpointAt != 0 && block.timestamp >= checkpointAt) {
            uint256 checkpointPaid = (word >> 96) & ENTRY_AMOUNT_MASK;
            if (checkpointPaid > taken) return checkpointPaid;
        }
        return taken;
    }

    function _addToBalance(address provider, uint256 amount) internal {
        uint256 next = providers[provider].balance + amount;
        if (next > AMOUNT_MASK) revert AmountTooLarge(next);
        providers[provider].balance = uint128(next);
    }

    /// @dev Announce that `amount` of escrow or stake leaves `thawPeriod` from now (replacing an
    ///      earlier announcement). Returns when it may leave.
    function _startThaw(Thaw storage t, uint256 amount) internal returns (uint64 endsAt) {
        if (amount == 0) revert ZeroAmount();
        if (amount > AMOUNT_MASK) revert AmountTooLarge(amount);
        endsAt = uint64(block.timestamp) + thawPeriod;
        t.amount = uint128(amount);
        t.endsAt = endsAt;
    }

    function _cancelThaw(Thaw storage t, bool isStake) internal {
        if (t.amount == 0) _revertNoThaw(isStake);
        delete t.amount;
        delete t.endsAt;
    }

    /// @dev End a thaw that ran its course: what may leave now, at most `held` (what settlements or
    ///      slashing left of the escrow or stake). Reverts if nothing was announced, the period has
    ///      not passed, or nothing is left.
    function _takeThawed(Thaw storage t, uint256 held, bool isStake) internal returns (uint256 amount) {
        uint256 thawing = t.amount;
        if (thawing == 0) _revertNoThaw(isStake);
        uint64 endsAt = t.endsAt;
        if (block.timestamp < endsAt) {
            if (isStake) revert StillThawingStake(msg.sender, endsAt);
            revert StillThawing(msg.sender, endsAt);
        }
        delete t.amount;
        delete t.endsAt;
        amount = thawing < held ? thawing : held;
        if (amount == 0) revert NothingToWithdraw(msg.sender);
    }

    function _revertNoThaw(bool isStake) internal view {
        if (isStake) revert NoUnstakeInProgress(msg.sender);
        revert NoThawInProgress(msg.sender);
    }

    function _send(address to, uint256 amount) internal {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }
}
