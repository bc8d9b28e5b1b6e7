package io.gpupool.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.operator.pool.GeneratedJobs;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Issue #18, item 5 through the controllers: TrainingJobs and InferenceJobs generated from the CRDs
 * ({@code spec.template} included) and accepted by the API server's schema and CEL rules are
 * created on the mock API server, over a small pool where some of them can be placed, and the
 * operator reconciles them. No reconcile may throw (a throwing reconcile is retried forever and the
 * job is wedged), and a job that is not placed or not running says why: a condition with a reason
 * and a message. {@code AcceptedSpecsPropertyTest} checks many more specs without the controllers.
 *
 * <p>Seeded: a failure names the seed; {@code -Dgpupool.property.seed=N} replays it.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class AcceptedJobsReconcileIT {
  private static final String NAMESPACE = "generated";
  private static final int JOBS_PER_KIND = 30;
  private static final Duration TIMEOUT = Duration.ofSeconds(45);
  private static final Set<TrainingJobPhase> TRAINING_RUNS =
      Set.of(TrainingJobPhase.Scheduled, TrainingJobPhase.Running, TrainingJobPhase.Succeeded);
  private static final Set<InferenceJobPhase> INFERENCE_RUNS =
      Set.of(InferenceJobPhase.Deploying, InferenceJobPhase.Serving);

  @Inject KubernetesClient client;
  @Inject MeterRegistry registry;

  @Test
  void everyAcceptedJobReconcilesWithoutExceptionAndEveryRefusalSaysWhy() {
    long seed = Long.getLong("gpupool.property.seed", new Random().nextLong());
    String replay = "seed " + seed + " (replay: -Dgpupool.property.seed=" + seed + ")";
    Random random = new Random(seed);
    pool();
    double errorsBefore = reconcileErrors();

    GeneratedJobs.Tally tally = new GeneratedJobs.Tally();
    Set<String> names = new HashSet<>();
    int created = 0;
    for (int i = 0; i < JOBS_PER_KIND; i++) {
      created +=
          create(GeneratedJobs.TRAINING, "TrainingJob", TrainingJob.class, random, tally, names);
      created +=
          create(GeneratedJobs.INFERENCE, "InferenceJob", InferenceJob.class, random, tally, names);
    }
    assertThat(created).as(replay).isGreaterThanOrEqualTo(2 * JOBS_PER_KIND - 4);
    assertThat(tally.accepted()).as("%s: %s", replay, tally).isGreaterThan(tally.generated() / 5);

    int jobs = created;
    await()
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(
            () -> {
              List<String> unexplained = new ArrayList<>();
              List<TrainingJob> training =
                  client.resources(TrainingJob.class).inNamespace(NAMESPACE).list().getItems();
              List<InferenceJob> inference =
                  client.resources(InferenceJob.class).inNamespace(NAMESPACE).list().getItems();
              assertThat(training.size() + inference.size()).isEqualTo(jobs);
              for (TrainingJob j : training) {
                var s = j.getStatus();
                explain(
                    j,
                    s == null ? null : s.observedGeneration,
                    s == null ? null : String.valueOf(s.phase),
                    s != null && TRAINING_RUNS.contains(s.phase),
                    s == null ? List.of() : s.conditions,
                    unexplained);
              }
              for (InferenceJob j : inference) {
                var s = j.getStatus();
                explain(
                    j,
                    s == null ? null : s.observedGeneration,
                    s == null ? null : String.valueOf(s.phase),
                    s != null && INFERENCE_RUNS.contains(s.phase),
                    s == null ? List.of() : s.conditions,
                    unexplained);
              }
              assertThat(unexplained).as(replay).isEmpty();
            });
    assertThat(reconcileErrors() - errorsBefore)
        .as("%s: reconciles that threw (the operator's log names them)", replay)
        .isZero();
  }

  /**
   * Adds {@code job} to {@code unexplained} unless it has been reconciled at its generation and,
   * when it does not run, a condition says why (False, or Suspended True) with reason and message.
   */
  private static void explain(
      HasMetadata job,
      Long observed,
      String phase,
      boolean runs,
      List<Condition> conditions,
      List<String> unexplained) {
    String name = job.getKind() + " " + job.getMetadata().getName();
    if (observed == null || !observed.equals(job.getMetadata().getGeneration())) {
      unexplained.add(name + ": not reconciled at its generation (" + observed + ")");
      return;
    }
    if (runs) {
      return;
    }
    boolean said =
        conditions != null
            && conditions.stream()
                .anyMatch(
                    c ->
                        ("False".equals(c.getStatus())
                                || ("Suspended".equals(c.getType())
                                    && "True".equals(c.getStatus())))
                            && c.getReason() != null
                            && !c.getReason().isBlank()
                            && c.getMessage() != null
                            && !c.getMessage().isBlank());
    if (!said) {
      unexplained.add(
          name
              + " is "
              + phase
              + " without a condition saying why: "
              + conditions
              + " spec "
              + Serialization.asJson(job));
    }
  }

  /** Creates the next accepted job of a kind; 0 when its generated name was taken already. */
  private <T extends HasMetadata> int create(
      JsonNode schema,
      String kind,
      Class<T> type,
      Random random,
      GeneratedJobs.Tally tally,
      Set<String> names) {
    ObjectNode json = GeneratedJobs.accepted(schema, kind, NAMESPACE, random, tally);
    if (!names.add(kind + "/" + json.at("/metadata/name").asText())) {
      return 0;
    }
    T job = Serialization.unmarshal(json.toString(), type);
    client.resources(type).inNamespace(NAMESPACE).resource(job).create();
    return 1;
  }

  /**
   * Two providers' nodes with the products and regions the generator's template words name (so some
   * templates' selectors and affinities match and some jobs are placed, their pods created).
   */
  private void pool() {
    client.resource(TestNodes.provider("alice", "NVIDIA-A100-SXM4-80GB", "2.5")).create();
    client.resource(TestNodes.provider("bob", "NVIDIA-GeForce-RTX-4090", "0.4")).create();
    client
        .resource(
            TestNodes.gpuNode("a100-1", "alice", "NVIDIA-A100-SXM4-80GB", 8, 81920, "eu-west"))
        .create();
    client
        .resource(
            TestNodes.gpuNode("a100-2", "alice", "NVIDIA-A100-SXM4-80GB", 8, 81920, "us-east"))
        .create();
    for (int i = 1; i <= 2; i++) {
      client
          .resource(
              TestNodes.gpuNode("4090-" + i, "bob", "NVIDIA-GeForce-RTX-4090", 4, 24564, "eu-west"))
          .create();
    }
  }

  private double reconcileErrors() {
    return registry.find("gpupool.reconcile.errors").counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }
}
