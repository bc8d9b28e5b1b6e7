package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.gpupool.billing.PairId;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.devchain.DevChain;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.OutboxEntry;
import io.gpupool.billing.settlement.OutboxTrustChain;
import io.gpupool.billing.settlement.SettlementConfig;
import io.gpupool.billing.settlement.SettlementService;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.web3j.protocol.core.Request;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.http.HttpService;

/**
 * The race: the settlement loop signs and sends a settlement of a cheat's pair, and before it is
 * mined a referee proves the fraud. The forfeit mark stops later settlements, but that one is on
 * its way; a filer that reads what the pair paid before it lands freezes too little, and what it
 * missed matures to the cheat after the fraud verdict. On anvil, with the operator's real usage
 * record (mock API server), settlement loop, outbox and dispute path: whatever the timing, the
 * dispute covers everything the pair was paid, and after the verdict nothing of the job is left to
 * mature to the cheat.
 */
@EnableKubernetesMockClient(crud = true)
class SettlementVerdictRaceIT {
  static final BigInteger ETH = TokenUnits.toWei("1");
  static final BigInteger BEFORE = TokenUnits.toWei("0.001");
  static final BigInteger IN_FLIGHT = TokenUnits.toWei("0.0018");
  static final JobRef JOB = new JobRef("TrainingJob", "team-a", "llm", "uid-race");
  static final String CHEAT = "bargain";

  KubernetesClient client;
  DevChain dev;
  ConfigMapBillingStore store;
  SettlementService settlement;

  @BeforeEach
  void startChain() {
    dev = DevChain.start(Duration.ofHours(1), 1, ETH.multiply(BigInteger.TEN));
    dev.deployer()
        .setTrustParameters(
            dev.contractAddress(), dev.owner(), Duration.ofMinutes(5), 5_000, 5_000);
    dev.deployer()
        .authoriseVerifier(dev.contractAddress(), dev.owner(), dev.reporter().getAddress());
    dev.deployer().stake(dev.contractAddress(), dev.provider(0), ETH.multiply(BigInteger.TWO));
    store = new ConfigMapBillingStore(client, "ops");
    store.start();
  }

  @AfterEach
  void stop() {
    if (settlement != null) {
      settlement.stop();
    }
    if (store != null) {
      store.close();
    }
    if (dev != null) {
      dev.close();
    }
  }

  @Test
  void aSettlementSentJustBeforeTheFraudIsProvenIsFrozenAndReturnedToo() throws Exception {
    String cheat = dev.provider(0).getAddress();
    PairId pair = new PairId(JOB.uid(), dev.payers().get(0).getAddress(), cheat);
    Web3jBillingChain web3 = new Web3jBillingChain(dev.chainConfig(), dev.reporter());
    settlement =
        new SettlementService(
            SettlementConfig.defaults()
                .withInterval(Duration.ofMillis(200))
                .withReceiptTimeout(Duration.ZERO)
                .withReconcileFromBlock(dev.deployBlock()),
            new BillingLedger(new SettleableStore(store)),
            web3,
            Clock.systemUTC());
    OutboxTrustChain trust = new OutboxTrustChain(web3, web3, settlement);

    // Paid once, mined.
    meter(pair, BEFORE);
    settlement.runOnce();
    settlement.runOnce();
    assertThat(trust.pairState(pair).paidWei()).isEqualTo(BEFORE);

    // The next settlement is signed and sent, and waits in the node's pool.
    rpc("evm_setAutomine", false);
    meter(pair, IN_FLIGHT);
    assertThat(settlement.runOnce().batchesSent()).isEqualTo(1);
    assertThat(store.get(pair).orElseThrow().inFlightTx()).isNotNull();

    // The fraud is proven now; the settlement loop goes on in the background. Blocks are mined
    // once the dispute itself was sent, or after 3 s if it is not sent before that (a filer that
    // waits for the pair's settlements needs them mined).
    settlement.start();
    ChainDisputes disputes =
        new ChainDisputes(
            trust,
            uid -> store.pairs(uid).stream().map(l -> l.pair()).toList(),
            name -> Optional.of(cheat),
            settlement::unconfirmedSettlements,
            Optional.empty(),
            Duration.ofSeconds(60),
            Duration.ofMillis(100),
            "ETH");
    FraudDisputes fraud =
        new FraudDisputes(
            (job, provider, evidence, reason) ->
                CompletableFuture.supplyAsync(() -> disputes.open(job, provider, evidence, reason)),
            (job, provider, verdict) ->
                CompletableFuture.supplyAsync(() -> disputes.resolve(job, provider, verdict)),
            null,
            new UsageForfeiter(
                () -> store, name -> Optional.of(cheat), Clock.systemUTC(), registry()));
    CompletableFuture<FraudDisputes.Outcome> proving =
        fraud
            .prove(JOB, CHEAT, EvidenceHash.sha256("replay differs at step 15"), "spot-check")
            .toCompletableFuture();
    long mineBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    while (System.nanoTime() < mineBy && !disputeSent() && !proving.isDone()) {
      Thread.sleep(50);
    }
    rpc("evm_setAutomine", true);
    rpc("evm_mine");
    FraudDisputes.Outcome outcome = proving.get(90, TimeUnit.SECONDS);

    assertThat(outcome.proven()).as(outcome.describe()).isTrue();
    assertThat(trust.pairState(pair).paidWei())
        .as("the settlement sent before the verdict landed")
        .isEqualTo(IN_FLIGHT);
    assertThat(outcome.filing().frozenWei())
        .as("frozen: everything the pair was paid, the late settlement included")
        .isEqualTo(IN_FLIGHT);
    assertThat(trust.pairEarnings(pair).uncollectedWei())
        .as("nothing of the job left to mature to the cheat after the verdict")
        .isZero();
  }

  private boolean disputeSent() {
    return store.outbox().stream().anyMatch(OutboxEntry::isCall);
  }

  private void meter(PairId pair, BigInteger wei) {
    store.update(pair, l -> l.withMetered(wei.longValueExact() / 1_000_000_000L, wei));
  }

  private static SimpleMeterRegistry registry() {
    return new SimpleMeterRegistry();
  }

  private void rpc(String method, Object... params) throws java.io.IOException {
    Response<?> r =
        new Request<>(method, List.of(params), new HttpService(dev.anvil().rpcUrl()), Any.class)
            .send();
    assertThat(r.hasError()).as("%s: %s", method, r.getError()).isFalse();
  }

  /** An RPC answer whose result is not read. */
  public static class Any extends Response<Object> {}
}
