package io.gpupool.operator.training;

import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.operator.status.Conditions;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.status.JobConditions;
import io.gpupool.operator.status.StatusDiff;
import io.gpupool.operator.validation.SpecProblems;
import io.gpupool.operator.validation.TrainingJobValidator;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Clock;
import java.time.Instant;
import org.jboss.logging.Logger;

/** Drives a TrainingJob: validate, then (once planned) place and follow its gang. */
@ControllerConfiguration(name = TrainingJobReconciler.NAME)
public class TrainingJobReconciler implements Reconciler<TrainingJob> {
  public static final String NAME = "trainingjob";
  private static final Logger LOG = Logger.getLogger(TrainingJobReconciler.class);

  private final EventRecorder events;
  private final Clock clock;

  public TrainingJobReconciler(EventRecorder events) {
    this.events = events;
    this.clock = Clock.systemUTC();
  }

  @Override
  public UpdateControl<TrainingJob> reconcile(TrainingJob job, Context<TrainingJob> context) {
    TrainingJobStatus before = StatusDiff.copy(job.getStatus(), TrainingJobStatus.class);
    TrainingJobStatus status = job.getStatus() == null ? new TrainingJobStatus() : job.getStatus();
    job.setStatus(status);
    Instant now = clock.instant();
    Long generation = job.getMetadata().getGeneration();
    TrainingJobPhase previousPhase = status.phase;

    SpecProblems problems = TrainingJobValidator.validate(job.getSpec());
    if (!problems.isEmpty()) {
      status.phase = TrainingJobPhase.Pending;
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
            "TrainingJob(%s/%s) refused: %s",
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
        status.phase = TrainingJobPhase.Suspended;
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
        if (status.phase == null || status.phase == TrainingJobPhase.Suspended) {
          status.phase = TrainingJobPhase.Pending;
        }
        if (status.phase == TrainingJobPhase.Pending) {
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
    if (status.restarts == null) {
      status.restarts = 0;
    }
    if (previousPhase != status.phase) {
      events.record(
          job,
          EventRecorder.NORMAL,
          String.valueOf(status.phase),
          "TrainingJob is " + status.phase);
    }
    return before == null || StatusDiff.changed(before, status)
        ? UpdateControl.patchStatus(job)
        : UpdateControl.noUpdate();
  }
}
