// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase} from "./TestBase.sol";
import {GpuPoolBilling} from "../src/GpuPoolBilling.sol";

/// @dev Drives the contract with random deposits, settlements (new, replayed, stale), vouchers,
///      thaws, withdrawals and unauthorised settle attempts, and records ghost figures.
contract BillingHandler is TestBase {
    GpuPoolBilling public immutable billing;
    uint256 internal constant REPORTER_KEY = 0xA11CE;
    address public immutable reporter;
    address[3] internal payers = [address(0xBA1), address(0xBA2), address(0xBA3)];
    address[3] internal providers = [address(0xC01), address(0xC02), address(0xC03)];
    bytes16[2] internal jobs = [bytes16(keccak256("job-a")), bytes16(keccak256("job-b"))];

    uint256 public ghostDeposited;
    uint256 public ghostEscrowWithdrawn;
    uint256 public ghostProviderWithdrawn;
    bool public paidDecreased;
    bool public strangerSettled;
    mapping(bytes32 => uint256) internal lastPaid;
    mapping(bytes32 => uint256) internal lastReported;

    constructor(GpuPoolBilling b) {
        billing = b;
        reporter = vm.addr(REPORTER_KEY);
    }

    function deposit(uint256 payerSeed, uint256 amount) external {
        address payer = payers[payerSeed % 3];
        amount = bound(amount, 1, 50 ether);
        vm.deal(payer, amount);
        vm.prank(payer);
        billing.deposit{value: amount}();
        ghostDeposited += amount;
    }

    /// Settle up to 4 pairs; `grow` chooses between a higher cumulative and a replay/stale one.
    function settle(uint256 seed, uint256 increment, bool grow) external {
        address[] memory parties = new address[](6);
        for (uint256 k; k < 3; k++) {
            parties[k] = payers[k];
            parties[3 + k] = providers[k];
        }
        uint256 n = 1 + seed % 4;
        uint256[] memory entries = new uint256[](n);
        for (uint256 i; i < n; i++) {
            uint256 s = uint256(keccak256(abi.encode(seed, i)));
            uint256 payerIdx = s % 3;
            uint256 providerIdx = 3 + (s >> 8) % 3;
            bytes16 job = jobs[(s >> 16) % 2];
            bytes32 key = billing.pairKey(parties[payerIdx], job, parties[providerIdx]);
            uint256 reported = lastReported[key];
            uint256 cumulative = grow ? reported + bound(increment, 0, 20 ether) : reported / 2;
            if (cumulative > lastReported[key]) lastReported[key] = cumulative;
            entries[i] = entry(job, payerIdx, providerIdx, cumulative);
        }
        vm.prank(reporter);
        billing.settleBatch(parties, entries);
        _checkMonotone();
    }

    function settleWithVoucher(uint256 seed, uint256 increment) external {
        address payer = payers[seed % 3];
        address provider = providers[(seed >> 8) % 3];
        bytes16 job = jobs[(seed >> 16) % 2];
        bytes32 key = billing.pairKey(payer, job, provider);
        uint128 cumulative = uint128(lastReported[key] + bound(increment, 0, 5 ether));
        lastReported[key] = cumulative;
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(REPORTER_KEY, billing.voucherDigest(payer, job, provider, cumulative));
        vm.prank(provider);
        billing.settleWithVoucher(payer, job, provider, cumulative, abi.encodePacked(r, s, v));
        _checkMonotone();
    }

    function strangerSettles(address caller, uint96 amount) external {
        if (billing.isReporter(caller)) return;
        address[] memory parties = new address[](2);
        parties[0] = payers[0];
        parties[1] = providers[0];
        uint256[] memory entries = new uint256[](1);
        entries[0] = entry(jobs[0], 0, 1, amount);
        vm.prank(caller);
        try billing.settleBatch(parties, entries) {
            strangerSettled = true;
        } catch {}
    }

    function thawAndWithdraw(uint256 payerSeed, uint256 amount, uint256 wait) external {
        address payer = payers[payerSeed % 3];
        amount = bound(amount, 1, 60 ether);
        vm.prank(payer);
        billing.startThaw(amount);
        vm.warp(block.timestamp + bound(wait, 0, 2 * billing.thawPeriod()));
        uint256 before = payer.balance;
        vm.prank(payer);
        try billing.withdrawEscrow() {
            ghostEscrowWithdrawn += payer.balance - before;
        } catch {}
    }

    function providerWithdraw(uint256 providerSeed) external {
        address provider = providers[providerSeed % 3];
        uint256 before = provider.balance;
        vm.prank(provider);
        try billing.withdraw() {
            ghostProviderWithdrawn += provider.balance - before;
        } catch {}
    }

    function _checkMonotone() internal {
        for (uint256 a; a < 3; a++) {
            for (uint256 b; b < 3; b++) {
                for (uint256 j; j < 2; j++) {
                    bytes32 key = billing.pairKey(payers[a], jobs[j], providers[b]);
                    (uint256 paid, uint256 owed) = billing.pairState(payers[a], jobs[j], providers[b]);
                    if (paid < lastPaid[key] || paid > owed) paidDecreased = true;
                    lastPaid[key] = paid;
                }
            }
        }
    }

    /// Σ paid over all pairs, and whether any pair was paid more than the highest cumulative
    /// ever reported for it (which a double payment would cause).
    function sumPaidAndOverpaid() external view returns (uint256 sum, bool overpaid) {
        for (uint256 a; a < 3; a++) {
            for (uint256 b; b < 3; b++) {
                for (uint256 j; j < 2; j++) {
                    (uint256 paid,) = billing.pairState(payers[a], jobs[j], providers[b]);
                    sum += paid;
                    if (paid > lastReported[billing.pairKey(payers[a], jobs[j], providers[b])]) overpaid = true;
                }
            }
        }
    }

    function sumEscrowAndBalances() external view returns (uint256 sum) {
        for (uint256 k; k < 3; k++) {
            (uint256 bal,,) = billing.escrowOf(payers[k]);
            sum += bal + billing.providerBalance(providers[k]);
        }
    }
}

contract GpuPoolBillingInvariantTest is TestBase {
    GpuPoolBilling internal billing;
    BillingHandler internal handler;

    function setUp() public {
        billing = new GpuPoolBilling(1 hours);
        handler = new BillingHandler(billing);
        billing.setReporter(handler.reporter(), true);
    }

    /// forge's invariant runner calls only the contracts listed here.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_totalPaidNeverExceedsDeposits() public view {
        assertLe(billing.totalPaid(), billing.totalDeposited(), "paid <= deposited");
        assertEq(billing.totalDeposited(), handler.ghostDeposited(), "deposits tracked");
    }

    function invariant_moneyIsConserved() public view {
        uint256 held = billing.totalDeposited() - billing.totalEscrowWithdrawn() - billing.totalProviderWithdrawn();
        assertEq(address(billing).balance, held, "contract balance = deposits - withdrawals");
        assertEq(handler.sumEscrowAndBalances(), held, "escrows + provider balances = held");
        assertEq(billing.totalEscrowWithdrawn(), handler.ghostEscrowWithdrawn(), "escrow withdrawals");
        assertEq(billing.totalProviderWithdrawn(), handler.ghostProviderWithdrawn(), "provider withdrawals");
    }

    function invariant_nothingIsPaidTwice() public view {
        (uint256 sum, bool overpaid) = handler.sumPaidAndOverpaid();
        assertEq(sum, billing.totalPaid(), "sum of pair cursors = totalPaid");
        assertTrue(!overpaid, "a pair was paid more than its highest reported cumulative");
    }

    function invariant_paidPerPairNeverDecreases() public view {
        assertTrue(!handler.paidDecreased(), "paid per pair decreased or exceeded owed");
    }

    function invariant_nobodyButAReporterSettles() public view {
        assertTrue(!handler.strangerSettled(), "a non-reporter settled");
    }
}
