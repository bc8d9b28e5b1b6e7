// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title BillingErrors
/// @notice Every custom error GpuPoolBilling reverts with, in one place so that each part of the
///         contract (and a test expecting a revert) names the same declaration.
abstract contract BillingErrors {
    error NotOwner(address caller);
    error NotPendingOwner(address caller);
    error NotReporter(address caller);
    error ZeroAddress();
    error ZeroAmount();
    error ZeroPeriod();
    error PartyIndexOutOfRange(uint256 index, uint256 parties);
    error LengthMismatch(uint256 payers, uint256 jobIds);
    error AmountTooLarge(uint256 amount);
    error NoThawInProgress(address payer);
    error StillThawing(address payer, uint64 thawEndsAt);
    error NothingToWithdraw(address account);
    error NothingProposed(address account);
    error NotYet(address account, uint64 readyAt);
    error AlreadyRegistered(address provider);
    error TransferFailed(address to, uint256 amount);
    error InvalidSignature();
    error Reentrancy();
    error NotVerifier(address caller);
    error NoUnstakeInProgress(address provider);
    error StillThawingStake(address provider, uint64 thawEndsAt);
    error ShareTooLarge(uint256 basisPoints);
    error WindowTooLong(uint256 secondsAsked);
    error DisputeAlreadyOpen(bytes32 pairKey);
    error NoOpenDispute(bytes32 pairKey);
    /// @notice The open dispute passed its deadline (`expiredAt`): it can only end as no fraud.
    error DisputeExpired(bytes32 pairKey, uint64 expiredAt);
    /// @notice The open dispute is within its deadline (`expiresAt`): only a verifier resolves it.
    error DisputeNotExpired(bytes32 pairKey, uint64 expiresAt);
    /// @notice The provider has no stake a slash would take anything from.
    error NothingToSlash(address provider);
    /// @notice The provider's stake was slashed without a dispute less than a slash interval ago.
    error SlashTooSoon(address provider, uint64 nextAllowedAt);
    /// @notice What the pair paid that is still inside the challenge window, not collected and
    ///         never disputed (`disputable`) is smaller than the amount asked.
    error DisputeExceedsPaid(bytes32 pairKey, uint256 amount, uint256 disputable);
}
