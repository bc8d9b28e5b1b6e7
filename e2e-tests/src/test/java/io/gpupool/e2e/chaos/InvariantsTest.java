package io.gpupool.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.e2e.chaos.Violation.Kind;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InvariantsTest {
  private static final String PROVIDER = "0x00000000000000000000000000000000000000aa";
  private static final String PAYER = "0x00000000000000000000000000000000000000bb";

  private static Node node(String name, int gpus) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewStatus()
        .addToAllocatable("nvidia.com/gpu", new Quantity(Integer.toString(gpus)))
        .endStatus()
        .build();
  }

  private static TrainingJob job(String name, TrainingJobPhase phase) {
    TrainingJob j = new TrainingJob();
    j.getMetadata().setName(name);
    j.getMetadata().setNamespace("default");
    j.getMetadata().setUid("uid-" + name);
    j.setSpec(new TrainingJobSpec());
    j.setStatus(new TrainingJobStatus());
    j.getStatus().phase = phase;
    j.getStatus().restarts = 0;
    return j;
  }

  private static Pod pod(String name, String job, int rank, String node, int gpus, String phase) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace("default")
        .withUid("pod-uid-" + name)
        .addToLabels("gpupool.io/job-name", job)
        .addToLabels("gpupool.io/rank", Integer.toString(rank))
        .addNewOwnerReference()
        .withKind("TrainingJob")
        .withName(job)
        .withUid("uid-" + job)
        .endOwnerReference()
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .addNewContainer()
        .withName("worker")
        .withNewResources()
        .addToLimits("nvidia.com/gpu", new Quantity(Integer.toString(gpus)))
        .endResources()
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase(phase)
        .addToContainerStatuses(
            new ContainerStatusBuilder()
                .withName("worker")
                .withNewState()
                .withNewTerminated()
                .withExitCode(0)
                .withStartedAt("2026-12-06T07:00:00Z")
                .withFinishedAt("2026-12-06T07:01:00Z")
                .endTerminated()
                .endState()
                .build())
        .endStatus()
        .build();
  }

  private static ConfigMap usage(String job, String metered, String settled, String... podNames) {
    ConfigMapBuilder b =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName("gpupool-usage-uid-" + job)
            .withNamespace("gpupool-system")
            .endMetadata()
            .addToData(
                "pair." + PAYER + "." + PROVIDER,
                "{\"jobId\":\"uid-%s\",\"payer\":\"%s\",\"provider\":\"%s\",\"meteredWei\":\"%s\",\"settledWei\":\"%s\",\"chainOwedWei\":\"0\"}"
                    .formatted(job, PAYER, PROVIDER, metered, settled));
    for (String p : podNames) {
      b.addToData("pod.pod-uid-" + p, "{}");
    }
    return b.build();
  }

  /** Two finished jobs, each pod metered, settled and paid to the wei. */
  private static ClusterView healthy() {
    return new ClusterView(
        List.of(node("n1", 4)),
        List.of(job("a", TrainingJobPhase.Succeeded), job("b", TrainingJobPhase.Succeeded)),
        List.of(
            pod("a-0", "a", 0, "n1", 2, "Succeeded"),
            pod("a-1", "a", 1, "n1", 2, "Succeeded"),
            pod("b-0", "b", 0, "n1", 4, "Succeeded")),
        List.of(),
        List.of(usage("a", "100", "100", "a-0", "a-1"), usage("b", "50", "50", "b-0")));
  }

  private static Map<String, BigInteger> paid(long wei) {
    return Map.of(PROVIDER.toUpperCase().replace("0X", "0x"), BigInteger.valueOf(wei));
  }

  private static List<Kind> kinds(List<Violation> violations) {
    return violations.stream().map(Violation::kind).toList();
  }

  @Test
  void aRunThatEndedCleanlyBreaksNothing() {
    assertThat(Invariants.atEnd(healthy(), paid(150))).isEmpty();
  }

  @Test
  void twoLivePodsForOneRankAreADuplicateButAFinishedOrDeletingOneIsNot() {
    ClusterView v = healthy();
    List<Pod> pods = new ArrayList<>(v.pods());
    pods.add(pod("a-0-again", "a", 0, "n2", 1, "Running"));
    pods.add(pod("a-0-third", "a", 0, "n2", 1, "Running"));
    pods.add(pod("a-1-old", "a", 1, "n2", 1, "Failed"));
    Pod deleting = pod("a-1-deleting", "a", 1, "n2", 1, "Running");
    deleting.getMetadata().setDeletionTimestamp("2026-12-06T07:02:00Z");
    pods.add(deleting);
    List<Violation> out =
        Invariants.continuous(
            new ClusterView(v.nodes(), v.jobs(), pods, v.services(), v.usageRecords()), paid(150));
    assertThat(kinds(out)).containsExactly(Kind.DUPLICATE_RANK);
    assertThat(out.get(0).detail()).contains("default/a rank 0").contains("a-0-again", "a-0-third");
  }

  @Test
  void liveGpusOverANodesAllocatableAreAnOverCommit() {
    ClusterView v =
        new ClusterView(
            List.of(node("n1", 4)),
            List.of(job("a", TrainingJobPhase.Running), job("b", TrainingJobPhase.Running)),
            List.of(
                pod("a-0", "a", 0, "n1", 2, "Running"),
                pod("b-0", "b", 0, "n1", 3, "Pending"),
                pod("c-0", "a", 1, "n1", 4, "Succeeded")),
            List.of(),
            List.of());
    List<Violation> out = Invariants.continuous(v, Map.of());
    assertThat(kinds(out)).containsExactly(Kind.GPU_OVERCOMMIT);
    assertThat(out.get(0).detail())
        .isEqualTo("n1: live pods ask 5 nvidia.com/gpu, it has 4 [a-0=2, b-0=3]");
  }

  @Test
  void podsOfAJobThatIsGoneOrLiveAfterItEndedAreOrphans() {
    ClusterView v = healthy();
    List<Pod> pods = new ArrayList<>(v.pods());
    pods.add(pod("gone-0", "gone", 0, "n1", 0, "Succeeded"));
    pods.add(pod("b-1", "b", 1, "n1", 0, "Running"));
    List<Violation> out =
        Invariants.atEnd(
            new ClusterView(v.nodes(), v.jobs(), pods, v.services(), v.usageRecords()), paid(150));
    assertThat(out)
        .extracting(Violation::detail)
        .anySatisfy(d -> assertThat(d).contains("gone-0").contains("is gone"))
        .anySatisfy(d -> assertThat(d).contains("b-1 is still live after its job ended"));
    assertThat(kinds(out)).contains(Kind.ORPHAN).doesNotContain(Kind.DUPLICATE_RANK);
  }

  @Test
  void aJobMustEndSucceededOrFailedForAReasonItsSpecAllows() {
    TrainingJob running = job("running", TrainingJobPhase.Running);
    TrainingJob silent = job("silent", TrainingJobPhase.Failed);
    TrainingJob early = job("early", TrainingJobPhase.Failed);
    early.getStatus().restarts = 1;
    early.getStatus().conditions.add(failed("BackoffLimitExceeded", "worker 0 failed"));
    TrainingJob honest = job("honest", TrainingJobPhase.Failed);
    honest.getStatus().restarts = 3;
    honest.getStatus().conditions.add(failed("BackoffLimitExceeded", "backoffLimit 3 reached"));
    ClusterView v =
        new ClusterView(
            List.of(), List.of(running, silent, early, honest), List.of(), List.of(), List.of());
    List<Violation> out = Invariants.atEnd(v, Map.of());
    assertThat(out).extracting(Violation::kind).containsOnly(Kind.NOT_FINAL);
    assertThat(out)
        .extracting(Violation::detail)
        .containsExactly(
            "default/running is still Running",
            "default/silent Failed without a Failed condition giving a reason",
            "default/early Failed (BackoffLimitExceeded) after 1 restarts, its backoffLimit is 3");
  }

  /** A run that ends with jobs waiting must say what they wait for (CI showed only "Pending"). */
  @Test
  void aJobStillWaitingAtTheEndNamesWhatItWaitsFor() {
    TrainingJob waiting = job("waiting", TrainingJobPhase.Pending);
    waiting
        .getStatus()
        .conditions
        .add(
            new ConditionBuilder()
                .withType("Scheduled")
                .withStatus("False")
                .withReason("Unschedulable")
                .withMessage("payer 0xbb: escrow not read, the chain RPC is down")
                .build());
    waiting.getStatus().conditions.add(failed("Unrelated", "true conditions are left out"));
    ClusterView v = new ClusterView(List.of(), List.of(waiting), List.of(), List.of(), List.of());
    assertThat(Invariants.atEnd(v, Map.of()))
        .extracting(Violation::detail)
        .containsExactly(
            "default/waiting is still Pending (Scheduled=False Unschedulable: payer 0xbb: escrow"
                + " not read, the chain RPC is down)");
  }

  private static io.fabric8.kubernetes.api.model.Condition failed(String reason, String message) {
    return new ConditionBuilder()
        .withType("Failed")
        .withStatus("True")
        .withReason(reason)
        .withMessage(message)
        .build();
  }

  @Test
  void theChainMustHoldExactlyWhatWasSettledAndSettledWhatWasMetered() {
    assertThat(Invariants.atEnd(healthy(), paid(149)))
        .extracting(Violation::toString)
        .containsExactly(
            "LEDGER_MISMATCH: " + PROVIDER + ": on chain 149, settled 150, metered 150 wei");
    ClusterView unsettled =
        new ClusterView(
            healthy().nodes(),
            healthy().jobs(),
            healthy().pods(),
            List.of(),
            List.of(usage("a", "100", "90", "a-0", "a-1"), usage("b", "50", "50", "b-0")));
    assertThat(Invariants.atEnd(unsettled, paid(140)))
        .extracting(Violation::kind)
        .containsExactly(Kind.LEDGER_MISMATCH);
    assertThat(Invariants.continuous(unsettled, paid(140)))
        .as("settling is not quiet yet")
        .isEmpty();
  }

  @Test
  void moreOnChainThanEverMeteredIsUsagePaidTwice() {
    List<Violation> out = Invariants.continuous(healthy(), paid(151));
    assertThat(out)
        .extracting(Violation::toString)
        .containsExactly("PAID_TWICE: " + PROVIDER + " holds 151 wei on chain, metered only 150");
  }

  @Test
  void usageWithoutAPayerIsNeverSettledAndNotCounted() {
    ConfigMap unbudgeted =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName("gpupool-usage-uid-free")
            .endMetadata()
            .addToData(
                "pair.x",
                "{\"payer\":\""
                    + Invariants.ZERO_ADDRESS
                    + "\",\"provider\":\""
                    + PROVIDER
                    + "\",\"meteredWei\":\"999\",\"settledWei\":\"0\"}")
            .build();
    ClusterView v = healthy();
    List<ConfigMap> records = new ArrayList<>(v.usageRecords());
    records.add(unbudgeted);
    assertThat(
            Invariants.atEnd(
                new ClusterView(v.nodes(), v.jobs(), v.pods(), v.services(), records), paid(150)))
        .isEmpty();
  }

  @Test
  void aPodThatRanWithoutAUsageRecordIsLost() {
    ClusterView v =
        new ClusterView(
            healthy().nodes(),
            healthy().jobs(),
            healthy().pods(),
            List.of(),
            List.of(usage("a", "100", "100", "a-0")));
    assertThat(Invariants.atEnd(v, paid(100)))
        .extracting(Violation::toString)
        .containsExactlyInAnyOrder(
            "RECORD_LOST: pod default/a-1 ran, but its job's usage record has no pod.pod-uid-a-1",
            "RECORD_LOST: pod default/b-0 ran, but its job has no usage record");
  }

  private static InferenceJob serving(String name, InferenceJobPhase phase) {
    InferenceJob j = new InferenceJob();
    j.getMetadata().setName(name);
    j.getMetadata().setNamespace("default");
    j.getMetadata().setUid("uid-" + name);
    j.setStatus(new InferenceJobStatus());
    j.getStatus().phase = phase;
    return j;
  }

  /** A replica's pod: no rank, owned by the InferenceJob {@code job}. */
  private static Pod replicaPod(String name, String job, String node, int gpus, String phase) {
    Pod p = pod(name, job, 0, node, gpus, phase);
    p.getMetadata().getLabels().remove("gpupool.io/rank");
    p.getMetadata().getOwnerReferences().get(0).setKind("InferenceJob");
    return p;
  }

  /** The healthy run plus one InferenceJob {@code phase} whose pods are {@code pods}. */
  private static ClusterView withInference(
      InferenceJobPhase phase, List<Pod> pods, List<ConfigMap> records) {
    ClusterView v = healthy();
    List<Pod> allPods = new ArrayList<>(v.pods());
    allPods.addAll(pods);
    List<ConfigMap> allRecords = new ArrayList<>(v.usageRecords());
    allRecords.addAll(records);
    return new ClusterView(
        v.nodes(), v.jobs(), allPods, v.services(), allRecords, List.of(serving("chat", phase)));
  }

  @Test
  void aSuspendedInferenceJobWhosePodsRanAndWereMeteredBreaksNothing() {
    ClusterView v =
        withInference(
            InferenceJobPhase.Suspended,
            List.of(replicaPod("chat-r0", "chat", "n1", 1, "Succeeded")),
            List.of(usage("chat", "30", "30", "chat-r0")));
    assertThat(Invariants.atEnd(v, paid(180))).isEmpty();
  }

  @Test
  void anInferenceJobStillServingOrWithALivePodAtTheEndIsNotFinal() {
    ClusterView stillServing =
        withInference(
            InferenceJobPhase.Serving,
            List.of(replicaPod("chat-r0", "chat", "n1", 1, "Succeeded")),
            List.of(usage("chat", "30", "30", "chat-r0")));
    assertThat(Invariants.atEnd(stillServing, paid(180)))
        .extracting(Violation::toString)
        .containsExactly("NOT_FINAL: default/chat is still Serving");

    ClusterView livePod =
        withInference(
            InferenceJobPhase.Suspended,
            List.of(replicaPod("chat-r0", "chat", "n1", 1, "Running")),
            List.of(usage("chat", "30", "30", "chat-r0")));
    assertThat(kinds(Invariants.atEnd(livePod, paid(180)))).containsExactly(Kind.ORPHAN);
  }

  @Test
  void aReplicaPodThatRanWithoutAUsageRecordIsLostAndOneOfAGoneInferenceJobIsAnOrphan() {
    ClusterView unmetered =
        withInference(
            InferenceJobPhase.Suspended,
            List.of(replicaPod("chat-r0", "chat", "n1", 1, "Succeeded")),
            List.of());
    assertThat(Invariants.atEnd(unmetered, paid(150)))
        .extracting(Violation::toString)
        .containsExactly("RECORD_LOST: pod default/chat-r0 ran, but its job has no usage record");

    ClusterView v = healthy();
    List<Pod> pods = new ArrayList<>(v.pods());
    pods.add(replicaPod("gone-r0", "gone", "n1", 1, "Running"));
    assertThat(
            Invariants.continuous(
                new ClusterView(v.nodes(), v.jobs(), pods, v.services(), v.usageRecords()),
                paid(150)))
        .extracting(Violation::kind)
        .containsExactly(Kind.ORPHAN);
  }

  @Test
  void replicaPodsCountTowardsANodesGpus() {
    ClusterView v =
        withInference(
            InferenceJobPhase.Serving,
            List.of(replicaPod("chat-r0", "chat", "n1", 1, "Running")),
            List.of(usage("chat", "0", "0")));
    List<Pod> pods = new ArrayList<>(v.pods());
    pods.add(pod("c-0", "c", 0, "n1", 4, "Running"));
    assertThat(
            kinds(
                Invariants.continuous(
                    new ClusterView(
                        v.nodes(),
                        List.of(job("c", TrainingJobPhase.Running)),
                        pods,
                        v.services(),
                        v.usageRecords(),
                        v.inferenceJobs()),
                    paid(0))))
        .contains(Kind.GPU_OVERCOMMIT);
  }
}
