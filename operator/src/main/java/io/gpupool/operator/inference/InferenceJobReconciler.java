package io.gpupool.operator.inference;

import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.operator.status.Conditions;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.status.JobConditions;
import io.gpupool.operator.status.StatusDiff;
import io.gpupool.operator.validation.InferenceJobValidator;
import io.gpupool.operator.validation.SpecProblems;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Clock;
import java.time.Instant;
import org.jboss.logging.Logger;

/** Drives an InferenceJob: validate, then (once planned) place and scale its replicas. */
@ControllerConfiguration(name = InferenceJobReconciler.NAME)
public class InferenceJobReconciler implements Reconciler<InferenceJob> {
  public static final String NAME = "inferencejob";
  private static final Logger LOG = Logger.getLogger(InferenceJobReconciler.class);

  private final EventRecorder events;
  private final Clock clock = Clock.systemUTC();

  public InferenceJobReconciler(EventRecorder events) {
    this.events = events;
  }

  @Override
  public UpdateControl<InferenceJob> reconcile(InferenceJob job, Context<InferenceJob> context) {
    InferenceJobStatus before = StatusDiff.copy(job.getStatus(), InferenceJobStatus.class);
    InferenceJobStatus status =
        job.getStatus() == null ? new InferenceJobStatus() : job.getStatus();
    job.setStatus(status);
    Instant now = clock.instant();
    Long generation = job.getMetadata().getGeneration();
    InferenceJobPhase previousPhase = status.phase;

    SpecProblems problems = InferenceJobValidator.validate(job.getSpec());
    if (!problems.isEmpty()) {
      status.phase = InferenceJobPhase.Pending;
      if (Conditions.set(
          status.conditions,
          JobConditions.SPEC_VALID,
          false,
          "InvalidSpec",
          problems.summary(),
          generation,
          now)) {
        events.record(job, EventRecorder.WARNING, "InvalidSpec", problems.summary());
        LOG.infof(
            "InferenceJob(%s/%s) refused: %s",
            job.getMetadata().getNamespace(), job.getMetadata().getName(), problems.summary());
      }
    } else {
      Conditions.set(
          status.conditions,
          JobConditions.SPEC_VALID,
          true,
          "Valid",
          "spec accepted",
          generation,
          now);
      if (Boolean.TRUE.equals(job.getSpec().suspend)) {
        status.phase = InferenceJobPhase.Suspended;
        Conditions.set(
            status.conditions,
            JobConditions.SUSPENDED,
            true,
            "Suspended",
            "spec.suspend is true",
            generation,
            now);
      } else {
        Conditions.remove(status.conditions, JobConditions.SUSPENDED);
        if (status.phase == null || status.phase == InferenceJobPhase.Suspended) {
          status.phase = InferenceJobPhase.Pending;
        }
        status.desiredReplicas =
            Math.max(1, job.getSpec().replicas.min == null ? 1 : job.getSpec().replicas.min);
        if (status.readyReplicas == null) {
          status.readyReplicas = 0;
        }
        if (status.phase == InferenceJobPhase.Pending) {
          Conditions.set(
              status.conditions,
              JobConditions.SCHEDULED,
              false,
              "Queued",
              "waiting for a placement",
              generation,
              now);
        }
      }
    }
    status.observedGeneration = generation;
    if (previousPhase != status.phase) {
      events.record(
          job,
          EventRecorder.NORMAL,
          String.valueOf(status.phase),
          "InferenceJob is " + status.phase);
    }
    return before == null || StatusDiff.changed(before, status)
        ? UpdateControl.patchStatus(job)
        : UpdateControl.noUpdate();
  }
}
