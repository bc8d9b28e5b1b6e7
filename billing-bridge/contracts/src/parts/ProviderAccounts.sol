// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {BillingState} from "./BillingState.sol";

/// @title ProviderAccounts
/// @notice A provider's side: registration (by its own key, or by the owner after `adminDelay`),
///         collecting matured earnings out of its pairs, withdrawing them, and its stake.
abstract contract ProviderAccounts is BillingState {
    /// @notice Register, after `adminDelay`, a provider that has not registered itself (e.g. one
    ///         whose address cannot send transactions). The provider can cancel it meanwhile.
    function proposeProvider(address provider, address payout) external onlyOwner {
        if (provider == address(0) || payout == address(0)) revert ZeroAddress();
        if (providers[provider].registered) revert AlreadyRegistered(provider);
        uint64 readyAt = uint64(block.timestamp) + adminDelay;
        providerProposal[provider] = Proposal(payout, readyAt);
        emit ProviderProposed(provider, payout, readyAt);
    }

    function confirmProvider(address provider) external onlyOwner {
        Proposal memory p = providerProposal[provider];
        if (p.readyAt == 0) revert NothingProposed(provider);
        if (block.timestamp < p.readyAt) revert NotYet(provider, p.readyAt);
        if (providers[provider].registered) revert AlreadyRegistered(provider);
        delete providerProposal[provider];
        _register(provider, p.payout, true);
    }

    /// @notice The owner or the provider itself withdraws a pending owner proposal.
    function cancelProviderProposal(address provider) external {
        if (msg.sender != owner && msg.sender != provider) revert NotOwner(msg.sender);
        if (providerProposal[provider].readyAt == 0) revert NothingProposed(provider);
        delete providerProposal[provider];
        emit ProviderProposalCancelled(provider, msg.sender);
    }

    /// @notice Register the caller as a provider that may be paid, or change its payout address.
    ///         Only this key can change the payout address afterwards.
    function registerProvider(address payout) external {
        if (payout == address(0)) revert ZeroAddress();
        if (providerProposal[msg.sender].readyAt != 0) {
            delete providerProposal[msg.sender];
            emit ProviderProposalCancelled(msg.sender, msg.sender);
        }
        _register(msg.sender, payout, false);
    }

    function _register(address provider, address payout, bool byOwner) private {
        providers[provider].registered = true;
        payoutAddress[provider] = payout;
        emit ProviderRegistered(provider, payout, byOwner);
    }

    function isRegisteredProvider(address provider) external view returns (bool) {
        return providers[provider].registered;
    }

    // ------------------------------------------------------------------ earnings
    /// @notice Move the matured earnings of `provider`'s pairs (payers[i], jobIds[i], provider) into
    ///         its balance. Anyone may call it (money only moves to `provider`). A pair's earnings
    ///         mature a challenge window after its last payment, or, while it keeps being paid, what
    ///         it had paid when a collection started a checkpoint matures a window after that
    ///         collection: collected once per window, continuous earnings become withdrawable one to
    ///         two windows after they were settled. A collection never restarts a running
    ///         checkpoint, so no caller can postpone a provider's earnings.
    function collect(address provider, address[] calldata payers, bytes16[] calldata jobIds)
        external
        nonReentrant
        returns (uint256 amount)
    {
        uint256 n = payers.length;
        if (n != jobIds.length) revert LengthMismatch(n, jobIds.length);
        uint256 window = challengeWindow;
        for (uint256 i; i < n;) {
            bytes32 key = pairKey(payers[i], jobIds[i], provider);
            uint256 pairWord = _pairWord(key);
            uint256 word = collections[key];
            uint256 taken = word & ENTRY_AMOUNT_MASK;
            uint256 matured = _matured(pairWord, word);
            uint256 paid = pairWord & ENTRY_AMOUNT_MASK;
            uint256 checkpointAt = (word >> CHECKPOINT_AT_SHIFT) & TIME_MASK;
            uint256 next = word;
            if (checkpointAt == 0 || block.timestamp >= checkpointAt) {
                // No checkpoint running: start one over what the pair has paid beyond `matured`. It
                // matures a window from now, and never before the pair's own maturity time, so a
                // shorter window never matures earnings paid under a longer one sooner.
                uint256 startsMaturingAt = block.timestamp + window;
                uint256 pairMaturesAt = (pairWord >> PAIR_MATURES_SHIFT) & TIME_MASK;
                if (pairMaturesAt > startsMaturingAt) startsMaturingAt = pairMaturesAt;
                next = paid > matured ? paid << 96 | startsMaturingAt << CHECKPOINT_AT_SHIFT : 0;
            } else {
                next = word & ~ENTRY_AMOUNT_MASK;
            }
            next |= matured;
            if (next != word) collections[key] = next;
            unchecked {
                // matured <= paid, and every pair's paid came out of an escrow that fits 96 bits.
                amount += matured - taken;
                ++i;
            }
        }
        if (amount != 0) _addToBalance(provider, amount);
        emit EarningsCollected(provider, n, amount);
    }

    /// @notice What the pair paid its provider and is still in the pair (`uncollected`: neither
    ///         collected nor disputed), how much of it `collect` would move now (`collectable`), and
    ///         when more of it matures (0: nothing more is waiting). `uncollected - collectable` is
    ///         inside the challenge window: what a dispute over the pair may freeze.
    function pairEarnings(address payer, bytes16 jobId, address provider)
        external
        view
        returns (uint256 uncollected, uint256 collectable, uint64 nextMaturesAt)
    {
        bytes32 key = pairKey(payer, jobId, provider);
        uint256 pairWord = _pairWord(key);
        uint256 word = collections[key];
        uint256 taken = word & ENTRY_AMOUNT_MASK;
        uint256 paid = pairWord & ENTRY_AMOUNT_MASK;
        uint256 matured = _matured(pairWord, word);
        uncollected = paid - taken;
        collectable = matured - taken;
        if (paid > matured) {
            uint256 checkpointAt = (word >> CHECKPOINT_AT_SHIFT) & TIME_MASK;
            bool checkpointPending = checkpointAt > block.timestamp && (word >> 96) & ENTRY_AMOUNT_MASK > matured;
            nextMaturesAt = uint64(checkpointPending ? checkpointAt : (pairWord >> PAIR_MATURES_SHIFT) & TIME_MASK);
        }
    }

    /// @notice Send the caller's whole balance to its payout address. Earnings still in pairs count
    ///         only once collected (`collect`); what is inside the challenge window stays there.
    function withdraw() external nonReentrant {
        uint256 amount = providers[msg.sender].balance;
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        providers[msg.sender].balance = 0;
        address to = payoutAddress[msg.sender];
        if (to == address(0)) to = msg.sender;
        totalProviderWithdrawn += amount;
        emit ProviderWithdrawn(msg.sender, to, amount);
        _send(to, amount);
    }

    /// @notice What `provider` can withdraw now: earnings collected out of its pairs and disputes
    ///         resolved as no fraud. Earnings still in pairs are in `pairEarnings`.
    function providerBalance(address provider) external view returns (uint256) {
        return providers[provider].balance;
    }

    // ------------------------------------------------------------------ stake
    /// @notice Stake the sent amount as the caller's (a provider's own key). It backs the GPUs the
    ///         provider offers and can be slashed for proven fraud.
    function stake() external payable {
        if (msg.value == 0) revert ZeroAmount();
        uint256 next = stakes[msg.sender] + msg.value;
        if (next > AMOUNT_MASK) revert AmountTooLarge(next);
        stakes[msg.sender] = next;
        totalStaked += msg.value;
        emit Staked(msg.sender, msg.value, next);
    }

    /// @notice Announce taking `amount` of stake back after `thawPeriod`; it stays slashable until
    ///         withdrawn. Calling again restarts the clock.
    function startUnstake(uint256 amount) external {
        emit UnstakeStarted(msg.sender, amount, _startThaw(stakeThaws[msg.sender], amount));
    }

    function cancelUnstake() external {
        _cancelThaw(stakeThaws[msg.sender], true);
        emit UnstakeCancelled(msg.sender);
    }

    /// @notice Withdraw the thawed stake (capped at what slashing left) to the provider's key.
    function withdrawStake() external nonReentrant {
        uint256 held = stakes[msg.sender];
        uint256 amount = _takeThawed(stakeThaws[msg.sender], held, true);
        uint256 remaining = held - amount;
        stakes[msg.sender] = remaining;
        totalStakeWithdrawn += amount;
        emit StakeWithdrawn(msg.sender, amount, remaining);
        _send(msg.sender, amount);
    }

    /// @notice A provider's stake (slashable, thawing included), what it is unstaking and when.
    function stakeOf(address provider) external view returns (uint256 amount, uint256 thawing, uint64 thawEnds) {
        Thaw storage t = stakeThaws[provider];
        return (stakes[provider], t.amount, t.endsAt);
    }

    /// @notice When the provider's announced unstaking may be withdrawn (0 = none announced).
    function stakeThawEndsAt(address provider) external view returns (uint64) {
        return stakeThaws[provider].endsAt;
    }
}
