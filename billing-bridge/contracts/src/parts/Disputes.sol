// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {BillingState} from "./BillingState.sol";

/// @title Disputes
/// @notice Verifiers freeze what a pair paid inside the challenge window and resolve it as fraud
///         (refund and slash) or not; disputes left open past DISPUTE_DEADLINE end as no fraud;
///         fraud proven without a paid pair slashes stake directly; whistleblowers take rewards.
abstract contract Disputes is BillingState {
    /// @notice The shortest time between two `slashStake` calls on one provider, whatever the
    ///         challenge window (a window of 0 must not let a stolen verifier key drain a stake
    ///         share by share in one block).
    uint64 public constant STAKE_SLASH_MIN_INTERVAL = 1 hours;

    /// @notice How long a dispute may stay open. After it anyone may end it as no fraud
    ///         (`expireDispute`) and no verifier can resolve it any more, so a lost or idle verifier
    ///         cannot hold a provider's earnings frozen for ever. A constant, so that no key (the
    ///         owner's included) can shorten it to let providers escape disputes, or lengthen it.
    uint64 public constant DISPUTE_DEADLINE = 30 days;

    /// @notice A verifier disputes `amount` of what the pair paid that is still inside the
    ///         challenge window (`pairEarnings`' uncollected minus collectable), freezing it; what
    ///         the pair has matured is collected to the provider first. `whistleblower` is paid its
    ///         share of the slashed stake if the dispute ends as fraud.
    function openDispute(
        address payer,
        bytes16 jobId,
        address provider,
        uint256 amount,
        bytes32 evidenceHash,
        address whistleblower
    ) external {
        if (!isVerifier[msg.sender]) revert NotVerifier(msg.sender);
        if (whistleblower == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        bytes32 key = pairKey(payer, jobId, provider);
        Dispute storage d = disputes[key];
        if (d.open) revert DisputeAlreadyOpen(key);
        uint256 pairWord = _pairWord(key);
        uint256 word = collections[key];
        uint256 matured = _matured(pairWord, word);
        // Everything below `matured` was taken or is collectable; disputes take from above it.
        uint256 disputable = (pairWord & ENTRY_AMOUNT_MASK) - matured;
        if (amount > disputable) revert DisputeExceedsPaid(key, amount, disputable);
        uint256 collectable = matured - (word & ENTRY_AMOUNT_MASK);
        if (collectable != 0) {
            _addToBalance(provider, collectable);
            emit EarningsCollected(provider, 1, collectable);
        }
        // The disputed amount counts as taken out of the pair: never collected, never disputed again.
        collections[key] = (word & ~ENTRY_AMOUNT_MASK) | (matured + amount);
        d.frozen = uint128(amount);
        d.disputedTotal += uint128(amount);
        d.whistleblower = whistleblower;
        d.openedAt = uint64(block.timestamp);
        d.open = true;
        totalFrozen += amount;
        emit DisputeOpened(key, jobId, provider, payer, amount, evidenceHash, whistleblower);
    }

    /// @notice A verifier closes the pair's open dispute before its deadline. Fraud: the frozen
    ///         earnings go back to the payer's escrow, `slashShareBps` of the provider's stake is
    ///         slashed, the whistleblower gets `whistleblowerShareBps` of that and the payer's
    ///         escrow the rest. No fraud: the frozen earnings become withdrawable by the provider.
    function resolveDispute(address payer, bytes16 jobId, address provider, bool fraud) external {
        if (!isVerifier[msg.sender]) revert NotVerifier(msg.sender);
        bytes32 key = pairKey(payer, jobId, provider);
        Dispute storage d = disputes[key];
        if (!d.open) revert NoOpenDispute(key);
        uint64 expiresAt = _expiresAt(d);
        if (block.timestamp >= expiresAt) revert DisputeExpired(key, expiresAt);
        _resolve(key, d, payer, provider, fraud);
    }

    /// @notice End a dispute left open for DISPUTE_DEADLINE as no fraud: its frozen earnings become
    ///         withdrawable by the provider. Anyone may call it, the provider typically.
    function expireDispute(address payer, bytes16 jobId, address provider) external {
        bytes32 key = pairKey(payer, jobId, provider);
        Dispute storage d = disputes[key];
        if (!d.open) revert NoOpenDispute(key);
        uint64 expiresAt = _expiresAt(d);
        if (block.timestamp < expiresAt) revert DisputeNotExpired(key, expiresAt);
        emit DisputeExpiredUnresolved(key, msg.sender);
        _resolve(key, d, payer, provider, false);
    }

    /// @notice A verifier slashes `slashShareBps` of a provider's stake (thawing stake included) for
    ///         fraud proven without a paid pair, such as a wrong answer to a hardware challenge.
    ///         `whistleblowerShareBps` of it rewards `whistleblower`; no payer was harmed, so the rest
    ///         is burned. At most once per provider per challenge window (at least
    ///         STAKE_SLASH_MIN_INTERVAL): a stolen verifier key takes one share per interval, not the
    ///         whole stake at once.
    function slashStake(address provider, bytes32 evidenceHash, address whistleblower) external {
        if (!isVerifier[msg.sender]) revert NotVerifier(msg.sender);
        if (whistleblower == address(0)) revert ZeroAddress();
        uint64 last = lastStakeSlashAt[provider];
        if (last != 0) {
            uint64 interval = challengeWindow > STAKE_SLASH_MIN_INTERVAL ? challengeWindow : STAKE_SLASH_MIN_INTERVAL;
            uint64 next = last + interval;
            if (block.timestamp < next) revert SlashTooSoon(provider, next);
        }
        uint256 staked = stakes[provider];
        uint256 slashed = staked * slashShareBps / BPS;
        if (slashed == 0) revert NothingToSlash(provider);
        uint256 reward = slashed * whistleblowerShareBps / BPS;
        stakes[provider] = staked - slashed;
        lastStakeSlashAt[provider] = uint64(block.timestamp);
        totalSlashed += slashed;
        totalBurned += slashed - reward;
        rewardBalance[whistleblower] += reward;
        emit StakeSlashed(provider, evidenceHash, whistleblower, slashed, reward);
    }

    function _expiresAt(Dispute storage d) private view returns (uint64) {
        return d.openedAt + DISPUTE_DEADLINE;
    }

    function _resolve(bytes32 key, Dispute storage d, address payer, address provider, bool fraud) private {
        uint256 frozen = d.frozen;
        d.frozen = 0;
        d.open = false;
        totalFrozen -= frozen;
        uint256 slashed;
        uint256 reward;
        if (fraud) {
            uint256 staked = stakes[provider];
            slashed = staked * slashShareBps / BPS;
            reward = slashed * whistleblowerShareBps / BPS;
            stakes[provider] = staked - slashed;
            totalSlashed += slashed;
            rewardBalance[d.whistleblower] += reward;
            Escrow storage e = escrows[payer];
            uint256 next = uint256(e.balance) + frozen + (slashed - reward);
            if (next > BALANCE_MAX) revert AmountTooLarge(next);
            e.balance = uint96(next);
        } else {
            _addToBalance(provider, frozen);
        }
        emit DisputeResolved(key, provider, fraud, frozen, slashed, reward);
    }

    /// @notice A whistleblower takes its rewards.
    function withdrawReward() external nonReentrant {
        uint256 amount = rewardBalance[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        rewardBalance[msg.sender] = 0;
        totalRewardWithdrawn += amount;
        emit RewardWithdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    /// @notice The pair's dispute record: what its open dispute froze, all it ever disputed, the
    ///         whistleblower and opening time of the last dispute, and whether one is open.
    function disputeOf(address payer, bytes16 jobId, address provider)
        external
        view
        returns (uint256 frozen, uint256 disputedTotal, address whistleblower, uint64 openedAt, bool open)
    {
        Dispute storage d = disputes[pairKey(payer, jobId, provider)];
        return (d.frozen, d.disputedTotal, d.whistleblower, d.openedAt, d.open);
    }
}
