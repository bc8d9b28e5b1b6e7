package io.gpupool.operator.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.FlavorQuota;
import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.GpuQueueSpec;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Parallelism;
import io.gpupool.api.v1alpha1.ReplicaRange;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.gpupool.operator.billing.CostCap;
import io.gpupool.operator.queue.AdmissionController;
import io.gpupool.operator.queue.AdmissionSnapshot;
import io.gpupool.operator.queue.InferenceAdmission;
import io.gpupool.operator.queue.QueueMetrics;
import io.gpupool.operator.queue.Verdict;
import io.gpupool.operator.status.JobConditions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An InferenceJob's quota goes back to its queue when the job is suspended or stopped at its cost
 * cap (it waits for its spec to change), and only then: GPUs released for another reason keep it.
 */
class QueuedReplicasTest {
  private AdmissionController controller;
  private InferenceAdmission admission;
  private QueuedReplicas queued;

  @BeforeEach
  void setUp() {
    controller =
        new AdmissionController(
            name -> OptionalInt.empty(),
            ns -> Map.of(),
            new QueueMetrics(new SimpleMeterRegistry()),
            AdmissionSnapshot.EMPTY);
    admission = new InferenceAdmission(controller);
    queued = new QueuedReplicas(admission, null);
    GpuQueue q = new GpuQueue();
    q.setMetadata(new ObjectMetaBuilder().withName("team-a").build());
    q.setSpec(new GpuQueueSpec());
    FlavorQuota quota = new FlavorQuota();
    quota.name = "a100";
    quota.products = List.of("NVIDIA-A100-SXM4-80GB");
    quota.nominal = 2;
    q.getSpec().quotas = List.of(quota);
    q.getSpec().namespaces = List.of("team-a");
    controller.putQueue(q);
  }

  private static InferenceJob serving(String name, int replicas) {
    InferenceJob job = new InferenceJob();
    job.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace("team-a")
            .withName(name)
            .withCreationTimestamp("2026-12-06T01:00:00Z")
            .build());
    InferenceJobSpec spec = new InferenceJobSpec();
    spec.replicas = new ReplicaRange();
    spec.replicas.min = replicas;
    spec.replicas.max = replicas;
    job.setSpec(spec);
    job.setStatus(new InferenceJobStatus());
    return job;
  }

  private static TrainingJob training(String name, int gpus) {
    TrainingJob job = new TrainingJob();
    job.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace("team-a")
            .withName(name)
            .withCreationTimestamp("2026-12-06T01:05:00Z")
            .build());
    job.setSpec(new TrainingJobSpec());
    job.getSpec().parallelism = new Parallelism();
    job.getSpec().parallelism.workers = gpus;
    job.getSpec().parallelism.gpusPerWorker = 1;
    job.getSpec().model = new ModelSpec();
    return job;
  }

  /** {@code llm} holds the whole quota and {@code train} waits behind it. */
  private void llmHoldsTheQuota(InferenceJob llm, TrainingJob train) {
    assertThat(admission.replicas(llm, 2, false, 0, null).minimum())
        .isInstanceOf(Verdict.Admitted.class);
    assertThat(controller.decide(train)).isInstanceOf(Verdict.Queued.class);
    llm.getStatus().phase = InferenceJobPhase.Serving;
    queued.released(llm); // GPUs freed for another reason (a node lost): the quota stays
    assertThat(controller.decide(train)).isInstanceOf(Verdict.Queued.class);
  }

  @Test
  void aSuspendedJobGivesItsQuotaBack() {
    InferenceJob llm = serving("llm", 2);
    TrainingJob train = training("train", 2);
    llmHoldsTheQuota(llm, train);

    llm.getStatus().phase = InferenceJobPhase.Suspended;
    queued.released(llm);
    assertThat(controller.decide(train)).isInstanceOf(Verdict.Admitted.class);
  }

  @Test
  void aJobStoppedAtItsCostCapGivesItsQuotaBack() {
    InferenceJob llm = serving("llm", 2);
    TrainingJob train = training("train", 2);
    llmHoldsTheQuota(llm, train);

    llm.getStatus().phase = InferenceJobPhase.Pending;
    llm.getStatus()
        .conditions
        .add(
            new ConditionBuilder()
                .withType(JobConditions.FUNDED)
                .withStatus("False")
                .withReason(CostCap.REASON)
                .build());
    queued.released(llm);
    assertThat(controller.decide(train)).isInstanceOf(Verdict.Admitted.class);
  }
}
