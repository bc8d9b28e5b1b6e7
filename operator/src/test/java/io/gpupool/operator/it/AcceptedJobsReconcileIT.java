package io.gpupool.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.PodTemplate;
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
 * created on the mock API server over a pool, and the operator reconciles them. Most are drawn to
 * fit the pool ({@link GeneratedJobs#fitting}: small sizes, their templates as generated), the rest
 * anyhow. No reconcile may throw (a throwing reconcile is retried forever and the job is wedged); a
 * job that is not placed or not running says why, in a condition with a reason and a message; a job
 * that runs has its pods, built from its template (sidecars, init containers, volumes, labels, node
 * selector, service account as the template has them); and enough jobs run that pod creation from
 * generated templates is really exercised. {@code AcceptedSpecsPropertyTest} checks many more specs
 * without the controllers.
 *
 * <p>Seeded: a failure names the seed; {@code -Dgpupool.property.seed=N} replays it.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class AcceptedJobsReconcileIT {
  private static final String NAMESPACE = "generated";
  private static final int JOBS_PER_KIND = 30;
  private static final Duration TIMEOUT = Duration.ofSeconds(45);

  /**
   * Jobs that must be placed (their pods created) out of the {@code 2 * JOBS_PER_KIND}: three in
   * four are drawn to fit, with a template the operator accepts, and the pool holds them all; but a
   * template's node selector or affinity may narrow a job to no node or to a few busy ones (runs
   * placed 26 and 39 of 60).
   */
  private static final int MIN_RUNNING = 15;

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
      boolean fitting = i % 4 != 3;
      created +=
          create(
              GeneratedJobs.TRAINING,
              "TrainingJob",
              TrainingJob.class,
              fitting,
              random,
              tally,
              names);
      created +=
          create(
              GeneratedJobs.INFERENCE,
              "InferenceJob",
              InferenceJob.class,
              fitting,
              random,
              tally,
              names);
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
    List<Placed> placed = new ArrayList<>();
    for (TrainingJob j :
        client.resources(TrainingJob.class).inNamespace(NAMESPACE).list().getItems()) {
      if (TRAINING_RUNS.contains(j.getStatus().phase)) {
        placed.add(new Placed(j, j.getSpec().template));
      }
    }
    for (InferenceJob j :
        client.resources(InferenceJob.class).inNamespace(NAMESPACE).list().getItems()) {
      if (INFERENCE_RUNS.contains(j.getStatus().phase)) {
        placed.add(new Placed(j, j.getSpec().template));
      }
    }
    List<String> notFromTemplate = new ArrayList<>();
    placed.forEach(
        p ->
            notFromTemplate.addAll(
                PodsFromTemplate.differences(p.job(), p.template(), podsOf(p.job()))));
    long runningWithTemplate = placed.stream().filter(p -> p.template() != null).count();
    assertThat(notFromTemplate).as(replay).isEmpty();
    assertThat(placed.size())
        .as("%s: jobs placed, of %d", replay, jobs)
        .isGreaterThanOrEqualTo(MIN_RUNNING);
    assertThat(runningWithTemplate)
        .as("%s: placed jobs with a template", replay)
        .isGreaterThanOrEqualTo(MIN_RUNNING - 3);
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

  /**
   * Creates the next accepted job of a kind, one drawn to fit the pool if {@code fitting}; 0 when
   * its generated name was taken already.
   */
  private <T extends HasMetadata> int create(
      JsonNode schema,
      String kind,
      Class<T> type,
      boolean fitting,
      Random random,
      GeneratedJobs.Tally tally,
      Set<String> names) {
    ObjectNode json =
        fitting
            ? GeneratedJobs.fitting(schema, kind, NAMESPACE, random, tally)
            : GeneratedJobs.accepted(schema, kind, NAMESPACE, random, tally);
    if (!names.add(kind + "/" + json.at("/metadata/name").asText())) {
      return 0;
    }
    T job = Serialization.unmarshal(json.toString(), type);
    client.resources(type).inNamespace(NAMESPACE).resource(job).create();
    return 1;
  }

  /**
   * Two providers' nodes with the products, regions, providers and host names the generator's
   * template words name (so templates' selectors and affinities often match), 96 GPUs: enough for
   * every job drawn to fit at once.
   */
  private void pool() {
    client.resource(TestNodes.provider("alice", "NVIDIA-A100-SXM4-80GB", "2.5")).create();
    client.resource(TestNodes.provider("bob", "NVIDIA-GeForce-RTX-4090", "0.4")).create();
    for (int i = 1; i <= 8; i++) {
      String region = i % 2 == 1 ? "eu-west" : "us-east";
      client
          .resource(
              TestNodes.gpuNode("a100-" + i, "alice", "NVIDIA-A100-SXM4-80GB", 8, 81920, region))
          .create();
      client
          .resource(
              TestNodes.gpuNode("4090-" + i, "bob", "NVIDIA-GeForce-RTX-4090", 4, 24564, region))
          .create();
    }
  }

  /** A job that runs, and its template (null: none). */
  private record Placed(HasMetadata job, PodTemplate template) {}

  /** The pods the operator created for {@code job} (owned by it). */
  private List<Pod> podsOf(HasMetadata job) {
    String uid = job.getMetadata().getUid();
    return client.pods().inNamespace(NAMESPACE).list().getItems().stream()
        .filter(
            p ->
                p.getMetadata().getOwnerReferences().stream().anyMatch(o -> uid.equals(o.getUid())))
        .toList();
  }

  private double reconcileErrors() {
    return registry.find("gpupool.reconcile.errors").counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }
}
