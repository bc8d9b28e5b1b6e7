// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase} from "./TestBase.sol";
import {GpuPoolBilling} from "../src/GpuPoolBilling.sol";

/// @dev Drives the contract with random deposits (own and for others), spending limits, settlements
///      (new, replayed, stale, from revoked reporters, with hostile `parties` lists), vouchers, thaws
///      and cancels, withdrawals, provider registrations (own key and owner), reporter and owner
///      rotations; records ghost figures. Runs with fail_on_revert = true: no handler may revert, so
///      every call that should fail is made through try/catch and its outcome checked.
///
///      Accounts: POOL[0..2] are payers, POOL[2..4] providers (POOL[2] is both), POOL[4] starts
///      unregistered. POOL is increasing, so any ordered subset is a valid `parties` list.
contract BillingHandler is TestBase {
    GpuPoolBilling public immutable billing;
    address[5] internal pool = [address(0x1001), address(0x1002), address(0x1003), address(0x1004), address(0x1005)];
    uint256[3] internal reporterKeys = [uint256(0xA11CE), 0xB0B, 0xCA7];
    address[3] internal owners;
    bytes16[2] internal jobs = [bytes16(keccak256("job-a")), bytes16(keccak256("job-b"))];

    address public currentOwner;
    mapping(address => uint256) public ghostDepositedInto;
    mapping(address => uint256) public ghostWithdrawnFrom;
    mapping(address => uint256) public ghostChargedBy; // payer => sum charged by all reporters
    uint256 public ghostDeposited;
    uint256 public ghostEscrowWithdrawn;
    uint256 public ghostProviderWithdrawn;
    bool public paidDecreased;
    bool public forbiddenCallSucceeded;
    string public forbiddenWhat;
    mapping(bytes32 => uint256) internal lastPaid;
    mapping(bytes32 => uint256) internal lastReported;
    uint256 public calls;

    constructor(GpuPoolBilling b) {
        billing = b;
        owners = [address(this), address(0x0A1), address(0x0A2)];
        currentOwner = address(this);
    }

    function reporter(uint256 i) public view returns (address) {
        return vm.addr(reporterKeys[i % 3]);
    }

    function _forbidden(string memory what) internal {
        forbiddenCallSucceeded = true;
        forbiddenWhat = what;
    }

    // ------------------------------------------------------------ payers
    function deposit(uint256 fromSeed, uint256 payerSeed, uint256 amount, bool forOther) external {
        calls++;
        address payer = pool[payerSeed % 3];
        address from = forOther ? pool[fromSeed % 5] : payer;
        amount = bound(amount, 1, 50 ether);
        vm.deal(from, amount);
        vm.prank(from);
        if (forOther) billing.depositFor{value: amount}(payer);
        else billing.deposit{value: amount}();
        ghostDeposited += amount;
        ghostDepositedInto[payer] += amount;
    }

    function setLimit(uint256 payerSeed, uint256 reporterSeed, uint96 perPeriod, uint32 period) external {
        calls++;
        address payer = pool[payerSeed % 3];
        period = uint32(bound(period, 1, 3 days));
        vm.prank(payer);
        billing.setSpendingLimit(reporter(reporterSeed % 3), uint96(bound(perPeriod, 0, 30 ether)), period);
    }

    function thaw(uint256 payerSeed, uint256 amount, bool cancel) external {
        calls++;
        address payer = pool[payerSeed % 3];
        (, uint256 thawing,) = billing.escrowOf(payer);
        vm.prank(payer);
        if (cancel && thawing != 0) billing.cancelThaw();
        else billing.startThaw(bound(amount, 1, 60 ether));
    }

    function withdrawEscrow(uint256 payerSeed, uint256 wait) external {
        calls++;
        address payer = pool[payerSeed % 3];
        vm.warp(block.timestamp + bound(wait, 0, 2 * billing.thawPeriod()));
        (uint256 balance, uint256 thawing, uint64 endsAt) = billing.escrowOf(payer);
        uint256 before = payer.balance;
        vm.prank(payer);
        if (thawing != 0 && block.timestamp >= endsAt && balance != 0) {
            billing.withdrawEscrow();
            uint256 got = payer.balance - before;
            ghostEscrowWithdrawn += got;
            ghostWithdrawnFrom[payer] += got;
        } else {
            try billing.withdrawEscrow() {
                _forbidden("withdrawEscrow before thaw ended or with nothing thawed");
            } catch {}
        }
    }

    // ------------------------------------------------------------ settlement
    /// Settle up to 4 pairs over the parties they use; `grow` chooses a higher cumulative or a
    /// replay/stale one. The reporter may have been revoked: then the call must fail.
    function settle(uint256 seed, uint256 increment, bool grow, uint256 reporterSeed) external {
        calls++;
        uint256 n = 1 + seed % 4;
        uint256[] memory payerOf = new uint256[](n);
        uint256[] memory providerOf = new uint256[](n);
        uint256 used; // bit mask over pool
        for (uint256 i; i < n; i++) {
            uint256 s = uint256(keccak256(abi.encode(seed, i)));
            payerOf[i] = s % 3;
            providerOf[i] = 2 + (s >> 8) % 3;
            used |= (1 << payerOf[i]) | (1 << providerOf[i]);
        }
        (address[] memory parties, uint256[] memory position) = _subset(used);
        uint256[] memory entries = new uint256[](n);
        for (uint256 i; i < n; i++) {
            uint256 s = uint256(keccak256(abi.encode(seed, i)));
            bytes16 job = jobs[(s >> 16) % 2];
            bytes32 key = billing.pairKey(pool[payerOf[i]], job, pool[providerOf[i]]);
            uint256 reported = lastReported[key];
            uint256 cumulative = grow ? reported + bound(increment, 0, 20 ether) : reported / 2;
            entries[i] = entry(job, position[payerOf[i]], position[providerOf[i]], cumulative);
        }
        address r = reporter(reporterSeed % 3);
        uint256[3] memory escrowBefore = _escrows();
        vm.prank(r);
        try billing.settleBatch(parties, entries) {
            if (!billing.isReporter(r)) _forbidden("settleBatch by a non-reporter");
            for (uint256 i; i < n; i++) {
                bytes32 key = billing.pairKey(pool[payerOf[i]], bytes16(bytes32(entries[i])), pool[providerOf[i]]);
                uint256 c = entries[i] & ((1 << 96) - 1);
                if (c > lastReported[key]) lastReported[key] = c;
            }
            uint256[3] memory escrowAfter = _escrows();
            for (uint256 k; k < 3; k++) {
                ghostChargedBy[pool[k]] += escrowBefore[k] - escrowAfter[k];
            }
        } catch {
            if (billing.isReporter(r)) _forbidden("settleBatch by a reporter over a valid list reverted");
        }
        _checkMonotone();
    }

    /// `parties` with a duplicate, a swap or the zero address: version 6 settles each payer per run
    /// of consecutive entries, so such a list is accepted and the ghosts follow what it paid
    /// (the per-payer invariants then check no escrow was spent twice).
    function settleHostile(uint256 seed, uint96 amount) external {
        calls++;
        address[] memory parties = new address[](3);
        parties[0] = pool[0];
        parties[1] = pool[2];
        parties[2] = pool[3];
        uint256 kind = seed % 3;
        if (kind == 0) parties[2] = parties[(seed >> 8) % 2]; // duplicate of an earlier party
        if (kind == 1) (parties[0], parties[1]) = (parties[1], parties[0]); // swapped
        if (kind == 2) parties[0] = address(0);
        uint256[] memory entries = new uint256[](2);
        entries[0] = entry(jobs[0], 0, 1, amount);
        entries[1] = entry(jobs[1], 2, 1, amount);
        uint256[3] memory escrowBefore = _escrows();
        vm.prank(reporter(0));
        try billing.settleBatch(parties, entries) {
            if (!billing.isReporter(reporter(0))) _forbidden("settleBatch by a non-reporter");
            for (uint256 i; i < 2; i++) {
                address payerOfEntry = parties[(entries[i] >> 112) & 0xFFFF];
                bytes32 key = billing.pairKey(payerOfEntry, jobs[i], parties[1]);
                if (amount > lastReported[key]) lastReported[key] = amount;
            }
            uint256[3] memory escrowAfter = _escrows();
            for (uint256 k; k < 3; k++) {
                ghostChargedBy[pool[k]] += escrowBefore[k] - escrowAfter[k];
            }
        } catch {
            if (billing.isReporter(reporter(0))) _forbidden("a reporter's hostile list reverted");
        }
        _checkMonotone();
    }

    function settleWithVoucher(uint256 seed, uint256 increment) external {
        calls++;
        uint256 payerIdx = seed % 3;
        address payer = pool[payerIdx];
        address provider = pool[2 + (seed >> 8) % 3];
        bytes16 job = jobs[(seed >> 16) % 2];
        uint256 key_ = reporterKeys[(seed >> 24) % 3];
        bytes32 key = billing.pairKey(payer, job, provider);
        uint128 cumulative = uint128(lastReported[key] + bound(increment, 0, 5 ether));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key_, billing.voucherDigest(payer, job, provider, cumulative));
        (uint256 before,,) = billing.escrowOf(payer);
        vm.prank(provider);
        // Version 6 keeps pair amounts in 96 bits: a larger cumulative is refused (AmountTooLarge).
        bool fits = cumulative <= type(uint96).max;
        try billing.settleWithVoucher(payer, job, provider, cumulative, abi.encodePacked(r, s, v)) {
            if (!billing.isReporter(vm.addr(key_))) _forbidden("voucher of a non-reporter");
            if (!fits) _forbidden("a voucher over 96 bits accepted");
            lastReported[key] = cumulative;
            (uint256 afterwards,,) = billing.escrowOf(payer);
            ghostChargedBy[payer] += before - afterwards;
        } catch {
            if (billing.isReporter(vm.addr(key_)) && fits) _forbidden("valid voucher reverted");
        }
        _checkMonotone();
    }

    function strangerSettles(address caller, uint96 amount) external {
        calls++;
        if (billing.isReporter(caller) || caller == address(vm)) return;
        address[] memory parties = new address[](2);
        parties[0] = pool[0];
        parties[1] = pool[3];
        uint256[] memory entries = new uint256[](1);
        entries[0] = entry(jobs[0], 0, 1, amount);
        vm.prank(caller);
        try billing.settleBatch(parties, entries) {
            _forbidden("stranger settled");
        } catch {}
    }

    // ------------------------------------------------------------ providers
    function providerWithdraw(uint256 providerSeed) external {
        calls++;
        address provider = pool[2 + providerSeed % 3];
        // Version 6: earnings stay in each pair until collected; anyone may collect them.
        address[] memory payers = new address[](10);
        bytes16[] memory picks = new bytes16[](10);
        for (uint256 i; i < 10; i++) {
            (payers[i], picks[i]) = (pool[i / 2], jobs[i % 2]);
        }
        uint256 held = this.inPairs(provider);
        uint256 collected = billing.collect(provider, payers, picks);
        if (collected != held || this.inPairs(provider) != 0) _forbidden("collect without a window left earnings");
        uint256 amount = billing.providerBalance(provider);
        address payout = billing.payoutAddress(provider);
        if (payout == address(0)) payout = provider;
        uint256 before = payout.balance;
        vm.prank(provider);
        if (amount != 0) {
            billing.withdraw();
            ghostProviderWithdrawn += payout.balance - before;
        } else {
            try billing.withdraw() {
                _forbidden("withdraw of nothing");
            } catch {}
        }
    }

    function registerSelf(uint256 providerSeed, uint256 payoutSeed) external {
        calls++;
        address provider = pool[2 + providerSeed % 3];
        vm.prank(provider);
        billing.registerProvider(address(uint160(0xFA00 + payoutSeed % 4)));
    }

    function ownerProposesProvider(uint256 payoutSeed, uint256 wait, bool providerCancels) external {
        calls++;
        address provider = pool[4];
        address payout = address(uint160(0xFB00 + payoutSeed % 4));
        bool registered = billing.isRegisteredProvider(provider);
        vm.prank(currentOwner);
        if (registered) {
            try billing.proposeProvider(provider, payout) {
                _forbidden("owner re-pointed a registered provider");
            } catch {}
            return;
        }
        billing.proposeProvider(provider, payout);
        if (providerCancels) {
            vm.prank(provider);
            billing.cancelProviderProposal(provider);
            return;
        }
        vm.warp(block.timestamp + bound(wait, 0, 2 * billing.adminDelay()));
        (, uint64 readyAt) = billing.providerProposal(provider);
        vm.prank(currentOwner);
        if (block.timestamp >= readyAt) {
            billing.confirmProvider(provider);
        } else {
            try billing.confirmProvider(provider) {
                _forbidden("provider confirmed before the delay");
            } catch {}
        }
    }

    // ------------------------------------------------------------ owner
    function rotateReporter(uint256 seed, uint256 wait) external {
        calls++;
        address r = reporter(seed % 3);
        if (billing.isReporter(r)) {
            vm.prank(currentOwner);
            billing.removeReporter(r);
            return;
        }
        vm.prank(currentOwner);
        billing.proposeReporter(r);
        vm.warp(block.timestamp + bound(wait, 0, 2 * billing.adminDelay()));
        uint64 readyAt = billing.reporterReadyAt(r);
        vm.prank(currentOwner);
        if (block.timestamp >= readyAt) {
            billing.activateReporter(r);
        } else {
            try billing.activateReporter(r) {
                _forbidden("reporter activated before the delay");
            } catch {}
        }
    }

    function rotateOwner(uint256 seed, bool accept) external {
        calls++;
        address next = owners[seed % 3];
        vm.prank(currentOwner);
        billing.transferOwnership(next);
        // a bystander can never take it
        vm.prank(pool[seed % 5]);
        try billing.acceptOwnership() {
            if (pool[seed % 5] != next) _forbidden("ownership taken by a bystander");
        } catch {}
        if (accept && billing.pendingOwner() == next) {
            vm.prank(next);
            billing.acceptOwnership();
        }
        currentOwner = billing.owner();
    }

    function strangerAdministers(address caller, uint256 seed) external {
        calls++;
        if (caller == currentOwner || caller == address(vm)) return;
        vm.startPrank(caller);
        try billing.proposeReporter(caller) {
            _forbidden("stranger proposed a reporter");
        } catch {}
        try billing.removeReporter(reporter(seed % 3)) {
            _forbidden("stranger removed a reporter");
        } catch {}
        try billing.transferOwnership(caller) {
            _forbidden("stranger transferred ownership");
        } catch {}
        vm.stopPrank();
    }

    // ------------------------------------------------------------ checks
    function _subset(uint256 used) internal view returns (address[] memory parties, uint256[] memory position) {
        uint256 count;
        for (uint256 k; k < 5; k++) {
            if (used & (1 << k) != 0) count++;
        }
        parties = new address[](count);
        position = new uint256[](5);
        uint256 j;
        for (uint256 k; k < 5; k++) {
            if (used & (1 << k) != 0) {
                position[k] = j;
                parties[j++] = pool[k];
            }
        }
    }

    function _escrows() internal view returns (uint256[3] memory out) {
        for (uint256 k; k < 3; k++) {
            (out[k],,) = billing.escrowOf(pool[k]);
        }
    }

    function _checkMonotone() internal {
        for (uint256 a; a < 3; a++) {
            for (uint256 b = 2; b < 5; b++) {
                for (uint256 j; j < 2; j++) {
                    bytes32 key = billing.pairKey(pool[a], jobs[j], pool[b]);
                    (uint256 paid, uint256 owed) = billing.pairState(pool[a], jobs[j], pool[b]);
                    if (paid < lastPaid[key] || paid > owed) paidDecreased = true;
                    lastPaid[key] = paid;
                }
            }
        }
    }

    /// Σ paid over all pairs, Σ paid per payer, and whether any pair was paid more than the
    /// highest cumulative ever reported for it (which a double payment would cause).
    function paidFrom(address payer) public view returns (uint256 sum, bool overpaid) {
        for (uint256 b = 2; b < 5; b++) {
            for (uint256 j; j < 2; j++) {
                (uint256 paid,) = billing.pairState(payer, jobs[j], pool[b]);
                sum += paid;
                if (paid > lastReported[billing.pairKey(payer, jobs[j], pool[b])]) overpaid = true;
            }
        }
    }

    function payer(uint256 k) external view returns (address) {
        return pool[k % 5];
    }

    function sumEscrowAndBalances() external view returns (uint256 sum) {
        for (uint256 k; k < 5; k++) {
            (uint256 bal,,) = billing.escrowOf(pool[k]);
            sum += bal + billing.providerBalance(pool[k]) + this.inPairs(pool[k]);
        }
    }

    /// What the pairs paying `provider` (any pool payer, either job) still hold.
    function inPairs(address provider) external view returns (uint256 sum) {
        for (uint256 a; a < 5; a++) {
            for (uint256 j; j < 2; j++) {
                (uint256 uncollected,,) = billing.pairEarnings(pool[a], jobs[j], provider);
                sum += uncollected;
            }
        }
    }
}

contract GpuPoolBillingInvariantTest is TestBase {
    GpuPoolBilling internal billing;
    BillingHandler internal handler;

    function setUp() public {
        billing = new GpuPoolBilling(1 hours, 6 hours);
        handler = new BillingHandler(billing);
        billing.proposeReporter(handler.reporter(0));
        vm.warp(block.timestamp + 6 hours);
        billing.activateReporter(handler.reporter(0));
        billing.transferOwnership(address(handler));
        vm.prank(address(handler));
        billing.acceptOwnership();
        // POOL[2] and POOL[3] start registered, POOL[4] does not; payers grant reporter 0 a limit.
        for (uint256 k = 2; k < 4; k++) {
            vm.prank(handler.payer(k));
            billing.registerProvider(handler.payer(k));
        }
        for (uint256 k; k < 3; k++) {
            vm.prank(handler.payer(k));
            billing.setSpendingLimit(handler.reporter(0), 20 ether, 1 days);
        }
    }

    /// forge's invariant runner calls only the contracts listed here.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_perPayerPaidNeverExceedsDeposited() public view {
        for (uint256 k; k < 3; k++) {
            address payer = handler.payer(k);
            (uint256 paid, bool overpaid) = handler.paidFrom(payer);
            assertLe(paid, handler.ghostDepositedInto(payer), "paid from an escrow <= deposited into it");
            (uint256 escrow,,) = billing.escrowOf(payer);
            assertEq(
                paid + escrow + handler.ghostWithdrawnFrom(payer),
                handler.ghostDepositedInto(payer),
                "per payer: paid + escrow + withdrawn = deposited"
            );
            assertEq(paid, handler.ghostChargedBy(payer), "escrow debited exactly by what pairs were paid");
            assertTrue(!overpaid, "a pair was paid more than its highest reported cumulative");
        }
    }

    function invariant_moneyIsConserved() public view {
        assertLe(billing.totalPaid(), billing.totalDeposited(), "paid <= deposited");
        assertEq(billing.totalDeposited(), handler.ghostDeposited(), "deposits tracked");
        uint256 held = billing.totalDeposited() - billing.totalEscrowWithdrawn() - billing.totalProviderWithdrawn();
        assertEq(address(billing).balance, held, "contract balance = deposits - withdrawals");
        assertEq(handler.sumEscrowAndBalances(), held, "escrows + provider balances = held");
        assertEq(billing.totalEscrowWithdrawn(), handler.ghostEscrowWithdrawn(), "escrow withdrawals");
        assertEq(billing.totalProviderWithdrawn(), handler.ghostProviderWithdrawn(), "provider withdrawals");
        uint256 sum;
        for (uint256 k; k < 3; k++) {
            (uint256 paid,) = handler.paidFrom(handler.payer(k));
            sum += paid;
        }
        assertEq(sum, billing.totalPaid(), "sum of pair cursors = totalPaid");
    }

    function invariant_onlyRegisteredProvidersHoldEarnings() public view {
        address late = handler.payer(4);
        if (!billing.isRegisteredProvider(late)) {
            assertEq(billing.providerBalance(late) + handler.inPairs(late), 0, "unregistered provider was paid");
        }
    }

    function invariant_paidPerPairNeverDecreases() public view {
        assertTrue(!handler.paidDecreased(), "paid per pair decreased or exceeded owed");
    }

    function invariant_noForbiddenCallSucceeded() public view {
        assertTrue(!handler.forbiddenCallSucceeded(), handler.forbiddenWhat());
    }
}
