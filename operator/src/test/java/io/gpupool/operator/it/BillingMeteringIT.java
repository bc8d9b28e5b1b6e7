package io.gpupool.operator.it;

import static io.gpupool.operator.it.BillingFixture.NS;
import static io.gpupool.operator.it.BillingFixture.PAYER;
import static io.gpupool.operator.it.BillingFixture.TIMEOUT;
import static io.gpupool.operator.it.BillingFixture.awaitPhase;
import static io.gpupool.operator.it.BillingFixture.awaitPods;
import static io.gpupool.operator.it.BillingFixture.costWei;
import static io.gpupool.operator.it.BillingFixture.finishedAt;
import static io.gpupool.operator.it.BillingFixture.fresh;
import static io.gpupool.operator.it.BillingFixture.job;
import static io.gpupool.operator.it.BillingFixture.milliGpuMillis;
import static io.gpupool.operator.it.BillingFixture.pool;
import static io.gpupool.operator.it.BillingFixture.startedAt;
import static io.gpupool.operator.it.BillingFixture.uid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.Usage;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.billing.ConfigMapBillingStore;
import io.gpupool.operator.billing.JobRef;
import io.gpupool.operator.billing.UsageMeter;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.gpupool.operator.workload.ClusterPods;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Metering against the mock API server with billing (settlement) disabled: a job's pods are metered
 * exactly from their container timestamps, the usage outlives the job, and a restarted meter over
 * the same ConfigMaps neither loses nor double-counts anything.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class BillingMeteringIT {
  @Inject KubernetesClient client;
  @Inject ClusterPods clusterPods;
  @Inject BillingService billing;
  @Inject ProviderDirectory providers;
  @Inject NodeInventory nodes;

  @Test
  void usageOfAFinishedJobIsExactAndOutlivesTheJobAndARestart() throws Exception {
    pool(client, "r-bill-meter", null, 2);
    client.resource(job("bill-meter", "r-bill-meter", 2, PAYER)).create();
    String uid = uid(client, "bill-meter");
    List<Pod> pods = awaitPods(client, "bill-meter", 2);
    FakeKubelet kubelet = new FakeKubelet(client);
    pods.forEach(kubelet::run);
    ConfigMapBillingStore store = billing.store();
    // the meter has seen both pods running (their records hold the start)
    await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              billing.meter().meterJob(uid);
              return store.pods(uid).size() == 2;
            });
    Thread.sleep(1500);
    Map<String, Instant> starts = new HashMap<>();
    pods.forEach(p -> starts.put(p.getMetadata().getName(), startedAt(fresh(client, p))));
    pods.forEach(kubelet::succeed);
    awaitPhase(client, "bill-meter", TrainingJobPhase.Succeeded);
    long expected = 0;
    for (Pod p : pods) {
      expected +=
          milliGpuMillis(starts.get(p.getMetadata().getName()), finishedAt(fresh(client, p)));
    }
    long expectedTime = expected;
    assertThat(expectedTime).isGreaterThanOrEqualTo(2 * 1000L * 1500);

    client.resources(TrainingJob.class).inNamespace(NS).withName("bill-meter").delete();
    pods.forEach(p -> client.pods().inNamespace(NS).withName(p.getMetadata().getName()).delete());
    await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              billing.meter().meterAll();
              return store.pairs(uid).stream().mapToLong(PairLedger::milliGpuMillis).sum()
                  == expectedTime;
            });
    List<PairLedger> pairs = store.pairs(uid);
    assertThat(pairs).hasSize(1);
    PairLedger pair = pairs.get(0);
    assertThat(pair.pair().payer()).isEqualTo(PAYER.toLowerCase());
    assertThat(pair.pair().provider())
        .isEqualTo("0x70997970C51812dc3A010C7d01b50e0d17dc79C8".toLowerCase());
    assertThat(pair.meteredWei()).isEqualTo(costWei(expectedTime));
    assertThat(pair.settledWei()).isZero();

    Usage usage = billing.usage(uid).orElseThrow();
    assertThat(usage.cost).isEqualTo(TokenUnits.fromWei(costWei(expectedTime)).toPlainString());
    assertThat(usage.costWei).isEqualTo(costWei(expectedTime).toString());
    assertThat(usage.costDisplay)
        .isEqualTo(TokenUnits.display(costWei(expectedTime), "ETH"))
        .matches("\\d+\\.\\d{6} ETH");
    assertThat(usage.settled).isEqualTo("0");
    assertThat(usage.settledWei).isEqualTo("0");
    assertThat(usage.byProvider)
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.provider).isEqualTo("prov-r-bill-meter");
              assertThat(p.costWei).isEqualTo(costWei(expectedTime).toString());
            });
    assertThat(billing.earnings("prov-r-bill-meter").accrued).isEqualTo(usage.cost);

    // the usage ConfigMap survives the job (nothing settled yet) and is not owned by it
    var cm =
        client
            .configMaps()
            .inNamespace(store.namespace())
            .withName(ConfigMapBillingStore.configMapName(uid))
            .get();
    assertThat(cm).isNotNull();
    assertThat(cm.getMetadata().getOwnerReferences()).isNullOrEmpty();

    // "restart": a new store and meter over the same ConfigMaps, metering several times
    try (ConfigMapBillingStore restarted = new ConfigMapBillingStore(client, store.namespace());
        UsageMeter meter =
            new UsageMeter(
                client,
                clusterPods,
                providers,
                nodes,
                restarted,
                Clock.systemUTC(),
                Duration.ofHours(1))) {
      restarted.start();
      meter.start();
      meter.meterAll();
      meter.meterAll();
      assertThat(restarted.pairs(uid)).containsExactly(pair);
    }
    billing.meter().meterAll();
    assertThat(store.pairs(uid)).containsExactly(pair);
  }

  @Test
  void podDeletedWhileRunningIsChargedUntilItsDeletion() throws Exception {
    pool(client, "r-bill-del", null, 1);
    client.resource(job("bill-del", "r-bill-del", 1, null)).create();
    String uid = uid(client, "bill-del");
    Pod pod = awaitPods(client, "bill-del", 1).get(0);
    new FakeKubelet(client).run(pod);
    Instant start = startedAt(fresh(client, pod));
    await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              billing.meter().meterJob(uid);
              return billing.store().pods(uid).size() == 1;
            });
    Thread.sleep(1000);
    Instant before = Instant.now();
    client.pods().inNamespace(NS).withName(pod.getMetadata().getName()).delete();
    await()
        .atMost(TIMEOUT)
        .until(() -> billing.store().pods(uid).values().stream().allMatch(r -> r.ended()));
    Instant after = Instant.now();
    var record = billing.store().pods(uid).values().iterator().next();
    assertThat(record.lifetime().end()).isBetween(before, after);
    long time = billing.meter().meterJob(uid).get(0).milliGpuMillis();
    assertThat(time).isEqualTo(1000L * Duration.between(start, record.lifetime().end()).toMillis());
    // no budget: metered under the no-payer address, never settled
    assertThat(billing.store().pairs(uid))
        .singleElement()
        .satisfies(l -> assertThat(l.pair().payer()).isEqualTo(UsageMeter.NO_ADDRESS));
    Thread.sleep(300);
    assertThat(billing.meter().meterJob(uid).get(0).milliGpuMillis()).isEqualTo(time);
    client.resources(TrainingJob.class).inNamespace(NS).withName("bill-del").delete();
  }

  @Test
  void podThatVanishesWhileTheMeterIsDownIsChargedUntilLastSeen() throws Exception {
    pool(client, "r-bill-down", null, 1);
    client.resource(job("bill-down", "r-bill-down", 1, PAYER)).create();
    String uid = uid(client, "bill-down");
    Pod pod = awaitPods(client, "bill-down", 1).get(0);
    new FakeKubelet(client).run(pod);
    String ns = "billing-down-" + Long.toHexString(System.nanoTime());
    PairLedger lastSeen;
    try (ConfigMapBillingStore store = new ConfigMapBillingStore(client, ns);
        UsageMeter meter =
            new UsageMeter(
                client,
                clusterPods,
                providers,
                nodes,
                store,
                Clock.systemUTC(),
                Duration.ofHours(1))) {
      store.start();
      recordedTermsOf(pod, store);
      meter.start();
      await()
          .atMost(TIMEOUT)
          .until(
              () -> {
                meter.meterAll();
                return !store.pairs(uid).isEmpty() && store.pairs(uid).get(0).milliGpuMillis() > 0;
              });
      Thread.sleep(500);
      meter.meterAll();
      lastSeen = store.pairs(uid).get(0);
    }
    // while "down", the pod and the job go away
    client.pods().inNamespace(NS).withName(pod.getMetadata().getName()).delete();
    client.resources(TrainingJob.class).inNamespace(NS).withName("bill-down").delete();
    try (ConfigMapBillingStore store = new ConfigMapBillingStore(client, ns);
        UsageMeter meter =
            new UsageMeter(
                client,
                clusterPods,
                providers,
                nodes,
                store,
                Clock.systemUTC(),
                Duration.ofHours(1))) {
      store.start();
      meter.start();
      meter.meterAll();
      assertThat(store.pairs(uid)).containsExactly(lastSeen);
      assertThat(store.pods(uid).values())
          .singleElement()
          .satisfies(r -> assertThat(r.lifetime().end()).isNotNull());
    }
  }

  @Test
  void concurrentWritersThroughTwoStoresLoseNoUpdate() throws Exception {
    String ns = "billing-cas-" + Long.toHexString(System.nanoTime());
    io.gpupool.billing.PairId pair =
        new io.gpupool.billing.PairId(
            "cas-job", PAYER, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    try (ConfigMapBillingStore a = new ConfigMapBillingStore(client, ns);
        ConfigMapBillingStore b = new ConfigMapBillingStore(client, ns)) {
      a.start();
      b.start();
      int each = 15;
      Runnable add =
          () -> {
            for (int i = 0; i < each; i++) {
              (i % 2 == 0 ? a : b)
                  .update(
                      pair,
                      l ->
                          l.withMetered(
                              l.milliGpuMillis() + 1, l.meteredWei().add(BigInteger.ONE)));
            }
          };
      Thread t1 = new Thread(add);
      Thread t2 = new Thread(add);
      t1.start();
      t2.start();
      t1.join();
      t2.join();
      PairLedger stored =
          io.gpupool.operator.billing.UsageCodec.decodePair(
              client
                  .configMaps()
                  .inNamespace(ns)
                  .withName(ConfigMapBillingStore.configMapName("cas-job"))
                  .get()
                  .getData()
                  .get(io.gpupool.operator.billing.UsageCodec.pairKey(pair)));
      assertThat(stored.milliGpuMillis()).isEqualTo(2L * each);
      assertThat(stored.meteredWei()).isEqualTo(BigInteger.valueOf(2L * each));
      await().atMost(TIMEOUT).until(() -> a.get(pair).orElseThrow().equals(stored));
    }
  }

  /**
   * Copies into {@code store} (another operator process's, in its own namespace) the terms the
   * operator recorded for {@code pod} when it placed it: that process would have placed the pod and
   * recorded them itself.
   */
  private void recordedTermsOf(Pod pod, ConfigMapBillingStore store) {
    JobRef job = JobRef.of(pod).orElseThrow();
    String name = pod.getMetadata().getName();
    store.putTerms(job, Map.of(name, billing.store().terms(job.uid(), name).orElseThrow()));
  }

  @Test
  void restartWhileAPodRunsContinuesItsUsageWithoutCountingItTwice() throws Exception {
    pool(client, "r-bill-rerun", null, 1);
    client.resource(job("bill-rerun", "r-bill-rerun", 1, PAYER)).create();
    String uid = uid(client, "bill-rerun");
    Pod pod = awaitPods(client, "bill-rerun", 1).get(0);
    FakeKubelet kubelet = new FakeKubelet(client);
    kubelet.run(pod);
    Instant start = startedAt(fresh(client, pod));
    String ns = "billing-rerun-" + Long.toHexString(System.nanoTime());
    try (ConfigMapBillingStore store = new ConfigMapBillingStore(client, ns);
        UsageMeter meter =
            new UsageMeter(
                client,
                clusterPods,
                providers,
                nodes,
                store,
                Clock.systemUTC(),
                Duration.ofHours(1))) {
      store.start();
      recordedTermsOf(pod, store);
      meter.start();
      await()
          .atMost(TIMEOUT)
          .until(
              () -> {
                meter.meterAll();
                return store.pods(uid).size() == 1;
              });
    }
    Thread.sleep(2500); // long enough to be charged past the meter's one-second view lag
    try (ConfigMapBillingStore store = new ConfigMapBillingStore(client, ns);
        UsageMeter meter =
            new UsageMeter(
                client,
                clusterPods,
                providers,
                nodes,
                store,
                Clock.systemUTC(),
                Duration.ofHours(1))) {
      store.start();
      meter.start();
      Instant before = Instant.now();
      meter.meterAll();
      Instant after = Instant.now();
      long running = store.pairs(uid).get(0).milliGpuMillis();
      // a running pod is charged up to the last whole second a second ago: never past the
      // finishedAt (whole seconds) the kubelet will report
      assertThat(running)
          .isPositive()
          .isBetween(
              1000L * Duration.between(start, UsageMeter.runningUntil(before)).toMillis(),
              1000L * Duration.between(start, UsageMeter.runningUntil(after)).toMillis());
      kubelet.succeed(pod);
      Instant finished = finishedAt(fresh(client, pod));
      await()
          .atMost(TIMEOUT)
          .until(
              () -> {
                meter.meterAll();
                return store.pods(uid).values().stream().allMatch(r -> r.ended());
              });
      meter.meterAll();
      PairLedger done = store.pairs(uid).get(0);
      long exact = 1000L * Duration.between(start, finished).toMillis();
      assertThat(done.milliGpuMillis()).isEqualTo(exact);
      assertThat(done.meteredWei()).isEqualTo(costWei(exact));
    }
    client.resources(TrainingJob.class).inNamespace(NS).withName("bill-rerun").delete();
  }
}
