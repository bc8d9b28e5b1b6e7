// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase} from "./TestBase.sol";
import {GpuPoolBilling} from "../src/GpuPoolBilling.sol";
import {BillingErrors} from "../src/parts/BillingErrors.sol";
import {BillingEvents} from "../src/parts/BillingEvents.sol";
import {Settlement} from "../src/parts/Settlement.sol";

/// @dev Shared set-up for the attack tests: one reporter (whose key the attacker holds), two payers
///      with 10 ETH escrow each who granted that reporter `LIMIT` per day, one registered provider.
///      Addresses increase in the order payer < provider < payer2 so `parties` lists are sorted.
abstract contract AttackBase is TestBase {
    GpuPoolBilling internal billing;
    uint256 internal constant REPORTER_KEY = 0xA11CE;
    address internal reporter;
    address internal payer = address(0x1001);
    address internal provider = address(0x1002);
    address internal payer2 = address(0x1003);
    address internal thief = address(0x1004);
    uint64 internal constant DELAY = 2 days;
    uint96 internal constant LIMIT = 1 ether;

    function setUp() public virtual {
        billing = new GpuPoolBilling(1 days, DELAY);
        reporter = vm.addr(REPORTER_KEY);
        billing.proposeReporter(reporter);
        vm.warp(block.timestamp + DELAY);
        billing.activateReporter(reporter);
        _fund(payer, 10 ether);
        _fund(payer2, 10 ether);
        vm.prank(provider);
        billing.registerProvider(provider);
    }

    function _fund(address p, uint256 amount) internal {
        vm.deal(p, amount);
        vm.startPrank(p);
        billing.deposit{value: amount}();
        billing.setSpendingLimit(reporter, LIMIT, 1 days);
        vm.stopPrank();
    }

    function _one(address a, address b, bytes16 job, uint256 cumulative)
        internal
        pure
        returns (address[] memory parties, uint256[] memory entries)
    {
        parties = new address[](2);
        entries = new uint256[](1);
        bool aFirst = a < b;
        parties[0] = aFirst ? a : b;
        parties[1] = aFirst ? b : a;
        entries[0] = aFirst ? entry(job, 0, 1, cumulative) : entry(job, 1, 0, cumulative);
    }

    function _settle(address from, address payerAddr, address providerAddr, bytes16 job, uint256 cumulative)
        internal
    {
        (address[] memory parties, uint256[] memory entries) = _one(payerAddr, providerAddr, job, cumulative);
        vm.prank(from);
        billing.settleBatch(parties, entries);
    }

    function _escrow(address p) internal view returns (uint256 bal) {
        (bal,,) = billing.escrowOf(p);
    }

    /// What `p` earned: its collected balance and what its pairs with this file's payers and jobs
    /// still hold (version 6 keeps earnings in each pair until collected).
    function _earned(address p) internal view returns (uint256 sum) {
        sum = billing.providerBalance(p);
        bytes16[5] memory jobs = [bytes16("fake"), bytes16("job"), bytes16("x"), bytes16("job-1"), bytes16("job-2")];
        for (uint256 j; j < jobs.length; j++) {
            (uint256 a,,) = billing.pairEarnings(payer, jobs[j], p);
            (uint256 b,,) = billing.pairEarnings(payer2, jobs[j], p);
            sum += a + b;
        }
    }
}

/// @dev One payer listed twice in `parties` used to get two escrow caches: a 10 ETH escrow paid
///      20 ETH, the second 10 ETH coming out of payer2's escrow.
contract DoubleSpendTest is AttackBase {
    function setUp() public override {
        super.setUp();
        vm.prank(payer);
        billing.setSpendingLimit(reporter, type(uint96).max, 1 days);
    }

    function test_payerListedTwiceCannotSpendEscrowTwice() public {
        address[] memory parties = new address[](3);
        parties[0] = payer;
        parties[1] = provider;
        parties[2] = payer;
        uint256[] memory entries = new uint256[](2);
        entries[0] = entry(bytes16("job-1"), 0, 1, 10 ether);
        entries[1] = entry(bytes16("job-2"), 2, 1, 10 ether);
        vm.prank(reporter);
        try billing.settleBatch(parties, entries) {} catch {}
        (uint256 first,) = billing.pairState(payer, bytes16("job-1"), provider);
        (uint256 second,) = billing.pairState(payer, bytes16("job-2"), provider);
        assertLe(first + second, 10 ether, "provider paid at most the escrow");
        assertEq(_escrow(payer2), 10 ether, "payer2's escrow untouched");
    }

    /// Version 6 settles each payer per run of consecutive entries and masks party words, so
    /// duplicate, unsorted and dirty `parties` are accepted and still spend each escrow once.
    function test_duplicateUnsortedAndDirtyPartiesSpendAnEscrowOnce() public {
        // provider, payer, payer again (an alias with garbage in its 96 high bits): unsorted,
        // duplicate and dirty at once; entries for payer at index 1, the alias, then payer again.
        uint256[] memory entries = new uint256[](3);
        address[] memory parties = new address[](3);
        (parties[0], parties[1], parties[2]) = (provider, payer, payer);
        entries[0] = entry(bytes16("a"), 1, 0, 4 ether);
        entries[1] = entry(bytes16("b"), 2, 0, 4 ether);
        entries[2] = entry(bytes16("c"), 1, 0, 4 ether);
        bytes memory encoded = abi.encodeCall(Settlement.settleBatch, (parties, entries));
        // parties[2]'s word: selector, two offsets, the length, then parties[0..2].
        encoded[4 + 0x60 + 2 * 0x20] = 0xff;
        vm.prank(reporter);
        (bool ok,) = address(billing).call(encoded);
        assertTrue(ok, "settled");
        (uint256 a,) = billing.pairState(payer, bytes16("a"), provider);
        (uint256 b,) = billing.pairState(payer, bytes16("b"), provider);
        (uint256 c,) = billing.pairState(payer, bytes16("c"), provider);
        // The payer granted an unlimited limit (setUp): its 10 ETH escrow is the only bound.
        assertEq(a, 4 ether, "first run paid in full");
        assertEq(b, 4 ether, "the alias's run read what the first run left");
        assertEq(c, 2 ether, "the third run found only what was left");
        assertEq(_escrow(payer), 0, "the escrow spent once");
        assertEq(_escrow(payer2), 10 ether, "payer2's escrow untouched");
        assertEq(billing.totalPaid(), 10 ether, "paid = the escrow");
    }

    function _sortedPayerProvider() internal view returns (address[] memory parties) {
        parties = new address[](2);
        parties[0] = payer;
        parties[1] = provider;
    }
}

/// @dev A thief holding the reporter key settles whatever it likes, to addresses it controls.
contract StolenReporterKeyTest is AttackBase {
    bytes16 internal constant FAKE_JOB = bytes16("fake");

    function test_thiefPaysItselfAtMostTheLimitPerPeriod() public {
        vm.prank(thief);
        billing.registerProvider(thief); // anyone can register its own key
        _settle(reporter, payer, thief, FAKE_JOB, 10 ether);
        assertEq(_earned(thief), LIMIT, "one period's limit");
        assertEq(_escrow(payer), 9 ether, "the rest of the escrow stays");
        _settle(reporter, payer, thief, FAKE_JOB, 10 ether);
        assertEq(_earned(thief), LIMIT, "not again in the same window");
        vm.warp(block.timestamp + 1 days);
        _settle(reporter, payer, thief, FAKE_JOB, 10 ether);
        assertEq(_earned(thief), 2 * LIMIT, "one more limit per elapsed period");
        // Revoking the reporter stops it at once.
        billing.removeReporter(reporter);
        vm.warp(block.timestamp + 1 days);
        vm.prank(reporter);
        (address[] memory parties, uint256[] memory entries) = _one(payer, thief, FAKE_JOB, 10 ether);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NotReporter.selector, reporter));
        billing.settleBatch(parties, entries);
    }

    function test_thiefCannotPayAnUnregisteredAddress() public {
        _settle(reporter, payer, thief, FAKE_JOB, 10 ether);
        assertEq(_earned(thief), 0, "unregistered: nothing");
        assertEq(_escrow(payer), 10 ether, "escrow intact");
        (uint256 paid, uint256 owed) = billing.pairState(payer, FAKE_JOB, thief);
        assertEq(paid, 0, "paid");
        assertEq(owed, 10 ether, "owed is remembered (a real provider is paid once it registers)");
    }

    function test_thawingEscrowIsBoundedByTheLimitToo() public {
        vm.prank(payer);
        billing.startThaw(10 ether);
        vm.prank(thief);
        billing.registerProvider(thief);
        _settle(reporter, payer, thief, FAKE_JOB, 10 ether);
        vm.warp(block.timestamp + 1 days);
        uint256 before = payer.balance;
        vm.prank(payer);
        billing.withdrawEscrow();
        assertEq(payer.balance - before, 10 ether - LIMIT, "payer gets all but one limit back");
    }

    function test_overLimitStaysOwedAndEmitsAnEvent() public {
        vm.expectEmit(true, true, false, true);
        emit BillingEvents.SpendingLimitReached(payer, reporter, uint64(block.timestamp + 1 days));
        _settle(reporter, payer, provider, bytes16("job"), 1.5 ether);
        (uint256 paid, uint256 owed) = billing.pairState(payer, bytes16("job"), provider);
        assertEq(paid, 1 ether, "paid up to the limit");
        assertEq(owed, 1.5 ether, "rest owed");
        vm.warp(block.timestamp + 1 days);
        _settle(reporter, payer, provider, bytes16("job"), 1.5 ether);
        assertEq(_earned(provider), 1.5 ether, "paid in the next window");
    }

    function test_voucherSignedByStolenKeyIsBoundedByTheLimit() public {
        vm.prank(thief);
        billing.registerProvider(thief);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(REPORTER_KEY, billing.voucherDigest(payer, FAKE_JOB, thief, 10 ether));
        vm.prank(thief);
        billing.settleWithVoucher(payer, FAKE_JOB, thief, 10 ether, abi.encodePacked(r, s, v));
        assertEq(_earned(thief), LIMIT, "limit applies to vouchers");
        assertEq(_escrow(payer), 9 ether, "escrow");
    }
}

/// @dev A thief holding the owner key.
contract StolenOwnerKeyTest is AttackBase {
    address internal evilReporter = address(0xE71);

    function test_newReporterWaitsForTheDelayAndChargesNobodyWithoutALimit() public {
        billing.proposeReporter(evilReporter);
        vm.expectRevert(
            abi.encodeWithSelector(BillingErrors.NotYet.selector, evilReporter, uint64(block.timestamp + DELAY))
        );
        billing.activateReporter(evilReporter);
        vm.warp(block.timestamp + DELAY);
        billing.activateReporter(evilReporter);
        vm.prank(thief);
        billing.registerProvider(thief);
        _settle(evilReporter, payer, thief, bytes16("x"), 10 ether);
        assertEq(_earned(thief), 0, "no limit granted to it: nothing");
        assertEq(_escrow(payer), 10 ether, "escrow intact");
    }

    function test_ownerCannotRedirectARegisteredProvider() public {
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.AlreadyRegistered.selector, provider));
        billing.proposeProvider(provider, thief);
    }

    function test_ownerProposalForAnUnregisteredProviderIsDelayedAndCancellable() public {
        address quiet = address(0x2001);
        billing.proposeProvider(quiet, thief);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NotYet.selector, quiet, uint64(block.timestamp + DELAY)));
        billing.confirmProvider(quiet);
        vm.prank(quiet);
        billing.cancelProviderProposal(quiet);
        vm.warp(block.timestamp + DELAY);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NothingProposed.selector, quiet));
        billing.confirmProvider(quiet);
        // Unchallenged, it takes effect after the delay.
        billing.proposeProvider(quiet, address(0x2002));
        vm.warp(block.timestamp + DELAY);
        billing.confirmProvider(quiet);
        assertTrue(billing.isRegisteredProvider(quiet), "registered");
        assertEq(uint160(billing.payoutAddress(quiet)), uint160(address(0x2002)), "payout");
        // The provider's own key still decides afterwards; the owner no longer can.
        vm.prank(quiet);
        billing.registerProvider(quiet);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.AlreadyRegistered.selector, quiet));
        billing.proposeProvider(quiet, thief);
    }

    function test_ownershipMovesInTwoSteps() public {
        address next = address(0x0A1);
        billing.transferOwnership(next);
        assertEq(uint160(billing.owner()), uint160(address(this)), "still the owner until accepted");
        vm.prank(thief);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NotPendingOwner.selector, thief));
        billing.acceptOwnership();
        vm.prank(next);
        billing.acceptOwnership();
        assertEq(uint160(billing.owner()), uint160(next), "accepted");
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NotOwner.selector, address(this)));
        billing.proposeReporter(thief);
    }

    function test_pendingReporterIsRemovedAtOnce() public {
        billing.proposeReporter(evilReporter);
        billing.removeReporter(evilReporter);
        vm.warp(block.timestamp + DELAY);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NothingProposed.selector, evilReporter));
        billing.activateReporter(evilReporter);
    }
}

/// @dev Signature malleability and malformed vouchers.
contract VoucherSignatureTest is AttackBase {
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    bytes16 internal constant JOB = bytes16("job");

    function _sig(uint128 cumulative) internal view returns (uint8 v, bytes32 r, bytes32 s) {
        return vm.sign(REPORTER_KEY, billing.voucherDigest(payer, JOB, provider, cumulative));
    }

    function _rejects(bytes memory sig) internal {
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.InvalidSignature.selector));
        billing.settleWithVoucher(payer, JOB, provider, 0.5 ether, sig);
    }

    function test_highSTwinIsRejected() public {
        (uint8 v, bytes32 r, bytes32 s) = _sig(0.5 ether);
        // (r, n - s, v ^ 1) recovers the same signer: the malleable twin.
        _rejects(abi.encodePacked(r, bytes32(N - uint256(s)), v == 27 ? uint8(28) : uint8(27)));
        billing.settleWithVoucher(payer, JOB, provider, 0.5 ether, abi.encodePacked(r, s, v));
        assertEq(_earned(provider), 0.5 ether, "the canonical one pays");
    }

    function test_badVAndWrongLengthsAreRejected() public {
        (uint8 v, bytes32 r, bytes32 s) = _sig(0.5 ether);
        _rejects(abi.encodePacked(r, s, v - 27)); // 0/1 form
        _rejects(abi.encodePacked(r, s, uint8(29)));
        _rejects(abi.encodePacked(r, s)); // 64 bytes (EIP-2098 compact is not accepted)
        _rejects(abi.encodePacked(r, s, v, uint8(0))); // 66 bytes
        _rejects(abi.encodePacked(bytes32(0), s, v)); // r = 0: ecrecover yields address(0)
        _rejects(new bytes(0));
    }

    function testFuzz_anyHighSIsRejected(uint256 s) public {
        s = bound(s, 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A1, type(uint256).max);
        (uint8 v, bytes32 r,) = _sig(0.5 ether);
        _rejects(abi.encodePacked(r, bytes32(s), v));
    }
}

/// @dev A payer's escrow slot also holds the spending window of the reporter that charged it last
///      (one slot per payer in a settlement instead of two). These pin that the cache never lets a
///      reporter charge more per window than the old per-(payer, reporter) slot did.
contract SpendingWindowCacheTest is AttackBase {
    address internal reporter2 = address(0x2002);

    function setUp() public override {
        super.setUp();
        billing.proposeReporter(reporter2);
        vm.warp(block.timestamp + DELAY);
        billing.activateReporter(reporter2);
        vm.prank(payer);
        billing.setSpendingLimit(reporter2, LIMIT, 1 days);
    }

    function _spent(address r) internal view returns (uint256 spent, uint256 available) {
        (,, spent,, available) = billing.spendingLimit(payer, r);
    }

    function test_windowMovesBetweenReportersWithoutLosingWhatWasSpent() public {
        _settle(reporter, payer, provider, bytes16("a"), 0.6 ether);
        _settle(reporter2, payer, provider, bytes16("b"), 0.7 ether); // takes the cache over
        (uint256 spent, uint256 available) = _spent(reporter);
        assertEq(spent, 0.6 ether, "first reporter's window written back");
        assertEq(available, 0.4 ether, "first reporter's rest");
        _settle(reporter, payer, provider, bytes16("a"), 5 ether); // and back again
        (uint256 paid,) = billing.pairState(payer, bytes16("a"), provider);
        assertEq(paid, LIMIT, "first reporter: one limit in the window, not more");
        (spent, available) = _spent(reporter2);
        assertEq(spent, 0.7 ether, "second reporter's window written back");
        assertEq(available, 0.3 ether, "second reporter's rest");
        _settle(reporter2, payer, provider, bytes16("b"), 5 ether);
        (paid,) = billing.pairState(payer, bytes16("b"), provider);
        assertEq(paid, LIMIT, "second reporter: one limit in the window");
        assertEq(_escrow(payer), 8 ether, "escrow paid each reporter's limit once");
        vm.warp(block.timestamp + 1 days);
        _settle(reporter, payer, provider, bytes16("a"), 5 ether);
        (paid,) = billing.pairState(payer, bytes16("a"), provider);
        assertEq(paid, 2 * LIMIT, "a new window: one more limit of what is owed");
    }

    function test_loweringTheLimitBelowWhatWasSpentThenRaisingItKeepsTheSpentFigure() public {
        _settle(reporter, payer, provider, bytes16("a"), 0.6 ether);
        vm.prank(payer);
        billing.setSpendingLimit(reporter, 0.3 ether, 1 days);
        (uint256 spent, uint256 available) = _spent(reporter);
        assertEq(spent, 0.6 ether, "spent kept");
        assertEq(available, 0, "over the lowered limit");
        _settle(reporter, payer, provider, bytes16("a"), 2 ether);
        (uint256 paid,) = billing.pairState(payer, bytes16("a"), provider);
        assertEq(paid, 0.6 ether, "nothing more under the lowered limit");
        vm.prank(payer);
        billing.setSpendingLimit(reporter, LIMIT, 1 days);
        (spent, available) = _spent(reporter);
        assertEq(spent, 0.6 ether, "spent still kept");
        assertEq(available, 0.4 ether, "raised limit minus what the window spent");
        _settle(reporter, payer, provider, bytes16("a"), 2 ether);
        (paid,) = billing.pairState(payer, bytes16("a"), provider);
        assertEq(paid, LIMIT, "one limit in the window");
    }

    function test_aLongerPeriodKeepsTheWindowsStart() public {
        // A literal: via-IR may read block.timestamp again where a copy of it is used, after a warp.
        uint256 start = 1_000_000;
        vm.warp(start);
        _settle(reporter, payer, provider, bytes16("a"), 0.5 ether);
        vm.prank(payer);
        billing.setSpendingLimit(reporter, LIMIT, 2 days);
        vm.warp(start + 1 days + 1);
        _settle(reporter, payer, provider, bytes16("a"), 3 ether);
        (uint256 paid,) = billing.pairState(payer, bytes16("a"), provider);
        assertEq(paid, LIMIT, "same window: its start did not move");
        (,,, uint256 windowStart,) = billing.spendingLimit(payer, reporter);
        assertEq(windowStart, start, "window start");
        vm.warp(start + 2 days);
        _settle(reporter, payer, provider, bytes16("a"), 3 ether);
        (paid,) = billing.pairState(payer, bytes16("a"), provider);
        assertEq(paid, 2 * LIMIT, "the next window");
    }

    function test_aRemovedReporterChargesNothingThoughItsWindowIsCached() public {
        _settle(reporter, payer, provider, bytes16("a"), 0.5 ether);
        billing.removeReporter(reporter);
        (address[] memory parties, uint256[] memory entries) = _one(payer, provider, bytes16("a"), 1 ether);
        vm.prank(reporter);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NotReporter.selector, reporter));
        billing.settleBatch(parties, entries);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(REPORTER_KEY, billing.voucherDigest(payer, bytes16("a"), provider, 1 ether));
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.InvalidSignature.selector));
        billing.settleWithVoucher(payer, bytes16("a"), provider, 1 ether, abi.encodePacked(r, s, v));
    }
}
