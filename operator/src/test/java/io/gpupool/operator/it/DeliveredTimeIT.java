package io.gpupool.operator.it;

import static io.gpupool.operator.it.BillingFixture.NS;
import static io.gpupool.operator.it.BillingFixture.PAYER;
import static io.gpupool.operator.it.BillingFixture.PRICE;
import static io.gpupool.operator.it.BillingFixture.TIMEOUT;
import static io.gpupool.operator.it.BillingFixture.awaitPods;
import static io.gpupool.operator.it.BillingFixture.finishedAt;
import static io.gpupool.operator.it.BillingFixture.fresh;
import static io.gpupool.operator.it.BillingFixture.job;
import static io.gpupool.operator.it.BillingFixture.pool;
import static io.gpupool.operator.it.BillingFixture.startedAt;
import static io.gpupool.operator.it.BillingFixture.uid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.billing.metering.PairUsage;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.billing.ConfigMapBillingStore;
import io.gpupool.operator.billing.JobRef;
import io.gpupool.operator.billing.PlacedTerms;
import io.gpupool.operator.billing.PlacementTerms;
import io.gpupool.operator.billing.PodOwnership;
import io.gpupool.operator.billing.PodRecord;
import io.gpupool.operator.billing.UsageMeter;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.gpupool.operator.workload.ClusterPods;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Attacks on what a pod is billed for, against the mock API server: a node that stops being Ready,
 * kubelet timestamps outside what the operator observed, a provider raising its price after
 * placement, and pods the operator did not place.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class DeliveredTimeIT {
  @Inject KubernetesClient client;
  @Inject BillingService billing;
  @Inject ProviderDirectory providers;
  @Inject NodeInventory nodes;
  @Inject MeterRegistry registry;
  @Inject ClusterPods clusterPods;

  private PodRecord awaitRecord(String jobUid, java.util.function.Predicate<PodRecord> done) {
    return await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              billing.meter().meterJob(jobUid);
              return billing.store().pods(jobUid).values().stream().findFirst().orElse(null);
            },
            r -> r != null && done.test(r));
  }

  private void kubelet(Pod pod, java.util.function.Consumer<PodStatus> status) {
    client
        .pods()
        .inNamespace(NS)
        .withName(pod.getMetadata().getName())
        .editStatus(
            p -> {
              PodStatus s = new PodStatus();
              status.accept(s);
              p.setStatus(s);
              return p;
            });
  }

  private static void running(PodStatus s, Instant startedAt) {
    s.setPhase("Running");
    s.setContainerStatuses(
        List.of(
            new ContainerStatusBuilder()
                .withName("worker")
                .withReady(true)
                .withNewState()
                .withNewRunning()
                .withStartedAt(startedAt.toString())
                .endRunning()
                .endState()
                .build()));
  }

  private void nodeReady(String node, boolean ready, Instant transition) {
    client
        .nodes()
        .withName(node)
        .editStatus(
            n -> {
              n.getStatus().getConditions().stream()
                  .filter(c -> "Ready".equals(c.getType()))
                  .forEach(
                      c -> {
                        c.setStatus(ready ? "True" : "False");
                        c.setLastTransitionTime(transition.toString());
                      });
              return n;
            });
  }

  private static long milliGpuMillis(PodRecord r) {
    return 1000L * Duration.between(r.lifetime().start(), r.lifetime().end()).toMillis();
  }

  @Test
  void aNodeTurningNotReadyEndsBillingAtItsTransitionAndTheGraceIsNotBilled() throws Exception {
    pool(client, "r-dt-nr", null, 1);
    client.resource(job("dt-nr", "r-dt-nr", 1, PAYER)).create();
    String uid = uid(client, "dt-nr");
    Pod pod = awaitPods(client, "dt-nr", 1).get(0);
    new FakeKubelet(client).run(pod);
    awaitRecord(uid, r -> !r.ended());
    Thread.sleep(1500);
    Instant transition = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    nodeReady("r-dt-nr-n0", false, transition);
    Instant patched = Instant.now();
    PodRecord ended = awaitRecord(uid, PodRecord::ended);
    Instant noticed = Instant.now();
    assertThat(ended.lifetime().end())
        .as("billing ends at the transition, or when the operator last saw the node Ready")
        .isBetween(transition, patched.isAfter(noticed) ? noticed : patched);
    long billed = billing.meter().meterJob(uid).get(0).milliGpuMillis();
    assertThat(billed).isEqualTo(milliGpuMillis(ended));
    // the pod still "runs" on the unreachable node through the grace period and is then deleted
    Thread.sleep(3000);
    assertThat(billing.meter().meterJob(uid).get(0).milliGpuMillis()).isEqualTo(billed);
    nodeReady("r-dt-nr-n0", true, Instant.now());
    client.resources(TrainingJob.class).inNamespace(NS).withName("dt-nr").delete();
  }

  @Test
  void kubeletTimesOutsideWhatTheOperatorSawAreClamped() throws Exception {
    pool(client, "r-dt-ts", null, 1);
    client.resource(job("dt-ts", "r-dt-ts", 1, PAYER)).create();
    String uid = uid(client, "dt-ts");
    Pod pod = awaitPods(client, "dt-ts", 1).get(0);
    Instant created = Instant.parse(fresh(client, pod).getMetadata().getCreationTimestamp());
    // the provider's kubelet claims the container started an hour before the pod existed
    kubelet(pod, s -> running(s, created.minus(Duration.ofHours(1))));
    PodRecord running = awaitRecord(uid, r -> !r.ended());
    assertThat(running.lifetime().start()).isEqualTo(created);
    Thread.sleep(1200);
    // ... and that it will finish in a year: billing must stop when the operator saw it stop
    Instant beforeStop = Instant.now();
    kubelet(
        pod,
        s -> {
          s.setPhase("Succeeded");
          s.setContainerStatuses(
              List.of(
                  new ContainerStatusBuilder()
                      .withName("worker")
                      .withNewState()
                      .withNewTerminated()
                      .withExitCode(0)
                      .withStartedAt(created.minus(Duration.ofHours(1)).toString())
                      .withFinishedAt(Instant.now().plus(Duration.ofDays(365)).toString())
                      .endTerminated()
                      .endState()
                      .build()));
        });
    PodRecord ended = awaitRecord(uid, PodRecord::ended);
    Instant afterStop = Instant.now();
    assertThat(ended.lifetime().start()).isEqualTo(created);
    assertThat(ended.lifetime().end()).isBetween(beforeStop, afterStop);
    long billed = billing.meter().meterJob(uid).get(0).milliGpuMillis();
    assertThat(billed).isEqualTo(milliGpuMillis(ended));
    Thread.sleep(1500);
    assertThat(billing.meter().meterJob(uid).get(0).milliGpuMillis())
        .as("a finishedAt in the future does not keep charging")
        .isEqualTo(billed);
    client.resources(TrainingJob.class).inNamespace(NS).withName("dt-ts").delete();
  }

  @Test
  void thePriceIsTheOneFixedAtPlacementNotTheProvidersCurrentOne() throws Exception {
    pool(client, "r-dt-price", null, 1);
    client.resource(job("dt-price", "r-dt-price", 1, PAYER)).create();
    String uid = uid(client, "dt-price");
    Pod pod = fresh(client, awaitPods(client, "dt-price", 1).get(0));
    assertThat(PlacementTerms.readFrom(pod)).contains(new PlacementTerms(PRICE, 1000));
    // the provider raises its price after placement, before the pod runs
    client
        .resources(GpuProvider.class)
        .withName("prov-r-dt-price")
        .edit(
            p -> {
              p.getSpec().prices.get(0).pricePerGpuHour = "9.00";
              return p;
            });
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                providers
                    .price("prov-r-dt-price", BillingFixture.RTX4090)
                    .orElseThrow()
                    .toPlainString()
                    .equals("9.00"));
    new FakeKubelet(client).run(pod);
    PodRecord running = awaitRecord(uid, r -> !r.ended());
    assertThat(running.lifetime().priceWeiPerGpuHour()).isEqualTo(PRICE);
    assertThat(running.lifetime().milliGpus()).isEqualTo(1000);
    client.resources(TrainingJob.class).inNamespace(NS).withName("dt-price").delete();
  }

  /**
   * A tenant allowed to edit pods in its namespace rewrites the billing terms written on its pod
   * and labels before the meter first sees it running (price to 0 or x1000, GPUs x4, another
   * provider): the pod is billed at the terms the operator recorded when it placed it, its node's
   * provider is paid, and the metered cost is theirs.
   */
  @Test
  void aTenantRewritingThePodsTermsAnnotationsChangesNothingBilled() throws Exception {
    String payout = "0x00000000000000000000000000000000000000a1";
    pool(client, "r-dt-edit", payout, 2);
    // a provider the tenant colludes with, which it names on its pods
    pool(client, "r-dt-edit-other", "0x00000000000000000000000000000000000000b2", 0);
    client.resource(job("dt-edit", "r-dt-edit", 2, PAYER)).create();
    String uid = uid(client, "dt-edit");
    List<Pod> pods = awaitPods(client, "dt-edit", 2);
    String[][] forged = {{"0", "4000"}, {PRICE.multiply(BigInteger.valueOf(1000)).toString(), "1"}};
    for (int i = 0; i < 2; i++) {
      String[] terms = forged[i];
      client
          .pods()
          .inNamespace(NS)
          .withName(pods.get(i).getMetadata().getName())
          .edit(
              p -> {
                p.getMetadata().getAnnotations().put(PlacementTerms.PRICE_ANNOTATION, terms[0]);
                p.getMetadata()
                    .getAnnotations()
                    .put(PlacementTerms.MILLI_GPUS_ANNOTATION, terms[1]);
                p.getMetadata().getLabels().put("gpupool.io/provider", "prov-r-dt-edit-other");
                return p;
              });
    }
    FakeKubelet kubelet = new FakeKubelet(client);
    pods.forEach(p -> kubelet.run(fresh(client, p)));
    await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              billing.meter().meterJob(uid);
              return billing.store().pods(uid).size() == 2;
            });
    for (PodRecord r : billing.store().pods(uid).values()) {
      assertThat(r.lifetime().priceWeiPerGpuHour()).isEqualTo(PRICE);
      assertThat(r.lifetime().milliGpus()).isEqualTo(1000);
    }
    Thread.sleep(1200);
    pods.forEach(p -> kubelet.succeed(fresh(client, p)));
    await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              billing.meter().meterJob(uid);
              return billing.store().pods(uid).values().stream().allMatch(PodRecord::ended);
            });
    List<io.gpupool.billing.ledger.PairLedger> pairs = billing.meter().meterJob(uid);
    assertThat(pairs).hasSize(1);
    var ledger = pairs.get(0);
    assertThat(ledger.pair().provider()).as("the placed node's provider is paid").isEqualTo(payout);
    long milliGpuMillis =
        billing.store().pods(uid).values().stream()
            .mapToLong(DeliveredTimeIT::milliGpuMillis)
            .sum();
    assertThat(milliGpuMillis).isPositive();
    assertThat(ledger.milliGpuMillis()).isEqualTo(milliGpuMillis);
    assertThat(ledger.meteredWei())
        .as("the cost of the delivered time at the price fixed at placement")
        .isEqualTo(
            BigInteger.valueOf(milliGpuMillis)
                .multiply(PRICE)
                .divide(PairUsage.MILLI_GPU_MILLIS_PER_GPU_HOUR));
    client.resources(TrainingJob.class).inNamespace(NS).withName("dt-edit").delete();
  }

  @Test
  void podsTheOperatorDidNotPlaceAreNotMeteredAndAreCounted() throws Exception {
    pool(client, "r-dt-own", null, 1);
    client.resource(job("dt-own", "r-dt-own", 1, PAYER)).create();
    String uid = uid(client, "dt-own");
    Pod placed = fresh(client, awaitPods(client, "dt-own", 1).get(0));
    double before = ignored("job_missing") + ignored("no_owner");
    // a tenant copies the operator's pod: same labels, owner, terms; another name
    Pod copy = copyOf(placed, "dt-own-extra");
    // ... one naming a job that does not exist, and one with no owner at all
    Pod orphan =
        new PodBuilder(copy)
            .editMetadata()
            .withName("dt-own-orphan")
            .editFirstOwnerReference()
            .withUid("not-a-job")
            .endOwnerReference()
            .endMetadata()
            .build();
    Pod ownerless =
        new PodBuilder(copy)
            .editMetadata()
            .withName("dt-own-ownerless")
            .withOwnerReferences(List.of())
            .endMetadata()
            .build();
    FakeKubelet kubelet = new FakeKubelet(client);
    for (Pod p : List.of(copy, orphan, ownerless)) {
      kubelet.run(client.resource(p).create());
    }
    kubelet.run(placed);
    await().atMost(TIMEOUT).until(() -> ignored("job_missing") + ignored("no_owner") >= before + 2);
    // a copy naming the real job is "not placed" once the job's status had time to list it
    List<PodOwnership.Verdict> verdicts = new CopyOnWriteArrayList<>();
    String ns = "billing-own-" + Long.toHexString(System.nanoTime());
    try (ConfigMapBillingStore store = new ConfigMapBillingStore(client, ns);
        UsageMeter meter = meterPastTheGrace(store)) {
      meter.onIgnoredPod(verdicts::add);
      store.start();
      termsAsRecorded(store, placed, placed);
      meter.start();
      await()
          .atMost(TIMEOUT)
          .until(
              () -> {
                meter.meterAll();
                return store.pods(uid).size() == 1;
              });
      assertThat(store.pods(uid)).containsOnlyKeys(placed.getMetadata().getUid());
      assertThat(verdicts)
          .contains(
              PodOwnership.Verdict.NOT_PLACED,
              PodOwnership.Verdict.JOB_MISSING,
              PodOwnership.Verdict.NO_OWNER);
    }
    billing.meter().meterAll();
    assertThat(billing.store().pods(uid)).containsOnlyKeys(placed.getMetadata().getUid());
    client.resources(TrainingJob.class).inNamespace(NS).withName("dt-own").delete();
  }

  /**
   * A running pod its job's status does not list past the grace (a leader died between creating the
   * gang and writing its status) is metered once the status lists it: it was ignored for good, and
   * its usage lost (ChaosE2E).
   */
  @Test
  void aPodListedInItsJobsStatusOnlyAfterTheGraceIsStillMetered() throws Exception {
    Placed placement = placed("dt-late");
    String uid = placement.jobUid();
    Pod placed = placement.pod();
    Pod running = client.resource(copyOf(placed, "dt-late-adopted")).create();
    new FakeKubelet(client).run(running);
    String lateUid = running.getMetadata().getUid();
    String ns = "billing-late-" + Long.toHexString(System.nanoTime());
    List<PodOwnership.Verdict> verdicts = new CopyOnWriteArrayList<>();
    try (ConfigMapBillingStore store = new ConfigMapBillingStore(client, ns);
        UsageMeter meter = meterPastTheGrace(store)) {
      meter.onIgnoredPod(verdicts::add);
      store.start();
      // the leader that died had recorded the gang's terms before creating it
      termsAsRecorded(store, placed, running);
      meter.start();
      await()
          .atMost(TIMEOUT)
          .until(
              () -> {
                meter.meterAll();
                return verdicts.contains(PodOwnership.Verdict.NOT_PLACED);
              });
      meter.meterAll();
      assertThat(store.pods(uid)).doesNotContainKey(lateUid);
      assertThat(verdicts).as("counted once").containsOnlyOnce(PodOwnership.Verdict.NOT_PLACED);
      // the new leader adopts it: its job's status lists it, on its node
      listAsRank1("dt-late", running);
      await()
          .atMost(TIMEOUT)
          .until(
              () -> {
                meter.meterAll();
                return store.pods(uid).containsKey(lateUid);
              });
    }
    client.resources(TrainingJob.class).inNamespace(NS).withName("dt-late").delete();
  }

  /**
   * A pod the operator deletes as its job's own is metered though no status ever listed it (its
   * creator died first; the next leader's first step deletes it), also when that step read it
   * before it ran: its start shows only in the events that follow. A pod merely seen unlisted is
   * not.
   */
  @Test
  void aPodTheOperatorDeletesIsMeteredThoughNoStatusListedIt() throws Exception {
    Placed placement = placed("dt-rm");
    String uid = placement.jobUid();
    Pod placed = placement.pod();
    Pod removed = client.resource(copyOf(placed, "dt-rm-removed")).create();
    Pod seen = client.resource(copyOf(placed, "dt-rm-seen")).create();
    String ns = "billing-rm-" + Long.toHexString(System.nanoTime());
    try (ConfigMapBillingStore store = new ConfigMapBillingStore(client, ns);
        UsageMeter meter = meter(store, Clock.systemUTC())) {
      store.start();
      termsAsRecorded(store, placed, removed);
      termsAsRecorded(store, placed, seen);
      meter.start();
      TrainingJob job = client.resources(TrainingJob.class).inNamespace(NS).withName("dt-rm").get();
      // the deleting step read it still Pending: it starts before the deletion reaches it
      meter.removing(job, List.of(removed));
      FakeKubelet kubelet = new FakeKubelet(client);
      kubelet.run(removed);
      kubelet.run(seen);
      Thread.sleep(1100);
      client.pods().inNamespace(NS).withName("dt-rm-removed").delete();
      client.pods().inNamespace(NS).withName("dt-rm-seen").delete();
      String removedUid = removed.getMetadata().getUid();
      await()
          .atMost(TIMEOUT)
          .until(
              () -> {
                meter.meterAll();
                PodRecord r = store.pods(uid).get(removedUid);
                return r != null && r.ended();
              });
      await()
          .atMost(TIMEOUT)
          .until(() -> client.pods().inNamespace(NS).withName("dt-rm-seen").get() == null);
      meter.meterAll();
      assertThat(store.pods(uid))
          .as("only the pod the operator deleted")
          .containsOnlyKeys(removedUid);
      assertThat(milliGpuMillis(store.pods(uid).get(removedUid))).isPositive();
    }
    client.resources(TrainingJob.class).inNamespace(NS).withName("dt-rm").delete();
  }

  /**
   * The usage of a pod the operator deletes is stored before the delete: a leader killed right
   * after it, before its meter saw the pod end (or its next pass), left the next leader nothing to
   * meter, the pod being gone.
   */
  @Test
  void aPodsUsageIsStoredBeforeTheOperatorDeletesIt() throws Exception {
    Placed placement = placed("dt-kill");
    String uid = placement.jobUid();
    String ns = "billing-kill-" + Long.toHexString(System.nanoTime());
    try (ConfigMapBillingStore store = new ConfigMapBillingStore(client, ns)) {
      store.start();
      Pod running = handedOverByADyingLeader("dt-kill", placement, "dt-kill-removed", store);
      // SIGKILLed right after the delete, before its event reached its meter
      client.pods().inNamespace(NS).withName("dt-kill-removed").delete();
      PodRecord stored = store.pods(uid).get(running.getMetadata().getUid());
      assertThat(stored).as("stored before the delete").isNotNull();
      assertThat(milliGpuMillis(stored)).isPositive();
    }
    client.resources(TrainingJob.class).inNamespace(NS).withName("dt-kill").delete();
  }

  /**
   * A pod metered as it was being deleted whose delete never came (the leader died first), and that
   * the next leader's job status lists: counted once, by its UID, from its start to its end, not
   * once from the hand-off and again from the listing.
   */
  @Test
  void aPodMeteredBeforeADeleteThatNeverCameAndListedLaterIsCountedOnce() throws Exception {
    Placed placement = placed("dt-once");
    String uid = placement.jobUid();
    String ns = "billing-once-" + Long.toHexString(System.nanoTime());
    try (ConfigMapBillingStore store = new ConfigMapBillingStore(client, ns)) {
      store.start();
      // SIGKILLed before the delete: the pod runs on
      Pod running = handedOverByADyingLeader("dt-once", placement, "dt-once-kept", store);
      String podUid = running.getMetadata().getUid();
      assertThat(store.pods(uid)).as("stored before the delete").containsOnlyKeys(podUid);
      // the next leader adopts it (its job's status lists it) and meters it to its end
      listAsRank1("dt-once", running);
      try (UsageMeter next = meter(store, Clock.systemUTC())) {
        next.start();
        Thread.sleep(1100);
        next.meterAll();
        new FakeKubelet(client).succeed(running);
        await()
            .atMost(TIMEOUT)
            .until(
                () -> {
                  next.meterAll();
                  PodRecord r = store.pods(uid).get(podUid);
                  return r != null && r.ended();
                });
      }
      Pod ended = fresh(client, running);
      long once = BillingFixture.milliGpuMillis(startedAt(running), finishedAt(ended));
      assertThat(store.pods(uid)).containsOnlyKeys(podUid);
      assertThat(milliGpuMillis(store.pods(uid).get(podUid))).isEqualTo(once);
      assertThat(store.pairs(uid).stream().mapToLong(PairLedger::milliGpuMillis).sum())
          .as("the job's usage holds the pod's time once")
          .isEqualTo(once);
    }
    client.resources(TrainingJob.class).inNamespace(NS).withName("dt-once").delete();
  }

  /**
   * Pods placed by an older operator that kept no terms record, first seen running after an
   * upgrade: their job's status lists them on their nodes, so they are billed, at terms the
   * operator rebuilds from its own view (the node's provider, that provider's price at adoption,
   * the GPUs the pod holds), never from what the tenant wrote on the pods. They went unbilled
   * (no_terms).
   */
  @Test
  void podsPlacedByAnOlderOperatorWithoutATermsRecordAreBilledAtTermsFromTheOperatorsView()
      throws Exception {
    String payout = "0x00000000000000000000000000000000000000c3";
    pool(client, "r-dt-old", payout, 2);
    pool(client, "r-dt-old-other", "0x00000000000000000000000000000000000000d4", 0);
    client.resource(job("dt-old", "r-dt-old", 2, PAYER)).create();
    String uid = uid(client, "dt-old");
    List<Pod> placed = awaitPods(client, "dt-old", 2);
    FakeKubelet kubelet = new FakeKubelet(client);
    for (Pod pod : placed) {
      // the tenant rewrites what it can on the pod: terms annotations and the provider label
      client
          .pods()
          .inNamespace(NS)
          .withName(pod.getMetadata().getName())
          .edit(
              p -> {
                p.getMetadata().getAnnotations().put(PlacementTerms.PRICE_ANNOTATION, "1");
                p.getMetadata().getAnnotations().put(PlacementTerms.MILLI_GPUS_ANNOTATION, "1");
                p.getMetadata().getLabels().put("gpupool.io/provider", "prov-r-dt-old-other");
                return p;
              });
      kubelet.run(fresh(client, pod));
    }
    String ns = "billing-old-" + Long.toHexString(System.nanoTime());
    List<PodOwnership.Verdict> verdicts = new CopyOnWriteArrayList<>();
    // the upgraded operator's usage records: none for this job (the older one kept no terms)
    try (ConfigMapBillingStore store = new ConfigMapBillingStore(client, ns);
        UsageMeter meter = meterPastTheGrace(store)) {
      meter.onIgnoredPod(verdicts::add);
      billing.rebuildTermsOnAdoption(meter);
      store.start();
      meter.start();
      // both pods: the first one's rebuilt terms do not make the second look unplaced
      await()
          .atMost(TIMEOUT)
          .until(
              () -> {
                meter.meterAll();
                return store.pods(uid).size() == 2;
              });
      assertThat(verdicts).doesNotContain(PodOwnership.Verdict.NO_TERMS);
      for (PodRecord record : store.pods(uid).values()) {
        assertThat(record.providerName()).isEqualTo("prov-r-dt-old");
        assertThat(record.lifetime().pair().provider()).isEqualTo(payout);
        assertThat(record.lifetime().priceWeiPerGpuHour()).isEqualTo(PRICE);
        assertThat(record.lifetime().milliGpus()).isEqualTo(1000);
      }
      for (Pod pod : placed) {
        assertThat(store.terms(uid, pod.getMetadata().getName()))
            .as("rebuilt once and kept: later price changes do not move it")
            .contains(
                new PlacedTerms(
                    pod.getSpec().getNodeName(), "prov-r-dt-old", new PlacementTerms(PRICE, 1000)));
      }
      assertThat(store.placedTermsRecorded(uid)).as("rebuilt, not recorded at placement").isFalse();
    }
    client.resources(TrainingJob.class).inNamespace(NS).withName("dt-old").delete();
  }

  /**
   * A running copy of {@code placement}'s pod under {@code podName}, its terms recorded in {@code
   * store}, handed to a meter over {@code store} as {@code job}'s pod being deleted ({@code
   * UsageMeter.removing}) by a leader that dies right after; the pod is left as it is.
   */
  private Pod handedOverByADyingLeader(
      String job, Placed placement, String podName, ConfigMapBillingStore store)
      throws InterruptedException {
    Pod placed = placement.pod();
    Pod created = client.resource(copyOf(placed, podName)).create();
    new FakeKubelet(client).run(created);
    Pod running = fresh(client, created);
    assertThat(running.getStatus().getPhase()).isEqualTo("Running");
    termsAsRecorded(store, placed, running);
    TrainingJob deleting = client.resources(TrainingJob.class).inNamespace(NS).withName(job).get();
    try (UsageMeter dying = meter(store, Clock.systemUTC())) {
      dying.start();
      Thread.sleep(2100); // past the second a running pod's charge trails its view
      dying.removing(deleting, List.of(running));
    }
    return running;
  }

  /** Lists {@code pod} as rank 1 of {@code job} on its node, as a leader adopting it would. */
  private void listAsRank1(String job, Pod pod) {
    client
        .resources(TrainingJob.class)
        .inNamespace(NS)
        .withName(job)
        .editStatus(
            j -> {
              var listed = new io.gpupool.api.v1alpha1.RankPlacement();
              listed.rank = 1;
              listed.pod = pod.getMetadata().getName();
              listed.node = pod.getSpec().getNodeName();
              j.getStatus().placements.add(listed);
              return j;
            });
  }

  /**
   * Records in {@code store} for {@code pod} the terms the operator recorded for {@code placed}
   * when it placed it, as the operator does before creating a pod.
   */
  private void termsAsRecorded(ConfigMapBillingStore store, Pod placed, Pod pod) {
    JobRef job = JobRef.of(placed).orElseThrow();
    PlacedTerms terms =
        billing.store().terms(job.uid(), placed.getMetadata().getName()).orElseThrow();
    store.putTerms(job, Map.of(pod.getMetadata().getName(), terms));
  }

  /**
   * The operator's pod copied under {@code name} (no uid, version, creation or status), in another
   * gang generation: the job's own loop leaves it alone.
   */
  private static Pod copyOf(Pod placed, String name) {
    return new PodBuilder(placed)
        .editMetadata()
        .withName(name)
        .addToLabels("gpupool.io/gang-generation", "99")
        .withUid(null)
        .withResourceVersion(null)
        .withCreationTimestamp(null)
        .endMetadata()
        .withStatus(null)
        .build();
  }

  /**
   * A second meter over {@code store} whose clock runs two minutes on: past the grace in which a
   * job's status must list its pods.
   */
  private UsageMeter meterPastTheGrace(ConfigMapBillingStore store) {
    return meter(store, Clock.offset(Clock.systemUTC(), Duration.ofMinutes(2)));
  }

  /** A second meter over {@code store} (another leader's), passing only when told to. */
  private UsageMeter meter(ConfigMapBillingStore store, Clock clock) {
    return new UsageMeter(client, clusterPods, providers, nodes, store, clock, Duration.ofHours(1));
  }

  /** A one-worker TrainingJob (its UID) and the pod the operator placed for it. */
  private record Placed(String jobUid, Pod pod) {}

  /** {@code name} in a region of its own ({@code r-<name>}), once its pod is placed. */
  private Placed placed(String name) {
    pool(client, "r-" + name, null, 1);
    client.resource(job(name, "r-" + name, 1, PAYER)).create();
    return new Placed(uid(client, name), fresh(client, awaitPods(client, name, 1).get(0)));
  }

  private double ignored(String reason) {
    var c = registry.find("gpupool.billing.unowned.pods.ignored").tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }
}
