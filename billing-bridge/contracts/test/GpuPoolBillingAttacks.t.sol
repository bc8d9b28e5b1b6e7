// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase} from "./TestBase.sol";
import {GpuPoolBilling} from "../src/GpuPoolBilling.sol";

/// @dev The attacks from the contract review, each written against the contract as it was.
contract DoubleSpendTest is TestBase {
    GpuPoolBilling internal billing;
    address internal reporter = address(0xA11CE);
    address internal payer = address(0xBA1);
    address internal payer2 = address(0xBA2);
    address internal provider = address(0xC0FFEE);

    function setUp() public {
        billing = new GpuPoolBilling(1 days);
        billing.setReporter(reporter, true);
        vm.deal(payer, 10 ether);
        vm.deal(payer2, 10 ether);
        vm.prank(payer);
        billing.deposit{value: 10 ether}();
        vm.prank(payer2);
        billing.deposit{value: 10 ether}();
    }

    /// One payer listed twice in `parties`: each position had its own escrow cache, so the same
    /// 10 ETH escrow paid out twice and payer2's money covered the second payment.
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
        assertLe(billing.providerBalance(provider), 10 ether, "provider paid at most the escrow");
        (uint256 left,,) = billing.escrowOf(payer2);
        assertEq(left, 10 ether, "payer2's escrow untouched");
    }
}
