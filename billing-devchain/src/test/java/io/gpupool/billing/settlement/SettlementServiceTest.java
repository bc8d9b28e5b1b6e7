package io.gpupool.billing.settlement;

import static io.gpupool.billing.Fixtures.PAYER_A;
import static io.gpupool.billing.Fixtures.PAYER_B;
import static io.gpupool.billing.Fixtures.PROVIDER_X;
import static io.gpupool.billing.Fixtures.PROVIDER_Y;
import static io.gpupool.billing.Fixtures.pair;
import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.DecodedError;
import io.gpupool.billing.chain.FakeBillingChain;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.InMemoryBillingStore;
import io.gpupool.billing.ledger.OutboxEntry;
import io.gpupool.billing.ledger.PairLedger;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class SettlementServiceTest {
  final InMemoryBillingStore store = new InMemoryBillingStore();
  final BillingLedger ledger = new BillingLedger(store);
  final FakeBillingChain chain = new FakeBillingChain();
  final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  final SettlementConfig config =
      SettlementConfig.defaults()
          .withBatchSize(2)
          .withReceiptTimeout(Duration.ofMillis(200))
          .withBackoff(new Backoff(Duration.ofSeconds(10), Duration.ofMinutes(1), 2, 0));
  final List<PairId> pairs =
      List.of(
          pair("j1", PAYER_A, PROVIDER_X),
          pair("j2", PAYER_A, PROVIDER_Y),
          pair("j3", PAYER_B, PROVIDER_X),
          pair("j4", PAYER_B, PROVIDER_Y),
          pair("j5", PAYER_A, PROVIDER_X));

  static final class MutableClock extends Clock {
    Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  SettlementService service(SettlementConfig c) {
    return new SettlementService(c, ledger, chain, clock);
  }

  void meterAll(long weiEach) {
    for (PairId p : pairs) {
      store.update(p, l -> l.withMetered(weiEach, BigInteger.valueOf(weiEach)));
    }
  }

  /** The usual start: both payers hold 1,000 wei of escrow and every pair is metered at 100. */
  void fundBothPayersAndMeterEveryPair() {
    chain.deposit(PAYER_A, BigInteger.valueOf(1_000));
    chain.deposit(PAYER_B, BigInteger.valueOf(1_000));
    meterAll(100);
  }

  BigInteger totalMetered() {
    return store.all().stream()
        .map(PairLedger::meteredWei)
        .reduce(BigInteger.ZERO, BigInteger::add);
  }

  void assertEverythingSettledOnce() {
    assertThat(ledger.pending()).isEmpty();
    assertThat(chain.totalPaid()).isEqualTo(totalMetered());
    for (PairLedger l : store.all()) {
      assertThat(l.settledWei()).isEqualTo(l.meteredWei());
      assertThat(l.inFlightTx()).isNull();
      assertThat(chain.pairState(l.pair()).paidWei()).isEqualTo(l.meteredWei());
    }
  }

  @Test
  void settlesAllPairsInBatchesOfTheConfiguredSize() {
    fundBothPayersAndMeterEveryPair();
    RoundResult r = service(config).runOnce();
    assertThat(r.errors()).isEmpty();
    assertThat(r.batchesSent()).isEqualTo(3);
    assertThat(r.pairsConfirmed()).isEqualTo(5);
    assertThat(chain.submittedBatches()).extracting(List::size).containsExactly(2, 2, 1);
    assertEverythingSettledOnce();
    assertThat(service(config).runOnce().batchesSent()).isZero();
  }

  @Test
  void onlyGrowthIsSentAfterMoreUsage() {
    fundBothPayersAndMeterEveryPair();
    SettlementService s = service(config);
    s.runOnce();
    store.update(pairs.get(0), l -> l.withMetered(150, BigInteger.valueOf(150)));
    RoundResult r = s.runOnce();
    assertThat(r.batchesSent()).isEqualTo(1);
    assertThat(chain.submittedBatches().get(3))
        .containsExactly(new SettlementItem(pairs.get(0), BigInteger.valueOf(150)));
    assertEverythingSettledOnce();
  }

  @Test
  void rpcDownMidRoundDelaysButLosesAndDuplicatesNothing() {
    fundBothPayersAndMeterEveryPair();
    SettlementService s = service(config);
    s.reconcile();
    chain.setDownAfterSubmits(1);
    RoundResult r = s.runOnce();
    assertThat(r.batchesSent()).isEqualTo(1);
    assertThat(r.errors()).anyMatch(e -> e.contains("RPC down"));
    assertThat(ledger.pending()).hasSize(5); // the first batch's receipt could not be read yet
    chain.setDown(false);
    clock.now = clock.now.plusSeconds(11); // past the failed batch's backoff
    RoundResult r2 = s.runOnce();
    assertThat(r2.errors()).isEmpty();
    assertEverythingSettledOnce();
    // the first batch was not sent again: it was in flight and its receipt was found
    assertThat(chain.submittedBatches()).hasSize(3);
  }

  @Test
  void restartBetweenSendAndReceiptPicksUpTheMinedTransaction() {
    fundBothPayersAndMeterEveryPair();
    chain.setHoldReceipts(true);
    RoundResult r = service(config.withReceiptTimeout(Duration.ZERO)).runOnce();
    assertThat(r.batchesSent()).isEqualTo(3);
    assertThat(store.all()).allMatch(l -> l.inFlightTx() != null);
    // the operator dies here; the transactions get mined while it is away
    chain.mineAll();
    chain.setHoldReceipts(false);
    SettlementService restarted = service(config);
    RoundResult after = restarted.runOnce();
    assertThat(after.batchesSent()).isZero();
    assertEverythingSettledOnce();
    assertThat(chain.submittedBatches()).hasSize(3);
  }

  /**
   * A leader applied a mined batch's figures to a pair (its in-flight mark cleared) and was killed
   * before it removed the outbox entry; its successor's store reads lag (the operator's reads come
   * from an informer cache, its writes from the API server), so the repair of marks does not see
   * the record. The successor must still finish the confirmation: before, the cleared mark made the
   * whole round fail (a null looked up in the set of the entry's hashes) in every round after, and
   * nothing was settled again.
   */
  @Test
  void aConfirmationAppliedByADeadLeaderBeforeItRemovedTheEntryIsFinishedByTheNext() {
    fundBothPayersAndMeterEveryPair();
    chain.setHoldReceipts(true);
    service(config.withReceiptTimeout(Duration.ZERO)).runOnce();
    chain.mineAll();
    chain.setHoldReceipts(false);
    PairId applied = pairs.get(0);
    store.update(applied, l -> l.withInFlight(null));
    LaggingReads lagging = new LaggingReads(store, applied);
    SettlementService restarted =
        new SettlementService(config, new BillingLedger(lagging), chain, clock);
    RoundResult after = restarted.runOnce();
    assertThat(after.errors()).isEmpty();
    assertThat(after.batchesSent()).isZero();
    assertThat(store.outbox()).isEmpty();
    assertEverythingSettledOnce();
    assertThat(chain.submittedBatches()).hasSize(3);
  }

  /** The test's store, every call passed through; the cases below change one of them. */
  static class PassingThrough implements io.gpupool.billing.ledger.BillingStore {
    final InMemoryBillingStore store;

    PassingThrough(InMemoryBillingStore store) {
      this.store = store;
    }

    @Override
    public java.util.Optional<PairLedger> get(PairId pair) {
      return store.get(pair);
    }

    @Override
    public List<PairLedger> all() {
      return store.all();
    }

    @Override
    public PairLedger update(PairId pair, java.util.function.UnaryOperator<PairLedger> change) {
      return store.update(pair, change);
    }

    @Override
    public List<OutboxEntry> outbox() {
      return store.outbox();
    }

    @Override
    public void putOutbox(OutboxEntry entry) {
      store.putOutbox(entry);
    }

    @Override
    public void removeOutbox(long nonce) {
      store.removeOutbox(nonce);
    }
  }

  /** A store whose reads of one pair have not caught up with its record yet; writes go through. */
  static final class LaggingReads extends PassingThrough {
    private final PairId behind;

    LaggingReads(InMemoryBillingStore store, PairId behind) {
      super(store);
      this.behind = behind;
    }

    @Override
    public java.util.Optional<PairLedger> get(PairId pair) {
      return pair.equals(behind) ? java.util.Optional.empty() : store.get(pair);
    }
  }

  /** A store whose server does not answer the first {@code failures} reads of the outbox. */
  static final class UnreachableAtFirst extends PassingThrough {
    private final java.util.concurrent.atomic.AtomicInteger failures;

    UnreachableAtFirst(InMemoryBillingStore store, int failures) {
      super(store);
      this.failures = new java.util.concurrent.atomic.AtomicInteger(failures);
    }

    @Override
    public List<OutboxEntry> outbox() {
      if (failures.getAndDecrement() > 0) {
        throw new io.gpupool.billing.ledger.StoreUnavailableException(
            "the API server did not answer", null);
      }
      return store.outbox();
    }
  }

  /**
   * A store that cannot be reached for a round or two (an API server restarting) ends those rounds
   * and the loop goes on; it is no bug, so the counter of unexpected failures (whose metric says "a
   * bug") stays at 0 and its listener hears nothing.
   */
  @Test
  void aStoreUnavailableForTwoRoundsDelaysSettlementAndIsNoUnexpectedFailure() throws Exception {
    fundBothPayersAndMeterEveryPair();
    SettlementService s =
        new SettlementService(
            config.withInterval(Duration.ofMillis(20)),
            new BillingLedger(new UnreachableAtFirst(store, 2)),
            chain,
            clock);
    List<Throwable> told = new java.util.concurrent.CopyOnWriteArrayList<>();
    s.onUnexpectedFailure(told::add);
    s.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!ledger.pending().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    s.stop();
    assertEverythingSettledOnce();
    assertThat(s.unexpectedFailures()).isZero();
    assertThat(told).isEmpty();
  }

  @Test
  void restartAfterTheNodeDroppedTheTransactionsBroadcastsTheSameBytesAgain() {
    fundBothPayersAndMeterEveryPair();
    chain.setHoldReceipts(true);
    service(config.withReceiptTimeout(Duration.ZERO)).runOnce();
    List<String> sentBefore = chain.broadcastHashes();
    assertThat(store.outbox()).hasSize(3);
    chain.dropPending();
    chain.setHoldReceipts(false);
    SettlementService restarted = service(config);
    restarted.reconcile();
    RoundResult after = restarted.runOnce();
    assertThat(after.batchesSent()).isZero();
    assertEverythingSettledOnce();
    // the same three transactions (same nonces, same hashes) went out again; nothing new
    assertThat(chain.submittedBatches()).hasSize(3);
    assertThat(chain.broadcastHashes()).hasSize(6).containsOnlyElementsOf(sentBefore);
    assertThat(store.outbox()).isEmpty();
  }

  @Test
  void aDroppedFirstNonceIsFilledAgainSoTheOnesQueuedBehindItAreMined() {
    fundBothPayersAndMeterEveryPair();
    chain.setHoldReceipts(true);
    SettlementService s = service(config.withReceiptTimeout(Duration.ZERO));
    s.runOnce();
    String first =
        store.outbox().stream().filter(e -> e.nonce() == 0).findFirst().orElseThrow().txHash();
    chain.drop(first); // nonces 1 and 2 now wait behind a gap
    chain.setHoldReceipts(false);
    RoundResult r = s.runOnce();
    assertThat(r.batchesSent()).isZero();
    assertThat(r.errors()).anyMatch(e -> e.contains("dropped"));
    assertEverythingSettledOnce();
    assertThat(chain.submittedBatches()).hasSize(3);
  }

  @Test
  void aRestartedServiceReplacesAStuckTransactionWithTheSameNonce() {
    chain.deposit(PAYER_A, BigInteger.valueOf(1_000));
    store.update(pairs.get(0), l -> l.withMetered(1, BigInteger.TEN));
    chain.setHoldReceipts(true);
    SettlementConfig c =
        config.withReceiptTimeout(Duration.ZERO).withStuckAfter(Duration.ofMinutes(3));
    service(c).runOnce();
    clock.now = clock.now.plusSeconds(181); // stuck, counted from the persisted send time
    SettlementService restarted = service(c);
    restarted.runOnce();
    assertThat(chain.replacedCount()).isEqualTo(1);
    assertThat(store.outbox())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.nonce()).isZero();
              assertThat(e.attempt()).isEqualTo(1);
              assertThat(e.earlierHashes()).hasSize(1);
            });
    chain.mineAll();
    restarted.runOnce();
    assertEverythingSettledOnce();
    assertThat(chain.submittedBatches()).hasSize(1);
  }

  @Test
  void anEntryWhoseNonceAnotherTransactionTookIsAbandonedAndItsPairsTakeTheChainsFigures() {
    chain.deposit(PAYER_A, BigInteger.valueOf(1_000));
    PairId p = pairs.get(0);
    store.update(p, l -> l.withMetered(1, BigInteger.valueOf(40)));
    chain.setHoldReceipts(true);
    service(config.withReceiptTimeout(Duration.ZERO)).runOnce();
    chain.dropPending();
    chain.setHoldReceipts(false);
    // another process reports the same usage with the same (now free) nonce
    chain.submitSettlement(List.of(new SettlementItem(p, BigInteger.valueOf(40))));
    SettlementService restarted = service(config);
    RoundResult r = restarted.runOnce();
    assertThat(r.batchesSent()).isZero();
    assertThat(store.outbox()).isEmpty();
    assertEverythingSettledOnce();
  }

  @Test
  void theOldestUnconfirmedAgeSurvivesARestart() {
    chain.deposit(PAYER_A, BigInteger.valueOf(1_000));
    store.update(pairs.get(0), l -> l.withMetered(1, BigInteger.TEN));
    chain.setHoldReceipts(true);
    Instant sentAt = clock.now;
    service(config.withReceiptTimeout(Duration.ZERO)).runOnce();
    clock.now = clock.now.plusSeconds(600);
    SettlementService restarted = service(config.withReceiptTimeout(Duration.ZERO));
    assertThat(restarted.oldestUnconfirmedSince()).contains(sentAt);
  }

  @Test
  void aRoundWithAnUnregisteredProviderSendsNothingForItUntilItRegisters() {
    fundBothPayersAndMeterEveryPair();
    chain.unregister(PROVIDER_Y);
    SettlementService s = service(config.withRecheckInterval(Duration.ofMinutes(10)));
    s.runOnce();
    assertThat(chain.submittedBatches())
        .allSatisfy(b -> assertThat(b).noneMatch(i -> i.pair().provider().equals(PROVIDER_Y)));
    assertThat(s.heldForRegistration()).containsExactlyInAnyOrder(pairs.get(1), pairs.get(3));
    int batches = chain.submittedBatches().size();
    int queries = chain.registrationQueries();
    clock.now = clock.now.plusSeconds(120);
    s.runOnce();
    clock.now = clock.now.plusSeconds(120);
    s.runOnce();
    assertThat(chain.submittedBatches()).hasSize(batches); // held pairs are not re-sent
    assertThat(chain.registrationQueries()).isEqualTo(queries); // nor asked about every round
    chain.registerQuietly(PROVIDER_Y);
    s.providerRegistered(PROVIDER_Y); // a caller that heard of it another way
    s.runOnce();
    assertThat(s.heldForRegistration()).isEmpty();
    assertEverythingSettledOnce();
  }

  @Test
  void theProviderRegisteredEventSendsHeldPairsInTheNextRound() {
    fundBothPayersAndMeterEveryPair();
    chain.unregister(PROVIDER_Y);
    SettlementService s = service(config.withRecheckInterval(Duration.ofHours(1)));
    s.runOnce();
    assertThat(s.heldForRegistration()).containsExactlyInAnyOrder(pairs.get(1), pairs.get(3));
    clock.now = clock.now.plusSeconds(5);
    s.runOnce(); // nothing registered yet: still held
    assertThat(s.heldForRegistration()).hasSize(2);
    chain.register(PROVIDER_Y); // its ProviderRegistered event, long before the hourly recheck
    clock.now = clock.now.plusSeconds(5);
    s.runOnce();
    assertThat(s.heldForRegistration()).isEmpty();
    assertEverythingSettledOnce();
    int reads = chain.registrationLogQueries();
    clock.now = clock.now.plusSeconds(5);
    s.runOnce();
    assertThat(chain.registrationLogQueries())
        .as("no events read once nobody is held")
        .isEqualTo(reads);
  }

  @Test
  void aRegistrationWhoseEventIsMissedIsFoundByTheRecheck() {
    fundBothPayersAndMeterEveryPair();
    chain.unregister(PROVIDER_Y);
    SettlementService s = service(config.withRecheckInterval(Duration.ofMinutes(10)));
    s.runOnce();
    chain.registerQuietly(PROVIDER_Y);
    clock.now = clock.now.plusSeconds(60);
    s.runOnce();
    assertThat(s.heldForRegistration()).as("no event: held until the recheck").hasSize(2);
    clock.now = clock.now.plusSeconds(600);
    s.runOnce();
    assertThat(s.heldForRegistration()).isEmpty();
    assertEverythingSettledOnce();
  }

  @Test
  void aSetAsidePairIsReportedToTheListenerOnce() {
    fundBothPayersAndMeterEveryPair();
    PairId huge = pairs.get(1);
    store.update(huge, l -> l.withMetered(100, SettlementItem.MAX_AMOUNT.add(BigInteger.ONE)));
    SettlementService s = service(config);
    List<String> told = new java.util.ArrayList<>();
    s.outbox().onSetAside((pair, reason) -> told.add(pair.jobId() + ": " + reason));
    s.runOnce();
    clock.now = clock.now.plusSeconds(3600);
    s.runOnce();
    assertThat(told).singleElement().asString().startsWith("j2: ").contains("96-bit");
  }

  @Test
  void aPairBeyondTheContractsAmountFieldIsSetAsideAndTheOthersSettle() {
    fundBothPayersAndMeterEveryPair();
    PairId huge = pairs.get(1);
    store.update(huge, l -> l.withMetered(100, SettlementItem.MAX_AMOUNT.add(BigInteger.ONE)));
    SettlementService s = service(config);
    RoundResult r = s.runOnce();
    assertThat(r.pairsConfirmed()).isEqualTo(4);
    assertThat(s.outbox().setAside()).containsOnlyKeys(huge);
    assertThat(s.outbox().setAside().get(huge)).contains("96-bit");
    assertThat(chain.submittedBatches())
        .allSatisfy(b -> assertThat(b).noneMatch(i -> i.pair().equals(huge)));
    for (PairId p : pairs) {
      if (!p.equals(huge)) {
        assertThat(chain.pairState(p).paidWei()).isEqualTo(BigInteger.valueOf(100));
      }
    }
    // it stays pending (nothing is lost) but is no longer offered
    assertThat(ledger.pending()).extracting(PairLedger::pair).containsExactly(huge);
    clock.now = clock.now.plusSeconds(3600);
    assertThat(s.runOnce().batchesSent()).isZero();
  }

  @Test
  void aPairThatKeepsRevertingIsIsolatedAndSetAsideWhileTheOthersSettle() {
    fundBothPayersAndMeterEveryPair();
    PairId poison = pairs.get(2);
    chain.poison(poison, new DecodedError("PartyIndexOutOfRange", "0x", List.of("9", "4")));
    SettlementService s = service(config.withBatchSize(100));
    for (int round = 0; round < 6 && s.outbox().setAside().isEmpty(); round++) {
      s.runOnce();
      clock.now = clock.now.plusSeconds(3600); // past any backoff
    }
    assertThat(s.outbox().setAside()).containsOnlyKeys(poison);
    assertThat(s.outbox().setAside().get(poison)).contains("PartyIndexOutOfRange");
    for (PairId p : pairs) {
      if (!p.equals(poison)) {
        assertThat(chain.pairState(p).paidWei()).as("%s", p).isEqualTo(BigInteger.valueOf(100));
      }
    }
    assertThat(ledger.pending()).extracting(PairLedger::pair).containsExactly(poison);
  }

  @Test
  void aSetAsidePairStaysAsideAfterARestartAndIsNotReportedAgain() {
    fundBothPayersAndMeterEveryPair();
    PairId poison = pairs.get(2);
    chain.poison(poison, new DecodedError("PartyIndexOutOfRange", "0x", List.of("9", "4")));
    SettlementService first = service(config.withBatchSize(100));
    for (int round = 0; round < 6 && first.outbox().setAside().isEmpty(); round++) {
      first.runOnce();
      clock.now = clock.now.plusSeconds(3600);
    }
    assertThat(first.outbox().setAside()).containsOnlyKeys(poison);
    int batchesBefore = chain.submittedBatches().size();

    // a new process over the same store: the pair is still aside, nothing is sent or told again
    SettlementService restarted = service(config.withBatchSize(100));
    List<String> told = new java.util.ArrayList<>();
    restarted.outbox().onSetAside((pair, reason) -> told.add(pair.jobId()));
    assertThat(restarted.outbox().setAside()).containsOnlyKeys(poison);
    assertThat(restarted.outbox().setAside().get(poison)).contains("PartyIndexOutOfRange");
    restarted.runOnce();
    assertThat(chain.submittedBatches()).hasSize(batchesBefore);
    assertThat(told).isEmpty();

    // released (its cause fixed), it settles like any other pair, and stays released
    chain.poison(poison, null);
    restarted.outbox().release(poison);
    assertThat(service(config).outbox().setAside()).isEmpty();
    clock.now = clock.now.plusSeconds(3600);
    restarted.runOnce();
    assertThat(chain.pairState(poison).paidWei()).isEqualTo(BigInteger.valueOf(100));
  }

  @Test
  void aDisputeIsPersistedAboveTheSettlementsNoncesAndSentAgainWhenDropped() {
    chain.deposit(PAYER_A, BigInteger.valueOf(1_000));
    store.update(pairs.get(0), l -> l.withMetered(1, BigInteger.TEN));
    chain.setHoldReceipts(true);
    SettlementService s = service(config.withReceiptTimeout(Duration.ZERO));
    s.runOnce(); // one settlement in the pool, not mined
    String tx =
        s.sendCall(
            "openDispute(j1)",
            n -> chain.signOpenDispute(pairs.get(0), BigInteger.ONE, new byte[32], PAYER_B, n));
    assertThat(store.outbox()).extracting(OutboxEntry::nonce).containsExactly(0L, 1L);
    OutboxEntry dispute = store.outbox().get(1);
    assertThat(dispute.isCall()).isTrue();
    assertThat(dispute.call()).isEqualTo("openDispute(j1)");
    assertThat(dispute.txHash()).isEqualTo(tx);
    assertThat(dispute.state()).isEqualTo(OutboxEntry.State.SENT);

    chain.drop(tx); // the node forgets the dispute
    chain.setHoldReceipts(false);
    clock.now = clock.now.plusSeconds(10);
    for (int round = 0; round < 3 && !store.outbox().isEmpty(); round++) {
      s.runOnce();
    }
    assertThat(store.outbox()).isEmpty();
    assertThat(chain.receipt(tx)).as("the same bytes, sent again").isPresent();
    assertThat(chain.minedCalls()).containsExactly("openDispute j1 1");
    assertThat(chain.pairState(pairs.get(0)).paidWei()).isEqualTo(BigInteger.TEN);
  }

  @Test
  void aDisputeTheNodeNeverGotIsSentByTheRestartedOperator() {
    chain.failNextSubmits(1); // the broadcast fails: the process "dies" with the entry persisted
    String tx =
        service(config)
            .sendCall("resolveDispute(j1)", n -> chain.signResolveDispute(pairs.get(0), true, n));
    assertThat(store.outbox())
        .singleElement()
        .satisfies(e -> assertThat(e.state()).isEqualTo(OutboxEntry.State.SIGNED));
    assertThat(chain.isKnown(tx)).isFalse();

    service(config).runOnce();
    assertThat(store.outbox()).isEmpty();
    assertThat(chain.receipt(tx)).isPresent();
    assertThat(chain.minedCalls()).containsExactly("resolveDispute j1 true");
  }

  @Test
  void aNodeRefusingTransactionsSetsNothingAside() {
    fundBothPayersAndMeterEveryPair();
    // the node's own refusal (no contract error selector): the fee, not a pair, is to blame
    chain.poison(
        pairs.get(2),
        new DecodedError("Unknown", "", List.of("max fee per gas less than block base fee")));
    SettlementService s = service(config.withBatchSize(100));
    for (int round = 0; round < 6; round++) {
      s.runOnce();
      clock.now = clock.now.plusSeconds(3600);
    }
    assertThat(s.outbox().setAside()).isEmpty();
    assertThat(ledger.pending()).hasSize(5);
  }

  @Test
  void aTransactionPendingTooLongIsReplacedAndTheReplacementCounts() {
    chain.deposit(PAYER_A, BigInteger.valueOf(1_000));
    store.update(pairs.get(0), l -> l.withMetered(1, BigInteger.TEN));
    chain.setHoldReceipts(true);
    SettlementConfig c =
        config.withReceiptTimeout(Duration.ZERO).withStuckAfter(Duration.ofMinutes(3));
    SettlementService s = service(c);
    s.runOnce();
    String first = store.get(pairs.get(0)).orElseThrow().inFlightTx();
    clock.now = clock.now.plusSeconds(170); // pending since the sending round: not stuck yet
    s.runOnce();
    assertThat(chain.replacedCount()).isZero();
    clock.now = clock.now.plusSeconds(11);
    s.runOnce();
    assertThat(chain.replacedCount()).isEqualTo(1);
    String second = store.get(pairs.get(0)).orElseThrow().inFlightTx();
    assertThat(second).isNotNull().isNotEqualTo(first);
    chain.mineAll();
    s.runOnce();
    assertEverythingSettledOnce();
    assertThat(chain.submittedBatches()).hasSize(1);
  }

  @Test
  void aLostBroadcastResponseSendsNoSecondTransaction() {
    fundBothPayersAndMeterEveryPair();
    chain.loseNextSubmitResponses(1);
    SettlementService s = service(config);
    RoundResult r = s.runOnce();
    assertThat(r.errors()).anyMatch(e -> e.contains("broadcast of nonce 0"));
    clock.now = clock.now.plusSeconds(11);
    s.runOnce();
    // the first batch reached the chain once: its receipt was found, not a second transaction
    assertThat(chain.submittedBatches()).hasSize(3);
    assertThat(chain.reportsByPair().values()).allSatisfy(v -> assertThat(v).hasSize(1));
    assertEverythingSettledOnce();
  }

  @Test
  void aRevertIsDecodedAndRetriedAfterBackoff() {
    chain.deposit(PAYER_A, BigInteger.valueOf(1_000));
    PairId p = pairs.get(0);
    store.update(p, l -> l.withMetered(1, BigInteger.TEN));
    chain.revertNextSubmit(new DecodedError("NotReporter", "0x0", List.of(PAYER_A)));
    SettlementService s = service(config);
    RoundResult r = s.runOnce();
    assertThat(r.errors()).anyMatch(e -> e.contains("NotReporter(" + PAYER_A + ")"));
    assertThat(s.outbox().attempts(p)).isEqualTo(1);
    clock.now = clock.now.plusSeconds(5);
    assertThat(s.runOnce().batchesSent()).isZero(); // still backing off
    clock.now = clock.now.plusSeconds(6);
    assertThat(s.runOnce().pairsConfirmed()).isEqualTo(1);
    assertThat(s.outbox().attempts(p)).isZero();
    assertEverythingSettledOnce();
  }

  @Test
  void overdrawnEscrowPaysWhatIsThereThenWaitsForATopUp() {
    chain.deposit(PAYER_A, BigInteger.valueOf(60));
    PairId p = pairs.get(0);
    store.update(p, l -> l.withMetered(1, BigInteger.valueOf(100)));
    SettlementService s = service(config);
    s.runOnce();
    PairLedger l = store.get(p).orElseThrow();
    assertThat(l.settledWei()).isEqualTo(BigInteger.valueOf(60));
    assertThat(l.chainOwedWei()).isEqualTo(BigInteger.valueOf(100));
    assertThat(l.overdrawn()).isTrue();
    assertThat(s.runOnce().batchesSent()).isZero(); // dry payer: no transaction wasted
    chain.deposit(PAYER_A, BigInteger.valueOf(50));
    s.runOnce();
    assertEverythingSettledOnce();
    assertThat(chain.escrow(PAYER_A).balanceWei()).isEqualTo(BigInteger.TEN);
  }

  @Test
  void reconciliationMakesTheChainWin() {
    chain.deposit(PAYER_A, BigInteger.valueOf(1_000));
    PairId p = pairs.get(0);
    PairId q = pairs.get(1);
    // the chain paid p 40 earlier; the store lost that (e.g. status rewritten) ...
    chain.submitSettlement(List.of(new SettlementItem(p, BigInteger.valueOf(40))));
    store.update(p, l -> l.withMetered(1, BigInteger.valueOf(100)));
    // ... and believes q was paid although the chain never saw it
    store.update(
        q,
        l ->
            l.withMetered(1, BigInteger.valueOf(30))
                .withChain(BigInteger.valueOf(30), BigInteger.valueOf(30)));
    SettlementService s = service(config);
    ReconcileResult rr = s.reconcile();
    assertThat(rr.pairsCorrected()).isEqualTo(2);
    assertThat(store.get(p).orElseThrow().settledWei()).isEqualTo(BigInteger.valueOf(40));
    assertThat(store.get(q).orElseThrow().settledWei()).isZero();
    s.runOnce();
    assertEverythingSettledOnce();
  }

  @Test
  void reconciliationFailureIsRetriedNextRound() {
    meterAll(1);
    chain.setDown(true);
    SettlementService s = service(config);
    RoundResult r = s.runOnce();
    assertThat(r.errors()).anyMatch(e -> e.startsWith("reconcile"));
    assertThat(s.isReconciled()).isFalse();
    chain.setDown(false);
    chain.deposit(PAYER_A, BigInteger.TEN);
    chain.deposit(PAYER_B, BigInteger.TEN);
    s.runOnce();
    assertThat(s.isReconciled()).isTrue();
    assertEverythingSettledOnce();
  }

  @Test
  void startRunsRoundsInTheBackgroundUntilStopped() throws Exception {
    chain.deposit(PAYER_A, BigInteger.valueOf(1_000));
    chain.deposit(PAYER_B, BigInteger.valueOf(1_000));
    meterAll(5);
    SettlementService s = service(config.withInterval(Duration.ofMillis(20)));
    s.start();
    s.start(); // idempotent
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!ledger.pending().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    store.update(pairs.get(0), l -> l.withMetered(9, BigInteger.valueOf(9)));
    while (!ledger.pending().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    s.stop();
    assertEverythingSettledOnce(); // both the first usage and the later growth were settled
    assertThat(chain.pairState(pairs.get(0)).paidWei()).isEqualTo(BigInteger.valueOf(9));
    int sent = chain.submittedBatches().size();
    store.update(pairs.get(0), l -> l.withMetered(10, BigInteger.valueOf(10)));
    Thread.sleep(100);
    assertThat(chain.submittedBatches()).hasSize(sent); // stopped: nothing more sent
  }

  @Test
  void anErrorOrACheckedExceptionInARoundDoesNotStopTheBackgroundLoop() throws Exception {
    fundBothPayersAndMeterEveryPair();
    chain.throwOnNextBroadcasts(
        new StackOverflowError("round blew the stack"),
        new java.io.IOException("checked, thrown unchecked by a library"));
    SettlementService s = service(config.withInterval(Duration.ofMillis(20)));
    List<Throwable> told = new java.util.concurrent.CopyOnWriteArrayList<>();
    s.onUnexpectedFailure(told::add);
    s.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!ledger.pending().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    s.stop();
    assertEverythingSettledOnce(); // the rounds after the two failures settled everything
    assertThat(s.unexpectedFailures()).isEqualTo(2);
    assertThat(told)
        .as("the listener (the operator's metric) hears of each failure, with its cause")
        .extracting(Throwable::getMessage)
        .containsExactly("round blew the stack", "checked, thrown unchecked by a library");
  }
}
