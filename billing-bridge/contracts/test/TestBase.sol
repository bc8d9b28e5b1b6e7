// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @dev The few forge cheatcodes these tests use (forge-std is not available offline here).
interface Vm {
    function warp(uint256 timestamp) external;
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function deal(address account, uint256 balance) external;
    function expectRevert(bytes calldata revertData) external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function assume(bool condition) external pure;
    function expectEmit(bool topic1, bool topic2, bool topic3, bool data) external;
}

/// @dev Minimal assertions: a failing assertion reverts, which fails the forge test.
abstract contract TestBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    error AssertionFailed(string what, uint256 actual, uint256 expected);

    function assertEq(uint256 actual, uint256 expected, string memory what) internal pure {
        if (actual != expected) revert AssertionFailed(what, actual, expected);
    }

    function assertLe(uint256 actual, uint256 limit, string memory what) internal pure {
        if (actual > limit) revert AssertionFailed(what, actual, limit);
    }

    function assertGe(uint256 actual, uint256 floor, string memory what) internal pure {
        if (actual < floor) revert AssertionFailed(what, actual, floor);
    }

    function assertTrue(bool condition, string memory what) internal pure {
        if (!condition) revert AssertionFailed(what, 0, 1);
    }

    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        if (max <= min) return min;
        return min + (x % (max - min + 1));
    }

    /// @dev Pack a settleBatch entry: cumulative bits 0..95, provider index 96..111, payer index
    ///      112..127, job id 128..255.
    function entry(bytes16 job, uint256 payerIdx, uint256 providerIdx, uint256 cumulative)
        internal
        pure
        returns (uint256)
    {
        return uint256(bytes32(job)) | (payerIdx << 112) | (providerIdx << 96) | cumulative;
    }
}
