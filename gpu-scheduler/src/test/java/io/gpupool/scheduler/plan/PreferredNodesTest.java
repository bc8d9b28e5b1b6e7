package io.gpupool.scheduler.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.scheduler.model.JobKind;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.model.NodeLabels;
import io.gpupool.scheduler.model.NodeRequirement;
import io.gpupool.scheduler.model.NodeTerm;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.model.PreferredNodeTerm;
import io.gpupool.scheduler.model.Strategy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Preferred node terms: the planner puts a job on the nodes it prefers before it looks at price,
 * weighs terms as Kubernetes does, and never lets a preference make a job unplaceable or split a
 * gang.
 */
class PreferredNodesTest {
  private static final String A100 = "NVIDIA-A100-SXM4-80GB";
  private static final String RTX4090 = "NVIDIA-GeForce-RTX-4090";
  private static final String PROVIDER = "gpupool.io/provider";

  private static PoolNode a100(String name, int gpus, double price) {
    return SchedulerTest.node(name, A100, gpus, 81920, "us-east", "us-east-1b", price);
  }

  private static PoolNode rtx4090(String name, int gpus, double price) {
    return SchedulerTest.node(name, RTX4090, gpus, 24564, "us-east", "us-east-1b", price);
  }

  /** Each node labelled with its provider, as the sandbox labels them. */
  private static PoolSnapshot pool(PoolNode... nodes) {
    Map<String, Map<String, String>> labels = new HashMap<>();
    for (PoolNode n : nodes) {
      labels.put(n.name(), Map.of(PROVIDER, n.provider()));
    }
    return PoolSnapshot.of(List.of(nodes)).withNodeLabels(new NodeLabels(labels));
  }

  private static PreferredNodeTerm prefer(int weight, String key, String op, String... values) {
    return new PreferredNodeTerm(
        weight, NodeTerm.ofLabels(new NodeRequirement(key, op, List.of(values))));
  }

  private static JobRequest ddp(int workers, PreferredNodeTerm... terms) {
    return JobRequest.builder("ddp", SchedulerTest.SMALL)
        .strategy(Strategy.DATA_PARALLEL)
        .workers(workers, 1)
        .products(RTX4090, A100)
        .preferredNodes(List.of(terms))
        .build();
  }

  private static Plan planned(PlanResult r) {
    assertThat(r).isInstanceOf(Plan.class);
    return (Plan) r;
  }

  private static TreeSet<String> nodesOf(PlanResult r) {
    TreeSet<String> out = new TreeSet<>();
    planned(r).ranks().forEach(x -> out.add(x.node()));
    return out;
  }

  @Test
  void aJobPreferringADearerNodeLandsThere() {
    PoolSnapshot pool = pool(a100("honest-a100", 4, 1.49), rtx4090("bargain-4090", 2, 2.5));
    assertThat(nodesOf(new Scheduler().plan(ddp(2), pool)))
        .as("without a preference price per performance decides")
        .containsExactly("honest-a100");

    Plan p =
        planned(
            new Scheduler().plan(ddp(2, prefer(100, PROVIDER, "In", "prov-bargain-4090")), pool));
    assertThat(nodesOf(p)).containsExactly("bargain-4090");
    assertThat(p.ranks()).hasSize(2);
    assertThat(p.why()).anyMatch(s -> s.startsWith("Preferred node affinity"));
  }

  @Test
  void theHeavierTermWinsAndTermsMatchingOneNodeAddUp() {
    PoolSnapshot pool =
        pool(a100("cheap", 2, 1.0), rtx4090("light", 2, 2.0), rtx4090("heavy", 2, 3.0));
    JobRequest r =
        ddp(2, prefer(30, PROVIDER, "In", "prov-light"), prefer(60, PROVIDER, "In", "prov-heavy"));
    assertThat(nodesOf(new Scheduler().plan(r, pool))).containsExactly("heavy");

    // Two terms of 20 and 20 on "light" outweigh one of 30 on "heavy".
    JobRequest adding =
        ddp(
            2,
            prefer(20, PROVIDER, "In", "prov-light"),
            prefer(20, PROVIDER, "NotIn", "prov-heavy", "prov-cheap"),
            prefer(30, PROVIDER, "In", "prov-heavy"));
    assertThat(nodesOf(new Scheduler().plan(adding, pool))).containsExactly("light");
  }

  @Test
  void amongEquallyPreferredNodesPriceStillDecides() {
    PoolSnapshot pool =
        pool(a100("a100-dear", 2, 3.0), a100("a100-cheap", 2, 1.2), rtx4090("4090", 2, 0.5));
    JobRequest r = ddp(2, prefer(50, "gpupool.io/provider", "NotIn", "prov-4090"));
    assertThat(nodesOf(new Scheduler().plan(r, pool))).containsExactly("a100-cheap");
  }

  @Test
  void aPreferredNodeWithoutRoomForTheGangTakesWhatItCanAndTheRestGoesElsewhere() {
    PoolSnapshot pool = pool(a100("cheap", 4, 1.0), rtx4090("preferred", 1, 2.5));
    Plan p = planned(new Scheduler().plan(ddp(3, prefer(100, PROVIDER, "Exists")), pool));
    // Every node carries the label: all are equally preferred, so price decides.
    assertThat(nodesOf(p)).containsExactly("cheap");

    Plan partial =
        planned(new Scheduler().plan(ddp(3, prefer(100, PROVIDER, "In", "prov-preferred")), pool));
    assertThat(partial.ranks()).as("the whole gang, never part of it").hasSize(3);
    assertThat(partial.ranks().stream().filter(x -> x.node().equals("preferred"))).hasSize(1);
  }

  @Test
  void aPreferenceNeverLetsANodePastAFilterNorMakesAJobUnplaceable() {
    PoolSnapshot pool = pool(a100("honest", 2, 1.49), rtx4090("bargain", 2, 2.5));
    JobRequest onlyA100s =
        JobRequest.builder("a100s", SchedulerTest.SMALL)
            .workers(2, 1)
            .products(A100)
            .preferredNodes(List.of(prefer(100, PROVIDER, "In", "prov-bargain")))
            .build();
    assertThat(nodesOf(new Scheduler().plan(onlyA100s, pool))).containsExactly("honest");

    // The preferred node quarantined: the job goes to an honest node, as if it had no preference.
    PoolSnapshot quarantined = pool.excluding(Map.of("bargain", "quarantined: WrongWork"));
    JobRequest r = ddp(2, prefer(100, PROVIDER, "In", "prov-bargain"));
    assertThat(nodesOf(new Scheduler().plan(r, quarantined))).containsExactly("honest");
    assertThat(nodesOf(new Scheduler().plan(r, pool.withoutNodes(Set.of("bargain")))))
        .containsExactly("honest");
  }

  @Test
  void aNodeNameFieldAndNumericLabelsMatchAsInKubernetes() {
    PoolSnapshot pool =
        PoolSnapshot.of(List.of(a100("a", 2, 1.0), a100("b", 2, 2.0), a100("c", 2, 3.0)))
            .withNodeLabels(
                new NodeLabels(
                    Map.of(
                        "a", Map.of("gpupool.io/cuda", "11"),
                        "b", Map.of("gpupool.io/cuda", "12"),
                        "c", Map.of("gpupool.io/cuda", "13"))));
    NodeRequirement byName = new NodeRequirement(NodeTerm.NAME_FIELD, "In", List.of("c"));
    JobRequest named = ddp(2, new PreferredNodeTerm(10, new NodeTerm(List.of(), List.of(byName))));
    assertThat(nodesOf(new Scheduler().plan(named, pool))).containsExactly("c");

    JobRequest between =
        ddp(
            2,
            new PreferredNodeTerm(
                10,
                NodeTerm.ofLabels(
                    new NodeRequirement("gpupool.io/cuda", "Gt", List.of("11")),
                    new NodeRequirement("gpupool.io/cuda", "Lt", List.of("13")))));
    assertThat(nodesOf(new Scheduler().plan(between, pool))).containsExactly("b");

    JobRequest absent = ddp(2, prefer(10, "gpupool.io/cuda", "DoesNotExist"));
    assertThat(nodesOf(new Scheduler().plan(absent, pool)))
        .as("no node matches: price decides")
        .containsExactly("a");
  }

  @Test
  void aRepairPutsTheLostRankOnAnotherPreferredNode() {
    PoolSnapshot pool =
        pool(
            a100("cheap", 4, 1.0),
            rtx4090("preferred-1", 1, 2.5),
            rtx4090("preferred-2", 1, 2.5),
            rtx4090("preferred-3", 1, 2.5));
    JobRequest r =
        ddp(
            2,
            prefer(
                100, PROVIDER, "In", "prov-preferred-1", "prov-preferred-2", "prov-preferred-3"));
    Scheduler s = new Scheduler();
    Plan before = planned(s.plan(r, pool));
    assertThat(nodesOf(before)).allMatch(n -> n.startsWith("preferred-"));
    String lost = before.ranks().get(0).node();
    PlanResult repaired = s.repair(before, Set.of(lost), pool);
    assertThat(nodesOf(repaired)).hasSize(2).doesNotContain(lost, "cheap");
  }

  @Test
  void weightsOutsideOneToAHundredAreRefused() {
    NodeTerm t = NodeTerm.ofLabels(new NodeRequirement(PROVIDER, "Exists", List.of()));
    assertThatThrownBy(() -> new PreferredNodeTerm(0, t))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new PreferredNodeTerm(101, t))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anEmptyTermOrAnUnknownOperatorMatchesNoNode() {
    assertThat(new NodeTerm(List.of(), List.of()).matches("n", Map.of("k", "v"))).isFalse();
    assertThat(
            NodeTerm.ofLabels(new NodeRequirement("k", "Like", List.of("v")))
                .matches("n", Map.of("k", "v")))
        .isFalse();
    assertThat(
            NodeTerm.ofLabels(new NodeRequirement("k", "Gt", List.of("x")))
                .matches("n", Map.of("k", "5")))
        .isFalse();
  }

  @Test
  void anInferenceRequestPrefersToo() {
    PoolSnapshot pool = pool(a100("cheap", 2, 1.0), a100("preferred", 2, 2.0));
    JobRequest r =
        JobRequest.builder("serve", ModelSpec.of(1_000_000_000L, 16))
            .kind(JobKind.INFERENCE)
            .workers(2, 1)
            .preferredNodes(List.of(prefer(100, PROVIDER, "In", "prov-preferred")))
            .build();
    assertThat(nodesOf(new Scheduler().plan(r, pool))).containsExactly("preferred");
  }
}
