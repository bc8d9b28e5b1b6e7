// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title BillingEvents
/// @notice Every event GpuPoolBilling emits; the billing bridge reconciles its ledger from them.
abstract contract BillingEvents {
    event OwnershipTransferStarted(address indexed owner, address indexed pendingOwner);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event ReporterProposed(address indexed reporter, uint64 readyAt);
    event ReporterSet(address indexed reporter, bool authorised);
    event Deposited(address indexed payer, address indexed from, uint256 amount, uint256 escrowAfter);
    event ThawStarted(address indexed payer, uint256 amount, uint64 thawEndsAt);
    event ThawCancelled(address indexed payer);
    event EscrowWithdrawn(address indexed payer, uint256 amount, uint256 escrowAfter);
    /// @notice `payer` lets `reporter` charge at most `perPeriod` wei per `period` seconds.
    event SpendingLimitSet(address indexed payer, address indexed reporter, uint256 perPeriod, uint32 period);
    /// @notice A settlement by `reporter` found `payer`'s limit exhausted; what is unpaid stays owed
    ///         and is paid by a later settlement once the window reopens (at `windowEndsAt`).
    event SpendingLimitReached(address indexed payer, address indexed reporter, uint64 windowEndsAt);
    event ProviderProposed(address indexed provider, address indexed payout, uint64 readyAt);
    event ProviderProposalCancelled(address indexed provider, address indexed by);
    /// @notice `provider` may now be paid; withdrawals go to `payout`. `byOwner` = registered through
    ///         the owner's delayed proposal rather than the provider's own key.
    event ProviderRegistered(address indexed provider, address indexed payout, bool byOwner);
    event ProviderWithdrawn(address indexed provider, address indexed to, uint256 amount);
    /// @notice `amount` of `provider`'s matured earnings moved from `pairs` listed pairs into its
    ///         balance (what `withdraw` pays out).
    event EarningsCollected(address indexed provider, uint256 pairs, uint256 amount);
    /// @notice One (payer, job, provider) pair moved money; `paidTotal` is its new cumulative paid.
    ///         What this settlement moved is `paidTotal` minus the pair's previous `paidTotal`
    ///         (0 if none); `BatchSettled.totalPaid` sums those per transaction.
    event Settled(bytes16 indexed jobId, address indexed provider, address indexed payer, uint256 paidTotal);
    /// @notice The payer's escrow or the spending limit it granted the reporter could not cover the
    ///         cumulative owed; `owedTotal - paidTotal` is unpaid and stays owed.
    event Overdrawn(
        bytes16 indexed jobId, address indexed provider, address indexed payer, uint256 owedTotal, uint256 paidTotal
    );
    /// @notice The provider is not registered: nothing was paid, `owedTotal` is remembered and paid by
    ///         the first settlement after it registers.
    event ProviderNotRegistered(
        bytes16 indexed jobId, address indexed provider, address indexed payer, uint256 owedTotal, uint256 paidTotal
    );
    /// @notice Summary of one settlement call (batch or voucher).
    event BatchSettled(address indexed submitter, uint256 pairs, uint256 totalPaid);
    event Staked(address indexed provider, uint256 amount, uint256 stakeAfter);
    event UnstakeStarted(address indexed provider, uint256 amount, uint64 thawEndsAt);
    event UnstakeCancelled(address indexed provider);
    event StakeWithdrawn(address indexed provider, uint256 amount, uint256 stakeAfter);
    /// @notice A verifier slashed `slashed` of the provider's stake for fraud proven without a paid
    ///         pair; `reward` of it went to the whistleblower, the rest is burned (`totalBurned`).
    event StakeSlashed(
        address indexed provider, bytes32 evidenceHash, address indexed whistleblower, uint256 slashed, uint256 reward
    );
    event VerifierProposed(address indexed verifier, uint64 readyAt);
    event VerifierSet(address indexed verifier, bool authorised);
    event TrustParametersProposed(
        uint64 challengeWindow, uint16 slashShareBps, uint16 whistleblowerShareBps, uint64 readyAt
    );
    event TrustParametersSet(uint64 challengeWindow, uint16 slashShareBps, uint16 whistleblowerShareBps);
    /// @notice `amount` of what the pair `pairKey` paid `provider` inside the window is frozen.
    event DisputeOpened(
        bytes32 indexed pairKey,
        bytes16 indexed jobId,
        address indexed provider,
        address payer,
        uint256 amount,
        bytes32 evidenceHash,
        address whistleblower
    );
    /// @notice Fraud: `frozen` and `slashed - reward` went to the payer's escrow, `reward` to the
    ///         whistleblower. No fraud: `frozen` became withdrawable by the provider.
    event DisputeResolved(
        bytes32 indexed pairKey, address indexed provider, bool fraud, uint256 frozen, uint256 slashed, uint256 reward
    );
    event RewardWithdrawn(address indexed whistleblower, uint256 amount);
    /// @notice The dispute over `pairKey` reached DISPUTE_DEADLINE unresolved and was ended as no
    ///         fraud by `by`; `DisputeResolved` (fraud = false) follows.
    event DisputeExpiredUnresolved(bytes32 indexed pairKey, address indexed by);
}
