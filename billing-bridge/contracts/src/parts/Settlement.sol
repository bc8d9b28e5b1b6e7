// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EscrowAccounts} from "./EscrowAccounts.sol";

/// @title Settlement
/// @notice Moves escrow into pairs: reporters' batches (`settleBatch`) and EIP-712 vouchers signed
///         by a reporter (`settleWithVoucher`), both from cumulative figures, so nothing pays twice.
abstract contract Settlement is EscrowAccounts {
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 public constant VOUCHER_TYPEHASH =
        keccak256("Voucher(address payer,bytes16 jobId,address provider,uint128 cumulative)");
    bytes32 private constant NAME_HASH = keccak256("GpuPoolBilling");
    bytes32 private constant VERSION_HASH = keccak256("2");
    // secp256k1n / 2: signatures with a higher s are malleable duplicates and are rejected.
    uint256 private constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;
    uint256 private constant NO_RUN = type(uint256).max;

    /// @notice Settle many pairs at once. `parties` lists payer and provider addresses (high bits
    ///         ignored; order free); each entry packs one pair: bits 0..95 the cumulative amount
    ///         owed in wei, bits 96..111 the provider's index and bits 112..127 the payer's index into
    ///         `parties`, bits 128..255 the job id (bytes16). A payer's escrow (with the caller's
    ///         spending window) is read when a run of consecutive entries for that payer starts and
    ///         written once when it ends; a payer seen again later starts a new run that reads what
    ///         the last one wrote, so nothing cached can be spent twice. The operator sorts entries
    ///         by payer, so a batch has one run per payer. What a pair pays stays in the pair until
    ///         collected (`collect`). Only a bad index reverts.
    function settleBatch(address[] calldata parties, uint256[] calldata entries) external nonReentrant {
        Reporter memory reporter = reporters[msg.sender];
        if (!reporter.active) revert NotReporter(msg.sender);
        uint256 rid = reporter.id;
        uint256 partyCount = parties.length;
        uint256 maturesAt = block.timestamp + challengeWindow;
        uint256 runIdx = NO_RUN;
        address payer;
        uint256 runWord; // the payer's escrow word with the caller's window in it, before this run
        uint256 previousWord; // the stored word, when another reporter's window must go back first
        uint256 budget; // what the run may still charge: min(balance, window left) - charged
        uint256 charged;
        uint256 batchPaid;
        uint256 n = entries.length;
        for (uint256 i; i < n;) {
            uint256 entry;
            // In bounds: i < n and the array was length-checked against calldata when decoded.
            assembly ("memory-safe") {
                entry := calldataload(add(entries.offset, shl(5, i)))
            }
            uint256 providerIdx = (entry >> 96) & 0xFFFF;
            uint256 payerIdx = (entry >> 112) & 0xFFFF;
            if (providerIdx >= partyCount) revert PartyIndexOutOfRange(providerIdx, partyCount);
            if (payerIdx >= partyCount) revert PartyIndexOutOfRange(payerIdx, partyCount);
            if (payerIdx != runIdx) {
                if (runIdx != NO_RUN) _endRun(payer, runWord, previousWord, budget, charged);
                // Masked: dirty high bits cannot make one payer two.
                assembly ("memory-safe") {
                    payer := and(calldataload(add(parties.offset, shl(5, payerIdx))), 0xffffffffffffffffffffffffffffffffffffffff)
                }
                (runWord, previousWord) = _startRun(payer, rid);
                uint256 balance = runWord & ENTRY_AMOUNT_MASK;
                uint256 left = (runWord >> 96) & ENTRY_AMOUNT_MASK;
                budget = balance < left ? balance : left;
                charged = 0;
                runIdx = payerIdx;
            }
            address provider;
            assembly ("memory-safe") {
                provider := and(calldataload(add(parties.offset, shl(5, providerIdx))), 0xffffffffffffffffffffffffffffffffffffffff)
            }
            uint256 pay = _settlePair(payer, bytes16(bytes32(entry)), provider, entry & ENTRY_AMOUNT_MASK, budget, maturesAt);
            unchecked {
                // pay <= budget; the sums are bounded by escrows, which fit in 96 bits each.
                budget -= pay;
                charged += pay;
                batchPaid += pay;
                ++i;
            }
        }
        if (runIdx != NO_RUN) _endRun(payer, runWord, previousWord, budget, charged);
        totalPaid += batchPaid;
        emit BatchSettled(msg.sender, n, batchPaid);
    }

    /// @dev `payer`'s escrow word with the caller's (id `rid`) spending window in it: as stored
    ///      when the slot caches that window and it still runs; else with a window read from the
    ///      Allowance (a new one if it ended), and the stored word returned too when another
    ///      reporter's window cached there must go back to its Allowance before the write.
    function _startRun(address payer, uint256 rid) private view returns (uint256 runWord, uint256 previousWord) {
        uint256 word;
        assembly ("memory-safe") {
            mstore(0x00, payer)
            mstore(0x20, escrows.slot)
            word := sload(keccak256(0x00, 0x40))
        }
        bool cached = rid != 0 && word >> 232 == rid;
        if (cached && block.timestamp < (word >> 192) & TIME_MASK) return (word, 0);
        Allowance memory a = allowances[payer][msg.sender];
        uint256 spent = a.spent;
        uint256 windowStart = a.windowStart;
        if (cached || block.timestamp >= windowStart + a.period) {
            spent = 0;
            windowStart = block.timestamp;
        }
        // A payer that lowered its limit below what this window already spent: nothing left.
        uint256 left = a.perPeriod > spent ? a.perPeriod - spent : 0;
        runWord = (word & ENTRY_AMOUNT_MASK) | (left << 96) | ((windowStart + a.period) << 192) | (rid << 232);
        if (!cached && word >> 232 != 0) previousWord = word;
    }

    /// @dev Write what the run charged: balance and window left both down by `charged`; the slot
    ///      caches the caller's window from then on. Nothing charged: nothing written (a window
    ///      that charged nothing is not cached, so its Allowance keeps its spent figure).
    function _endRun(address payer, uint256 runWord, uint256 previousWord, uint256 budget, uint256 charged) private {
        if (charged != 0) {
            if (previousWord != 0) {
                Escrow memory previous = _escrowOf(previousWord);
                _uncache(payer, previous);
            }
            uint256 next;
            unchecked {
                // charged <= min(balance, left): neither field borrows from the next.
                next = runWord - charged - (charged << 96);
            }
            assembly ("memory-safe") {
                mstore(0x00, payer)
                mstore(0x20, escrows.slot)
                sstore(keccak256(0x00, 0x40), next)
            }
        }
        if (budget == 0 && (runWord & ENTRY_AMOUNT_MASK) != charged) {
            emit SpendingLimitReached(payer, msg.sender, uint64((runWord >> 192) & TIME_MASK));
        }
    }

    function _escrowOf(uint256 word) private pure returns (Escrow memory) {
        return Escrow(
            uint96(word), uint96(word >> 96), uint40(word >> 192), uint24(word >> 232)
        );
    }

    /// @notice Settle one pair with a cumulative voucher signed (EIP-712) by an authorised reporter.
    ///         Anyone may submit it, typically the provider. Replaying a voucher pays nothing. The
    ///         payer's spending limit for the signing reporter applies.
    function settleWithVoucher(address payer, bytes16 jobId, address provider, uint128 cumulative, bytes calldata sig)
        external
        nonReentrant
    {
        if (cumulative > ENTRY_AMOUNT_MASK) revert AmountTooLarge(cumulative);
        address signer = _recover(voucherDigest(payer, jobId, provider, cumulative), sig);
        Reporter memory reporter = reporters[signer];
        if (signer == address(0) || !reporter.active) revert InvalidSignature();
        uint256 available = _budget(payer, signer, reporter.id);
        uint256 pay = _settlePair(payer, jobId, provider, cumulative, available, block.timestamp + challengeWindow);
        totalPaid += pay;
        _debit(payer, signer, reporter.id, available - pay);
        emit BatchSettled(msg.sender, 1, pay);
    }

    /// @dev Raise the pair's owed figure to `cumulative` (never lower) and pay what is unpaid,
    ///      capped at `available` (nothing to an unregistered provider); what is paid stays in the
    ///      pair and matures at `maturesAt` (never earlier than what it paid before). Returns the
    ///      amount moved. One SLOAD and one SSTORE of the pair word.
    function _settlePair(
        address payer,
        bytes16 jobId,
        address provider,
        uint256 cumulative,
        uint256 available,
        uint256 maturesAt
    ) private returns (uint256 pay) {
        bytes32 key;
        uint256 word;
        // The key inline, not through pairKey: a call per pair costs gas the worst case has not got.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, and(payer, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(ptr, 0x20), and(jobId, not(0xffffffffffffffffffffffffffffffff)))
            mstore(add(ptr, 0x40), and(provider, 0xffffffffffffffffffffffffffffffffffffffff))
            key := keccak256(ptr, 0x60)
            word := sload(key)
        }
        uint256 paid = word & ENTRY_AMOUNT_MASK;
        uint256 reported = (word >> 96) & ENTRY_AMOUNT_MASK;
        uint256 owed = cumulative > reported ? cumulative : reported;
        if (owed == paid) return 0; // replay or duplicate: nothing new, no write
        uint256 registered = word & REGISTERED_BIT;
        // Registration is never revoked: once seen, the pair's own bit spares reading the provider.
        if (registered == 0 && providers[provider].registered) registered = REGISTERED_BIT;
        if (registered == 0) {
            if (owed != reported) {
                assembly ("memory-safe") {
                    sstore(key, or(and(word, not(shl(96, 0xffffffffffffffffffffffff))), shl(96, owed)))
                }
            }
            emit ProviderNotRegistered(jobId, provider, payer, owed, paid);
            return 0;
        }
        uint256 stamp = (word >> PAIR_MATURES_SHIFT) & TIME_MASK;
        unchecked {
            // paid <= owed always (paid only grows up to owed), and pay <= owed - paid < 2^96.
            uint256 due = owed - paid;
            pay = due <= available ? due : available;
            paid += pay;
        }
        if (pay != 0 && maturesAt > stamp) stamp = maturesAt;
        assembly ("memory-safe") {
            sstore(key, or(or(registered, shl(PAIR_MATURES_SHIFT, stamp)), or(paid, shl(96, owed))))
        }
        if (pay != 0) emit Settled(jobId, provider, payer, paid);
        if (paid < owed) emit Overdrawn(jobId, provider, payer, owed, paid);
    }

    /// @notice Cumulative paid and owed for a (payer, job, provider) pair.
    function pairState(address payer, bytes16 jobId, address provider)
        external
        view
        returns (uint256 paid, uint256 owed)
    {
        uint256 word = _pairWord(pairKey(payer, jobId, provider));
        return (word & ENTRY_AMOUNT_MASK, (word >> 96) & ENTRY_AMOUNT_MASK);
    }

    function domainSeparator() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    function voucherDigest(address payer, bytes16 jobId, address provider, uint128 cumulative)
        public
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(VOUCHER_TYPEHASH, payer, jobId, provider, cumulative));
        return keccak256(abi.encodePacked(hex"1901", domainSeparator(), structHash));
    }

    function _recover(bytes32 digest, bytes calldata sig) private pure returns (address) {
        if (sig.length != 65) revert InvalidSignature();
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (uint256(s) > HALF_N || (v != 27 && v != 28)) revert InvalidSignature();
        return ecrecover(digest, v, r, s);
    }
}
