// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

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
contract GpuPoolBilling {
    /// @notice Interface version; the operator refuses to settle against any other.
    ///         3: stake, challenge window, disputes and slashing.
    ///         4: a dispute open for DISPUTE_DEADLINE ends as no fraud (expireDispute).
    ///         5: a verifier slashes stake for fraud proven without a paid pair (slashStake).
    ///         6: earnings stay in each pair until collected (collect, pairEarnings); maturingOf
    ///            gone; `parties` need not be ordered (each payer's escrow is settled per run).
    uint256 public constant VERSION = 6;

    /// @notice The shortest time between two `slashStake` calls on one provider, whatever the
    ///         challenge window (a window of 0 must not let a stolen verifier key drain a stake
    ///         share by share in one block).
    uint64 public constant STAKE_SLASH_MIN_INTERVAL = 1 hours;

    /// @notice How long a dispute may stay open. After it anyone may end it as no fraud
    ///         (`expireDispute`) and no verifier can resolve it any more, so a lost or idle verifier
    ///         cannot hold a provider's earnings frozen for ever. A constant, so that no key (the
    ///         owner's included) can shorten it to let providers escape disputes, or lengthen it.
    uint64 public constant DISPUTE_DEADLINE = 30 days;

    // ------------------------------------------------------------------ errors
    error NotOwner(address caller);
    error NotPendingOwner(address caller);
    error NotReporter(address caller);
    error ZeroAddress();
    error ZeroAmount();
    error ZeroPeriod();
    error PartyIndexOutOfRange(uint256 index, uint256 parties);
    error LengthMismatch(uint256 payers, uint256 jobIds);
    error AmountTooLarge(uint256 amount);
    error NoThawInProgress(address payer);
    error StillThawing(address payer, uint64 thawEndsAt);
    error NothingToWithdraw(address account);
    error NothingProposed(address account);
    error NotYet(address account, uint64 readyAt);
    error AlreadyRegistered(address provider);
    error TransferFailed(address to, uint256 amount);
    error InvalidSignature();
    error Reentrancy();
    error NotVerifier(address caller);
    error NoUnstakeInProgress(address provider);
    error StillThawingStake(address provider, uint64 thawEndsAt);
    error ShareTooLarge(uint256 basisPoints);
    error WindowTooLong(uint256 secondsAsked);
    error DisputeAlreadyOpen(bytes32 pairKey);
    error NoOpenDispute(bytes32 pairKey);
    /// @notice The open dispute passed its deadline (`expiredAt`): it can only end as no fraud.
    error DisputeExpired(bytes32 pairKey, uint64 expiredAt);
    /// @notice The open dispute is within its deadline (`expiresAt`): only a verifier resolves it.
    error DisputeNotExpired(bytes32 pairKey, uint64 expiresAt);
    /// @notice The provider has no stake a slash would take anything from.
    error NothingToSlash(address provider);
    /// @notice The provider's stake was slashed without a dispute less than a slash interval ago.
    error SlashTooSoon(address provider, uint64 nextAllowedAt);
    /// @notice What the pair paid that is still inside the challenge window, not collected and
    ///         never disputed (`disputable`) is smaller than the amount asked.
    error DisputeExceedsPaid(bytes32 pairKey, uint256 amount, uint256 disputable);

    // ------------------------------------------------------------------ events
    event OwnershipTransferStarted(address indexed owner, address indexed pendingOwner);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event ReporterProposed(address indexed reporter, uint64 readyAt);
    event ReporterSet(address indexed reporter, bool authorised);
    event Deposited(address indexed payer, address indexed from, uint256 amount, uint256 escrowAfter);
    event ThawStarted(address indexed payer, uint256 amount, uint64 thawEndsAt);
    event ThawCancelled(address indexed payer);
    event EscrowWithdrawn(address indexed payer, uint256 amount, uint256 escrowAfter);
    /// @notice `payer` lets `reporter` charge at most `perPeriod` wei per `period` seconds.
    event SpendingLimitSet(address indexed payer, address indexed reporter, uint256 perPeriod, uint32 period);
    /// @notice A settlement by `reporter` found `payer`'s limit exhausted; what is unpaid stays owed
    ///         and is paid by a later settlement once the window reopens (at `windowEndsAt`).
    event SpendingLimitReached(address indexed payer, address indexed reporter, uint64 windowEndsAt);
    event ProviderProposed(address indexed provider, address indexed payout, uint64 readyAt);
    event ProviderProposalCancelled(address indexed provider, address indexed by);
    /// @notice `provider` may now be paid; withdrawals go to `payout`. `byOwner` = registered through
    ///         the owner's delayed proposal rather than the provider's own key.
    event ProviderRegistered(address indexed provider, address indexed payout, bool byOwner);
    event ProviderWithdrawn(address indexed provider, address indexed to, uint256 amount);
    /// @notice `amount` of `provider`'s matured earnings moved from `pairs` listed pairs into its
    ///         balance (what `withdraw` pays out).
    event EarningsCollected(address indexed provider, uint256 pairs, uint256 amount);
    /// @notice One (payer, job, provider) pair moved money; `paidTotal` is its new cumulative paid.
    ///         What this settlement moved is `paidTotal` minus the pair's previous `paidTotal`
    ///         (0 if none); `BatchSettled.totalPaid` sums those per transaction.
    event Settled(bytes16 indexed jobId, address indexed provider, address indexed payer, uint256 paidTotal);
    /// @notice The payer's escrow or the spending limit it granted the reporter could not cover the
    ///         cumulative owed; `owedTotal - paidTotal` is unpaid and stays owed.
    event Overdrawn(
        bytes16 indexed jobId, address indexed provider, address indexed payer, uint256 owedTotal, uint256 paidTotal
    );
    /// @notice The provider is not registered: nothing was paid, `owedTotal` is remembered and paid by
    ///         the first settlement after it registers.
    event ProviderNotRegistered(
        bytes16 indexed jobId, address indexed provider, address indexed payer, uint256 owedTotal, uint256 paidTotal
    );
    /// @notice Summary of one settlement call (batch or voucher).
    event BatchSettled(address indexed submitter, uint256 pairs, uint256 totalPaid);
    event Staked(address indexed provider, uint256 amount, uint256 stakeAfter);
    event UnstakeStarted(address indexed provider, uint256 amount, uint64 thawEndsAt);
    event UnstakeCancelled(address indexed provider);
    event StakeWithdrawn(address indexed provider, uint256 amount, uint256 stakeAfter);
    /// @notice A verifier slashed `slashed` of the provider's stake for fraud proven without a paid
    ///         pair; `reward` of it went to the whistleblower, the rest is burned (`totalBurned`).
    event StakeSlashed(
        address indexed provider, bytes32 evidenceHash, address indexed whistleblower, uint256 slashed, uint256 reward
    );
    event VerifierProposed(address indexed verifier, uint64 readyAt);
    event VerifierSet(address indexed verifier, bool authorised);
    event TrustParametersProposed(
        uint64 challengeWindow, uint16 slashShareBps, uint16 whistleblowerShareBps, uint64 readyAt
    );
    event TrustParametersSet(uint64 challengeWindow, uint16 slashShareBps, uint16 whistleblowerShareBps);
    /// @notice `amount` of what the pair `pairKey` paid `provider` inside the window is frozen.
    event DisputeOpened(
        bytes32 indexed pairKey,
        bytes16 indexed jobId,
        address indexed provider,
        address payer,
        uint256 amount,
        bytes32 evidenceHash,
        address whistleblower
    );
    /// @notice Fraud: `frozen` and `slashed - reward` went to the payer's escrow, `reward` to the
    ///         whistleblower. No fraud: `frozen` became withdrawable by the provider.
    event DisputeResolved(
        bytes32 indexed pairKey, address indexed provider, bool fraud, uint256 frozen, uint256 slashed, uint256 reward
    );
    event RewardWithdrawn(address indexed whistleblower, uint256 amount);
    /// @notice The dispute over `pairKey` reached DISPUTE_DEADLINE unresolved and was ended as no
    ///         fraud by `by`; `DisputeResolved` (fraud = false) follows.
    event DisputeExpiredUnresolved(bytes32 indexed pairKey, address indexed by);

    // ------------------------------------------------------------------ storage
    /// @dev A payer's escrow and, in the same slot, the spending window of the reporter that
    ///      charged it last: a settlement then reads and writes one slot per payer, not two. The
    ///      window lives here for one reporter at a time (the cached one, `reporterId`); any other
    ///      reporter's window lives in its Allowance, and moves here when that reporter charges.
    struct Escrow {
        uint96 balance; // available for settlement (up to ~7.9e28 wei)
        uint96 left; // what the cached reporter may still charge until windowEnd
        uint40 windowEnd; // unix seconds; the window restarts at the first charge from then on
        uint24 reporterId; // whose window this is (0: none)
    }

    /// @dev What one payer lets one reporter charge; one slot. `spent` and `windowStart` hold the
    ///      reporter's window only while it is not cached in the payer's Escrow slot; the limit
    ///      itself (`perPeriod`, `period`) is read only when a window starts or moves.
    struct Allowance {
        uint96 perPeriod;
        uint96 spent; // in the window that started at windowStart
        uint32 period; // seconds
        uint32 windowStart; // unix seconds (good until 2106)
    }

    /// @dev An announced withdrawal of escrow or stake: `amount` may leave from `endsAt` on.
    struct Thaw {
        uint128 amount;
        uint64 endsAt;
    }

    struct Provider {
        uint128 balance; // withdrawable earnings (collected, and disputes resolved as no fraud)
        bool registered; // never revoked: settlement remembers it in the pair's slot once seen
    }

    /// @dev An active reporter and its short id, one slot: settlement reads one per call.
    struct Reporter {
        bool active;
        uint24 id;
    }

    struct Proposal {
        address payout;
        uint64 readyAt;
    }

    struct Dispute {
        uint128 frozen; // frozen by the open dispute (0 when none is open)
        uint128 disputedTotal; // all amounts ever disputed over the pair: never disputed twice
        address whistleblower;
        uint64 openedAt;
        bool open;
    }

    struct TrustProposal {
        uint64 challengeWindow;
        uint16 slashShareBps;
        uint16 whistleblowerShareBps;
        uint64 readyAt;
    }

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 public constant VOUCHER_TYPEHASH =
        keccak256("Voucher(address payer,bytes16 jobId,address provider,uint128 cumulative)");
    bytes32 private constant NAME_HASH = keccak256("GpuPoolBilling");
    bytes32 private constant VERSION_HASH = keccak256("2");
    uint256 private constant AMOUNT_MASK = (uint256(1) << 128) - 1;
    uint256 private constant BALANCE_MAX = (uint256(1) << 96) - 1;
    uint256 private constant ENTRY_AMOUNT_MASK = (uint256(1) << 96) - 1;
    uint256 private constant ADDRESS_MASK = (uint256(1) << 160) - 1;
    // secp256k1n / 2: signatures with a higher s are malleable duplicates and are rejected.
    uint256 private constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;
    uint256 private constant TIME_MASK = (uint256(1) << 40) - 1;
    /// @dev Pair word (its slot is the pair key itself): paid (bits 0..95) | owed (96..191) |
    ///      provider seen registered (192) | when everything paid leaves the challenge window
    ///      (193..232, unix seconds). A 96-byte key preimage cannot collide with a mapping's slot.
    uint256 private constant REGISTERED_BIT = uint256(1) << 192;
    uint256 private constant PAIR_MATURES_SHIFT = 193;
    /// @dev Collection word, per pair in `collections`, written by `collect` and disputes only:
    ///      taken out of the pair (collected or disputed, 0..95) | what the pair had paid when the
    ///      running checkpoint started (96..191) | when that checkpoint matures (192..231, 0: none).
    uint256 private constant CHECKPOINT_AT_SHIFT = 192;
    uint256 private constant NO_RUN = type(uint256).max;
    uint256 private constant BPS = 10_000;
    uint256 private constant MAX_WINDOW = 365 days;

    /// @notice Seconds between a payer's startThaw and the earliest withdrawEscrow.
    uint64 public immutable thawPeriod;
    /// @notice Seconds between the owner proposing a reporter or a provider and it taking effect.
    uint64 public immutable adminDelay;
    address public owner;
    address public pendingOwner;
    /// @dev The reentrancy lock, in transient storage (EIP-1153): a storage lock would cost ~50
    ///      gas per worst-case pair, the margin the gas target does not have.
    uint256 private transient locked;

    /// @notice When a proposed reporter may be activated (0 = none proposed).
    mapping(address => uint64) public reporterReadyAt;
    /// @dev Whether each address may settle, and its short id, given at its first activation and
    ///      kept for good: the id tags the spending window cached in an Escrow slot (an address would
    ///      not fit beside the balance).
    mapping(address => Reporter) private reporters;
    mapping(uint256 => address) private reporterById;
    uint24 private reporterCount;
    mapping(address => Escrow) private escrows;
    mapping(address => Thaw) private escrowThaws;
    mapping(address => mapping(address => Allowance)) private allowances;
    mapping(address => Provider) private providers;
    mapping(address => address) public payoutAddress;
    mapping(address => Proposal) public providerProposal;
    /// @dev Per pair key: the collection word (see CHECKPOINT_AT_SHIFT). The pair word itself sits
    ///      at the slot named by the key.
    mapping(bytes32 => uint256) private collections;
    /// @notice Sum of all deposits ever made; with totalPaid and totalEscrowWithdrawn an auditor can
    ///         check conservation against the contract's balance.
    uint256 public totalDeposited;
    uint256 public totalPaid;
    uint256 public totalEscrowWithdrawn;
    uint256 public totalProviderWithdrawn;

    /// @notice Seconds settled earnings wait before they can be withdrawn (0 = at once). Earnings
    ///         settled at t mature at the end of the window-aligned period after t + window, so
    ///         between one and two windows later.
    uint64 public challengeWindow;
    /// @notice Share of a provider's stake a fraud verdict slashes, in basis points.
    uint16 public slashShareBps;
    /// @notice Share of the slashed stake paid to the dispute's whistleblower, in basis points.
    uint16 public whistleblowerShareBps;
    TrustProposal public trustProposal;
    mapping(address => bool) public isVerifier;
    mapping(address => uint64) public verifierReadyAt;
    /// @dev A provider's stake: slashable, what is thawing included.
    mapping(address => uint256) private stakes;
    mapping(address => Thaw) private stakeThaws;
    mapping(bytes32 => Dispute) private disputes;
    mapping(address => uint256) public rewardBalance;
    /// @notice Audit figures: with the ones above, contract balance = totalDeposited + totalStaked
    ///         - every total withdrawn.
    uint256 public totalStaked;
    uint256 public totalStakeWithdrawn;
    uint256 public totalRewardWithdrawn;
    uint256 public totalFrozen;
    uint256 public totalSlashed;
    /// @notice Slashed stake no one was harmed by (`slashStake`) beyond the whistleblower's reward:
    ///         held by the contract, moved by no function. Balance = escrows + earnings + stakes +
    ///         frozen + unclaimed rewards + totalBurned, where earnings = the providers' balances +
    ///         what every pair paid and has not yet given up (collected or disputed).
    uint256 public totalBurned;
    /// @notice When each provider's stake was last slashed by `slashStake` (0 = never).
    mapping(address => uint64) public lastStakeSlashAt;

    constructor(uint64 thawPeriodSeconds, uint64 adminDelaySeconds) {
        thawPeriod = thawPeriodSeconds;
        adminDelay = adminDelaySeconds;
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    modifier nonReentrant() {
        if (locked != 0) revert Reentrancy();
        locked = 1;
        _;
        locked = 0;
    }

    // ------------------------------------------------------------------ owner
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

    /// @notice Register, after `adminDelay`, a provider that has not registered itself (e.g. one
    ///         whose address cannot send transactions). The provider can cancel it meanwhile.
    function proposeProvider(address provider, address payout) external onlyOwner {
        if (provider == address(0) || payout == address(0)) revert ZeroAddress();
        if (providers[provider].registered) revert AlreadyRegistered(provider);
        uint64 readyAt = uint64(block.timestamp) + adminDelay;
        providerProposal[provider] = Proposal(payout, readyAt);
        emit ProviderProposed(provider, payout, readyAt);
    }

    function confirmProvider(address provider) external onlyOwner {
        Proposal memory p = providerProposal[provider];
        if (p.readyAt == 0) revert NothingProposed(provider);
        if (block.timestamp < p.readyAt) revert NotYet(provider, p.readyAt);
        if (providers[provider].registered) revert AlreadyRegistered(provider);
        delete providerProposal[provider];
        _register(provider, p.payout, true);
    }

    /// @notice The owner or the provider itself withdraws a pending owner proposal.
    function cancelProviderProposal(address provider) external {
        if (msg.sender != owner && msg.sender != provider) revert NotOwner(msg.sender);
        if (providerProposal[provider].readyAt == 0) revert NothingProposed(provider);
        delete providerProposal[provider];
        emit ProviderProposalCancelled(provider, msg.sender);
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

    // ------------------------------------------------------------------ payer
    function deposit() external payable {
        _deposit(msg.sender);
    }

    function depositFor(address payer) external payable {
        if (payer == address(0)) revert ZeroAddress();
        _deposit(payer);
    }

    function _deposit(address payer) private {
        if (msg.value == 0) revert ZeroAmount();
        Escrow storage e = escrows[payer];
        uint256 next = uint256(e.balance) + msg.value;
        if (next > BALANCE_MAX) revert AmountTooLarge(next);
        e.balance = uint96(next);
        totalDeposited += msg.value;
        emit Deposited(payer, msg.sender, msg.value, next);
    }

    /// @notice Let `reporter` charge the caller's escrow at most `perPeriod` wei in any window of
    ///         `period` seconds. 0 revokes. Changing it keeps what was spent in the current window.
    function setSpendingLimit(address reporter, uint96 perPeriod, uint32 period) external {
        if (reporter == address(0)) revert ZeroAddress();
        if (period == 0) revert ZeroPeriod();
        uint256 id = reporters[reporter].id;
        Escrow memory e = escrows[msg.sender];
        if (id != 0 && e.reporterId == id) {
            // The cached window was measured against the old limit: hand it back to the Allowance
            // first, so the spent figure carries over exactly as for an uncached window.
            _uncache(msg.sender, e);
            escrows[msg.sender] = Escrow(e.balance, 0, 0, 0);
        }
        Allowance storage a = allowances[msg.sender][reporter];
        a.perPeriod = perPeriod;
        a.period = period;
        emit SpendingLimitSet(msg.sender, reporter, perPeriod, period);
    }

    /// @notice Announce a withdrawal; it can be executed after `thawPeriod`. Until then the amount
    ///         still backs settlements, so providers are paid first. Calling again restarts the clock.
    function startThaw(uint256 amount) external {
        emit ThawStarted(msg.sender, amount, _startThaw(escrowThaws[msg.sender], amount));
    }

    function cancelThaw() external {
        _cancelThaw(escrowThaws[msg.sender], false);
        emit ThawCancelled(msg.sender);
    }

    /// @notice Withdraw the thawed amount (capped at what settlements left in escrow).
    function withdrawEscrow() external nonReentrant {
        Escrow storage e = escrows[msg.sender];
        uint256 amount = _takeThawed(escrowThaws[msg.sender], e.balance, false);
        uint256 remaining = uint256(e.balance) - amount;
        e.balance = uint96(remaining);
        totalEscrowWithdrawn += amount;
        emit EscrowWithdrawn(msg.sender, amount, remaining);
        _send(msg.sender, amount);
    }

    // ------------------------------------------------------------------ provider
    /// @notice Register the caller as a provider that may be paid, or change its payout address.
    ///         Only this key can change the payout address afterwards.
    function registerProvider(address payout) external {
        if (payout == address(0)) revert ZeroAddress();
        if (providerProposal[msg.sender].readyAt != 0) {
            delete providerProposal[msg.sender];
            emit ProviderProposalCancelled(msg.sender, msg.sender);
        }
        _register(msg.sender, payout, false);
    }

    function _register(address provider, address payout, bool byOwner) private {
        providers[provider].registered = true;
        payoutAddress[provider] = payout;
        emit ProviderRegistered(provider, payout, byOwner);
    }

    /// @notice Send the caller's whole balance to its payout address. Earnings still in pairs count
    ///         only once collected (`collect`); what is inside the challenge window stays there.
    function withdraw() external nonReentrant {
        uint256 amount = providers[msg.sender].balance;
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        providers[msg.sender].balance = 0;
        address to = payoutAddress[msg.sender];
        if (to == address(0)) to = msg.sender;
        totalProviderWithdrawn += amount;
        emit ProviderWithdrawn(msg.sender, to, amount);
        _send(to, amount);
    }

    /// @notice Move the matured earnings of `provider`'s pairs (payers[i], jobIds[i], provider) into
    ///         its balance. Anyone may call it (money only moves to `provider`). A pair's earnings
    ///         mature a challenge window after its last payment, or, while it keeps being paid, what
    ///         it had paid when a collection started a checkpoint matures a window after that
    ///         collection: collected once per window, continuous earnings become withdrawable one to
    ///         two windows after they were settled. A collection never restarts a running
    ///         checkpoint, so no caller can postpone a provider's earnings.
    function collect(address provider, address[] calldata payers, bytes16[] calldata jobIds)
        external
        nonReentrant
        returns (uint256 amount)
    {
        uint256 n = payers.length;
        if (n != jobIds.length) revert LengthMismatch(n, jobIds.length);
        uint256 window = challengeWindow;
        for (uint256 i; i < n;) {
            bytes32 key = pairKey(payers[i], jobIds[i], provider);
            uint256 pairWord = _pairWord(key);
            uint256 word = collections[key];
            uint256 taken = word & ENTRY_AMOUNT_MASK;
            uint256 matured = _matured(pairWord, word);
            uint256 paid = pairWord & ENTRY_AMOUNT_MASK;
            uint256 checkpointAt = (word >> CHECKPOINT_AT_SHIFT) & TIME_MASK;
            uint256 next = word;
            if (checkpointAt == 0 || block.timestamp >= checkpointAt) {
                // No checkpoint running: start one over what the pair has paid beyond `matured`. It
                // matures a window from now, and never before the pair's own maturity time, so a
                // shorter window never matures earnings paid under a longer one sooner.
                uint256 startsMaturingAt = block.timestamp + window;
                uint256 pairMaturesAt = (pairWord >> PAIR_MATURES_SHIFT) & TIME_MASK;
                if (pairMaturesAt > startsMaturingAt) startsMaturingAt = pairMaturesAt;
                next = paid > matured ? paid << 96 | startsMaturingAt << CHECKPOINT_AT_SHIFT : 0;
            } else {
                next = word & ~ENTRY_AMOUNT_MASK;
            }
            next |= matured;
            if (next != word) collections[key] = next;
            unchecked {
                // matured <= paid, and every pair's paid came out of an escrow that fits 96 bits.
                amount += matured - taken;
                ++i;
            }
        }
        if (amount != 0) _addToBalance(provider, amount);
        emit EarningsCollected(provider, n, amount);
    }

    /// @notice Stake the sent amount as the caller's (a provider's own key). It backs the GPUs the
    ///         provider offers and can be slashed for proven fraud.
    function stake() external payable {
        if (msg.value == 0) revert ZeroAmount();
        uint256 next = stakes[msg.sender] + msg.value;
        if (next > AMOUNT_MASK) revert AmountTooLarge(next);
        stakes[msg.sender] = next;
        totalStaked += msg.value;
        emit Staked(msg.sender, msg.value, next);
    }

    /// @notice Announce taking `amount` of stake back after `thawPeriod`; it stays slashable until
    ///         withdrawn. Calling again restarts the clock.
    function startUnstake(uint256 amount) external {
        emit UnstakeStarted(msg.sender, amount, _startThaw(stakeThaws[msg.sender], amount));
    }

    function cancelUnstake() external {
        _cancelThaw(stakeThaws[msg.sender], true);
        emit UnstakeCancelled(msg.sender);
    }

    /// @notice Withdraw the thawed stake (capped at what slashing left) to the provider's key.
    function withdrawStake() external nonReentrant {
        uint256 held = stakes[msg.sender];
        uint256 amount = _takeThawed(stakeThaws[msg.sender], held, true);
        uint256 remaining = held - amount;
        stakes[msg.sender] = remaining;
        totalStakeWithdrawn += amount;
        emit StakeWithdrawn(msg.sender, amount, remaining);
        _send(msg.sender, amount);
    }

    /// @notice A whistleblower takes its rewards.
    function withdrawReward() external nonReentrant {
        uint256 amount = rewardBalance[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        rewardBalance[msg.sender] = 0;
        totalRewardWithdrawn += amount;
        emit RewardWithdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    // ------------------------------------------------------------------ disputes
    /// @notice A verifier disputes `amount` of what the pair paid that is still inside the
    ///         challenge window (`pairEarnings`' uncollected minus collectable), freezing it; what
    ///         the pair has matured is collected to the provider first. `whistleblower` is paid its
    ///         share of the slashed stake if the dispute ends as fraud.
    function openDispute(
        address payer,
        bytes16 jobId,
        address provider,
        uint256 amount,
        bytes32 evidenceHash,
        address whistleblower
    ) external {
        if (!isVerifier[msg.sender]) revert NotVerifier(msg.sender);
        if (whistleblower == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        bytes32 key = pairKey(payer, jobId, provider);
        Dispute storage d = disputes[key];
        if (d.open) revert DisputeAlreadyOpen(key);
        uint256 pairWord = _pairWord(key);
        uint256 word = collections[key];
        uint256 matured = _matured(pairWord, word);
        // Everything below `matured` was taken or is collectable; disputes take from above it.
        uint256 disputable = (pairWord & ENTRY_AMOUNT_MASK) - matured;
        if (amount > disputable) revert DisputeExceedsPaid(key, amount, disputable);
        uint256 collectable = matured - (word & ENTRY_AMOUNT_MASK);
        if (collectable != 0) {
            _addToBalance(provider, collectable);
            emit EarningsCollected(provider, 1, collectable);
        }
        // The disputed amount counts as taken out of the pair: never collected, never disputed again.
        collections[key] = (word & ~ENTRY_AMOUNT_MASK) | (matured + amount);
        d.frozen = uint128(amount);
        d.disputedTotal += uint128(amount);
        d.whistleblower = whistleblower;
        d.openedAt = uint64(block.timestamp);
        d.open = true;
        totalFrozen += amount;
        emit DisputeOpened(key, jobId, provider, payer, amount, evidenceHash, whistleblower);
    }

    /// @notice A verifier closes the pair's open dispute before its deadline. Fraud: the frozen
    ///         earnings go back to the payer's escrow, `slashShareBps` of the provider's stake is
    ///         slashed, the whistleblower gets `whistleblowerShareBps` of that and the payer's
    ///         escrow the rest. No fraud: the frozen earnings become withdrawable by the provider.
    function resolveDispute(address payer, bytes16 jobId, address provider, bool fraud) external {
        if (!isVerifier[msg.sender]) revert NotVerifier(msg.sender);
        bytes32 key = pairKey(payer, jobId, provider);
        Dispute storage d = disputes[key];
        if (!d.open) revert NoOpenDispute(key);
        uint64 expiresAt = _expiresAt(d);
        if (block.timestamp >= expiresAt) revert DisputeExpired(key, expiresAt);
        _resolve(key, d, payer, provider, fraud);
    }

    /// @notice End a dispute left open for DISPUTE_DEADLINE as no fraud: its frozen earnings become
    ///         withdrawable by the provider. Anyone may call it, the provider typically.
    function expireDispute(address payer, bytes16 jobId, address provider) external {
        bytes32 key = pairKey(payer, jobId, provider);
        Dispute storage d = disputes[key];
        if (!d.open) revert NoOpenDispute(key);
        uint64 expiresAt = _expiresAt(d);
        if (block.timestamp < expiresAt) revert DisputeNotExpired(key, expiresAt);
        emit DisputeExpiredUnresolved(key, msg.sender);
        _resolve(key, d, payer, provider, false);
    }

    /// @notice A verifier slashes `slashShareBps` of a provider's stake (thawing stake included) for
    ///         fraud proven without a paid pair, such as a wrong answer to a hardware challenge.
    ///         `whistleblowerShareBps` of it rewards `whistleblower`; no payer was harmed, so the rest
    ///         is burned. At most once per provider per challenge window (at least
    ///         STAKE_SLASH_MIN_INTERVAL): a stolen verifier key takes one share per interval, not the
    ///         whole stake at once.
    function slashStake(address provider, bytes32 evidenceHash, address whistleblower) external {
        if (!isVerifier[msg.sender]) revert NotVerifier(msg.sender);
        if (whistleblower == address(0)) revert ZeroAddress();
        uint64 last = lastStakeSlashAt[provider];
        if (last != 0) {
            uint64 interval = challengeWindow > STAKE_SLASH_MIN_INTERVAL ? challengeWindow : STAKE_SLASH_MIN_INTERVAL;
            uint64 next = last + interval;
            if (block.timestamp < next) revert SlashTooSoon(provider, next);
        }
        uint256 staked = stakes[provider];
        uint256 slashed = staked * slashShareBps / BPS;
        if (slashed == 0) revert NothingToSlash(provider);
        uint256 reward = slashed * whistleblowerShareBps / BPS;
        stakes[provider] = staked - slashed;
        lastStakeSlashAt[provider] = uint64(block.timestamp);
        totalSlashed += slashed;
        totalBurned += slashed - reward;
        rewardBalance[whistleblower] += reward;
        emit StakeSlashed(provider, evidenceHash, whistleblower, slashed, reward);
    }

    function _expiresAt(Dispute storage d) private view returns (uint64) {
        return d.openedAt + DISPUTE_DEADLINE;
    }

    function _resolve(bytes32 key, Dispute storage d, address payer, address provider, bool fraud) private {
        uint256 frozen = d.frozen;
        d.frozen = 0;
        d.open = false;
        totalFrozen -= frozen;
        uint256 slashed;
        uint256 reward;
        if (fraud) {
            uint256 staked = stakes[provider];
            slashed = staked * slashShareBps / BPS;
            reward = slashed * whistleblowerShareBps / BPS;
            stakes[provider] = staked - slashed;
            totalSlashed += slashed;
            rewardBalance[d.whistleblower] += reward;
            Escrow storage e = escrows[payer];
            uint256 next = uint256(e.balance) + frozen + (slashed - reward);
            if (next > BALANCE_MAX) revert AmountTooLarge(next);
            e.balance = uint96(next);
        } else {
            _addToBalance(provider, frozen);
        }
        emit DisputeResolved(key, provider, fraud, frozen, slashed, reward);
    }

    // ------------------------------------------------------------------ settlement
    /// @notice Settle many pairs at once. `parties` lists payer and provider addresses (high bits
    ///         ignored; order free); each entry packs one pair: bits 0..95 the cumulative amount
    ///         owed in wei, bits 96..111 the provider's index and bits 112..127 the payer's index into
    ///         `parties`, bits 128..255 the job id (bytes16). A payer's escrow (with the caller's
    ///         spending window) is read when a run of consecutive entries for that payer starts and
    ///         written once when it ends; a payer seen again later starts a new run that reads what
    ///         the last one wrote, so nothing cached can be spent twice. The operator sorts entries
    ///         by payer, so a batch has one run per payer. What a pair pays stays in the pair until
    ///         collected (`collect`). Only a bad index reverts.
    function settleBatch(address[] calldata parties, uint256[] calldata entries) external nonReentrant {
        Reporter memory reporter = reporters[msg.sender];
        if (!reporter.active) revert NotReporter(msg.sender);
        uint256 rid = reporter.id;
        uint256 partyCount = parties.length;
        uint256 maturesAt = block.timestamp + challengeWindow;
        uint256 runIdx = NO_RUN;
        address payer;
        uint256 runWord; // the payer's escrow word with the caller's window in it, before this run
        uint256 previousWord; // the stored word, when another reporter's window must go back first
        uint256 budget; // what the run may still charge: min(balance, window left) - charged
        uint256 charged;
        uint256 batchPaid;
        uint256 n = entries.length;
        for (uint256 i; i < n;) {
            uint256 entry;
            // In bounds: i < n and the array was length-checked against calldata when decoded.
            assembly ("memory-safe") {
                entry := calldataload(add(entries.offset, shl(5, i)))
            }
            uint256 providerIdx = (entry >> 96) & 0xFFFF;
            uint256 payerIdx = (entry >> 112) & 0xFFFF;
            if (providerIdx >= partyCount) revert PartyIndexOutOfRange(providerIdx, partyCount);
            if (payerIdx >= partyCount) revert PartyIndexOutOfRange(payerIdx, partyCount);
            if (payerIdx != runIdx) {
                if (runIdx != NO_RUN) _endRun(payer, runWord, previousWord, budget, charged);
                // Masked: dirty high bits cannot make one payer two.
                assembly ("memory-safe") {
                    payer := and(calldataload(add(parties.offset, shl(5, payerIdx))), 0xffffffffffffffffffffffffffffffffffffffff)
                }
                (runWord, previousWord) = _startRun(payer, rid);
                uint256 balance = runWord & ENTRY_AMOUNT_MASK;
                uint256 left = (runWord >> 96) & ENTRY_AMOUNT_MASK;
                budget = balance < left ? balance : left;
                charged = 0;
                runIdx = payerIdx;
            }
            address provider;
            assembly ("memory-safe") {
                provider := and(calldataload(add(parties.offset, shl(5, providerIdx))), 0xffffffffffffffffffffffffffffffffffffffff)
            }
            uint256 pay = _settlePair(payer, bytes16(bytes32(entry)), provider, entry & ENTRY_AMOUNT_MASK, budget, maturesAt);
            unchecked {
                // pay <= budget; the sums are bounded by escrows, which fit in 96 bits each.
                budget -= pay;
                charged += pay;
                batchPaid += pay;
                ++i;
            }
        }
        if (runIdx != NO_RUN) _endRun(payer, runWord, previousWord, budget, charged);
        totalPaid += batchPaid;
        emit BatchSettled(msg.sender, n, batchPaid);
    }

    /// @dev `payer`'s escrow word with the caller's (id `rid`) spending window in it: as stored
    ///      when the slot caches that window and it still runs; else with a window read from the
    ///      Allowance (a new one if it ended), and the stored word returned too when another
    ///      reporter's window cached there must go back to its Allowance before the write.
    function _startRun(address payer, uint256 rid) private view returns (uint256 runWord, uint256 previousWord) {
        uint256 word;
        assembly ("memory-safe") {
            mstore(0x00, payer)
            mstore(0x20, escrows.slot)
            word := sload(keccak256(0x00, 0x40))
        }
        bool cached = rid != 0 && word >> 232 == rid;
        if (cached && block.timestamp < (word >> 192) & TIME_MASK) return (word, 0);
        Allowance memory a = allowances[payer][msg.sender];
        uint256 spent = a.spent;
        uint256 windowStart = a.windowStart;
        if (cached || block.timestamp >= windowStart + a.period) {
            spent = 0;
            windowStart = block.timestamp;
        }
        // A payer that lowered its limit below what this window already spent: nothing left.
        uint256 left = a.perPeriod > spent ? a.perPeriod - spent : 0;
        runWord = (word & ENTRY_AMOUNT_MASK) | (left << 96) | ((windowStart + a.period) << 192) | (rid << 232);
        if (!cached && word >> 232 != 0) previousWord = word;
    }

    /// @dev Write what the run charged: balance and window left both down by `charged`; the slot
    ///      caches the caller's window from then on. Nothing charged: nothing written (a window
    ///      that charged nothing is not cached, so its Allowance keeps its spent figure).
    function _endRun(address payer, uint256 runWord, uint256 previousWord, uint256 budget, uint256 charged) private {
        if (charged != 0) {
            if (previousWord != 0) {
                Escrow memory previous = _escrowOf(previousWord);
                _uncache(payer, previous);
            }
            uint256 next;
            unchecked {
                // charged <= min(balance, left): neither field borrows from the next.
                next = runWord - charged - (charged << 96);
            }
            assembly ("memory-safe") {
                mstore(0x00, payer)
                mstore(0x20, escrows.slot)
                sstore(keccak256(0x00, 0x40), next)
            }
        }
        if (budget == 0 && (runWord & ENTRY_AMOUNT_MASK) != charged) {
            emit SpendingLimitReached(payer, msg.sender, uint64((runWord >> 192) & TIME_MASK));
        }
    }

    function _escrowOf(uint256 word) private pure returns (Escrow memory) {
        return Escrow(
            uint96(word), uint96(word >> 96), uint40(word >> 192), uint24(word >> 232)
        );
    }

    /// @dev Charge `payer` what its budget for `reporter` (id `rid`) shrank by: escrow down, the
    ///      window's allowance down, both in the Escrow slot, which caches this reporter's window
    ///      from now on (the window cached there before goes back to its own Allowance).
    function _debit(address payer, address reporter, uint256 rid, uint256 budgetLeft) private {
        Escrow memory e = escrows[payer];
        (uint256 left, uint256 windowEnd, bool cached) = _window(e, payer, reporter, rid);
        uint256 balance = e.balance;
        uint256 debit = (balance < left ? balance : left) - budgetLeft;
        if (debit != 0) {
            if (!cached && e.reporterId != 0) _uncache(payer, e);
            escrows[payer] = Escrow(uint96(balance - debit), uint96(left - debit), uint40(windowEnd), uint24(rid));
        }
        if (budgetLeft == 0 && balance - debit != 0) {
            emit SpendingLimitReached(payer, reporter, uint64(windowEnd));
        }
    }

    /// @dev What `reporter` (id `rid`) may charge `payer` now: min(escrow, what its limit has left
    ///      in the current window).
    function _budget(address payer, address reporter, uint256 rid) private view returns (uint256) {
        Escrow memory e = escrows[payer];
        (uint256 left,,) = _window(e, payer, reporter, rid);
        return e.balance < left ? e.balance : left;
    }

    /// @dev The spending window `reporter` (id `rid`) charges `payer` in: what its limit has left
    ///      and when the window ends (a window that ended restarts now), and whether `e` caches it.
    function _window(Escrow memory e, address payer, address reporter, uint256 rid)
        private
        view
        returns (uint256 left, uint256 windowEnd, bool cached)
    {
        cached = rid != 0 && e.reporterId == rid;
        if (cached && block.timestamp < e.windowEnd) return (e.left, e.windowEnd, true);
        Allowance memory a = allowances[payer][reporter];
        uint256 spent = a.spent;
        uint256 windowStart = a.windowStart;
        if (cached || block.timestamp >= windowStart + a.period) {
            spent = 0;
            windowStart = block.timestamp;
        }
        left = a.perPeriod > spent ? a.perPeriod - spent : 0;
        windowEnd = windowStart + a.period;
    }

    /// @dev Write the window cached in `e` back to its reporter's Allowance (as spent and start,
    ///      measured against that Allowance's limit, which cannot have changed while cached).
    function _uncache(address payer, Escrow memory e) private {
        Allowance storage a = allowances[payer][reporterById[e.reporterId]];
        a.spent = uint96(a.perPeriod - e.left);
        a.windowStart = uint32(e.windowEnd - a.period);
    }

    /// @notice Settle one pair with a cumulative voucher signed (EIP-712) by an authorised reporter.
    ///         Anyone may submit it, typically the provider. Replaying a voucher pays nothing. The
    ///         payer's spending limit for the signing reporter applies.
    function settleWithVoucher(address payer, bytes16 jobId, address provider, uint128 cumulative, bytes calldata sig)
        external
        nonReentrant
    {
        if (cumulative > ENTRY_AMOUNT_MASK) revert AmountTooLarge(cumulative);
        address signer = _recover(voucherDigest(payer, jobId, provider, cumulative), sig);
        Reporter memory reporter = reporters[signer];
        if (signer == address(0) || !reporter.active) revert InvalidSignature();
        uint256 available = _budget(payer, signer, reporter.id);
        uint256 pay = _settlePair(payer, jobId, provider, cumulative, available, block.timestamp + challengeWindow);
        totalPaid += pay;
        _debit(payer, signer, reporter.id, available - pay);
        emit BatchSettled(msg.sender, 1, pay);
    }

    /// @dev Raise the pair's owed figure to `cumulative` (never lower) and pay what is unpaid,
    ///      capped at `available` (nothing to an unregistered provider); what is paid stays in the
    ///      pair and matures at `maturesAt` (never earlier than what it paid before). Returns the
    ///      amount moved. One SLOAD and one SSTORE of the pair word.
    function _settlePair(
        address payer,
        bytes16 jobId,
        address provider,
        uint256 cumulative,
        uint256 available,
        uint256 maturesAt
    ) private returns (uint256 pay) {
        bytes32 key;
        uint256 word;
        // The key inline, not through pairKey: a call per pair costs gas the worst case has not got.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, and(payer, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(ptr, 0x20), and(jobId, not(0xffffffffffffffffffffffffffffffff)))
            mstore(add(ptr, 0x40), and(provider, 0xffffffffffffffffffffffffffffffffffffffff))
            key := keccak256(ptr, 0x60)
            word := sload(key)
        }
        uint256 paid = word & ENTRY_AMOUNT_MASK;
        uint256 reported = (word >> 96) & ENTRY_AMOUNT_MASK;
        uint256 owed = cumulative > reported ? cumulative : reported;
        if (owed == paid) return 0; // replay or duplicate: nothing new, no write
        uint256 registered = word & REGISTERED_BIT;
        // Registration is never revoked: once seen, the pair's own bit spares reading the provider.
        if (registered == 0 && providers[provider].registered) registered = REGISTERED_BIT;
        if (registered == 0) {
            if (owed != reported) {
                assembly ("memory-safe") {
                    sstore(key, or(and(word, not(shl(96, 0xffffffffffffffffffffffff))), shl(96, owed)))
                }
            }
            emit ProviderNotRegistered(jobId, provider, payer, owed, paid);
            return 0;
        }
        uint256 stamp = (word >> PAIR_MATURES_SHIFT) & TIME_MASK;
        unchecked {
            // paid <= owed always (paid only grows up to owed), and pay <= owed - paid < 2^96.
            uint256 due = owed - paid;
            pay = due <= available ? due : available;
            paid += pay;
        }
        if (pay != 0 && maturesAt > stamp) stamp = maturesAt;
        assembly ("memory-safe") {
            sstore(key, or(or(registered, shl(PAIR_MATURES_SHIFT, stamp)), or(paid, shl(96, owed))))
        }
        if (pay != 0) emit Settled(jobId, provider, payer, paid);
        if (paid < owed) emit Overdrawn(jobId, provider, payer, owed, paid);
    }

    // ------------------------------------------------------------------ views
    function pairKey(address payer, bytes16 jobId, address provider) public pure returns (bytes32 key) {
        // Inline assembly sees values as they sit on the stack: clean them explicitly (a bytes16
        // cut from a packed batch entry still carries the entry's low bits).
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, and(payer, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(ptr, 0x20), and(jobId, not(0xffffffffffffffffffffffffffffffff)))
            mstore(add(ptr, 0x40), and(provider, 0xffffffffffffffffffffffffffffffffffffffff))
            key := keccak256(ptr, 0x60)
        }
    }

    /// @notice Cumulative paid and owed for a (payer, job, provider) pair.
    function pairState(address payer, bytes16 jobId, address provider)
        external
        view
        returns (uint256 paid, uint256 owed)
    {
        uint256 word = _pairWord(pairKey(payer, jobId, provider));
        return (word & ENTRY_AMOUNT_MASK, (word >> 96) & ENTRY_AMOUNT_MASK);
    }

    /// @notice What the pair paid its provider and is still in the pair (`uncollected`: neither
    ///         collected nor disputed), how much of it `collect` would move now (`collectable`), and
    ///         when more of it matures (0: nothing more is waiting). `uncollected - collectable` is
    ///         inside the challenge window: what a dispute over the pair may freeze.
    function pairEarnings(address payer, bytes16 jobId, address provider)
        external
        view
        returns (uint256 uncollected, uint256 collectable, uint64 nextMaturesAt)
    {
        bytes32 key = pairKey(payer, jobId, provider);
        uint256 pairWord = _pairWord(key);
        uint256 word = collections[key];
        uint256 taken = word & ENTRY_AMOUNT_MASK;
        uint256 paid = pairWord & ENTRY_AMOUNT_MASK;
        uint256 matured = _matured(pairWord, word);
        uncollected = paid - taken;
        collectable = matured - taken;
        if (paid > matured) {
            uint256 checkpointAt = (word >> CHECKPOINT_AT_SHIFT) & TIME_MASK;
            bool checkpointPending = checkpointAt > block.timestamp && (word >> 96) & ENTRY_AMOUNT_MASK > matured;
            nextMaturesAt = uint64(checkpointPending ? checkpointAt : (pairWord >> PAIR_MATURES_SHIFT) & TIME_MASK);
        }
    }

    /// @notice Whether `reporter` may settle now.
    function isReporter(address reporter) external view returns (bool) {
        return reporters[reporter].active;
    }

    function escrowOf(address payer) external view returns (uint256 balance, uint256 thawing, uint64 thawEnds) {
        Thaw storage t = escrowThaws[payer];
        return (escrows[payer].balance, t.amount, t.endsAt);
    }

    /// @notice When the payer's announced escrow withdrawal may be made (0 = none announced).
    function thawEndsAt(address payer) external view returns (uint64) {
        return escrowThaws[payer].endsAt;
    }

    /// @notice The limit `payer` granted `reporter`, what it spent in the current window and when
    ///         that window started; `available` is what it may charge right now.
    function spendingLimit(address payer, address reporter)
        external
        view
        returns (uint256 perPeriod, uint256 period, uint256 spent, uint256 windowStart, uint256 available)
    {
        Allowance memory a = allowances[payer][reporter];
        Escrow memory e = escrows[payer];
        perPeriod = a.perPeriod;
        period = a.period;
        bool cached = e.reporterId != 0 && e.reporterId == reporters[reporter].id;
        if (cached && block.timestamp < e.windowEnd) {
            (spent, windowStart) = (perPeriod - e.left, e.windowEnd - period);
        } else if (cached || block.timestamp >= uint256(a.windowStart) + period) {
            (spent, windowStart) = (0, block.timestamp);
        } else {
            (spent, windowStart) = (a.spent, a.windowStart);
        }
        uint256 left = perPeriod > spent ? perPeriod - spent : 0;
        available = e.balance < left ? e.balance : left;
    }

    /// @notice What `provider` can withdraw now: earnings collected out of its pairs and disputes
    ///         resolved as no fraud. Earnings still in pairs are in `pairEarnings`.
    function providerBalance(address provider) external view returns (uint256) {
        return providers[provider].balance;
    }

    /// @notice A provider's stake (slashable, thawing included), what it is unstaking and when.
    function stakeOf(address provider) external view returns (uint256 amount, uint256 thawing, uint64 thawEnds) {
        Thaw storage t = stakeThaws[provider];
        return (stakes[provider], t.amount, t.endsAt);
    }

    /// @notice When the provider's announced unstaking may be withdrawn (0 = none announced).
    function stakeThawEndsAt(address provider) external view returns (uint64) {
        return stakeThaws[provider].endsAt;
    }

    /// @notice The pair's dispute record: what its open dispute froze, all it ever disputed, the
    ///         whistleblower and opening time of the last dispute, and whether one is open.
    function disputeOf(address payer, bytes16 jobId, address provider)
        external
        view
        returns (uint256 frozen, uint256 disputedTotal, address whistleblower, uint64 openedAt, bool open)
    {
        Dispute storage d = disputes[pairKey(payer, jobId, provider)];
        return (d.frozen, d.disputedTotal, d.whistleblower, d.openedAt, d.open);
    }

    function isRegisteredProvider(address provider) external view returns (bool) {
        return providers[provider].registered;
    }

    function domainSeparator() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    function voucherDigest(address payer, bytes16 jobId, address provider, uint128 cumulative)
        public
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(VOUCHER_TYPEHASH, payer, jobId, provider, cumulative));
        return keccak256(abi.encodePacked(hex"1901", domainSeparator(), structHash));
    }

    // ------------------------------------------------------------------ internals
    function _pairWord(bytes32 key) private view returns (uint256 word) {
        assembly ("memory-safe") {
            word := sload(key)
        }
    }

    /// @dev How much of the pair's paid amount has left the challenge window, at least what was
    ///      already taken out of it: all it paid once its last payment's window passed (at once
    ///      without a window); else what it had paid when the running checkpoint started, once
    ///      that checkpoint matured; else nothing beyond what was taken.
    function _matured(uint256 pairWord, uint256 word) private view returns (uint256) {
        uint256 taken = word & ENTRY_AMOUNT_MASK;
        if (block.timestamp >= (pairWord >> PAIR_MATURES_SHIFT) & TIME_MASK) return pairWord & ENTRY_AMOUNT_MASK;
        uint256 checkpointAt = (word >> CHECKPOINT_AT_SHIFT) & TIME_MASK;
        if (checkpointAt != 0 && block.timestamp >= checkpointAt) {
            uint256 checkpointPaid = (word >> 96) & ENTRY_AMOUNT_MASK;
            if (checkpointPaid > taken) return checkpointPaid;
        }
        return taken;
    }

    function _addToBalance(address provider, uint256 amount) private {
        uint256 next = providers[provider].balance + amount;
        if (next > AMOUNT_MASK) revert AmountTooLarge(next);
        providers[provider].balance = uint128(next);
    }

    /// @dev Announce that `amount` of escrow or stake leaves `thawPeriod` from now (replacing an
    ///      earlier announcement). Returns when it may leave.
    function _startThaw(Thaw storage t, uint256 amount) private returns (uint64 endsAt) {
        if (amount == 0) revert ZeroAmount();
        if (amount > AMOUNT_MASK) revert AmountTooLarge(amount);
        endsAt = uint64(block.timestamp) + thawPeriod;
        t.amount = uint128(amount);
        t.endsAt = endsAt;
    }

    function _cancelThaw(Thaw storage t, bool isStake) private {
        if (t.amount == 0) _revertNoThaw(isStake);
        delete t.amount;
        delete t.endsAt;
    }

    /// @dev End a thaw that ran its course: what may leave now, at most `held` (what settlements or
    ///      slashing left of the escrow or stake). Reverts if nothing was announced, the period has
    ///      not passed, or nothing is left.
    function _takeThawed(Thaw storage t, uint256 held, bool isStake) private returns (uint256 amount) {
        uint256 thawing = t.amount;
        if (thawing == 0) _revertNoThaw(isStake);
        uint64 endsAt = t.endsAt;
        if (block.timestamp < endsAt) {
            if (isStake) revert StillThawingStake(msg.sender, endsAt);
            revert StillThawing(msg.sender, endsAt);
        }
        delete t.amount;
        delete t.endsAt;
        amount = thawing < held ? thawing : held;
        if (amount == 0) revert NothingToWithdraw(msg.sender);
    }

    function _revertNoThaw(bool isStake) private view {
        if (isStake) revert NoUnstakeInProgress(msg.sender);
        revert NoThawInProgress(msg.sender);
    }

    function _recover(bytes32 digest, bytes calldata sig) private pure returns (address) {
        if (sig.length != 65) revert InvalidSignature();
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (uint256(s) > HALF_N || (v != 27 && v != 28)) revert InvalidSignature();
        return ecrecover(digest, v, r, s);
    }

    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }
}
