// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase} from "./TestBase.sol";
import {GpuPoolBilling} from "../src/GpuPoolBilling.sol";
import {BillingErrors} from "../src/parts/BillingErrors.sol";
import {EscrowAccounts} from "../src/parts/EscrowAccounts.sol";
import {ProviderAccounts} from "../src/parts/ProviderAccounts.sol";

/// @dev Payout address that tries to re-enter the contract when it receives money.
contract Reenterer {
    GpuPoolBilling internal immutable billing;
    uint256 public attempts;
    bool public reentered;

    constructor(GpuPoolBilling b) {
        billing = b;
    }

    function registerAsPayout() external {
        billing.registerProvider(address(this));
    }

    function withdrawAsProvider() external {
        billing.withdraw();
    }

    function depositAndThaw(uint256 amount) external payable {
        billing.deposit{value: msg.value}();
        billing.startThaw(amount);
    }

    function withdrawEscrow() external {
        billing.withdrawEscrow();
    }

    receive() external payable {
        attempts++;
        if (attempts == 1) {
            // Each of these must fail with Reentrancy; a success would mean a double payout.
            (bool a,) = address(billing).call(abi.encodeCall(ProviderAccounts.withdraw, ()));
            (bool b,) = address(billing).call(abi.encodeCall(EscrowAccounts.withdrawEscrow, ()));
            reentered = a || b;
        }
    }
}

contract GpuPoolBillingTest is TestBase {
    GpuPoolBilling internal billing;
    uint256 internal constant REPORTER_KEY = 0xA11CE;
    address internal reporter;
    // Increasing addresses: settleBatch takes `parties` strictly increasing.
    address internal payer = address(0xBA1);
    address internal provider = address(0xBA2);
    address internal payer2 = address(0xBA3);
    address internal provider2 = address(0xBA4);
    bytes16 internal constant JOB = bytes16(keccak256("ns/train-llama"));
    bytes16 internal constant JOB2 = bytes16(keccak256("ns/infer-mistral"));
    uint64 internal constant THAW = 1 days;
    uint64 internal constant ADMIN_DELAY = 2 days;

    function setUp() public {
        billing = new GpuPoolBilling(THAW, ADMIN_DELAY);
        reporter = vm.addr(REPORTER_KEY);
        billing.proposeReporter(reporter);
        vm.warp(block.timestamp + ADMIN_DELAY);
        billing.activateReporter(reporter);
        vm.deal(payer, 100 ether);
        vm.deal(payer2, 100 ether);
        _grantUnlimited(payer);
        _grantUnlimited(payer2);
        vm.prank(provider);
        billing.registerProvider(provider);
        vm.prank(provider2);
        billing.registerProvider(provider2);
        vm.prank(payer);
        billing.deposit{value: 10 ether}();
    }

    function _grantUnlimited(address p) internal {
        vm.prank(p);
        billing.setSpendingLimit(reporter, type(uint96).max, 1 days);
    }

    function _parties2() internal view returns (address[] memory p) {
        p = new address[](4);
        p[0] = payer;
        p[1] = provider;
        p[2] = payer2;
        p[3] = provider2;
    }

    function _settle1(bytes16 job, uint256 cumulative) internal {
        address[] memory parties = _parties2();
        uint256[] memory entries = new uint256[](1);
        entries[0] = entry(job, 0, 1, cumulative);
        vm.prank(reporter);
        billing.settleBatch(parties, entries);
    }

    /// What `p` earned: its collected balance and what its pairs with this file's payers and jobs
    /// still hold (version 6 keeps earnings in each pair until collected).
    function _earned(address p) internal view returns (uint256 sum) {
        sum = billing.providerBalance(p);
        bytes16[2] memory jobs = [JOB, JOB2];
        for (uint256 j; j < 2; j++) {
            (uint256 a,,) = billing.pairEarnings(payer, jobs[j], p);
            (uint256 b,,) = billing.pairEarnings(payer2, jobs[j], p);
            sum += a + b;
        }
    }

    function _collect(address p, bytes16 job) internal {
        address[] memory payers = new address[](1);
        bytes16[] memory jobs = new bytes16[](1);
        (payers[0], jobs[0]) = (payer, job);
        billing.collect(p, payers, jobs);
    }

    function _paid(bytes16 job) internal view returns (uint256 paid) {
        (paid,) = billing.pairState(payer, job, provider);
    }

    function _escrow(address p) internal view returns (uint256 bal) {
        (bal,,) = billing.escrowOf(p);
    }

    // ---------------------------------------------------------------- unit

    function test_settlementMovesOnlyTheDifference() public {
        _settle1(JOB, 1 ether);
        assertEq(_earned(provider), 1 ether, "first");
        _settle1(JOB, 3 ether);
        assertEq(_earned(provider), 3 ether, "second pays the difference");
        assertEq(_escrow(payer), 7 ether, "escrow debited");
        assertEq(_paid(JOB), 3 ether, "cursor");
        assertEq(billing.totalPaid(), 3 ether, "totalPaid");
    }

    function test_replayedAndReorderedSettlementsPayNothing() public {
        _settle1(JOB, 2 ether);
        _settle1(JOB, 2 ether); // duplicate
        _settle1(JOB, 1 ether); // older report arriving late
        assertEq(_earned(provider), 2 ether, "never twice");
        (uint256 paid, uint256 owed) = billing.pairState(payer, JOB, provider);
        assertEq(paid, 2 ether, "paid");
        assertEq(owed, 2 ether, "owed never lowered");
    }

    function test_batchOfManyPairsAggregatesBalances() public {
        vm.prank(payer2);
        billing.deposit{value: 5 ether}();
        address[] memory parties = _parties2();
        uint256[] memory entries = new uint256[](4);
        entries[0] = entry(JOB, 0, 1, 1 ether);
        entries[1] = entry(JOB2, 0, 3, 2 ether);
        entries[2] = entry(JOB, 2, 1, 0.5 ether);
        entries[3] = entry(JOB2, 2, 3, 0.25 ether);
        vm.prank(reporter);
        billing.settleBatch(parties, entries);
        assertEq(_earned(provider), 1.5 ether, "provider");
        assertEq(_earned(provider2), 2.25 ether, "provider2");
        assertEq(_escrow(payer), 7 ether, "payer");
        assertEq(_escrow(payer2), 4.25 ether, "payer2");
        assertEq(billing.totalPaid(), 3.75 ether, "total");
    }

    function test_overdrawnEscrowPaysWhatIsThereAndCatchesUpAfterTopUp() public {
        _settle1(JOB, 12 ether);
        assertEq(_earned(provider), 10 ether, "paid what was there");
        assertEq(_escrow(payer), 0, "escrow dry");
        (uint256 paid, uint256 owed) = billing.pairState(payer, JOB, provider);
        assertEq(paid, 10 ether, "paid");
        assertEq(owed, 12 ether, "owed remembered");
        vm.prank(payer);
        billing.deposit{value: 5 ether}();
        _settle1(JOB, 12 ether); // same cumulative: pays the shortfall only
        assertEq(_earned(provider), 12 ether, "caught up");
        assertEq(_escrow(payer), 3 ether, "rest stays");
    }

    function test_onlyReportersSettle() public {
        address[] memory parties = _parties2();
        uint256[] memory entries = new uint256[](1);
        entries[0] = entry(JOB, 0, 1, 1 ether);
        vm.prank(provider);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NotReporter.selector, provider));
        billing.settleBatch(parties, entries);
        billing.removeReporter(reporter);
        vm.prank(reporter);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NotReporter.selector, reporter));
        billing.settleBatch(parties, entries);
    }

    function test_onlyOwnerSetsReporters() public {
        vm.prank(provider);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NotOwner.selector, provider));
        billing.proposeReporter(provider);
        vm.prank(provider);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NotOwner.selector, provider));
        billing.removeReporter(reporter);
    }

    function test_badPartyIndexReverts() public {
        address[] memory parties = _parties2();
        uint256[] memory entries = new uint256[](1);
        entries[0] = entry(JOB, 9, 1, 1);
        vm.prank(reporter);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.PartyIndexOutOfRange.selector, 9, 4));
        billing.settleBatch(parties, entries);
        entries[0] = entry(JOB, 0, 4, 1);
        vm.prank(reporter);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.PartyIndexOutOfRange.selector, 4, 4));
        billing.settleBatch(parties, entries);
    }

    function _voucherSig(uint256 key, address p, bytes16 job, address prov, uint128 cumulative)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, billing.voucherDigest(p, job, prov, cumulative));
        return abi.encodePacked(r, s, v);
    }

    function test_providerSubmitsSignedVoucher() public {
        bytes memory sig = _voucherSig(REPORTER_KEY, payer, JOB, provider, 2 ether);
        vm.prank(provider);
        billing.settleWithVoucher(payer, JOB, provider, 2 ether, sig);
        assertEq(_earned(provider), 2 ether, "voucher paid");
        vm.prank(provider);
        billing.settleWithVoucher(payer, JOB, provider, 2 ether, sig); // replay
        assertEq(_earned(provider), 2 ether, "replay pays nothing");
        _settle1(JOB, 3 ether); // reporter batch continues the same cursor
        assertEq(_earned(provider), 3 ether, "shared cursor");
    }

    function test_voucherFromNonReporterOrTamperedIsRejected() public {
        bytes memory sig = _voucherSig(0xB0B, payer, JOB, provider, 2 ether);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.InvalidSignature.selector));
        billing.settleWithVoucher(payer, JOB, provider, 2 ether, sig);
        sig = _voucherSig(REPORTER_KEY, payer, JOB, provider, 2 ether);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.InvalidSignature.selector));
        billing.settleWithVoucher(payer, JOB, provider, 3 ether, sig); // amount changed
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.InvalidSignature.selector));
        billing.settleWithVoucher(payer, JOB, provider2, 2 ether, sig); // provider changed
        billing.removeReporter(reporter);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.InvalidSignature.selector));
        billing.settleWithVoucher(payer, JOB, provider, 2 ether, sig); // reporter revoked
    }

    function test_payerWithdrawsOnlyAfterThawing() public {
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NoThawInProgress.selector, payer));
        billing.withdrawEscrow();
        vm.prank(payer);
        billing.startThaw(4 ether);
        uint64 endsAt = billing.thawEndsAt(payer);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.StillThawing.selector, payer, endsAt));
        billing.withdrawEscrow();
        _settle1(JOB, 7 ether); // providers are settled first, from the thawing amount too
        vm.warp(endsAt);
        uint256 before = payer.balance;
        vm.prank(payer);
        billing.withdrawEscrow();
        assertEq(payer.balance - before, 3 ether, "capped at what settlement left");
        assertEq(_escrow(payer), 0, "escrow empty");
    }

    function test_providerWithdrawsToPayoutAddress() public {
        address payout = address(0xFEED);
        vm.prank(provider);
        billing.registerProvider(payout);
        _settle1(JOB, 1 ether);
        vm.prank(provider);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NothingToWithdraw.selector, provider));
        billing.withdraw(); // earnings stay in the pair until collected
        _collect(provider, JOB);
        vm.prank(provider);
        billing.withdraw();
        assertEq(payout.balance, 1 ether, "payout got it");
        assertEq(_earned(provider), 0, "zeroed");
        vm.prank(provider);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NothingToWithdraw.selector, provider));
        billing.withdraw();
    }

    function test_reentrantProviderPayoutCannotDoubleWithdraw() public {
        Reenterer attacker = new Reenterer(billing);
        attacker.registerAsPayout();
        bool payerFirst = payer < address(attacker);
        address[] memory parties = new address[](2);
        parties[payerFirst ? 0 : 1] = payer;
        parties[payerFirst ? 1 : 0] = address(attacker);
        uint256[] memory entries = new uint256[](1);
        entries[0] = payerFirst ? entry(JOB, 0, 1, 1 ether) : entry(JOB, 1, 0, 1 ether);
        vm.prank(reporter);
        billing.settleBatch(parties, entries);
        _collect(address(attacker), JOB);
        attacker.withdrawAsProvider();
        assertEq(address(attacker).balance, 1 ether, "paid exactly once");
        assertTrue(!attacker.reentered(), "re-entry must fail");
        assertEq(_earned(address(attacker)), 0, "balance zeroed");
    }

    function test_reentrantPayerCannotDoubleWithdrawEscrow() public {
        Reenterer attacker = new Reenterer(billing);
        vm.deal(address(this), 2 ether);
        attacker.depositAndThaw{value: 2 ether}(2 ether);
        vm.warp(block.timestamp + THAW);
        attacker.withdrawEscrow();
        assertEq(address(attacker).balance, 2 ether, "withdrawn once");
        assertTrue(!attacker.reentered(), "re-entry must fail");
        assertEq(address(billing).balance, 10 ether, "others' escrow untouched");
    }

    // ---------------------------------------------------------------- fuzz

    /// Any sequence of cumulative reports pays exactly min(max reported, deposits) and never more.
    function testFuzz_paidIsMaxReportedCappedByEscrow(uint128 a, uint128 b, uint128 c) public {
        uint256 cap = 10 ether;
        a = uint128(bound(a, 0, 20 ether));
        b = uint128(bound(b, 0, 20 ether));
        c = uint128(bound(c, 0, 20 ether));
        _settle1(JOB, a);
        uint256 p1 = _paid(JOB);
        _settle1(JOB, b);
        uint256 p2 = _paid(JOB);
        _settle1(JOB, c);
        uint256 p3 = _paid(JOB);
        assertTrue(p1 <= p2 && p2 <= p3, "paid never decreases");
        uint256 maxReported = a > b ? a : b;
        if (c > maxReported) maxReported = c;
        uint256 expected = maxReported < cap ? maxReported : cap;
        assertEq(p3, expected, "paid = min(max reported, escrow)");
        assertEq(_earned(provider) + _escrow(payer), cap, "conservation");
    }

    function testFuzz_nonReporterCannotSettle(address caller, uint96 amount) public {
        vm.assume(!billing.isReporter(caller));
        address[] memory parties = _parties2();
        uint256[] memory entries = new uint256[](1);
        entries[0] = entry(JOB, 0, 1, uint96(amount));
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NotReporter.selector, caller));
        billing.settleBatch(parties, entries);
    }

    function testFuzz_voucherSignedByOtherKeyRejected(uint256 key, uint128 amount) public {
        key = bound(key, 1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140);
        vm.assume(key != REPORTER_KEY);
        // Version 6 refuses a cumulative over 96 bits first (AmountTooLarge), whoever signed it.
        amount = uint128(bound(amount, 0, type(uint96).max));
        bytes memory sig = _voucherSig(key, payer, JOB, provider, amount);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.InvalidSignature.selector));
        billing.settleWithVoucher(payer, JOB, provider, amount, sig);
    }
}
