package io.gpupool.operator.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.operator.allocation.AllocationLedger;
import io.gpupool.operator.allocation.NodeHoldings;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.SharingStrategy;
import io.gpupool.operator.trust.ChallengeRunner;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.NodeRequirement;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.plan.Plan;
import io.gpupool.scheduler.plan.PlanResult;
import io.gpupool.scheduler.plan.Scheduler;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * A pod template's preferred node affinity reaches the planner:
 * examples/workloads/ddp-spotcheck.yaml as a user applies it, translated as the operator translates
 * it, over nodes shaped like the sandbox's zone us-east-1b, lands on the preferred (dearer)
 * provider's RTX 4090 node, and on the honest A100s once that node is quarantined.
 */
class PreferredAffinityTest {
  private static final String BARGAIN_4090 = "us-east-4090-bargain-1";
  private static final String PROVIDER_LABEL = "gpupool.io/provider";

  private static GpuNode node(String name, String provider, String product, int gpus, int mib) {
    return new GpuNode(
        name,
        provider,
        "us-east",
        "us-east-1b",
        product,
        product.contains("A100") ? "ampere" : "ada-lovelace",
        8,
        product.contains("A100") ? 0 : 9,
        gpus,
        mib,
        SharingStrategy.NONE,
        1,
        "nvidia.com/gpu",
        gpus,
        Map.of(),
        64000,
        1L << 38,
        true,
        (Instant) null,
        true);
  }

  private static final List<GpuNode> ZONE =
      List.of(
          node(BARGAIN_4090, "bargain-h100-hub", "NVIDIA-GeForce-RTX-4090", 2, 24564),
          node("us-east-a100-1", "lakeside-labs", "NVIDIA-A100-SXM4-80GB", 4, 81920),
          node("us-east-a100-2", "lakeside-labs", "NVIDIA-A100-SXM4-80GB", 4, 81920));

  private static final Map<String, BigDecimal> PRICE =
      Map.of(
          "NVIDIA-GeForce-RTX-4090",
          new BigDecimal("0.95"),
          "NVIDIA-A100-SXM4-80GB",
          new BigDecimal("1.49"));

  private static PoolView view() {
    return new PoolView(
            ZONE,
            (provider, product) -> Optional.ofNullable(PRICE.get(product)),
            provider -> provider.startsWith("bargain") ? 0.5 : 0.99,
            false)
        .labelled(
            name ->
                Map.of(
                    PROVIDER_LABEL,
                    name.contains("bargain") ? "bargain-h100-hub" : "lakeside-labs"));
  }

  private static TrainingJob example() throws IOException {
    return Serialization.unmarshal(
        Files.readString(Path.of("..", "examples", "workloads", "ddp-spotcheck.yaml")),
        TrainingJob.class);
  }

  private static TreeSet<String> nodesOf(PlanResult r) {
    assertThat(r).isInstanceOf(Plan.class);
    TreeSet<String> out = new TreeSet<>();
    ((Plan) r).ranks().forEach(x -> out.add(x.node()));
    return out;
  }

  @Test
  void theExamplesPreferredTermIsTranslatedWithItsWeight() throws IOException {
    JobRequest r = JobRequests.training("default/ddp-spotcheck", example());
    assertThat(r.preferredNodes()).hasSize(1);
    assertThat(r.preferredNodes().get(0).weight()).isEqualTo(100);
    assertThat(r.preferredNodes().get(0).term().labels())
        .containsExactly(new NodeRequirement(PROVIDER_LABEL, "In", List.of("bargain-h100-hub")));
  }

  @Test
  void theExampleLandsOnThePreferredNodeAndOnTheA100sOnceItIsQuarantined() throws IOException {
    TrainingJob job = example();
    JobRequest r = JobRequests.training("default/ddp-spotcheck", job);
    PoolSnapshot pool = view().snapshot(Map.of());
    assertThat(nodesOf(new Scheduler().plan(r, pool))).containsExactly(BARGAIN_4090);

    job.getSpec()
        .template
        .affinity
        .getNodeAffinity()
        .setPreferredDuringSchedulingIgnoredDuringExecution(List.of());
    assertThat(nodesOf(new Scheduler().plan(JobRequests.training("other", job), pool)))
        .as("without the preference the planner takes the A100s")
        .allMatch(n -> n.startsWith("us-east-a100-"));

    PoolSnapshot quarantined =
        view().excluding(Map.of(BARGAIN_4090, "quarantined after WrongWork")).snapshot(Map.of());
    assertThat(nodesOf(new Scheduler().plan(r, quarantined)))
        .allMatch(n -> n.startsWith("us-east-a100-"));
  }

  @Test
  void aViewWithoutLabelsPrefersNothing() throws IOException {
    JobRequest r = JobRequests.training("default/ddp-spotcheck", example());
    PoolSnapshot unlabelled =
        new PoolView(
                ZONE,
                (provider, product) -> Optional.ofNullable(PRICE.get(product)),
                provider -> 0.99,
                false)
            .snapshot(Map.of());
    assertThat(nodesOf(new Scheduler().plan(r, unlabelled)))
        .allMatch(n -> n.startsWith("us-east-a100-"));
  }

  @Test
  void aPreferredNodeUnderTheOperatorsChallengeIsWaitedForAJobsIsNot() throws IOException {
    JobRequest r = JobRequests.training("default/ddp-spotcheck", example());
    Scheduler scheduler = new Scheduler();
    Map<String, Map<String, Integer>> challenged =
        Map.of("challenge:" + BARGAIN_4090, Map.of(BARGAIN_4090, 2));
    assertThat(awaited(scheduler, r, challenged)).containsExactly(BARGAIN_4090);
    assertThat(PreferredNodesUnderChallenge.describe(Set.of(BARGAIN_4090)))
        .contains("hardware challenge on its preferred node " + BARGAIN_4090);

    Map<String, Map<String, Integer>> heldByAJob =
        Map.of("default/tinyllama-finetune", Map.of(BARGAIN_4090, 2));
    assertThat(awaited(scheduler, r, heldByAJob))
        .as("a job's hold is not waited for: the preference ranks what is free")
        .isEmpty();

    Map<String, Map<String, Integer>> anA100Challenged =
        Map.of("challenge:us-east-a100-1", Map.of("us-east-a100-1", 4));
    assertThat(awaited(scheduler, r, anA100Challenged))
        .as("a node the job does not prefer is not waited for")
        .isEmpty();

    TrainingJob plain = example();
    plain
        .getSpec()
        .template
        .affinity
        .getNodeAffinity()
        .setPreferredDuringSchedulingIgnoredDuringExecution(List.of());
    assertThat(awaited(scheduler, JobRequests.training("plain", plain), challenged)).isEmpty();
  }

  @Test
  void theNodeGoesToTheJobThatWaitedForItsChallengeNotToTheFirstToAsk() throws IOException {
    Scheduler scheduler = new Scheduler();
    JobRequest waiting = JobRequests.training("default/ddp-spotcheck", example());
    TrainingJob oneGpu = example();
    oneGpu.getSpec().parallelism.workers = 1;
    oneGpu.getSpec().resources.gpuModels = List.of("NVIDIA-GeForce-RTX-4090");
    oneGpu
        .getSpec()
        .template
        .affinity
        .getNodeAffinity()
        .setPreferredDuringSchedulingIgnoredDuringExecution(List.of());
    JobRequest other = JobRequests.training("default/other", oneGpu);

    AllocationLedger ledger = new AllocationLedger();
    String challenge = ChallengeRunner.HOLDER_PREFIX + BARGAIN_4090;
    ledger.hold(challenge, Map.of(BARGAIN_4090, 2));
    Map<String, Map<String, Integer>> challenges =
        Map.copyOf(ledger.byNode().startingWith(ChallengeRunner.HOLDER_PREFIX));
    Set<String> awaited = awaited(scheduler, waiting, ledger);
    assertThat(PreferredNodesUnderChallenge.holding(challenges, awaited))
        .containsExactly(challenge);
    PreferredNodesUnderChallenge.holding(challenges, awaited)
        .forEach(c -> ledger.passOnRelease(c, waiting.id()));

    ledger.release(challenge); // the challenge passed; another job asks before the waiting one
    PoolView view = view();
    assertThat(
            scheduler.plan(other, view.snapshot(ledger.byNode(), Map.of(waiting.id(), Map.of()))))
        .as("handed nothing, the other job would have taken one of the node's GPUs")
        .isInstanceOf(Plan.class);
    assertThat(scheduler.plan(other, view.snapshot(ledger.byNode(), Map.of())))
        .as("the node is the waiting job's now")
        .isNotInstanceOf(Plan.class);
    assertThat(
            nodesOf(
                scheduler.plan(
                    waiting, view.snapshot(ledger.byNode(), Map.of(waiting.id(), Map.of())))))
        .containsExactly(BARGAIN_4090);
  }

  /** What the training planner asks with {@code holdings} in the ledger (the job holds nothing). */
  private static Set<String> awaited(
      Scheduler scheduler, JobRequest r, Map<String, Map<String, Integer>> holdings) {
    AllocationLedger ledger = new AllocationLedger();
    holdings.forEach(ledger::hold);
    return awaited(scheduler, r, ledger);
  }

  private static Set<String> awaited(Scheduler scheduler, JobRequest r, AllocationLedger ledger) {
    NodeHoldings held = ledger.byNode();
    PoolView view = view();
    return PreferredNodesUnderChallenge.awaited(
        scheduler,
        r,
        view.snapshot(held, Map.of()),
        held.startingWith(ChallengeRunner.HOLDER_PREFIX),
        challenges -> {
          Map<String, Map<String, Integer>> leftOut = new HashMap<>();
          challenges.forEach(h -> leftOut.put(h, Map.of()));
          return view.snapshot(held, leftOut);
        });
  }
}
