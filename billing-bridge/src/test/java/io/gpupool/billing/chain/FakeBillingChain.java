package io.gpupool.billing.chain;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.web3j.utils.Numeric;

/**
 * In-memory {@link BillingChain} with the contract's settlement semantics, a reporter nonce
 * sequence (transactions are mined in nonce order; a gap stops mining, as on a real node) and
 * failure switches, for pure tests of the settlement loop (here and in the operator). Not a chain:
 * no gas, no signatures; a "raw transaction" is an opaque token this fake hands out when signing.
 *
 * <p>Switches: {@link #setDown} (every call fails as if the RPC were unreachable), {@link
 * #failNextSubmits} (the next submits fail before reaching the chain), {@link
 * #loseNextSubmitResponses} (the chain takes and mines the transaction but the client sees a
 * transport error), {@link #revertNextSubmit} (the dry run reverts with an error), {@link
 * #setHoldReceipts} (transactions stay pending until {@link #mineAll}), {@link
 * #setDownAfterSubmits} (the RPC goes down in the middle of a round), {@link #dropPending} and
 * {@link #drop} (the node forgets pending transactions), {@link #unregister} (a provider without
 * payout address: the contract records what it is owed and pays nothing).
 */
public final class FakeBillingChain implements BillingChain, DisputeSigner {

  private record Key(String jobIdHash, String payer, String provider) {}

  private final Map<String, BigInteger> escrow = new HashMap<>();
  private final Map<String, BigInteger> providerBalance = new HashMap<>();
  private final Map<Key, PairOnChain> pairs = new HashMap<>();
  private final List<PairEvent> events = new ArrayList<>();
  private final Map<String, SettlementReceipt> mined = new HashMap<>();
  private final Map<String, List<SettlementItem>> pending = new LinkedHashMap<>();

  /** A signed, not necessarily broadcast transaction. */
  private record Signed(long nonce, String hash, List<SettlementItem> items, BigInteger price) {}

  private final Map<String, Signed> signedByRaw = new HashMap<>();
  private final Map<Long, Signed> pool = new HashMap<>();
  private final java.util.Set<String> unregistered = new java.util.HashSet<>();
  private final List<String> broadcasts = new ArrayList<>();
  private long minedNonce;
  private final List<List<SettlementItem>> submitted = new ArrayList<>();
  private long block = 1;
  private int txCounter;
  private int replaced;
  private boolean down;
  private boolean holdReceipts;
  private int failNextSubmits;
  private final java.util.Deque<Throwable> nextBroadcastThrows = new java.util.ArrayDeque<>();
  private final Map<PairId, DecodedError> poisoned = new HashMap<>();
  private int downAfterSubmits = -1;
  private int registrationQueries;
  private int registrationLogQueries;
  private final Map<String, String> callByHash = new HashMap<>();
  private final List<String> minedCalls = new ArrayList<>();
  private final List<Map.Entry<Long, String>> registrations = new ArrayList<>();
  private int loseNextSubmitResponses;
  private DecodedError revertNext;

  // ---------------------------------------------------------------- switches and setup

  /** While down, every call throws {@link ChainUnavailableException}. */
  public synchronized void setDown(boolean down) {
    this.down = down;
  }

  /** The next {@code n} submits fail with {@link ChainUnavailableException}; nothing is sent. */
  public synchronized void failNextSubmits(int n) {
    this.failNextSubmits = n;
  }

  /** After {@code n} more successful submits the RPC goes down (as {@link #setDown}(true)). */
  /**
   * The next broadcasts throw these, in order: an {@link Error} or a checked exception (thrown
   * unchecked, as a misbehaving library can) stands for a failure the loop does not expect.
   */
  public synchronized void throwOnNextBroadcasts(Throwable... failures) {
    nextBroadcastThrows.addAll(List.of(failures));
  }

  @SuppressWarnings("unchecked")
  private static <T extends Throwable> void sneakyThrow(Throwable t) throws T {
    throw (T) t;
  }

  public synchronized void setDownAfterSubmits(int n) {
    this.downAfterSubmits = n;
  }

  /** The next {@code n} submits reach the chain (and are mined) but the caller gets an error. */
  public synchronized void loseNextSubmitResponses(int n) {
    this.loseNextSubmitResponses = n;
  }

  /** The next submit's dry run reverts with {@code error}. */
  public synchronized void revertNextSubmit(DecodedError error) {
    this.revertNext = error;
  }

  /** While held, submitted transactions stay pending (no receipt) until {@link #mineAll}. */
  /** Every batch that contains {@code pair} is rejected with {@code error} (a poison pair). */
  public synchronized void poison(PairId pair, DecodedError error) {
    poisoned.put(pair, error);
  }

  public synchronized void setHoldReceipts(boolean hold) {
    this.holdReceipts = hold;
  }

  /** Mine pending transactions in nonce order, up to the first gap. */
  public synchronized void mineAll() {
    while (pool.containsKey(minedNonce)) {
      Signed tx = pool.remove(minedNonce);
      minedNonce++;
      mine(tx.hash());
    }
  }

  /** Drop every pending transaction, as a node restarting with an empty mempool would. */
  public synchronized void dropPending() {
    pending.clear();
    pool.clear();
  }

  public synchronized void deposit(String payer, BigInteger wei) {
    escrow.merge(PairId.normaliseAddress(payer, "payer"), wei, BigInteger::add);
  }

  /** Every distinct transaction (not counting replacements) that reached a pool, in order. */
  public synchronized List<List<SettlementItem>> submittedBatches() {
    return List.copyOf(submitted);
  }

  /** Sum of all provider balances (what the chain has paid out of escrow). */
  public synchronized BigInteger totalPaid() {
    return providerBalance.values().stream().reduce(BigInteger.ZERO, BigInteger::add);
  }

  // ---------------------------------------------------------------- BillingChain

  @Override
  public synchronized SignedSettlement signSettlement(List<SettlementItem> items, long minNonce) {
    checkUp();
    for (SettlementItem item : items) {
      DecodedError e = poisoned.get(item.pair());
      if (e != null) {
        throw new ChainRevertException(e, null);
      }
    }
    if (revertNext != null) {
      DecodedError e = revertNext;
      revertNext = null;
      throw new ChainRevertException(e, null);
    }
    long next = minedNonce;
    while (pool.containsKey(next)) {
      next++;
    }
    return sign(Math.max(next, minNonce), List.copyOf(items), BigInteger.valueOf(1_000_000_000L));
  }

  private SignedSettlement sign(long nonce, List<SettlementItem> items, BigInteger price) {
    String hash = Numeric.toHexStringWithPrefixZeroPadded(BigInteger.valueOf(++txCounter), 64);
    String raw = "0xfa4e" + Long.toHexString(txCounter);
    signedByRaw.put(raw, new Signed(nonce, hash, items, price));
    return new SignedSettlement(nonce, hash, raw, price);
  }

  @Override
  public synchronized SignedSettlement signOpenDispute(
      PairId pair, BigInteger amountWei, byte[] evidenceHash, String whistleblower, long minNonce) {
    return signCall("openDispute " + pair.jobId() + " " + amountWei, minNonce);
  }

  @Override
  public synchronized SignedSettlement signResolveDispute(
      PairId pair, boolean fraud, long minNonce) {
    return signCall("resolveDispute " + pair.jobId() + " " + fraud, minNonce);
  }

  @Override
  public synchronized SignedSettlement signExpireDispute(PairId pair, long minNonce) {
    return signCall("expireDispute " + pair.jobId(), minNonce);
  }

  @Override
  public synchronized SignedSettlement signSlashStake(
      String provider, byte[] evidenceHash, String whistleblower, long minNonce) {
    return signCall("slashStake " + provider, minNonce);
  }

  /** A call that settles nothing, signed at the next free nonce (at least {@code minNonce}). */
  private SignedSettlement signCall(String call, long minNonce) {
    checkUp();
    long next = minedNonce;
    while (pool.containsKey(next)) {
      next++;
    }
    SignedSettlement s =
        sign(Math.max(next, minNonce), List.of(), BigInteger.valueOf(1_000_000_000L));
    callByHash.put(s.txHash(), call);
    return s;
  }

  /** Calls (disputes) mined so far, in mining order. */
  public synchronized List<String> minedCalls() {
    return List.copyOf(minedCalls);
  }

  @Override
  public synchronized Optional<SignedSettlement> signReplacement(
      SignedSettlement previous, int attempt) {
    checkUp();
    Signed old = signedByRaw.get(previous.rawTx());
    if (old == null) {
      throw new IllegalArgumentException("not signed by this fake: " + previous.rawTx());
    }
    SignedSettlement s =
        sign(old.nonce(), old.items(), SignedSettlement.minimumReplacementPrice(old.price()));
    if (callByHash.containsKey(old.hash())) {
      callByHash.put(s.txHash(), callByHash.get(old.hash()));
    }
    return Optional.of(s);
  }

  @Override
  public synchronized BroadcastResult broadcast(String rawTx) {
    checkUp();
    if (!nextBroadcastThrows.isEmpty()) {
      FakeBillingChain.<RuntimeException>sneakyThrow(nextBroadcastThrows.poll());
    }
    if (failNextSubmits > 0) {
      failNextSubmits--;
      throw new ChainUnavailableException("fake: connection refused", null);
    }
    Signed tx = signedByRaw.get(rawTx);
    if (tx == null) {
      throw new ChainRevertException(new DecodedError("Unknown", "", List.of("bad raw")), null);
    }
    BroadcastResult result;
    if (tx.nonce() < minedNonce) {
      result = BroadcastResult.NONCE_USED;
    } else if (pool.containsKey(tx.nonce()) && pool.get(tx.nonce()).hash().equals(tx.hash())) {
      result = BroadcastResult.ALREADY_KNOWN;
    } else if (pool.containsKey(tx.nonce())) {
      Signed other = pool.get(tx.nonce());
      if (tx.price().compareTo(SignedSettlement.minimumReplacementPrice(other.price())) < 0) {
        result = BroadcastResult.UNDERPRICED;
      } else {
        pending.remove(other.hash());
        pool.put(tx.nonce(), tx);
        pending.put(tx.hash(), tx.items());
        replaced++;
        broadcasts.add(tx.hash());
        result = BroadcastResult.ACCEPTED;
      }
    } else {
      pool.put(tx.nonce(), tx);
      pending.put(tx.hash(), tx.items());
      if (!broadcasts.contains(tx.hash()) && !tx.items().isEmpty()) {
        submitted.add(tx.items()); // a new settlement, not the same bytes again
      }
      broadcasts.add(tx.hash());
      result = BroadcastResult.ACCEPTED;
    }
    if (!holdReceipts) {
      mineAll();
    }
    if (result == BroadcastResult.ACCEPTED) {
      if (downAfterSubmits > 0 && --downAfterSubmits == 0) {
        down = true;
        downAfterSubmits = -1;
      }
      if (loseNextSubmitResponses > 0) {
        loseNextSubmitResponses--;
        throw new ChainUnavailableException("fake: connection reset after send", null);
      }
    }
    return result;
  }

  @Override
  public synchronized long minedNonce() {
    checkUp();
    return minedNonce;
  }

  @Override
  public synchronized boolean isProviderRegistered(String provider) {
    checkUp();
    registrationQueries++;
    return !unregistered.contains(PairId.normaliseAddress(provider, "provider"));
  }

  /** The contract pays {@code provider} nothing until {@link #register}. */
  public synchronized void unregister(String provider) {
    unregistered.add(PairId.normaliseAddress(provider, "provider"));
  }

  /** The provider registers: a ProviderRegistered event in a block of its own. */
  public synchronized void register(String provider) {
    String p = PairId.normaliseAddress(provider, "provider");
    unregistered.remove(p);
    registrations.add(Map.entry(++block, p));
  }

  /** The provider registers without the loop hearing of it (as if its event were missed). */
  public synchronized void registerQuietly(String provider) {
    unregistered.remove(PairId.normaliseAddress(provider, "provider"));
  }

  @Override
  public synchronized ProviderRegistrations providerRegistrations(long fromBlock) {
    checkUp();
    registrationLogQueries++;
    return new ProviderRegistrations(
        registrations.stream()
            .filter(r -> r.getKey() >= fromBlock)
            .map(Map.Entry::getValue)
            .toList(),
        block);
  }

  /** How often ProviderRegistered events were read. */
  public synchronized int registrationLogQueries() {
    return registrationLogQueries;
  }

  /** How often the registration of a provider was asked. */
  public synchronized int registrationQueries() {
    return registrationQueries;
  }

  /** Forget one pending transaction (anvil_dropTransaction). */
  public synchronized void drop(String hash) {
    pending.remove(hash);
    pool.values().removeIf(t -> t.hash().equals(hash));
  }

  /** Hashes of every transaction a node took into its pool (first versions and replacements). */
  public synchronized List<String> broadcastHashes() {
    return List.copyOf(broadcasts);
  }

  /** Usage of each pair as reported by broadcast transactions: pair -> cumulative amounts sent. */
  public synchronized Map<PairId, List<BigInteger>> reportsByPair() {
    Map<PairId, List<BigInteger>> out = new LinkedHashMap<>();
    for (List<SettlementItem> batch : submitted) {
      for (SettlementItem item : batch) {
        out.computeIfAbsent(item.pair(), k -> new ArrayList<>()).add(item.cumulativeWei());
      }
    }
    return out;
  }

  private void mine(String hash) {
    List<SettlementItem> items = pending.remove(hash);
    if (items == null) {
      return;
    }
    if (callByHash.containsKey(hash)) {
      minedCalls.add(callByHash.get(hash));
    }
    long b = ++block;
    List<PairEvent> txEvents = new ArrayList<>();
    for (SettlementItem item : items) {
      PairId p = item.pair();
      Key key = new Key(Numeric.toHexString(p.jobIdHash()), p.payer(), p.provider());
      PairOnChain state =
          pairs.getOrDefault(key, new PairOnChain(BigInteger.ZERO, BigInteger.ZERO));
      BigInteger owed = state.owedWei().max(item.cumulativeWei());
      if (owed.equals(state.paidWei())) {
        continue;
      }
      if (unregistered.contains(p.provider())) {
        pairs.put(key, new PairOnChain(state.paidWei(), owed));
        continue; // ProviderNotRegistered: owed remembered, nothing paid
      }
      BigInteger available = escrow.getOrDefault(p.payer(), BigInteger.ZERO);
      BigInteger pay = owed.subtract(state.paidWei()).min(available);
      BigInteger paid = state.paidWei().add(pay);
      pairs.put(key, new PairOnChain(paid, owed));
      escrow.put(p.payer(), available.subtract(pay));
      providerBalance.merge(p.provider(), pay, BigInteger::add);
      if (pay.signum() > 0) {
        txEvents.add(
            new PairEvent(
                PairEvent.Kind.SETTLED,
                key.jobIdHash(),
                p.payer(),
                p.provider(),
                paid,
                paid,
                b,
                hash));
      }
      if (paid.compareTo(owed) < 0) {
        txEvents.add(
            new PairEvent(
                PairEvent.Kind.OVERDRAWN,
                key.jobIdHash(),
                p.payer(),
                p.provider(),
                paid,
                owed,
                b,
                hash));
      }
    }
    events.addAll(txEvents);
    mined.put(
        hash,
        new SettlementReceipt(
            hash, true, b, BigInteger.valueOf(30_000L * items.size()), txEvents, null));
  }

  /** How many transactions were replaced. */
  public synchronized int replacedCount() {
    return replaced;
  }

  @Override
  public synchronized Optional<SettlementReceipt> receipt(String txHash) {
    checkUp();
    return Optional.ofNullable(mined.get(txHash));
  }

  @Override
  public synchronized boolean isKnown(String txHash) {
    checkUp();
    return mined.containsKey(txHash) || pending.containsKey(txHash);
  }

  @Override
  public synchronized List<PairEvent> pairEvents(long fromBlock) {
    checkUp();
    return events.stream().filter(e -> e.blockNumber() >= fromBlock).toList();
  }

  @Override
  public synchronized PairOnChain pairState(PairId p) {
    checkUp();
    return pairs.getOrDefault(
        new Key(Numeric.toHexString(p.jobIdHash()), p.payer(), p.provider()),
        new PairOnChain(BigInteger.ZERO, BigInteger.ZERO));
  }

  @Override
  public synchronized EscrowState escrow(String payer) {
    checkUp();
    return new EscrowState(
        escrow.getOrDefault(PairId.normaliseAddress(payer, "payer"), BigInteger.ZERO),
        BigInteger.ZERO,
        0);
  }

  @Override
  public synchronized BigInteger providerBalance(String provider) {
    checkUp();
    return providerBalance.getOrDefault(
        PairId.normaliseAddress(provider, "provider"), BigInteger.ZERO);
  }

  @Override
  public synchronized long latestBlock() {
    checkUp();
    return block;
  }

  private void checkUp() {
    if (down) {
      throw new ChainUnavailableException("fake: RPC down", null);
    }
  }
}
