package io.gpupool.operator.pool;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.operator.inference.InferenceGroup;
import io.gpupool.operator.inference.ShardAssignment;
import io.gpupool.operator.training.ActiveDeadline;
import io.gpupool.operator.training.RankAssignment;
import io.gpupool.operator.training.TrainingGang;
import io.gpupool.operator.validation.InferenceJobValidator;
import io.gpupool.operator.validation.SpecProblems;
import io.gpupool.operator.validation.TrainingJobValidator;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.plan.Scheduler;
import java.io.IOException;
import java.io.InputStream;
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

/**
 * Issue #18: every spec the API server accepts (generated from the CRD schemas, bounds and CEL
 * rules included) goes through the operator's validation and planning without an exception, and
 * what the operator would create from it has valid Kubernetes names and labels. A refusal is a
 * SpecValid message, never a wedged reconcile.
 */
class AcceptedSpecsPropertyTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final JsonNode TRAINING = schema("trainingjobs");
  private static final JsonNode INFERENCE = schema("inferencejobs");
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

  private static JsonNode schema(String plural) {
    try (InputStream in =
        AcceptedSpecsPropertyTest.class.getResourceAsStream(
            "/META-INF/fabric8/" + plural + ".gpupool.io-v1.yml")) {
      return YAML.readTree(in).at("/spec/versions/0/schema/openAPIV3Schema");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A resource as stored by the API server: a name it accepts, a spec its schema accepts. */
  private static Arbitrary<ObjectNode> accepted(JsonNode schema, String kind) {
    int longest = AcceptedResourcesPropertyTest.longestName(schema);
    return Arbitraries.randomValue(
            random -> {
              SchemaValues values = new SchemaValues(random);
              ObjectNode o = YAML.createObjectNode();
              o.put("apiVersion", "gpupool.io/v1alpha1").put("kind", kind);
              o.putObject("metadata")
                  .put("name", name(values, random, longest))
                  .put("namespace", "team-a")
                  .put("uid", "uid-1");
              ObjectNode spec = (ObjectNode) values.value(schema.at("/properties/spec"));
              // The pod template holds Kubernetes' own types, not yet bounded (CelCostBudgetTest).
              spec.remove("template");
              o.set("spec", spec);
              return o;
            })
        .filter(o -> SchemaValues.acceptedByRules(o, schema));
  }

  /**
   * Any name the API server accepts for an object (a DNS-1123 subdomain), short ones likelier, and
   * often one as long as the CRD's rules allow.
   */
  private static String name(SchemaValues values, Random random, int longest) {
    if (random.nextInt(3) == 0) {
      return AcceptedResourcesPropertyTest.label(values, longest);
    }
    String label = "[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?";
    String name = values.sample("^" + label + "(\\." + label + ")?$");
    return random.nextInt(4) == 0 ? name + "-" + "x".repeat(random.nextInt(70)) + "z" : name;
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
    SpecProblems problems = TrainingJobValidator.validate(job);
    assertThat(problems.isEmpty())
        .as("the operator refuses what the API server accepted: %s in %s", problems.summary(), json)
        .isTrue();

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
    SpecProblems problems = InferenceJobValidator.validate(job);
    assertThat(problems.isEmpty())
        .as("the operator refuses what the API server accepted: %s in %s", problems.summary(), json)
        .isTrue();

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
