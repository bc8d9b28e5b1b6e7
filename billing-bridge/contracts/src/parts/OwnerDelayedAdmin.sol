// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {BillingState} from "./BillingState.sol";

/// @title OwnerDelayedAdmin
/// @notice The owner's keys: two-step ownership, and reporters, verifiers and trust parameters that
///         take effect only `adminDelay` after the owner proposed them (revocation is immediate).
abstract contract OwnerDelayedAdmin is BillingState {
    uint256 private constant MAX_WINDOW = 365 days;

    /// @notice Step one of handing the contract over; the new owner must call acceptOwnership.
    ///         Proposing address(0) withdraws a pending offer.
    function transferOwnership(address newOwner) external onlyOwner {
        pendingOwner = newOwner;
        emit OwnershipTransferStarted(msg.sender, newOwner);
    }

    function acceptOwnership() external {
        if (msg.sender != pendingOwner || msg.sender == address(0)) revert NotPendingOwner(msg.sender);
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }

    /// @notice Start the delay after which `reporter` can be activated. Payers still have to grant
    ///         it a spending limit before it can charge them anything.
    function proposeReporter(address reporter) external onlyOwner {
        if (reporter == address(0)) revert ZeroAddress();
        uint64 readyAt = uint64(block.timestamp) + adminDelay;
        reporterReadyAt[reporter] = readyAt;
        emit ReporterProposed(reporter, readyAt);
    }

    function activateReporter(address reporter) external onlyOwner {
        uint64 readyAt = reporterReadyAt[reporter];
        if (readyAt == 0) revert NothingProposed(reporter);
        if (block.timestamp < readyAt) revert NotYet(reporter, readyAt);
        delete reporterReadyAt[reporter];
        uint24 id = reporters[reporter].id;
        if (id == 0) {
            id = ++reporterCount;
            reporterById[id] = reporter;
        }
        reporters[reporter] = Reporter(true, id);
        emit ReporterSet(reporter, true);
    }

    /// @notice Revoke a reporter (or a pending proposal) at once.
    function removeReporter(address reporter) external onlyOwner {
        delete reporterReadyAt[reporter];
        reporters[reporter].active = false;
        emit ReporterSet(reporter, false);
    }

    /// @notice Whether `reporter` may settle now.
    function isReporter(address reporter) external view returns (bool) {
        return reporters[reporter].active;
    }

    /// @notice Start the delay after which `verifier` may open and resolve disputes.
    function proposeVerifier(address verifier) external onlyOwner {
        if (verifier == address(0)) revert ZeroAddress();
        uint64 readyAt = uint64(block.timestamp) + adminDelay;
        verifierReadyAt[verifier] = readyAt;
        emit VerifierProposed(verifier, readyAt);
    }

    function activateVerifier(address verifier) external onlyOwner {
        uint64 readyAt = verifierReadyAt[verifier];
        if (readyAt == 0) revert NothingProposed(verifier);
        if (block.timestamp < readyAt) revert NotYet(verifier, readyAt);
        delete verifierReadyAt[verifier];
        isVerifier[verifier] = true;
        emit VerifierSet(verifier, true);
    }

    /// @notice Revoke a verifier (or a pending proposal) at once. Its open disputes stay open for
    ///         another verifier to resolve.
    function removeVerifier(address verifier) external onlyOwner {
        delete verifierReadyAt[verifier];
        isVerifier[verifier] = false;
        emit VerifierSet(verifier, false);
    }

    /// @notice Propose the challenge window and the slashing shares; they apply after `adminDelay`.
    function proposeTrustParameters(uint64 window, uint16 slashBps, uint16 whistleblowerBps) external onlyOwner {
        if (window > MAX_WINDOW) revert WindowTooLong(window);
        if (slashBps > BPS) revert ShareTooLarge(slashBps);
        if (whistleblowerBps > BPS) revert ShareTooLarge(whistleblowerBps);
        uint64 readyAt = uint64(block.timestamp) + adminDelay;
        trustProposal = TrustProposal(window, slashBps, whistleblowerBps, readyAt);
        emit TrustParametersProposed(window, slashBps, whistleblowerBps, readyAt);
    }

    function applyTrustParameters() external onlyOwner {
        TrustProposal memory p = trustProposal;
        if (p.readyAt == 0) revert NothingProposed(msg.sender);
        if (block.timestamp < p.readyAt) revert NotYet(msg.sender, p.readyAt);
        delete trustProposal;
        challengeWindow = p.challengeWindow;
        slashShareBps = p.slashShareBps;
        whistleblowerShareBps = p.whistleblowerShareBps;
        emit TrustParametersSet(p.challengeWindow, p.slashShareBps, p.whistleblowerShareBps);
    }
}
