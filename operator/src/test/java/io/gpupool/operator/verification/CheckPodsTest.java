package io.gpupool.operator.verification;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.api.v1alpha1.TrainingVerificationStatus;
import io.gpupool.api.v1alpha1.VerificationPod;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.workload.FakeWorkloads;
import io.gpupool.operator.workload.GroupBinder;
import io.gpupool.operator.workload.JobBinding;
import io.gpupool.operator.workload.RecordingTerms;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * A spot-check's pod is created as a gang is, through the {@link JobBinding}: its billing terms are
 * recorded first, off the reconcile thread, and a pod whose terms could not be recorded is never
 * created (it would run unbilled on the job's payer's behalf).
 */
class CheckPodsTest {
  private static final Instant NOW = Instant.parse("2026-12-07T06:00:00Z");

  private final FakeWorkloads workloads = new FakeWorkloads();
  private final GroupBinder binder = new GroupBinder(workloads, new SimpleMeterRegistry());
  private final CountDownLatch woken = new CountDownLatch(1);
  private final List<Pod> shown = new ArrayList<>();
  private final List<String> released = new ArrayList<>();

  private final CheckPlacer placer =
      new CheckPlacer() {
        @Override
        public Choice place(String holder, Set<String> barred, Set<String> regions) {
          return new Choice(Optional.of(new Node("n9", "carol", "NVIDIA-A100")), "");
        }

        @Override
        public void release(String holder) {
          released.add(holder);
        }
      };

  private final EventRecorder events =
      new EventRecorder(null, null) {
        @Override
        public void record(HasMetadata subject, String type, String reason, String message) {}
      };

  private CheckPods pods(BiFunction<TrainingJob, List<Pod>, List<Pod>> terms) {
    return new CheckPods(
        placer, events, new JobBinding<>(binder, terms, shown::add, j -> woken.countDown()));
  }

  private static TrainingJob job() {
    TrainingJob job = VerifierPodsTest.job(List.of("python3", "/workloads/ddp_train.py"), null);
    job.getMetadata().setUid("uid-7");
    job.setStatus(new TrainingJobStatus());
    return job;
  }

  private static JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> step(TrainingJob job) {
    return new JobStep<>(
        job, job.getStatus(), TrainingJobPhase.Running, job.getStatus().conditions, NOW);
  }

  /** Places a verifier (listed in status) and creates its pod, waiting for the binder to end. */
  private VerificationPod placeAndCreate(CheckPods pods, TrainingJob job) throws Exception {
    var s = step(job);
    TrainingVerificationStatus v = new TrainingVerificationStatus();
    v.pods = new ArrayList<>();
    v.disputes = 0;
    VerificationPod entry =
        pods.place(s, v, Set.of("alice"), CheckPods.VERIFIER, 0, 10, null, null, "replay")
            .orElseThrow();
    pods.create(s, entry, List.of("/workloads/ddp_train.py"));
    assertThat(woken.await(10, TimeUnit.SECONDS)).as("the job is woken after creation").isTrue();
    return entry;
  }

  @Test
  void aCheckPodIsCreatedWithTheTermsRecordedForIt() throws Exception {
    TrainingJob job = job();
    RecordingTerms recorded = new RecordingTerms();
    CheckPods pods = pods((j, wanted) -> recorded.apply(wanted));
    VerificationPod entry = placeAndCreate(pods, job);

    assertThat(recorded.recorded).containsExactly(entry.pod);
    assertThat(workloads.pods).containsOnlyKeys(entry.pod);
    assertThat(workloads.pods.get(entry.pod).getMetadata().getAnnotations())
        .containsEntry("terms", "recorded");
    assertThat(shown).extracting(p -> p.getMetadata().getName()).containsExactly(entry.pod);
    assertThat(pods.creating(step(job), entry)).as("created: followed from now on").isFalse();
    assertThat(entry.outcome).isNull();
    assertThat(released).isEmpty();
  }

  @Test
  void aCheckPodWhoseTermsCannotBeRecordedIsNotCreatedAndGivesItsGpuBack() throws Exception {
    TrainingJob job = job();
    CheckPods pods =
        pods(
            (j, wanted) -> {
              throw new IllegalStateException("usage record not written: 503");
            });
    VerificationPod entry = placeAndCreate(pods, job);

    assertThat(workloads.pods).as("no pod runs unbilled").isEmpty();
    assertThat(shown).isEmpty();
    assertThat(pods.creating(step(job), entry)).isTrue();
    assertThat(entry.outcome).isEqualTo("not_created");
    assertThat(released).containsExactly(SpotCheckRunner.holder(job));
  }
}
