// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title GpuPoolBilling
/// @notice Escrow and cumulative settlement for gpupool GPU usage, in the chain's native token (wei).
/// @dev Settlement is keyed by (payer, jobId, provider). The contract stores, per key, the highest
///      cumulative amount ever reported (`owed`) and what was actually moved (`paid`); a settlement
///      moves only `owed - paid`, so replayed, duplicated or reordered reports never pay twice.
///      Both figures are uint128 and share one storage slot, so a steady-state update costs one
///      cold slot read + write.
contract GpuPoolBilling {
    // ------------------------------------------------------------------ errors
    error NotOwner(address caller);
    error NotReporter(address caller);
    error ZeroAddress();
    error ZeroAmount();
    error PartyIndexOutOfRange(uint256 index, uint256 parties);
    error AmountTooLarge(uint256 amount);
    error NoThawInProgress(address payer);
    error StillThawing(address payer, uint64 thawEndsAt);
    error NothingToWithdraw(address account);
    error TransferFailed(address to, uint256 amount);
    error InvalidSignature();
    error Reentrancy();

    // ------------------------------------------------------------------ events
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event ReporterSet(address indexed reporter, bool authorised);
    event Deposited(address indexed payer, address indexed from, uint256 amount, uint256 escrowAfter);
    event ThawStarted(address indexed payer, uint256 amount, uint64 thawEndsAt);
    event ThawCancelled(address indexed payer);
    event EscrowWithdrawn(address indexed payer, uint256 amount, uint256 escrowAfter);
    event PayoutAddressSet(address indexed provider, address indexed payout);
    event ProviderWithdrawn(address indexed provider, address indexed to, uint256 amount);
    /// @notice One (payer, job, provider) pair moved money; `paidTotal` is its new cumulative paid.
    ///         What this settlement moved is `paidTotal` minus the pair's previous `paidTotal`
    ///         (0 if none); `BatchSettled.totalPaid` sums those per transaction.
    event Settled(bytes16 indexed jobId, address indexed provider, address indexed payer, uint256 paidTotal);
    /// @notice The payer's escrow could not cover the cumulative owed; `owedTotal - paidTotal` is unpaid.
    event Overdrawn(
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

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 public constant VOUCHER_TYPEHASH =
        keccak256("Voucher(address payer,bytes16 jobId,address provider,uint128 cumulative)");
    bytes32 private constant NAME_HASH = keccak256("GpuPoolBilling");
    bytes32 private constant VERSION_HASH = keccak256("1");
    uint256 private constant AMOUNT_MASK = (uint256(1) << 128) - 1;
    uint256 private constant ENTRY_AMOUNT_MASK = (uint256(1) << 96) - 1;
    // secp256k1n / 2: signatures with a higher s are malleable duplicates and are rejected.
    uint256 private constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @notice Seconds between a payer's startThaw and the earliest withdrawEscrow.
    uint64 public immutable thawPeriod;
    address public owner;
    uint256 private locked = 1;

    mapping(address => bool) public isReporter;
    mapping(address => Escrow) private escrows;
    mapping(address => uint64) public thawEndsAt;
    mapping(address => uint256) public providerBalance;
    mapping(address => address) public payoutAddress;
    mapping(bytes32 => Pair) private pairs;
    /// @notice Sum of all deposits ever made; with totalPaid and totalEscrowWithdrawn an auditor can
    ///         check conservation against the contract's balance.
    uint256 public totalDeposited;
    uint256 public totalPaid;
    uint256 public totalEscrowWithdrawn;
    uint256 public totalProviderWithdrawn;

    constructor(uint64 thawPeriodSeconds) {
        thawPeriod = thawPeriodSeconds;
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
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    function setReporter(address reporter, bool authorised) external onlyOwner {
        if (reporter == address(0)) revert ZeroAddress();
        isReporter[reporter] = authorised;
        emit ReporterSet(reporter, authorised);
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
    function setPayoutAddress(address payout) external {
        if (payout == address(0)) revert ZeroAddress();
        payoutAddress[msg.sender] = payout;
        emit PayoutAddressSet(msg.sender, payout);
    }

    /// @notice Send the caller's whole balance to its payout address (itself if none registered).
    function withdraw() external nonReentrant {
        uint256 amount = providerBalance[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        providerBalance[msg.sender] = 0;
        address to = payoutAddress[msg.sender];
        if (to == address(0)) to = msg.sender;
        totalProviderWithdrawn += amount;
        emit ProviderWithdrawn(msg.sender, to, amount);
        _send(to, amount);
    }

    // ------------------------------------------------------------------ settlement
    /// @notice Settle many pairs at once. `parties` lists every payer and provider address once;
    ///         each entry packs one pair: bits 0..95 the cumulative amount owed in wei, bits 96..111
    ///         the provider's index and bits 112..127 the payer's index into `parties`, bits
    ///         128..255 the job id (bytes16). Escrow and provider balances are read and written once
    ///         per party per call. No single entry can make the batch revert except a bad index.
    function settleBatch(address[] calldata parties, uint256[] calldata entries) external nonReentrant {
        if (!isReporter[msg.sender]) revert NotReporter(msg.sender);
        uint256 n = entries.length;
        uint256 partyCount = parties.length;
        // escrowCache[k] = escrow balance + 1 once loaded (0 = not loaded); credit[k] = amount to credit.
        uint256[] memory escrowCache = new uint256[](partyCount);
        uint256[] memory credit = new uint256[](partyCount);
        uint256 batchPaid;
        for (uint256 i; i < n;) {
            uint256 entry;
            // In bounds: i < n and the array was length-checked against calldata when decoded.
            assembly ("memory-safe") {
                entry := calldataload(add(entries.offset, shl(5, i)))
            }
            unchecked {
                // Cannot overflow: every payment is taken from escrow, whose total fits in uint128.
                batchPaid += _settleEntry(parties, entry, escrowCache, credit);
                ++i;
            }
        }
        _flush(parties, escrowCache, credit);
        totalPaid += batchPaid;
        emit BatchSettled(msg.sender, n, batchPaid);
    }

    /// @dev Write each touched escrow and provider balance once.
    function _flush(address[] calldata parties, uint256[] memory escrowCache, uint256[] memory credit) private {
        uint256 partyCount = parties.length;
        for (uint256 k; k < partyCount;) {
            uint256 cached = escrowCache[k];
            if (cached != 0) escrows[parties[k]].balance = uint128(cached - 1);
            uint256 c = credit[k];
            if (c != 0) providerBalance[parties[k]] += c;
            unchecked {
                ++k;
            }
        }
    }

    /// @dev Settle one packed batch entry against the in-memory escrow and credit caches.
    function _settleEntry(
        address[] calldata parties,
        uint256 entry,
        uint256[] memory escrowCache,
        uint256[] memory credit
    ) private returns (uint256 pay) {
        uint256 partyCount = parties.length;
        uint256 providerIdx = (entry >> 96) & 0xFFFF;
        uint256 payerIdx = (entry >> 112) & 0xFFFF;
        if (providerIdx >= partyCount) revert PartyIndexOutOfRange(providerIdx, partyCount);
        if (payerIdx >= partyCount) revert PartyIndexOutOfRange(payerIdx, partyCount);
        address payer;
        address provider;
        uint256 available;
        // Indices were checked against partyCount above; addresses are masked to 160 bits.
        assembly ("memory-safe") {
            payer := and(calldataload(add(parties.offset, shl(5, payerIdx))), 0xffffffffffffffffffffffffffffffffffffffff)
            provider :=
                and(calldataload(add(parties.offset, shl(5, providerIdx))), 0xffffffffffffffffffffffffffffffffffffffff)
            available := mload(add(add(escrowCache, 0x20), shl(5, payerIdx)))
        }
        if (available == 0) available = uint256(escrows[payer].balance) + 1;
        pay = _settlePair(payer, bytes16(bytes32(entry)), provider, entry & ENTRY_AMOUNT_MASK, available - 1);
        assembly ("memory-safe") {
            mstore(add(add(escrowCache, 0x20), shl(5, payerIdx)), sub(available, pay))
            let c := add(add(credit, 0x20), shl(5, providerIdx))
            mstore(c, add(mload(c), pay))
        }
    }

    /// @notice Settle one pair with a cumulative voucher signed (EIP-712) by an authorised reporter.
    ///         Anyone may submit it, typically the provider. Replaying a voucher pays nothing.
    function settleWithVoucher(address payer, bytes16 jobId, address provider, uint128 cumulative, bytes calldata sig)
        external
        nonReentrant
    {
        address signer = _recover(voucherDigest(payer, jobId, provider, cumulative), sig);
        if (signer == address(0) || !isReporter[signer]) revert InvalidSignature();
        Escrow storage e = escrows[payer];
        uint256 pay = _settlePair(payer, jobId, provider, cumulative, e.balance);
        if (pay != 0) {
            e.balance -= uint128(pay);
            providerBalance[provider] += pay;
            totalPaid += pay;
        }
        emit BatchSettled(msg.sender, 1, pay);
    }

    /// @dev Raise the pair's owed figure to `cumulative` (never lower) and pay what is unpaid,
    ///      capped at `available`. Returns the amount moved.
    function _settlePair(address payer, bytes16 jobId, address provider, uint256 cumulative, uint256 available)
        private
        returns (uint256 pay)
    {
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
