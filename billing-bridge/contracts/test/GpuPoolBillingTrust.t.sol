// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase} from "./TestBase.sol";
import {GpuPoolBilling} from "../src/GpuPoolBilling.sol";
import {BillingErrors} from "../src/parts/BillingErrors.sol";
import {BillingEvents} from "../src/parts/BillingEvents.sol";

/// @dev Stake, the challenge window, disputes and slashing (docs/trust.md).
contract GpuPoolBillingTrustTest is TestBase {
    GpuPoolBilling internal billing;
    uint256 internal constant REPORTER_KEY = 0xA11CE;
    address internal reporter;
    address internal verifier = address(0x7E41F1E4);
    address internal whistleblower = address(0x3415713);
    // Increasing addresses: settleBatch takes `parties` strictly increasing.
    address internal payer = address(0xBA1);
    address internal provider = address(0xBA2);
    bytes16 internal constant JOB = bytes16(keccak256("ns/train-llama"));
    bytes32 internal constant EVIDENCE = keccak256("nonce 42: expected 7, got 9");
    uint64 internal constant THAW = 1 days;
    uint64 internal constant ADMIN_DELAY = 2 days;
    uint64 internal constant WINDOW = 1 hours;

    function setUp() public {
        vm.warp(1_800_000_000);
        billing = new GpuPoolBilling(THAW, ADMIN_DELAY);
        reporter = vm.addr(REPORTER_KEY);
        billing.proposeReporter(reporter);
        billing.proposeVerifier(verifier);
        billing.proposeTrustParameters(WINDOW, 5_000, 2_500);
        vm.warp(block.timestamp + ADMIN_DELAY);
        billing.activateReporter(reporter);
        billing.activateVerifier(verifier);
        billing.applyTrustParameters();
        vm.deal(payer, 100 ether);
        vm.deal(provider, 100 ether);
        vm.prank(payer);
        billing.setSpendingLimit(reporter, type(uint96).max, 1 days);
        vm.prank(provider);
        billing.registerProvider(provider);
        vm.prank(payer);
        billing.deposit{value: 50 ether}();
    }

    function _settle(uint256 cumulative) internal {
        address[] memory parties = new address[](2);
        parties[0] = payer;
        parties[1] = provider;
        uint256[] memory entries = new uint256[](1);
        entries[0] = entry(JOB, 0, 1, cumulative);
        vm.prank(reporter);
        billing.settleBatch(parties, entries);
    }

    function _escrow() internal view returns (uint256 balance) {
        (balance,,) = billing.escrowOf(payer);
    }

    function _stake() internal view returns (uint256 amount) {
        (amount,,) = billing.stakeOf(provider);
    }

    /// What the pair holds inside the challenge window, and when more of it matures.
    function _maturingOf() internal view returns (uint256 amount, uint64 nextMaturesAt) {
        (uint256 uncollected, uint256 collectable, uint64 next) = billing.pairEarnings(payer, JOB, provider);
        return (uncollected - collectable, next);
    }

    function _maturing() internal view returns (uint256 amount) {
        (amount,) = _maturingOf();
    }

    /// What the provider could withdraw after collecting its one pair.
    function _withdrawable() internal view returns (uint256) {
        (, uint256 collectable,) = billing.pairEarnings(payer, JOB, provider);
        return billing.providerBalance(provider) + collectable;
    }

    function _collect() internal {
        address[] memory payers = new address[](1);
        bytes16[] memory jobs = new bytes16[](1);
        (payers[0], jobs[0]) = (payer, JOB);
        billing.collect(provider, payers, jobs);
    }

    /// Contract balance = escrows + provider earnings (withdrawable and maturing) + stakes + frozen
    /// + unclaimed rewards + burned slashes: the only accounts money can sit in.
    function _assertConserved() internal view {
        (uint256 staked,,) = billing.stakeOf(provider);
        (uint256 uncollected,,) = billing.pairEarnings(payer, JOB, provider);
        uint256 held = _escrow() + billing.providerBalance(provider) + uncollected + staked
            + billing.totalFrozen() + billing.rewardBalance(whistleblower) + billing.totalBurned();
        assertEq(address(billing).balance, held, "contract balance = escrows+earnings+stakes+frozen+rewards+burned");
        assertEq(
            address(billing).balance,
            billing.totalDeposited() + billing.totalStaked() - billing.totalEscrowWithdrawn()
                - billing.totalProviderWithdrawn() - billing.totalStakeWithdrawn() - billing.totalRewardWithdrawn(),
            "audit totals"
        );
    }

    // ------------------------------------------------------------ stake
    function test_stakeThawsThenWithdraws() public {
        vm.prank(provider);
        billing.stake{value: 8 ether}();
        assertEq(_stake(), 8 ether, "staked");
        vm.prank(provider);
        billing.startUnstake(3 ether);
        (, uint256 thawing, uint64 ends) = billing.stakeOf(provider);
        assertEq(thawing, 3 ether, "thawing");
        assertEq(ends, block.timestamp + THAW, "thaw ends");
        vm.prank(provider);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.StillThawingStake.selector, provider, ends));
        billing.withdrawStake();
        vm.warp(ends);
        uint256 before = provider.balance;
        vm.prank(provider);
        billing.withdrawStake();
        assertEq(provider.balance - before, 3 ether, "stake back to the provider's key");
        assertEq(_stake(), 5 ether, "rest still staked");
        vm.prank(provider);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NoUnstakeInProgress.selector, provider));
        billing.withdrawStake();
        _assertConserved();
    }

    function test_cancelledUnstakeKeepsTheStake() public {
        vm.startPrank(provider);
        billing.stake{value: 2 ether}();
        billing.startUnstake(2 ether);
        billing.cancelUnstake();
        vm.warp(block.timestamp + THAW);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NoUnstakeInProgress.selector, provider));
        billing.withdrawStake();
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.ZeroAmount.selector));
        billing.stake{value: 0}();
        vm.stopPrank();
        assertEq(_stake(), 2 ether, "still staked");
    }

    // ------------------------------------------------------------ window
    function test_earningsBecomeWithdrawableOnlyAfterTheWindow() public {
        _settle(10 ether);
        assertEq(_withdrawable(), 0, "nothing withdrawable at once");
        (uint256 amount, uint64 maturesAt) = _maturingOf();
        assertEq(amount, 10 ether, "maturing");
        assertGe(maturesAt, block.timestamp + WINDOW, "matures no sooner than one window");
        assertLe(maturesAt, block.timestamp + 2 * WINDOW, "nor later than two");
        vm.prank(provider);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NothingToWithdraw.selector, provider));
        billing.withdraw();
        vm.warp(maturesAt - 1);
        assertEq(_withdrawable(), 0, "not a second early");
        vm.warp(maturesAt);
        assertEq(_withdrawable(), 10 ether, "matured");
        uint256 before = provider.balance;
        _collect();
        vm.prank(provider);
        billing.withdraw();
        assertEq(provider.balance - before, 10 ether, "withdrawn");
        _assertConserved();
    }

    function test_continuousEarningsStillMature() public {
        // A settlement every ten minutes for five hours: older earnings mature while new ones wait.
        // (An explicit clock: via-IR may reuse an earlier block.timestamp read inside the loop.)
        uint256 clock = block.timestamp;
        // The provider (or anyone) collects after every settlement: each collection that finds no
        // checkpoint running starts one, so continuous earnings mature one to two windows later.
        for (uint256 i = 1; i <= 30; i++) {
            _settle(i * 1 ether);
            _collect();
            clock += 10 minutes;
            vm.warp(clock);
        }
        uint256 withdrawable = _withdrawable();
        assertGe(withdrawable, 30 ether - 12 ether, "all but at most two windows of earnings matured");
        assertEq(withdrawable + _maturing(), 30 ether, "nothing lost between buckets");
        _assertConserved();
    }

    /// Version 6: anyone may collect a provider's pair, but a collection never restarts a running
    /// checkpoint, so collecting again and again cannot postpone what a provider may withdraw;
    /// and what a pair paid leaves the window one window after its last payment without any
    /// collection having started a clock.
    function test_aCollectionNeverPostponesACheckpoint() public {
        uint256 start = block.timestamp;
        _settle(4 ether);
        vm.warp(start + 30 minutes);
        _settle(6 ether);
        vm.prank(payer); // a stranger to the provider collects: starts a checkpoint over 6 ether
        _collect();
        assertEq(billing.providerBalance(provider), 0, "nothing matured yet");
        for (uint256 k = 1; k <= 5; k++) {
            vm.warp(start + 30 minutes + k * 10 minutes);
            _settle(6 ether + k * 1 ether);
            _collect(); // collected again while the checkpoint runs: no restart
        }
        vm.warp(start + 30 minutes + WINDOW);
        assertEq(_withdrawable(), 6 ether, "the checkpoint matured on time");
        _collect();
        assertEq(billing.providerBalance(provider), 6 ether, "collected");
        vm.warp(start + 30 minutes + 50 minutes + WINDOW);
        assertEq(_withdrawable(), 11 ether, "a window after the last payment all of it matured");
        _assertConserved();
    }

    function test_windowChangesOnlyThroughTheDelay() public {
        billing.proposeTrustParameters(10 minutes, 1_000, 0);
        vm.expectRevert(
            abi.encodeWithSelector(BillingErrors.NotYet.selector, address(this), uint64(block.timestamp + ADMIN_DELAY))
        );
        billing.applyTrustParameters();
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NotOwner.selector, payer));
        billing.proposeTrustParameters(0, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.ShareTooLarge.selector, 10_001));
        billing.proposeTrustParameters(10 minutes, 10_001, 0);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.WindowTooLong.selector, 366 days));
        billing.proposeTrustParameters(366 days, 0, 0);
        assertEq(billing.challengeWindow(), WINDOW, "unchanged");
    }

    function test_earningsSettledBeforeAShorterWindowNeverMatureEarlier() public {
        _settle(4 ether);
        (, uint64 firstAt) = _maturingOf();
        billing.proposeTrustParameters(7 minutes, 5_000, 2_500);
        vm.warp(block.timestamp + ADMIN_DELAY - 3 hours);
        _settle(6 ether);
        vm.warp(block.timestamp + 3 hours);
        billing.applyTrustParameters();
        _settle(9 ether); // a third maturity time while two buckets are taken
        (uint256 amount, uint64 next) = _maturingOf();
        assertEq(amount + _withdrawable(), 9 ether, "all earnings accounted for");
        assertGe(next, block.timestamp + 7 minutes, "the newest earnings wait the new window");
        assertGe(uint256(next), uint256(firstAt), "no later settlement moves earlier ones forward");
        _assertConserved();
    }

    // ------------------------------------------------------------ disputes
    function test_fraudReturnsEarningsSlashesAndRewardsTheWhistleblower() public {
        vm.prank(provider);
        billing.stake{value: 8 ether}();
        _settle(10 ether);
        uint256 escrowBefore = _escrow();
        vm.prank(verifier);
        billing.openDispute(payer, JOB, provider, 6 ether, EVIDENCE, whistleblower);
        (uint256 frozen, uint256 total, address wb,, bool open) = billing.disputeOf(payer, JOB, provider);
        assertEq(frozen, 6 ether, "frozen");
        assertEq(total, 6 ether, "disputed");
        assertTrue(open && wb == whistleblower, "open, whistleblower recorded");
        assertEq(_maturing(), 4 ether, "the rest still matures");
        _assertConserved();

        vm.prank(verifier);
        billing.resolveDispute(payer, JOB, provider, true);
        // slashed 50% of 8 = 4; whistleblower 25% of that = 1; payer gets 6 + 3.
        assertEq(_stake(), 4 ether, "stake slashed by half");
        assertEq(billing.rewardBalance(whistleblower), 1 ether, "whistleblower reward");
        assertEq(_escrow() - escrowBefore, 9 ether, "earnings and the rest of the slash back in escrow");
        assertEq(billing.totalFrozen(), 0, "nothing frozen");
        assertEq(billing.totalSlashed(), 4 ether, "slashed total");
        _assertConserved();

        vm.prank(whistleblower);
        billing.withdrawReward();
        assertEq(whistleblower.balance, 1 ether, "reward paid out");
        vm.warp(block.timestamp + 2 * WINDOW);
        _collect();
        vm.prank(provider);
        billing.withdraw();
        assertEq(billing.totalProviderWithdrawn(), 4 ether, "the undisputed earnings still paid");
        _assertConserved();
    }

    function test_noFraudUnfreezes() public {
        _settle(10 ether);
        vm.prank(verifier);
        billing.openDispute(payer, JOB, provider, 10 ether, EVIDENCE, whistleblower);
        assertEq(_maturing(), 0, "all frozen");
        vm.prank(verifier);
        billing.resolveDispute(payer, JOB, provider, false);
        assertEq(_withdrawable(), 10 ether, "unfrozen and withdrawable");
        assertEq(billing.rewardBalance(whistleblower), 0, "no reward");
        bytes32 key = billing.pairKey(payer, JOB, provider);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NoOpenDispute.selector, key));
        billing.resolveDispute(payer, JOB, provider, true);
        _assertConserved();
    }

    function test_aDisputeLeftOpenPastItsDeadlineEndsAsNoFraud() public {
        vm.prank(provider);
        billing.stake{value: 8 ether}();
        _settle(10 ether);
        vm.prank(verifier);
        billing.openDispute(payer, JOB, provider, 6 ether, EVIDENCE, whistleblower);
        bytes32 key = billing.pairKey(payer, JOB, provider);
        uint64 expiresAt = uint64(block.timestamp) + billing.DISPUTE_DEADLINE();
        assertEq(billing.DISPUTE_DEADLINE(), 30 days, "deadline");

        // Before the deadline nobody but a verifier ends it, and not by expiry.
        address anyone = address(0xA11);
        vm.warp(expiresAt - 1);
        vm.prank(anyone);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.DisputeNotExpired.selector, key, expiresAt));
        billing.expireDispute(payer, JOB, provider);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.DisputeNotExpired.selector, key, expiresAt));
        billing.expireDispute(payer, JOB, provider);

        // From the deadline on the verifier can no longer call it fraud: it only ends as no fraud.
        vm.warp(expiresAt);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.DisputeExpired.selector, key, expiresAt));
        billing.resolveDispute(payer, JOB, provider, true);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.DisputeExpired.selector, key, expiresAt));
        billing.resolveDispute(payer, JOB, provider, false);

        uint256 escrowBefore = _escrow();
        vm.prank(anyone);
        billing.expireDispute(payer, JOB, provider);
        (uint256 frozen, uint256 disputed,,, bool open) = billing.disputeOf(payer, JOB, provider);
        assertTrue(!open, "closed");
        assertEq(frozen, 0, "nothing frozen on the pair");
        assertEq(disputed, 6 ether, "what was disputed cannot be disputed again");
        assertEq(billing.totalFrozen(), 0, "nothing frozen");
        assertEq(_withdrawable(), 10 ether, "the frozen 6 and the matured 4 withdrawable");
        assertEq(_stake(), 8 ether, "not slashed");
        assertEq(_escrow(), escrowBefore, "nothing back to the payer");
        assertEq(billing.rewardBalance(whistleblower), 0, "no reward");
        _assertConserved();

        vm.prank(anyone);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NoOpenDispute.selector, key));
        billing.expireDispute(payer, JOB, provider);
        _collect();
        vm.prank(provider);
        billing.withdraw();
        assertEq(billing.totalProviderWithdrawn(), 10 ether, "all earnings paid out");
        _assertConserved();
    }

    function test_aReopenedDisputeGetsItsOwnDeadline() public {
        _settle(10 ether);
        vm.prank(verifier);
        billing.openDispute(payer, JOB, provider, 2 ether, EVIDENCE, whistleblower);
        vm.prank(verifier);
        billing.resolveDispute(payer, JOB, provider, false);
        vm.warp(block.timestamp + 20 days);
        _settle(20 ether); // new earnings inside the window to freeze
        vm.prank(verifier);
        billing.openDispute(payer, JOB, provider, 3 ether, EVIDENCE, whistleblower);
        bytes32 key = billing.pairKey(payer, JOB, provider);
        uint64 expiresAt = uint64(block.timestamp) + billing.DISPUTE_DEADLINE();
        vm.warp(block.timestamp + 15 days); // 35 days after the first opening, 15 after this one
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.DisputeNotExpired.selector, key, expiresAt));
        billing.expireDispute(payer, JOB, provider);
        vm.prank(verifier);
        billing.resolveDispute(payer, JOB, provider, true);
        _assertConserved();
    }

    function test_disputesAreBoundedByWhatWasPaidAndTheWindow() public {
        _settle(10 ether);
        bytes32 key = billing.pairKey(payer, JOB, provider);
        vm.startPrank(verifier);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.DisputeExceedsPaid.selector, key, 11 ether, 10 ether));
        billing.openDispute(payer, JOB, provider, 11 ether, EVIDENCE, whistleblower);
        billing.openDispute(payer, JOB, provider, 3 ether, EVIDENCE, whistleblower);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.DisputeAlreadyOpen.selector, key));
        billing.openDispute(payer, JOB, provider, 1 ether, EVIDENCE, whistleblower);
        billing.resolveDispute(payer, JOB, provider, false);
        // The same earnings are never disputed twice: 7 left to dispute.
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.DisputeExceedsPaid.selector, key, 8 ether, 7 ether));
        billing.openDispute(payer, JOB, provider, 8 ether, EVIDENCE, whistleblower);
        vm.stopPrank();
        // Out of the window: nothing left to freeze.
        vm.warp(block.timestamp + 2 * WINDOW);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.DisputeExceedsPaid.selector, key, 7 ether, 0));
        billing.openDispute(payer, JOB, provider, 7 ether, EVIDENCE, whistleblower);
        _assertConserved();
    }

    function test_onlyAnActiveVerifierDisputes() public {
        _settle(10 ether);
        vm.prank(reporter);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NotVerifier.selector, reporter));
        billing.openDispute(payer, JOB, provider, 1 ether, EVIDENCE, reporter);
        address late = address(0x1A7E);
        billing.proposeVerifier(late);
        vm.expectRevert(
            abi.encodeWithSelector(BillingErrors.NotYet.selector, late, uint64(block.timestamp + ADMIN_DELAY))
        );
        billing.activateVerifier(late);
        vm.prank(verifier);
        billing.openDispute(payer, JOB, provider, 1 ether, EVIDENCE, whistleblower);
        billing.removeVerifier(verifier);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NotVerifier.selector, verifier));
        billing.resolveDispute(payer, JOB, provider, true);
    }

    function test_slashingReachesStakeBeingThawed() public {
        vm.startPrank(provider);
        billing.stake{value: 8 ether}();
        billing.startUnstake(8 ether);
        vm.stopPrank();
        _settle(2 ether);
        vm.startPrank(verifier);
        billing.openDispute(payer, JOB, provider, 2 ether, EVIDENCE, whistleblower);
        billing.resolveDispute(payer, JOB, provider, true);
        vm.stopPrank();
        vm.warp(block.timestamp + THAW);
        uint256 before = provider.balance;
        vm.prank(provider);
        billing.withdrawStake();
        assertEq(provider.balance - before, 4 ether, "only what slashing left");
        _assertConserved();
    }

    // ------------------------------------------------------------ stake slashed without a pair
    function test_aVerifierSlashesStakeForFraudProvenWithoutAPaidPair() public {
        vm.startPrank(provider);
        billing.stake{value: 8 ether}();
        billing.startUnstake(8 ether); // thawing stake is slashable too
        vm.stopPrank();
        uint256 escrowBefore = _escrow();
        vm.expectEmit(true, true, false, true);
        emit BillingEvents.StakeSlashed(provider, EVIDENCE, whistleblower, 4 ether, 1 ether);
        vm.prank(verifier);
        billing.slashStake(provider, EVIDENCE, whistleblower);
        // 50% of 8 slashed; 25% of that rewards the whistleblower; no payer was harmed: 3 burned.
        assertEq(_stake(), 4 ether, "stake halved");
        assertEq(billing.rewardBalance(whistleblower), 1 ether, "whistleblower reward");
        assertEq(billing.totalBurned(), 3 ether, "the rest burned");
        assertEq(billing.totalSlashed(), 4 ether, "slashed total");
        assertEq(_escrow(), escrowBefore, "no escrow touched");
        assertEq(billing.lastStakeSlashAt(provider), block.timestamp, "slash time kept");
        _assertConserved();
        vm.prank(whistleblower);
        billing.withdrawReward();
        vm.warp(block.timestamp + THAW);
        uint256 before = provider.balance;
        vm.prank(provider);
        billing.withdrawStake();
        assertEq(provider.balance - before, 4 ether, "only what the slash left");
        assertEq(address(billing).balance, _escrow() + 3 ether, "the burned part stays, owned by no one");
        _assertConserved();
    }

    function test_onlyAVerifierSlashesStakeAndOnlyStakeThatIsThere() public {
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NothingToSlash.selector, provider));
        billing.slashStake(provider, EVIDENCE, whistleblower);
        vm.prank(provider);
        billing.stake{value: 8 ether}();
        vm.prank(reporter);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NotVerifier.selector, reporter));
        billing.slashStake(provider, EVIDENCE, reporter);
        vm.prank(provider);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NotVerifier.selector, provider));
        billing.slashStake(provider, EVIDENCE, provider);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.ZeroAddress.selector));
        billing.slashStake(provider, EVIDENCE, address(0));
        billing.removeVerifier(verifier);
        vm.prank(verifier);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.NotVerifier.selector, verifier));
        billing.slashStake(provider, EVIDENCE, whistleblower);
        assertEq(_stake(), 8 ether, "untouched");
        _assertConserved();
    }

    /// A stolen verifier key takes one share per challenge window per provider, never the stake in
    /// one go; with a window shorter than STAKE_SLASH_MIN_INTERVAL (0 included) the minimum holds.
    function test_stakeSlashesAreOnePerIntervalPerProvider() public {
        // Explicit times: via-IR may reuse a block.timestamp read after vm.warp.
        uint64 t = 1_800_000_000 + ADMIN_DELAY;
        vm.prank(provider);
        billing.stake{value: 8 ether}();
        billing.proposeTrustParameters(3 hours, 5_000, 2_500);
        t += ADMIN_DELAY;
        vm.warp(t);
        billing.applyTrustParameters();
        vm.startPrank(verifier);
        billing.slashStake(provider, EVIDENCE, whistleblower);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.SlashTooSoon.selector, provider, t + 3 hours));
        billing.slashStake(provider, EVIDENCE, whistleblower);
        vm.warp(t + 3 hours - 1);
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.SlashTooSoon.selector, provider, t + 3 hours));
        billing.slashStake(provider, EVIDENCE, whistleblower);
        vm.warp(t + 3 hours);
        billing.slashStake(provider, EVIDENCE, whistleblower);
        vm.stopPrank();
        assertEq(_stake(), 2 ether, "two shares: 8 -> 4 -> 2");

        billing.proposeTrustParameters(0, 5_000, 2_500);
        t += 3 hours + ADMIN_DELAY;
        vm.warp(t);
        billing.applyTrustParameters();
        vm.startPrank(verifier);
        billing.slashStake(provider, EVIDENCE, whistleblower);
        uint64 next = t + billing.STAKE_SLASH_MIN_INTERVAL();
        vm.expectRevert(abi.encodeWithSelector(BillingErrors.SlashTooSoon.selector, provider, next));
        billing.slashStake(provider, EVIDENCE, whistleblower);
        vm.warp(next);
        billing.slashStake(provider, EVIDENCE, whistleblower);
        vm.stopPrank();
        assertEq(_stake(), 0.5 ether, "window 0: still one share per minimum interval");
        _assertConserved();
    }
}
