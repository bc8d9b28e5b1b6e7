// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {BillingState} from "./BillingState.sol";

/// @title EscrowAccounts
/// @notice A payer's side: escrow deposits, announced (thawing) withdrawals, and the spending limit
///         each payer grants each reporter per period, with the window cached in the escrow slot.
abstract contract EscrowAccounts is BillingState {
    function deposit() external payable {
        _deposit(msg.sender);
    }

    function depositFor(address payer) external payable {
        if (payer == address(0)) revert ZeroAddress();
        _deposit(payer);
    }

    function _deposit(address payer) private {
        if (msg.value == 0) revert ZeroAmount();
        Escrow storage e = escrows[payer];
        uint256 next = uint256(e.balance) + msg.value;
        if (next > BALANCE_MAX) revert AmountTooLarge(next);
        e.balance = uint96(next);
        totalDeposited += msg.value;
        emit Deposited(payer, msg.sender, msg.value, next);
    }

    /// @notice Let `reporter` charge the caller's escrow at most `perPeriod` wei in any window of
    ///         `period` seconds. 0 revokes. Changing it keeps what was spent in the current window.
    function setSpendingLimit(address reporter, uint96 perPeriod, uint32 period) external {
        if (reporter == address(0)) revert ZeroAddress();
        if (period == 0) revert ZeroPeriod();
        uint256 id = reporters[reporter].id;
        Escrow memory e = escrows[msg.sender];
        if (id != 0 && e.reporterId == id) {
            // The cached window was measured against the old limit: hand it back to the Allowance
            // first, so the spent figure carries over exactly as for an uncached window.
            _uncache(msg.sender, e);
            escrows[msg.sender] = Escrow(e.balance, 0, 0, 0);
        }
        Allowance storage a = allowances[msg.sender][reporter];
        a.perPeriod = perPeriod;
        a.period = period;
        emit SpendingLimitSet(msg.sender, reporter, perPeriod, period);
    }

    /// @notice Announce a withdrawal; it can be executed after `thawPeriod`. Until then the amount
    ///         still backs settlements, so providers are paid first. Calling again restarts the clock.
    function startThaw(uint256 amount) external {
        emit ThawStarted(msg.sender, amount, _startThaw(escrowThaws[msg.sender], amount));
    }

    function cancelThaw() external {
        _cancelThaw(escrowThaws[msg.sender], false);
        emit ThawCancelled(msg.sender);
    }

    /// @notice Withdraw the thawed amount (capped at what settlements left in escrow).
    function withdrawEscrow() external nonReentrant {
        Escrow storage e = escrows[msg.sender];
        uint256 amount = _takeThawed(escrowThaws[msg.sender], e.balance, false);
        uint256 remaining = uint256(e.balance) - amount;
        e.balance = uint96(remaining);
        totalEscrowWithdrawn += amount;
        emit EscrowWithdrawn(msg.sender, amount, remaining);
        _send(msg.sender, amount);
    }

    function escrowOf(address payer) external view returns (uint256 balance, uint256 thawing, uint64 thawEnds) {
        Thaw storage t = escrowThaws[payer];
        return (escrows[payer].balance, t.amount, t.endsAt);
    }

    /// @notice When the payer's announced escrow withdrawal may be made (0 = none announced).
    function thawEndsAt(address payer) external view returns (uint64) {
        return escrowThaws[payer].endsAt;
    }

    /// @notice The limit `payer` granted `reporter`, what it spent in the current window and when
    ///         that window started; `available` is what it may charge right now.
    function spendingLimit(address payer, address reporter)
        external
        view
        returns (uint256 perPeriod, uint256 period, uint256 spent, uint256 windowStart, uint256 available)
    {
        Allowance memory a = allowances[payer][reporter];
        Escrow memory e = escrows[payer];
        perPeriod = a.perPeriod;
        period = a.period;
        bool cached = e.reporterId != 0 && e.reporterId == reporters[reporter].id;
        if (cached && block.timestamp < e.windowEnd) {
            (spent, windowStart) = (perPeriod - e.left, e.windowEnd - period);
        } else if (cached || block.timestamp >= uint256(a.windowStart) + period) {
            (spent, windowStart) = (0, block.timestamp);
        } else {
            (spent, windowStart) = (a.spent, a.windowStart);
        }
        uint256 left = perPeriod > spent ? perPeriod - spent : 0;
        available = e.balance < left ? e.balance : left;
    }

    // ------------------------------------------------------------------ spending windows
    /// @dev Charge `payer` what its budget for `reporter` (id `rid`) shrank by: escrow down, the
    ///      window's allowance down, both in the Escrow slot, which caches this reporter's window
    ///      from now on (the window cached there before goes back to its own Allowance).
    function _debit(address payer, address reporter, uint256 rid, uint256 budgetLeft) internal {
        Escrow memory e = escrows[payer];
        (uint256 left, uint256 windowEnd, bool cached) = _window(e, payer, reporter, rid);
        uint256 balance = e.balance;
        uint256 debit = (balance < left ? balance : left) - budgetLeft;
        if (debit != 0) {
            if (!cached && e.reporterId != 0) _uncache(payer, e);
            escrows[payer] = Escrow(uint96(balance - debit), uint96(left - debit), uint40(windowEnd), uint24(rid));
        }
        if (budgetLeft == 0 && balance - debit != 0) {
            emit SpendingLimitReached(payer, reporter, uint64(windowEnd));
        }
    }

    /// @dev What `reporter` (id `rid`) may charge `payer` now: min(escrow, what its limit has left
    ///      in the current window).
    function _budget(address payer, address reporter, uint256 rid) internal view returns (uint256) {
        Escrow memory e = escrows[payer];
        (uint256 left,,) = _window(e, payer, reporter, rid);
        return e.balance < left ? e.balance : left;
    }

    /// @dev The spending window `reporter` (id `rid`) charges `payer` in: what its limit has left
    ///      and when the window ends (a window that ended restarts now), and whether `e` caches it.
    function _window(Escrow memory e, address payer, address reporter, uint256 rid)
        private
        view
        returns (uint256 left, uint256 windowEnd, bool cached)
    {
        cached = rid != 0 && e.reporterId == rid;
        if (cached && block.timestamp < e.windowEnd) return (e.left, e.windowEnd, true);
        Allowance memory a = allowances[payer][reporter];
        uint256 spent = a.spent;
        uint256 windowStart = a.windowStart;
        if (cached || block.timestamp >= windowStart + a.period) {
            spent = 0;
            windowStart = block.timestamp;
        }
        left = a.perPeriod > spent ? a.perPeriod - spent : 0;
        windowEnd = windowStart + a.period;
    }

    /// @dev Write the window cached in `e` back to its reporter's Allowance (as spent and start,
    ///      measured against that Allowance's limit, which cannot have changed while cached).
    function _uncache(address payer, Escrow memory e) internal {
        Allowance storage a = allowances[payer][reporterById[e.reporterId]];
        a.spent = uint96(a.perPeriod - e.left);
        a.windowStart = uint32(e.windowEnd - a.period);
    }
}
