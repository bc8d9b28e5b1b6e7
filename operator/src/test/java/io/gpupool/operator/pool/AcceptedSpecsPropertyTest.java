package io.gpupool.operator.pool;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.PodTemplate;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.operator.inference.InferenceGroup;
import io.gpupool.operator.inference.ShardAssignment;
import io.gpupool.operator.podtemplate.PodTemplateNodes;
import io.gpupool.operator.training.ActiveDeadline;
import io.gpupool.operator.training.RankAssignment;
import io.gpupool.operator.training.TrainingGang;
import io.gpupool.operator.validation.InferenceJobValidator;
import io.gpupool.operator.validation.SpecProblems;
import io.gpupool.operator.validation.TrainingJobValidator;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.plan.Scheduler;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * Issue #18: every spec the API server accepts (generated from the CRD schemas, the pod template
 * included, bounds and CEL rules checked as the sandbox's API server checks them) goes through the
 * operator's validation and planning without an exception, and what the operator would create from
 * it has valid Kubernetes names and labels. A refusal is a SpecValid message, never a wedged
 * reconcile. {@code AcceptedJobsReconcileIT} drives such jobs through the controllers.
 */
class AcceptedSpecsPropertyTest {
  private static final JsonNode TRAINING = GeneratedJobs.TRAINING;
  private static final JsonNode INFERENCE = GeneratedJobs.INFERENCE;
  private static final Pattern DNS_LABEL = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
  private static final Pattern DNS_1035 = Pattern.compile("^[a-z]([-a-z0-9]*[a-z0-9])?$");
  private static final Pattern LABEL_VALUE =
      Pattern.compile("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$");
  private static final PoolSnapshot POOL =
      PoolSnapshot.of(
          List.of(
              node("a100-1", "NVIDIA-A100-SXM4-80GB", 8, 81920, 1),
              node("a100-2", "NVIDIA-A100-SXM4-80GB", 8, 81920, 1),
              node("4090-1", "NVIDIA-GeForce-RTX-4090", 4, 24564, 1),
              node("4090-2", "NVIDIA-GeForce-RTX-4090", 4, 24564, 1),
              node("3090-shared", "NVIDIA-GeForce-RTX-3090-SHARED", 2, 24576, 4)));
  private static final Scheduler SCHEDULER = new Scheduler();

  private static PoolNode node(String name, String product, int gpus, long mib, int sharing) {
    return new PoolNode(
        name,
        "alice",
        "eu-west",
        "eu-west-a",
        product,
        gpus,
        mib,
        sharing,
        64_000,
        256 * 1024,
        1.5,
        0.99,
        true);
  }

  /** Candidates the API server refused and accepted, over every property of this class. */
  private static final GeneratedJobs.Tally TALLY = new GeneratedJobs.Tally();

  /**
   * A job as the API server stores it: a name it accepts, a spec (template included) it accepts.
   */
  private static Arbitrary<ObjectNode> accepted(JsonNode schema, String kind) {
    return Arbitraries.randomValue(
        random -> {
          ObjectNode job = GeneratedJobs.accepted(schema, kind, "team-a", random, TALLY);
          ((ObjectNode) job.get("metadata")).put("uid", "uid-1");
          return job;
        });
  }

  @Provide
  Arbitrary<ObjectNode> trainingJobs() {
    return accepted(TRAINING, "TrainingJob");
  }

  @Provide
  Arbitrary<ObjectNode> inferenceJobs() {
    return accepted(INFERENCE, "InferenceJob");
  }

  @Property(tries = 100)
  void acceptedTrainingJobsValidateAndPlanWithoutException(
      @ForAll("trainingJobs") ObjectNode json) {
    TrainingJob job = Serialization.unmarshal(json.toString(), TrainingJob.class);
    if (refusedOnlyForItsTemplate(TrainingJobValidator.validate(job), json)) {
      return; // SpecValid=False with that message: nothing is planned
    }
    assertNodesAdmitted(job.getSpec().template);

    var result = SCHEDULER.plan(JobRequests.training("holder", job), POOL);
    assertThat(result).isNotNull();

    // what the training loop asks on every reconcile after the start (it threw for 9e18)
    Long deadline = job.getSpec().activeDeadlineSeconds;
    String started = "2026-12-06T00:00:00Z";
    assertThat(ActiveDeadline.exceeded(deadline, started, Instant.parse(started))).isFalse();
    ActiveDeadline.at(deadline, started)
        .ifPresent(end -> assertThat(Duration.between(Instant.parse(started), end)).isPositive());
    assertThat(ActiveDeadline.exceeded(deadline, started, Instant.parse("2028-01-01T00:00:00Z")))
        .isEqualTo(deadline != null);

    // The first ranks and the last one: the last has the longest host name.
    int workers = job.getSpec().parallelism.workers;
    List<RankAssignment> ranks = new ArrayList<>();
    for (int r : new java.util.TreeSet<>(List.of(0, Math.min(1, workers - 1), workers - 1))) {
      ranks.add(
          new RankAssignment(
              r,
              "a100-1",
              "alice",
              "eu-west",
              "NVIDIA-A100-SXM4-80GB",
              1,
              "nvidia.com/gpu",
              -1,
              -1,
              -1,
              1.0 / workers));
    }
    List<Pod> pods = TrainingGang.pods(job, ranks, "DataParallel", 101, 100, null);
    assertValidService(TrainingGang.service(job));
    pods.forEach(AcceptedSpecsPropertyTest::assertValidPod);
  }

  @Property(tries = 100)
  void acceptedInferenceJobsValidateAndPlanWithoutException(
      @ForAll("inferenceJobs") ObjectNode json) {
    InferenceJob job = Serialization.unmarshal(json.toString(), InferenceJob.class);
    if (refusedOnlyForItsTemplate(InferenceJobValidator.validate(job), json)) {
      return;
    }
    assertNodesAdmitted(job.getSpec().template);

    int max = job.getSpec().replicas.max;
    assertThat(
            SCHEDULER.plan(SchedulerInferencePlanner.request("h", job.getSpec(), max, 1000), POOL))
        .isNotNull();
    assertThat(SCHEDULER.plan(SchedulerInferencePlanner.request("h", job.getSpec(), 1, 250), POOL))
        .isNotNull();

    if (job.getSpec().autoscaling != null && job.getSpec().autoscaling.metricsPath != null) {
      String path = job.getSpec().autoscaling.metricsPath;
      assertThat(URI.create("http://10.0.0.1:" + InferenceGroup.port(job.getSpec()) + path))
          .isNotNull();
    }

    assertValidService(InferenceGroup.service(job));
    int lastReplica = max - 1;
    assertValidService(InferenceGroup.groupService(job, lastReplica, "g"));
    List<ShardAssignment> shards = new ArrayList<>();
    for (int shard : List.of(0, 1, 63)) {
      shards.add(
          new ShardAssignment(
              lastReplica,
              shard,
              64,
              "a100-1",
              "alice",
              "eu-west",
              "NVIDIA-A100-SXM4-80GB",
              1,
              1000,
              1,
              "nvidia.com/gpu",
              0,
              job.getSpec().model.layers - 1));
    }
    InferenceGroup.pods(job, shards, "g", InferenceGroup.specHash(job.getSpec()))
        .forEach(AcceptedSpecsPropertyTest::assertValidPod);
  }

  /**
   * The operator refuses only what a schema cannot say: cross-field rules of the pod template (a
   * volume mount naming no volume, two containers of one name), which the CRD leaves to it because
   * a CEL rule comparing every pair costs too much for the API server's estimate. Every other field
   * the API server accepted must be runnable. True when refused (the SpecValid message).
   */
  private static boolean refusedOnlyForItsTemplate(SpecProblems problems, ObjectNode json) {
    assertThat(problems.list())
        .as("the operator refuses what the API server accepted, in %s", json)
        .allSatisfy(p -> assertThat(p).startsWith("spec.template."));
    return !problems.isEmpty();
  }

  /**
   * The placement asks which nodes a job's pod template admits (nodeSelector, required node
   * affinity, tolerations) of every node it considers: whatever the template says, it answers.
   */
  private static void assertNodesAdmitted(PodTemplate template) {
    for (PoolNode n : POOL.nodes()) {
      Map<String, String> labels =
          Map.of(
              "nvidia.com/gpu.product", n.gpuProduct(),
              "topology.kubernetes.io/region", n.region(),
              "gpupool.io/provider", n.provider(),
              "kubernetes.io/hostname", n.name(),
              "team", "a");
      List<Taint> taints =
          List.of(
              new Taint("NoSchedule", "nvidia.com/gpu", null, "present"),
              new Taint("NoExecute", "team", null, "a"));
      PodTemplateNodes.admits(template, n.name(), labels, taints);
    }
  }

  /**
   * The generator cannot pass vacuously: most candidates are accepted by the API server, and the
   * templates it produces reach what the operator reads of them.
   */
  @Test
  void generatedJobsAreMostlyAcceptedAndTheirTemplatesReachWhatTheOperatorReads() {
    long seed = new Random().nextLong();
    Random random = new Random(seed);
    GeneratedJobs.Tally tally = new GeneratedJobs.Tally();
    Map<String, Integer> reached = new java.util.TreeMap<>();
    for (int i = 0; i < 100; i++) {
      for (JsonNode schema : List.of(TRAINING, INFERENCE)) {
        ObjectNode job = GeneratedJobs.accepted(schema, "Job", "team-a", random, tally);
        JsonNode t = job.path("spec").path("template");
        count(reached, "template", !t.isMissingNode());
        count(reached, "nodeSelector", t.has("nodeSelector"));
        count(reached, "tolerations", t.path("tolerations").size() > 0);
        count(reached, "volumeMounts", t.path("volumeMounts").size() > 0);
        count(reached, "sidecars", t.path("sidecars").size() > 0);
        count(
            reached,
            "matchExpressions",
            t
                .at("/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution")
                .path("nodeSelectorTerms")
                .findValues("matchExpressions")
                .stream()
                .anyMatch(e -> e.size() > 0));
      }
    }
    assertThat(tally.accepted())
        .as("seed %d: %s", seed, tally)
        .isEqualTo(200)
        .isGreaterThanOrEqualTo(tally.generated() * 3 / 4);
    assertThat(reached)
        .as("seed %d: jobs reaching each part of the template", seed)
        .allSatisfy((part, n) -> assertThat(n).isGreaterThanOrEqualTo(3));
  }

  private static void count(Map<String, Integer> reached, String part, boolean yes) {
    reached.merge(part, yes ? 1 : 0, Integer::sum);
  }

  private static void assertValidService(Service service) {
    assertThat(service.getMetadata().getName()).hasSizeLessThanOrEqualTo(63).matches(DNS_1035);
    assertValidLabels(service);
  }

  private static void assertValidPod(Pod pod) {
    assertThat(pod.getMetadata().getName()).hasSizeLessThanOrEqualTo(253);
    if (pod.getSpec().getHostname() != null) {
      assertThat(pod.getSpec().getHostname()).hasSizeLessThanOrEqualTo(63).matches(DNS_LABEL);
    }
    if (pod.getSpec().getSubdomain() != null) {
      assertThat(pod.getSpec().getSubdomain()).hasSizeLessThanOrEqualTo(63).matches(DNS_LABEL);
    }
    assertValidLabels(pod);
  }

  private static void assertValidLabels(HasMetadata object) {
    Map<String, String> labels = object.getMetadata().getLabels();
    if (labels == null) {
      return;
    }
    labels.forEach(
        (k, v) ->
            assertThat(v)
                .as("label %s on %s", k, object.getMetadata().getName())
                .hasSizeLessThanOrEqualTo(63)
                .matches(LABEL_VALUE));
  }
}
