package io.gpupool.operator.it;

import static io.gpupool.operator.it.BillingFixture.NS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.devchain.DevChain;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.billing.ChainDisputeFiler;
import io.gpupool.operator.billing.DisputeDeadlines;
import io.gpupool.operator.billing.DisputeFiling;
import io.gpupool.operator.billing.DisputeResolution;
import io.gpupool.operator.billing.EvidenceHash;
import io.gpupool.operator.billing.JobRef;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.core.Request;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.http.HttpService;

/**
 * Stake and disputes against anvil: a job waits while its only provider's stake does not cover one
 * token per GPU and says why, runs once the provider stakes, and its earnings (still inside the
 * challenge window) are disputed and the provider slashed through the operator's port; a dispute
 * nobody judges is resolved as no fraud at its deadline, or expired once the chain's clock is past
 * the contract's own deadline.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
@TestProfile(TrustIT.StakeGateOn.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TrustIT {
  static final BigInteger ETH = TokenUnits.toWei("1");
  static final Duration TIMEOUT = Duration.ofSeconds(40);

  public static class StakeGateOn implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "gpupool.trust.min-stake-per-gpu", "1",
          "gpupool.trust.stake-refresh", "500ms",
          "gpupool.billing.metering-interval", "1s");
    }
  }

  static DevChain dev;

  @Inject KubernetesClient client;
  @Inject BillingService billing;
  @Inject ChainDisputeFiler disputes;
  @Inject MeterRegistry registry;
  @Inject DisputeDeadlines deadlines;

  @BeforeAll
  static void startChain() {
    dev = DevChain.start(Duration.ofHours(1), 2, ETH.multiply(BigInteger.TEN));
    dev.deployer()
        .setTrustParameters(
            dev.contractAddress(), dev.owner(), Duration.ofMinutes(5), 5_000, 5_000);
    dev.deployer()
        .authoriseVerifier(dev.contractAddress(), dev.owner(), dev.reporter().getAddress());
  }

  @AfterAll
  static void stopChain() {
    if (dev != null) {
      dev.close();
    }
  }

  @Test
  @Order(1)
  void aJobWaitsForItsProvidersStakeThenItsEarningsAreDisputedAndTheProviderSlashed()
      throws Exception {
    Web3jBillingChain chain = new Web3jBillingChain(dev.chainConfig(), dev.reporter());
    billing.enableSettlement(
        chain,
        billing
            .settlementConfig()
            .withInterval(Duration.ofMillis(500))
            .withReconcileFromBlock(dev.deployBlock()));
    try {
      String payout = dev.provider(1).getAddress();
      String payer = dev.payers().get(0).getAddress();
      BillingFixture.pool(client, "r-stake", payout, 2);
      TestAccounts.bindPayer(client, NS, payer);
      client.resource(BillingFixture.job("staked", "r-stake", 2, payer)).create();

      // No stake: left out, and the job says which provider and why.
      await()
          .atMost(TIMEOUT)
          .until(
              () ->
                  scheduledMessage("staked")
                      .contains(
                          "provider prov-r-stake stakes 0 ETH of the 2 ETH required for 2 GPUs"));
      await()
          .atMost(TIMEOUT)
          .until(
              () -> {
                GpuProvider p = client.resources(GpuProvider.class).withName("prov-r-stake").get();
                return p.getStatus() != null
                    && p.getStatus().stake != null
                    && Boolean.FALSE.equals(p.getStatus().stake.sufficient)
                    && "2".equals(p.getStatus().stake.required);
              });
      assertThat(
              client
                  .pods()
                  .inNamespace(NS)
                  .withLabel("gpupool.io/job-name", "staked")
                  .list()
                  .getItems())
          .isEmpty();

      // The provider stakes 2 tokens with its own key: the job is placed without being touched.
      dev.deployer().stake(dev.contractAddress(), dev.provider(1), ETH.multiply(BigInteger.TWO));
      List<Pod> pods = BillingFixture.awaitPods(client, "staked", 2);
      assertThat(
              client
                  .resources(GpuProvider.class)
                  .withName("prov-r-stake")
                  .get()
                  .getStatus()
                  .stake
                  .staked)
          .isEqualTo("2");
      String uid = BillingFixture.uid(client, "staked");
      FakeKubelet kubelet = new FakeKubelet(client);
      pods.forEach(kubelet::run);
      Thread.sleep(1200);
      pods.forEach(kubelet::succeed);
      BillingFixture.awaitPhase(client, "staked", TrainingJobPhase.Succeeded);
      await()
          .atMost(TIMEOUT)
          .until(
              () -> {
                billing.meter().meterJob(uid);
                List<PairLedger> pairs = billing.store().pairs(uid);
                return pairs.size() == 1
                    && pairs.get(0).settledWei().signum() > 0
                    && pairs.get(0).settledWei().equals(pairs.get(0).meteredWei());
              });
      BigInteger paid = billing.store().pairs(uid).get(0).settledWei();
      assertThat(chain.earnings(payout).maturingWei()).isEqualTo(paid);

      JobRef job = new JobRef("TrainingJob", NS, "staked", uid);
      DisputeFiling filed =
          disputes
              .open(job, "prov-r-stake", EvidenceHash.sha256("nonce 9: wrong result"), "test")
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
      assertThat(filed.outcome()).as(filed.message()).isEqualTo(DisputeFiling.Outcome.OPENED);
      assertThat(filed.frozenWei()).isEqualTo(paid);
      DisputeFiling again =
          disputes
              .open(job, "prov-r-stake", EvidenceHash.sha256("again"), "test")
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
      assertThat(again.outcome()).isEqualTo(DisputeFiling.Outcome.NOTHING_TO_DISPUTE);

      BigInteger escrowBefore = chain.escrow(payer).balanceWei();
      DisputeResolution verdict =
          disputes
              .resolve(job, "prov-r-stake", true)
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
      assertThat(verdict.outcome())
          .as(verdict.message())
          .isEqualTo(DisputeResolution.Outcome.RESOLVED);
      assertThat(chain.stake(payout).stakedWei()).isEqualTo(ETH);
      // the frozen earnings and half of the slash back to the payer; the other half rewards the
      // operator's own address (the default whistleblower)
      assertThat(chain.escrow(payer).balanceWei().subtract(escrowBefore))
          .isEqualTo(paid.add(ETH.divide(BigInteger.TWO)));
      assertThat(
              registry
                  .get("gpupool.disputes")
                  .tag("step", "open")
                  .tag("outcome", "opened")
                  .counter()
                  .count())
          .isEqualTo(1.0);
      // the slash shows in the stake read next
      await()
          .atMost(TIMEOUT)
          .until(
              () ->
                  registry
                          .get("gpupool.provider.stake.tokens")
                          .tag("provider", "prov-r-stake")
                          .gauge()
                          .value()
                      == 1.0);
    } finally {
      billing.disableSettlement();
      chain.close();
    }
  }

  @Test
  @Order(2)
  void aDisputeLeftOpenIsResolvedAsNoFraudAtItsDeadline() throws Exception {
    Web3jBillingChain chain = new Web3jBillingChain(dev.chainConfig(), dev.reporter());
    billing.enableSettlement(
        chain,
        billing
            .settlementConfig()
            .withInterval(Duration.ofMillis(500))
            .withReconcileFromBlock(dev.deployBlock()));
    try {
      String payout = dev.provider(2).getAddress();
      PairLedger pair = settledStakedJob("r-deadline", "judged-late", dev.provider(2));
      String uid = pair.pair().jobId();
      JobRef job = new JobRef("TrainingJob", NS, "judged-late", uid);
      DisputeFiling filed =
          disputes
              .open(job, "prov-r-deadline", EvidenceHash.sha256("a claim nobody judges"), "test")
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
      assertThat(filed.outcome()).as(filed.message()).isEqualTo(DisputeFiling.Outcome.OPENED);
      assertThat(chain.earnings(payout).maturingWei()).as("frozen").isZero();

      // Before its deadline (7 days by default) an open dispute is left to the verifier.
      deadlines.resolveOverdue(Instant.now());
      assertThat(chain.dispute(pair.pair()).open()).isTrue();
      // At its deadline it is resolved as no fraud: the earnings are the provider's to withdraw
      // at once (the contract does not restart the window), the stake is untouched.
      deadlines.resolveOverdue(Instant.now().plus(Duration.ofDays(7)));
      assertThat(chain.dispute(pair.pair()).open()).isFalse();
      assertThat(chain.earnings(payout).withdrawableWei()).isEqualTo(pair.settledWei());
      assertThat(chain.stake(payout).stakedWei()).isEqualTo(ETH.multiply(BigInteger.TWO));
      assertThat(
              registry
                  .get("gpupool.disputes")
                  .tag("step", "resolve")
                  .tag("outcome", "no_fraud")
                  .counter()
                  .count())
          .isEqualTo(1.0);
    } finally {
      billing.disableSettlement();
      chain.close();
    }
  }

  @Test
  @Order(3) // last: it moves the chain's clock 30 days on
  void aDisputeLeftOpenPastTheContractsOwnDeadlineIsExpired() throws Exception {
    Web3jBillingChain chain = new Web3jBillingChain(dev.chainConfig(), dev.reporter());
    billing.enableSettlement(
        chain,
        billing
            .settlementConfig()
            .withInterval(Duration.ofMillis(500))
            .withReconcileFromBlock(dev.deployBlock()));
    try {
      String payout = dev.provider(3).getAddress();
      PairLedger pair = settledStakedJob("r-expired", "never-judged", dev.provider(3));
      JobRef job = new JobRef("TrainingJob", NS, "never-judged", pair.pair().jobId());
      DisputeFiling filed =
          disputes
              .open(job, "prov-r-expired", EvidenceHash.sha256("a claim nobody judged"), "test")
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
      assertThat(filed.outcome()).as(filed.message()).isEqualTo(DisputeFiling.Outcome.OPENED);
      Duration chainDeadline = chain.disputeDeadline();
      assertThat(chainDeadline)
          .as("the contract's DISPUTE_DEADLINE")
          .isEqualTo(Duration.ofDays(30));

      // The operator was stopped past both deadlines: the chain's clock has reached the
      // contract's deadline, so resolveDispute is refused (DisputeExpired) and only
      // expireDispute can end the dispute.
      warpChain(chainDeadline);
      assertThat(chain.chainTime())
          .isAfterOrEqualTo(
              Instant.ofEpochSecond(chain.dispute(pair.pair()).openedAt()).plus(chainDeadline));
      deadlines.resolveOverdue(Instant.now().plus(chainDeadline).plus(Duration.ofDays(1)));

      assertThat(chain.dispute(pair.pair()).open()).as("ended by expireDispute").isFalse();
      assertThat(chain.earnings(payout).withdrawableWei())
          .as("the frozen earnings are the provider's, nothing slashed")
          .isEqualTo(pair.settledWei());
      assertThat(chain.stake(payout).stakedWei()).isEqualTo(ETH.multiply(BigInteger.TWO));
      assertThat(
              registry
                  .get("gpupool.disputes")
                  .tag("step", "expire")
                  .tag("outcome", "expired")
                  .counter()
                  .count())
          .isEqualTo(1.0);
      assertThat(
              registry.find("gpupool.disputes").tag("step", "resolve").counters().stream()
                  .filter(c -> c.getId().getTag("outcome").equals("failed"))
                  .mapToDouble(c -> c.count())
                  .sum())
          .as("no refused resolveDispute was tried first")
          .isZero();
    } finally {
      billing.disableSettlement();
      chain.close();
    }
  }

  /**
   * Runs a 2-GPU job of {@code payer 0} on a new pool paid to {@code provider} (staked 2 tokens)
   * until its usage is settled, and answers its one pair.
   */
  PairLedger settledStakedJob(String pool, String jobName, Credentials provider)
      throws InterruptedException {
    String payer = dev.payers().get(0).getAddress();
    dev.deployer().stake(dev.contractAddress(), provider, ETH.multiply(BigInteger.TWO));
    BillingFixture.pool(client, pool, provider.getAddress(), 2);
    TestAccounts.bindPayer(client, NS, payer);
    client.resource(BillingFixture.job(jobName, pool, 2, payer)).create();
    List<Pod> pods = BillingFixture.awaitPods(client, jobName, 2);
    String uid = BillingFixture.uid(client, jobName);
    FakeKubelet kubelet = new FakeKubelet(client);
    pods.forEach(kubelet::run);
    Thread.sleep(1200);
    pods.forEach(kubelet::succeed);
    BillingFixture.awaitPhase(client, jobName, TrainingJobPhase.Succeeded);
    await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              billing.meter().meterJob(uid);
              List<PairLedger> pairs = billing.store().pairs(uid);
              return pairs.size() == 1
                  && pairs.get(0).settledWei().signum() > 0
                  && pairs.get(0).settledWei().equals(pairs.get(0).meteredWei());
            });
    return billing.store().pairs(uid).get(0);
  }

  /** Move anvil's clock {@code by} on and mine a block at the new time. */
  static void warpChain(Duration by) throws java.io.IOException {
    HttpService http = new HttpService(dev.anvil().rpcUrl());
    for (Request<?, ?> r :
        List.of(
            new Request<>("evm_increaseTime", List.of(by.toSeconds()), http, AnyAnswer.class),
            new Request<>("evm_mine", List.of(), http, AnyAnswer.class))) {
      Response<?> answer = r.send();
      assertThat(answer.hasError()).as(r.getMethod()).isFalse();
    }
  }

  /** An RPC answer whose result is not read. */
  public static class AnyAnswer extends Response<Object> {}

  String scheduledMessage(String job) {
    TrainingJob j = client.resources(TrainingJob.class).inNamespace(NS).withName(job).get();
    if (j == null || j.getStatus() == null || j.getStatus().conditions == null) {
      return "";
    }
    return j.getStatus().conditions.stream()
        .filter(c -> "Scheduled".equals(c.getType()))
        .map(Condition::getMessage)
        .findFirst()
        .orElse("");
  }
}
