// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {BillingState} from "./parts/BillingState.sol";
import {Disputes} from "./parts/Disputes.sol";
import {OwnerDelayedAdmin} from "./parts/OwnerDelayedAdmin.sol";
import {ProviderAccounts} from "./parts/ProviderAccounts.sol";
import {Settlement} from "./parts/Settlement.sol";

/// @title GpuPoolBilling
/// @notice Escrow and cumulative settlement for gpupool GPU usage, in the chain's native token (wei).
/// @dev Settlement is keyed by (payer, jobId, provider). The contract stores, per key, the highest
///      cumulative amount ever reported (`owed`) and what was actually moved (`paid`); a settlement
///      moves only `owed - paid`, so replayed, duplicated or reordered reports never pay twice.
///      Both figures are uint96 and share the pair's one storage slot with the provider's
///      registration (once seen) and when what the pair paid leaves the challenge window. What a
///      pair paid stays in the pair until the provider (or anyone for it) `collect`s it once it
///      matured, so a settlement writes two slots per pair (the pair and the payer's escrow) and
///      nothing per provider: the worst case, every pair its own payer and provider, stays under
///      15,000 gas per pair (docs/billing.md, "Version 6").
///
///      What bounds a stolen key (docs/trust.md has the full table):
///      - a reporter takes from a payer at most the spending limit that payer granted to that very
///        reporter per period (none granted = nothing), and pays registered providers only;
///      - the owner adds a reporter or registers a provider only after `adminDelay`, can never change
///        a registered provider's payout address, and hands ownership over in two steps;
///      - a provider's payout address is set by that provider's own key.
///
///      Trust in providers (docs/trust.md): a provider stakes with its own key; its settled
///      earnings mature for `challengeWindow` before they can be withdrawn, and within it a verifier
///      may dispute a (payer, job, provider) pair, freezing at most what that pair paid that is still
///      inside the window. Fraud sends it back to the payer's escrow and slashes `slashShareBps` of
///      the stake, of which `whistleblowerShareBps` rewards whoever raised it and the rest goes to
///      the payer's escrow; no fraud adds it to the provider's balance.
///
///      The contract is split by responsibility (docs/billing.md, "Contract source layout"): the
///      parts under parts/ are abstract contracts over one storage contract, BillingState.
contract GpuPoolBilling is OwnerDelayedAdmin, ProviderAccounts, Disputes, Settlement {
    /// @notice Interface version; the operator refuses to settle against any other.
    ///         3: stake, challenge window, disputes and slashing.
    ///         4: a dispute open for DISPUTE_DEADLINE ends as no fraud (expireDispute).
    ///         5: a verifier slashes stake for fraud proven without a paid pair (slashStake).
    ///         6: earnings stay in each pair until collected (collect, pairEarnings); maturingOf
    ///            gone; `parties` need not be ordered (each payer's escrow is settled per run).
    uint256 public constant VERSION = 6;

    constructor(uint64 thawPeriodSeconds, uint64 adminDelaySeconds)
        BillingState(thawPeriodSeconds, adminDelaySeconds)
    {}
}
