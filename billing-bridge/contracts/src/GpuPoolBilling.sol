// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title GpuPoolBilling
/// @notice Escrow and cumulative settlement for gpupool GPU usage, in the chain's native token (wei).
/// @dev Settlement is keyed by (payer, jobId, provider). The contract stores, per key, the highest
///      cumulative amount ever reported (`owed`) and what was actually moved (`paid`); a settlement
///      moves only `owed - paid`, so replayed, duplicated or reordered reports never pay twice.
///      Both figures are uint128 and share one storage slot, so a steady-state update costs one
///      cold slot read + write.
///
///      What bounds a stolen key (docs/trust.md has the full table):
///      - a reporter takes from a payer at most the spending limit that payer granted to that very
///        reporter per period (none granted = nothing), and pays registered providers only;
///      - the owner adds a reporter or registers a provider only after `adminDelay`, can never change
///        a registered provider's payout address, and hands ownership over in two steps;
///      - a provider's payout address is set by that provider's own key.
contract GpuPoolBilling {
    /// @notice Interface version; the operator refuses to settle against any other.
    uint256 public constant VERSION = 2;

    // ------------------------------------------------------------------ errors
    error NotOwner(address caller);
    error NotPendingOwner(address caller);
    error NotReporter(address caller);
    error ZeroAddress();
    error ZeroAmount();
    error ZeroPeriod();
    error PartyIndexOutOfRange(uint256 index, uint256 parties);
    error PartiesNotStrictlyIncreasing(uint256 index);
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

    // ------------------------------------------------------------------ storage
    struct Pair {
        uint128 paid; // cumulative moved to the provider
        uint128 owed; // highest cumulative ever reported
    }

    struct Escrow {
        uint128 balance; // available for settlement
        uint128 thawing; // amount the payer asked to withdraw
    }

    /// @dev What one payer lets one reporter charge; one slot.
    struct Allowance {
        uint96 perPeriod;
        uint96 spent; // in the window that started at windowStart
        uint32 period; // seconds
        uint32 windowStart; // unix seconds (good until 2106)
    }

    struct Provider {
        uint128 balance; // withdrawable earnings
        bool registered;
    }

    struct Proposal {
        address payout;
        uint64 readyAt;
    }

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 public constant VOUCHER_TYPEHASH =
        keccak256("Voucher(address payer,bytes16 jobId,address provider,uint128 cumulative)");
    bytes32 private constant NAME_HASH = keccak256("GpuPoolBilling");
    bytes32 private constant VERSION_HASH = keccak256("2");
    uint256 private constant AMOUNT_MASK = (uint256(1) << 128) - 1;
    uint256 private constant ENTRY_AMOUNT_MASK = (uint256(1) << 96) - 1;
    uint256 private constant ADDRESS_MASK = (uint256(1) << 160) - 1;
    // secp256k1n / 2: signatures with a higher s are malleable duplicates and are rejected.
    uint256 private constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;
    // Provider states cached per batch (memory): not yet read, read and unregistered, registered.
    uint256 private constant PROVIDER_UNREGISTERED = 1;
    uint256 private constant PROVIDER_REGISTERED = 2;

    /// @notice Seconds between a payer's startThaw and the earliest withdrawEscrow.
    uint64 public immutable thawPeriod;
    /// @notice Seconds between the owner proposing a reporter or a provider and it taking effect.
    uint64 public immutable adminDelay;
    address public owner;
    address public pendingOwner;
    uint256 private locked = 1;

    mapping(address => bool) public isReporter;
    /// @notice When a proposed reporter may be activated (0 = none proposed).
    mapping(address => uint64) public reporterReadyAt;
    mapping(address => Escrow) private escrows;
    mapping(address => uint64) public thawEndsAt;
    mapping(address => mapping(address => Allowance)) private allowances;
    mapping(address => Provider) private providers;
    mapping(address => address) public payoutAddress;
    mapping(address => Proposal) public providerProposal;
    mapping(bytes32 => Pair) private pairs;
    /// @notice Sum of all deposits ever made; with totalPaid and totalEscrowWithdrawn an auditor can
    ///         check conservation against the contract's balance.
    uint256 public totalDeposited;
    uint256 public totalPaid;
    uint256 public totalEscrowWithdrawn;
    uint256 public totalProviderWithdrawn;

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
        if (locked != 1) revert Reentrancy();
        locked = 2;
        _;
        locked = 1;
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
        isReporter[reporter] = true;
        emit ReporterSet(reporter, true);
    }

    /// @notice Revoke a reporter (or a pending proposal) at once.
    function removeReporter(address reporter) external onlyOwner {
        delete reporterReadyAt[reporter];
        isReporter[reporter] = false;
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
        if (next > AMOUNT_MASK) revert AmountTooLarge(next);
        e.balance = uint128(next);
        totalDeposited += msg.value;
        emit Deposited(payer, msg.sender, msg.value, next);
    }

    /// @notice Let `reporter` charge the caller's escrow at most `perPeriod` wei in any window of
    ///         `period` seconds. 0 revokes. Changing it keeps what was spent in the current window.
    function setSpendingLimit(address reporter, uint96 perPeriod, uint32 period) external {
        if (reporter == address(0)) revert ZeroAddress();
        if (period == 0) revert ZeroPeriod();
        Allowance storage a = allowances[msg.sender][reporter];
        a.perPeriod = perPeriod;
        a.period = period;
        emit SpendingLimitSet(msg.sender, reporter, perPeriod, period);
    }

    /// @notice Announce a withdrawal; it can be executed after `thawPeriod`. Until then the amount
    ///         still backs settlements, so providers are paid first. Calling again restarts the clock.
    function startThaw(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        if (amount > AMOUNT_MASK) revert AmountTooLarge(amount);
        escrows[msg.sender].thawing = uint128(amount);
        uint64 endsAt = uint64(block.timestamp) + thawPeriod;
        thawEndsAt[msg.sender] = endsAt;
        emit ThawStarted(msg.sender, amount, endsAt);
    }

    function cancelThaw() external {
        if (escrows[msg.sender].thawing == 0) revert NoThawInProgress(msg.sender);
        escrows[msg.sender].thawing = 0;
        thawEndsAt[msg.sender] = 0;
        emit ThawCancelled(msg.sender);
    }

    /// @notice Withdraw the thawed amount (capped at what settlements left in escrow).
    function withdrawEscrow() external nonReentrant {
        Escrow storage e = escrows[msg.sender];
        if (e.thawing == 0) revert NoThawInProgress(msg.sender);
        uint64 endsAt = thawEndsAt[msg.sender];
        if (block.timestamp < endsAt) revert StillThawing(msg.sender, endsAt);
        uint256 amount = e.thawing < e.balance ? e.thawing : e.balance;
        uint256 remaining = uint256(e.balance) - amount;
        e.balance = uint128(remaining);
        e.thawing = 0;
        thawEndsAt[msg.sender] = 0;
        if (amount == 0) revert NothingToWithdraw(msg.sender);
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

    /// @notice Send the caller's whole balance to its payout address.
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

    // ------------------------------------------------------------------ settlement
    /// @notice Settle many pairs at once. `parties` lists every payer and provider address once,
    ///         in strictly increasing order (so no escrow can be cached twice); each entry packs one
    ///         pair: bits 0..95 the cumulative amount owed in wei, bits 96..111 the provider's index
    ///         and bits 112..127 the payer's index into `parties`, bits 128..255 the job id
    ///         (bytes16). Escrows, the caller's spending limits and provider balances are read and
    ///         written once per party per call. Only a bad index or an unsorted `parties` reverts.
    function settleBatch(address[] calldata parties, uint256[] calldata entries) external nonReentrant {
        if (!isReporter[msg.sender]) revert NotReporter(msg.sender);
        uint256 n = entries.length;
        uint256 partyCount = parties.length;
        _requireStrictlyIncreasing(parties);
        // budget[k] = what payer k may still be charged in this call + 1 once loaded (0 = not loaded);
        // credit[k] = amount to credit provider k; registered[k] = provider k's cached state.
        uint256[] memory budget = new uint256[](partyCount);
        uint256[] memory credit = new uint256[](partyCount);
        uint256[] memory registered = new uint256[](partyCount);
        uint256 batchPaid;
        for (uint256 i; i < n;) {
            uint256 entry;
            // In bounds: i < n and the array was length-checked against calldata when decoded.
            assembly ("memory-safe") {
                entry := calldataload(add(entries.offset, shl(5, i)))
            }
            unchecked {
                // Cannot overflow: every payment is taken from escrow, whose total fits in uint128.
                batchPaid += _settleEntry(parties, entry, budget, credit, registered);
                ++i;
            }
        }
        _flush(parties, budget, credit);
        totalPaid += batchPaid;
        emit BatchSettled(msg.sender, n, batchPaid);
    }

    function _requireStrictlyIncreasing(address[] calldata parties) private pure {
        uint256 previous;
        uint256 partyCount = parties.length;
        for (uint256 k; k < partyCount;) {
            uint256 current;
            assembly ("memory-safe") {
                current := calldataload(add(parties.offset, shl(5, k)))
            }
            // A dirty high word would alias another address: refuse it rather than mask it.
            if (current <= previous || current > ADDRESS_MASK) revert PartiesNotStrictlyIncreasing(k);
            previous = current;
            unchecked {
                ++k;
            }
        }
    }

    /// @dev Write each touched escrow, spending limit and provider balance once.
    function _flush(address[] calldata parties, uint256[] memory budget, uint256[] memory credit) private {
        uint256 partyCount = parties.length;
        for (uint256 k; k < partyCount;) {
            uint256 cached = budget[k];
            if (cached != 0) _debit(parties[k], msg.sender, cached - 1);
            uint256 c = credit[k];
            if (c != 0) providers[parties[k]].balance += uint128(c);
            unchecked {
                ++k;
            }
        }
    }

    /// @dev Charge `payer` what its budget for `reporter` shrank by: escrow down, limit spent up.
    function _debit(address payer, address reporter, uint256 budgetLeft) private {
        Escrow storage e = escrows[payer];
        uint256 balance = e.balance;
        (uint256 budgetBefore, uint256 spent, uint256 windowStart, uint256 period) = _budget(payer, reporter, balance);
        uint256 debit = budgetBefore - budgetLeft;
        if (debit != 0) {
            e.balance = uint128(balance - debit);
            Allowance storage a = allowances[payer][reporter];
            a.spent = uint96(spent + debit);
            a.windowStart = uint32(windowStart);
        }
        if (budgetLeft == 0 && balance - debit != 0) {
            emit SpendingLimitReached(payer, reporter, uint64(windowStart + period));
        }
    }

    /// @dev What `reporter` may charge `payer` now: min(escrow, limit left in the current window),
    ///      with the window's spent figure and start (a window that ended restarts now).
    function _budget(address payer, address reporter, uint256 escrowBalance)
        private
        view
        returns (uint256 budget, uint256 spent, uint256 windowStart, uint256 period)
    {
        Allowance storage a = allowances[payer][reporter];
        uint256 perPeriod = a.perPeriod;
        spent = a.spent;
        windowStart = a.windowStart;
        period = a.period;
        if (block.timestamp >= windowStart + period) {
            spent = 0;
            windowStart = block.timestamp;
        }
        uint256 limitLeft = perPeriod > spent ? perPeriod - spent : 0;
        budget = escrowBalance < limitLeft ? escrowBalance : limitLeft;
    }

    /// @dev Settle one packed batch entry against the in-memory budget, credit and provider caches.
    function _settleEntry(
        address[] calldata parties,
        uint256 entry,
        uint256[] memory budget,
        uint256[] memory credit,
        uint256[] memory registered
    ) private returns (uint256 pay) {
        uint256 partyCount = parties.length;
        uint256 providerIdx = (entry >> 96) & 0xFFFF;
        uint256 payerIdx = (entry >> 112) & 0xFFFF;
        if (providerIdx >= partyCount) revert PartyIndexOutOfRange(providerIdx, partyCount);
        if (payerIdx >= partyCount) revert PartyIndexOutOfRange(payerIdx, partyCount);
        address payer;
        address provider;
        uint256 available;
        uint256 state;
        // Indices were checked against partyCount above; parties were checked to be clean addresses.
        assembly ("memory-safe") {
            payer := calldataload(add(parties.offset, shl(5, payerIdx)))
            provider := calldataload(add(parties.offset, shl(5, providerIdx)))
            available := mload(add(add(budget, 0x20), shl(5, payerIdx)))
            state := mload(add(add(registered, 0x20), shl(5, providerIdx)))
        }
        if (state == 0) {
            state = providers[provider].registered ? PROVIDER_REGISTERED : PROVIDER_UNREGISTERED;
            assembly ("memory-safe") {
                mstore(add(add(registered, 0x20), shl(5, providerIdx)), state)
            }
        }
        if (available == 0) {
            (uint256 b,,,) = _budget(payer, msg.sender, escrows[payer].balance);
            available = b + 1;
        }
        pay = _settlePair(
            payer,
            bytes16(bytes32(entry)),
            provider,
            entry & ENTRY_AMOUNT_MASK,
            available - 1,
            state == PROVIDER_REGISTERED
        );
        assembly ("memory-safe") {
            mstore(add(add(budget, 0x20), shl(5, payerIdx)), sub(available, pay))
            let c := add(add(credit, 0x20), shl(5, providerIdx))
            mstore(c, add(mload(c), pay))
        }
    }

    /// @notice Settle one pair with a cumulative voucher signed (EIP-712) by an authorised reporter.
    ///         Anyone may submit it, typically the provider. Replaying a voucher pays nothing. The
    ///         payer's spending limit for the signing reporter applies.
    function settleWithVoucher(address payer, bytes16 jobId, address provider, uint128 cumulative, bytes calldata sig)
        external
        nonReentrant
    {
        address signer = _recover(voucherDigest(payer, jobId, provider, cumulative), sig);
        if (signer == address(0) || !isReporter[signer]) revert InvalidSignature();
        Escrow storage e = escrows[payer];
        (uint256 available,,,) = _budget(payer, signer, e.balance);
        uint256 pay = _settlePair(payer, jobId, provider, cumulative, available, providers[provider].registered);
        if (pay != 0) {
            providers[provider].balance += uint128(pay);
            totalPaid += pay;
        }
        _debit(payer, signer, available - pay);
        emit BatchSettled(msg.sender, 1, pay);
    }

    /// @dev Raise the pair's owed figure to `cumulative` (never lower) and pay what is unpaid,
    ///      capped at `available` (nothing to an unregistered provider). Returns the amount moved.
    function _settlePair(
        address payer,
        bytes16 jobId,
        address provider,
        uint256 cumulative,
        uint256 available,
        bool providerRegistered
    ) private returns (uint256 pay) {
        bytes32 key = pairKey(payer, jobId, provider);
        uint256 slot;
        uint256 word;
        // One SLOAD and one SSTORE of the packed Pair {uint128 paid (low); uint128 owed (high)}.
        assembly ("memory-safe") {
            mstore(0x00, key)
            mstore(0x20, pairs.slot)
            slot := keccak256(0x00, 0x40)
            word := sload(slot)
        }
        uint256 paid = word & AMOUNT_MASK;
        uint256 owed = word >> 128;
        if (cumulative > owed) owed = cumulative;
        if (owed == paid) return 0; // replay or duplicate: nothing new, no write
        if (!providerRegistered) {
            if (cumulative > word >> 128) {
                assembly ("memory-safe") {
                    sstore(slot, or(paid, shl(128, owed)))
                }
            }
            emit ProviderNotRegistered(jobId, provider, payer, owed, paid);
            return 0;
        }
        uint256 due = owed - paid;
        pay = due <= available ? due : available;
        paid += pay;
        assembly ("memory-safe") {
            sstore(slot, or(paid, shl(128, owed)))
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
        Pair storage p = pairs[pairKey(payer, jobId, provider)];
        return (p.paid, p.owed);
    }

    function escrowOf(address payer) external view returns (uint256 balance, uint256 thawing, uint64 thawEnds) {
        Escrow storage e = escrows[payer];
        return (e.balance, e.thawing, thawEndsAt[payer]);
    }

    /// @notice The limit `payer` granted `reporter`, what it spent in the current window and when
    ///         that window started; `available` is what it may charge right now.
    function spendingLimit(address payer, address reporter)
        external
        view
        returns (uint256 perPeriod, uint256 period, uint256 spent, uint256 windowStart, uint256 available)
    {
        Allowance storage a = allowances[payer][reporter];
        (available, spent, windowStart,) = _budget(payer, reporter, escrows[payer].balance);
        return (a.perPeriod, a.period, spent, windowStart, available);
    }

    function providerBalance(address provider) external view returns (uint256) {
        return providers[provider].balance;
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
