// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase} from "./TestBase.sol";
import {GpuPoolBilling} from "../src/GpuPoolBilling.sol";

/// @dev Drives stake, settlement under a challenge window, withdrawals, disputes (opened by the
///      verifier and by strangers, resolved either way) and whistleblower rewards at random; keeps
///      ghost figures. fail_on_revert = true: calls that may fail go through try/catch, and a call
///      that succeeds where it must not (or fails where it must not) is recorded as forbidden.
///
///      Accounts: POOL[0..1] payers, POOL[2..3] registered providers; two jobs; three whistleblowers.
contract TrustHandler is TestBase {
    GpuPoolBilling public immutable billing;
    address public immutable reporter;
    address public immutable verifier;
    uint64 public immutable window;
    address[4] internal pool = [address(0x2001), address(0x2002), address(0x2003), address(0x2004)];
    address[3] internal whistleblowers = [address(0x3001), address(0x3002), address(0x3003)];
    bytes16[2] internal jobs = [bytes16(keccak256("job-a")), bytes16(keccak256("job-b"))];

    uint256 public clock; // explicit: via-IR may reuse a block.timestamp read after vm.warp
    mapping(bytes32 => uint256) internal reported;
    // Per provider: every credit with the time it was settled, what was unfrozen at once, withdrawn.
    mapping(address => uint256[]) internal creditAmount;
    mapping(address => uint256[]) internal creditAt;
    mapping(address => uint256) public ghostUnfrozen;
    mapping(address => uint256) public ghostEarningsWithdrawn;
    bool public forbiddenCallSucceeded;
    string public forbiddenWhat;
    uint256 public disputesOpened;
    uint256 public disputesExpired;
    uint256 public frauds;
    uint256 public stakeSlashes;

    constructor(GpuPoolBilling b, address reporter_, address verifier_) {
        billing = b;
        reporter = reporter_;
        verifier = verifier_;
        window = b.challengeWindow();
        clock = block.timestamp;
    }

    function _forbidden(string memory what) internal {
        forbiddenCallSucceeded = true;
        forbiddenWhat = what;
    }

    function _provider(uint256 seed) internal view returns (address) {
        return pool[2 + seed % 2];
    }

    function wait(uint256 secondsToWait) external {
        clock += bound(secondsToWait, 0, 2 * window);
        vm.warp(clock);
    }

    function deposit(uint256 payerSeed, uint256 amount) external {
        address payer = pool[payerSeed % 2];
        amount = bound(amount, 1, 20 ether);
        vm.deal(payer, amount);
        vm.prank(payer);
        billing.deposit{value: amount}();
    }

    function settle(uint256 seed, uint256 increment) external {
        uint256 payerIdx = seed % 2;
        uint256 providerIdx = 2 + (seed >> 8) % 2;
        bytes16 job = jobs[(seed >> 16) % 2];
        address provider = pool[providerIdx];
        bytes32 key = billing.pairKey(pool[payerIdx], job, provider);
        uint256 cumulative = reported[key] + bound(increment, 0, 8 ether);
        address[] memory parties = new address[](2);
        parties[0] = pool[payerIdx];
        parties[1] = provider;
        uint256[] memory entries = new uint256[](1);
        entries[0] = entry(job, 0, 1, cumulative);
        uint256 before = _inPairs(provider);
        vm.prank(reporter);
        billing.settleBatch(parties, entries);
        reported[key] = cumulative;
        uint256 credited = _inPairs(provider) - before;
        if (credited != 0) {
            creditAmount[provider].push(credited);
            creditAt[provider].push(clock);
        }
    }

    function stake(uint256 providerSeed, uint256 amount) external {
        address provider = _provider(providerSeed);
        amount = bound(amount, 1, 10 ether);
        vm.deal(provider, amount);
        vm.prank(provider);
        billing.stake{value: amount}();
    }

    function unstake(uint256 providerSeed, uint256 amount, bool cancel) external {
        address provider = _provider(providerSeed);
        (, uint256 thawing,) = billing.stakeOf(provider);
        vm.prank(provider);
        if (cancel && thawing != 0) billing.cancelUnstake();
        else billing.startUnstake(bound(amount, 1, 12 ether));
    }

    function withdrawStake(uint256 providerSeed) external {
        address provider = _provider(providerSeed);
        (uint256 amount, uint256 thawing, uint64 ends) = billing.stakeOf(provider);
        bool may = thawing != 0 && clock >= ends && amount != 0;
        uint256 before = provider.balance;
        vm.prank(provider);
        try billing.withdrawStake() {
            if (!may) _forbidden("stake withdrawn before its thaw or with nothing thawed");
            uint256 expected = thawing < amount ? thawing : amount;
            if (provider.balance - before != expected) _forbidden("stake withdrawal of the wrong amount");
        } catch {
            if (may) _forbidden("thawed stake could not be withdrawn");
        }
    }

    /// Anyone collects a random subset of a provider's four pairs: exactly what had matured moves.
    function collect(uint256 seed) external {
        address provider = _provider(seed);
        uint256 picked = (seed >> 8) % 4 + 1;
        address[] memory payers = new address[](picked);
        bytes16[] memory picks = new bytes16[](picked);
        uint256 collectable;
        for (uint256 i; i < picked; i++) {
            (payers[i], picks[i]) = (pool[(seed >> (16 + i)) % 2], jobs[(seed >> (24 + i)) % 2]);
            bool seen;
            for (uint256 k; k < i; k++) {
                if (payers[k] == payers[i] && picks[k] == picks[i]) seen = true;
            }
            if (!seen) {
                (, uint256 c,) = billing.pairEarnings(payers[i], picks[i], provider);
                collectable += c;
            }
        }
        uint256 before = billing.providerBalance(provider);
        vm.prank(pool[(seed >> 40) % 4]);
        uint256 moved = billing.collect(provider, payers, picks);
        if (moved != collectable || billing.providerBalance(provider) - before != moved) {
            _forbidden("collect moved other than what had matured");
        }
    }

    function withdrawEarnings(uint256 providerSeed) external {
        address provider = _provider(providerSeed);
        uint256 amount = billing.providerBalance(provider);
        uint256 before = provider.balance;
        vm.prank(provider);
        try billing.withdraw() {
            if (amount == 0) _forbidden("withdrew earnings with nothing withdrawable");
            uint256 got = provider.balance - before;
            if (got != amount) _forbidden("withdrew other than the withdrawable balance");
            ghostEarningsWithdrawn[provider] += got;
        } catch {
            if (amount != 0) _forbidden("withdrawable earnings could not be withdrawn");
        }
    }

    function openDispute(uint256 seed, uint256 amount, bool asStranger) external {
        address payer = pool[seed % 2];
        address provider = _provider(seed >> 8);
        bytes16 job = jobs[(seed >> 16) % 2];
        address caller = asStranger ? pool[(seed >> 24) % 4] : verifier;
        (,,,, bool open) = billing.disputeOf(payer, job, provider);
        (uint256 uncollected, uint256 collectable,) = billing.pairEarnings(payer, job, provider);
        amount = bound(amount, 1, 10 ether);
        bool may = !asStranger && !open && amount <= uncollected - collectable;
        vm.prank(caller);
        try billing.openDispute(payer, job, provider, amount, keccak256(abi.encode(seed)), whistleblowers[seed % 3]) {
            if (!may) _forbidden("a dispute opened that must not");
            disputesOpened++;
        } catch {
            if (may) _forbidden("a valid dispute was refused");
        }
    }

    function resolveDispute(uint256 seed, bool fraud, bool asStranger) external {
        address payer = pool[seed % 2];
        address provider = _provider(seed >> 8);
        bytes16 job = jobs[(seed >> 16) % 2];
        (uint256 frozen,,, uint64 openedAt, bool open) = billing.disputeOf(payer, job, provider);
        bool expired = clock >= openedAt + billing.DISPUTE_DEADLINE();
        address caller = asStranger ? provider : verifier;
        vm.prank(caller);
        try billing.resolveDispute(payer, job, provider, fraud) {
            if (asStranger || !open) _forbidden("a dispute resolved by a stranger or twice");
            if (expired) _forbidden("a verifier resolved a dispute past its deadline");
            if (fraud) frauds++;
            else ghostUnfrozen[provider] += frozen;
        } catch {
            if (!asStranger && open && !expired) _forbidden("an open dispute could not be resolved");
        }
    }

    /// Anyone (a payer, a provider, a stranger) ends a dispute past its deadline. Aims at an open
    /// dispute when there is one (the first from `seed` on), else at the seed's pair.
    function expireDispute(uint256 seed) external {
        uint256 pick = seed % 8;
        for (uint256 k; k < 8; k++) {
            uint256 s = seed % 8 + k;
            (,,,, bool isOpen) = billing.disputeOf(pool[s % 2], jobs[(s >> 2) % 2], _provider(s >> 1));
            if (isOpen) {
                pick = s;
                break;
            }
        }
        address payer = pool[pick % 2];
        address provider = _provider(pick >> 1);
        bytes16 job = jobs[(pick >> 2) % 2];
        (uint256 frozen,,, uint64 openedAt, bool open) = billing.disputeOf(payer, job, provider);
        bool expired = open && clock >= openedAt + billing.DISPUTE_DEADLINE();
        (uint256 stakeBefore,,) = billing.stakeOf(provider);
        vm.prank(pool[(seed >> 24) % 4]);
        try billing.expireDispute(payer, job, provider) {
            if (!expired) _forbidden("a dispute expired before its deadline or twice");
            (uint256 stakeAfter,,) = billing.stakeOf(provider);
            if (stakeAfter != stakeBefore) _forbidden("an expired dispute slashed");
            ghostUnfrozen[provider] += frozen;
            disputesExpired++;
        } catch {
            if (expired) _forbidden("a dispute past its deadline could not be expired");
        }
    }

    /// Past every open dispute's deadline (it is 30 days; `wait` moves at most two windows).
    function waitPastDeadlines(uint256 extraSeconds) external {
        clock += billing.DISPUTE_DEADLINE() + bound(extraSeconds, 0, 1 days);
        vm.warp(clock);
    }

    /// A verifier (or a stranger) slashes a provider's stake without a paid pair: allowed to the
    /// verifier once per interval (the window, at least STAKE_SLASH_MIN_INTERVAL) while there is
    /// something to take; it takes exactly one share and the part not rewarded is burned.
    function slashStake(uint256 seed, bool asStranger) external {
        address provider = _provider(seed);
        address whistleblower = whistleblowers[(seed >> 8) % 3];
        (uint256 staked,,) = billing.stakeOf(provider);
        uint256 share = staked * billing.slashShareBps() / 10_000;
        uint64 last = billing.lastStakeSlashAt(provider);
        uint64 interval = window > billing.STAKE_SLASH_MIN_INTERVAL() ? window : billing.STAKE_SLASH_MIN_INTERVAL();
        bool may = !asStranger && share != 0 && (last == 0 || clock >= last + interval);
        uint256 burnedBefore = billing.totalBurned();
        uint256 rewardBefore = billing.rewardBalance(whistleblower);
        vm.prank(asStranger ? pool[(seed >> 16) % 4] : verifier);
        try billing.slashStake(provider, keccak256(abi.encode(seed)), whistleblower) {
            if (!may) _forbidden("a stake slash by a stranger, too soon or of nothing");
            (uint256 after_,,) = billing.stakeOf(provider);
            uint256 reward = billing.rewardBalance(whistleblower) - rewardBefore;
            if (staked - after_ != share) _forbidden("a stake slash took other than one share");
            if (billing.totalBurned() - burnedBefore + reward != share) _forbidden("a slash share not burned or rewarded");
            stakeSlashes++;
        } catch {
            if (may) _forbidden("a due stake slash was refused");
        }
    }

    function withdrawReward(uint256 seed) external {
        address w = whistleblowers[seed % 3];
        uint256 amount = billing.rewardBalance(w);
        vm.prank(w);
        try billing.withdrawReward() {
            if (amount == 0) _forbidden("reward withdrawn with none owed");
        } catch {
            if (amount != 0) _forbidden("an owed reward could not be withdrawn");
        }
    }

    // ------------------------------------------------------------ views for the invariants
    /// What the provider's four pairs paid and still hold (not collected, not disputed).
    function _inPairs(address provider) internal view returns (uint256 amount) {
        for (uint256 a; a < 2; a++) {
            for (uint256 j; j < 2; j++) {
                (uint256 uncollected,,) = billing.pairEarnings(pool[a], jobs[j], provider);
                amount += uncollected;
            }
        }
    }

    /// Escrows + provider earnings (collected and still in pairs) + stakes + rewards.
    function sumAccounts() external view returns (uint256 sum) {
        for (uint256 k; k < 4; k++) {
            (uint256 escrow,,) = billing.escrowOf(pool[k]);
            (uint256 staked,,) = billing.stakeOf(pool[k]);
            sum += escrow + billing.providerBalance(pool[k]) + staked;
            if (k >= 2) sum += _inPairs(pool[k]);
        }
        for (uint256 w; w < 3; w++) {
            sum += billing.rewardBalance(whistleblowers[w]);
        }
    }

    function sumFrozen() external view returns (uint256 sum) {
        for (uint256 a; a < 2; a++) {
            for (uint256 p = 2; p < 4; p++) {
                for (uint256 j; j < 2; j++) {
                    (uint256 frozen,,,,) = billing.disputeOf(pool[a], jobs[j], pool[p]);
                    sum += frozen;
                }
            }
        }
    }

    /// What `provider` has had withdrawable or withdrawn can never exceed what was settled to it at
    /// least one window ago plus what a no-fraud verdict unfroze.
    function earnedBeyondWindow(uint256 providerSeed) external view returns (bool) {
        address provider = _provider(providerSeed);
        uint256 matured = ghostUnfrozen[provider];
        uint256[] storage amounts = creditAmount[provider];
        for (uint256 i; i < amounts.length; i++) {
            if (creditAt[provider][i] + window <= clock) matured += amounts[i];
        }
        return billing.providerBalance(provider) + ghostEarningsWithdrawn[provider] > matured;
    }
}

contract GpuPoolBillingTrustInvariantTest is TestBase {
    GpuPoolBilling internal billing;
    TrustHandler internal handler;

    function setUp() public {
        vm.warp(1_800_000_000);
        billing = new GpuPoolBilling(1 days, 1 hours);
        address reporter = vm.addr(0xA11CE);
        address verifier = address(0x7E41F1E4);
        billing.proposeReporter(reporter);
        billing.proposeVerifier(verifier);
        billing.proposeTrustParameters(1 hours, 5_000, 2_000);
        vm.warp(1_800_000_000 + 1 hours);
        billing.activateReporter(reporter);
        billing.activateVerifier(verifier);
        billing.applyTrustParameters();
        handler = new TrustHandler(billing, reporter, verifier);
        address[4] memory pool = [address(0x2001), address(0x2002), address(0x2003), address(0x2004)];
        for (uint256 k; k < 2; k++) {
            vm.prank(pool[k]);
            billing.setSpendingLimit(reporter, type(uint96).max, 1 days);
            vm.prank(pool[2 + k]);
            billing.registerProvider(pool[2 + k]);
        }
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_moneyIsConserved() public view {
        uint256 balance = address(billing).balance;
        assertEq(
            balance,
            handler.sumAccounts() + billing.totalFrozen() + billing.totalBurned(),
            "balance = escrows+earnings+stakes+rewards+frozen+burned"
        );
        assertEq(
            balance,
            billing.totalDeposited() + billing.totalStaked() - billing.totalEscrowWithdrawn()
                - billing.totalProviderWithdrawn() - billing.totalStakeWithdrawn() - billing.totalRewardWithdrawn(),
            "audit totals"
        );
    }

    function invariant_frozenIsWhatOpenDisputesHold() public view {
        assertEq(billing.totalFrozen(), handler.sumFrozen(), "totalFrozen = frozen of open disputes");
    }

    function invariant_noEarningsLeaveBeforeTheWindow() public view {
        assertTrue(!handler.earnedBeyondWindow(0), "provider A withdrew earnings younger than the window");
        assertTrue(!handler.earnedBeyondWindow(1), "provider B withdrew earnings younger than the window");
    }

    function invariant_noForbiddenCallSucceeded() public view {
        assertTrue(!handler.forbiddenCallSucceeded(), handler.forbiddenWhat());
    }
}
