package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.operator.billing.Admission;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.status.JobConditions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * The budget of an InferenceJob: the gate new replicas pass ({@link #admit}) and the stop of a
 * serving job its budget no longer covers ({@link #mustStop}).
 */
final class InferenceBudget {
  private static final Logger LOG = Logger.getLogger(InferenceBudget.class);

  /** Deposits happen on chain, not in the cluster: a refused job looks again after this. */
  static final Duration FUNDS_RECHECK = Duration.ofSeconds(60);

  private final BillingService billing;
  private final EventRecorder events;

  InferenceBudget(BillingService billing, EventRecorder events) {
    this.billing = billing;
    this.events = events;
  }

  /**
   * Why a serving job must stop now: its payer's escrow has been dry past the grace period ({@code
   * gpupool.billing.suspend-grace}, asked of the chain only when billing is enabled). Empty when it
   * may go on; sets Funded either way. (The cost cap is the job loop's.)
   */
  Optional<Stop> mustStop(JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s) {
    InferenceJob job = s.job;
    if (!billing.enabled()) {
      return Optional.empty();
    }
    Admission funds = billing.whileRunning(job);
    if (funds.mustSuspend()) {
      return Optional.of(new Stop(funds.reason(), funds.stopMessage()));
    }
    if (s.condition(
            JobConditions.FUNDED,
            funds.mayRun() && funds.suspendAt() == null,
            funds.reason(),
            funds.message())
        && funds.suspendAt() != null) {
      events.record(job, EventRecorder.WARNING, funds.reason(), funds.message());
    }
    if (funds.suspendAt() != null) {
      s.recheckIn(Duration.between(s.now, funds.suspendAt()).plusMillis(200));
    }
    return Optional.empty();
  }

  /** Why a serving job stops. */
  record Stop(String reason, String message) {}

  /**
   * Stops a serving job its budget no longer covers: every replica goes ({@code stopWorkload}),
   * usage stops, and the job waits as Pending (the job loop frees its GPUs).
   */
  void stop(
      JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s,
      Stop stop,
      Runnable stopWorkload) {
    stopWorkload.run();
    s.status.phase = InferenceJobPhase.Pending;
    s.condition(JobConditions.FUNDED, false, stop.reason(), stop.message());
    s.condition(
        InferenceJobReconciler.SERVING, false, stop.reason(), "suspended: " + stop.message());
    events.record(
        s.job, EventRecorder.WARNING, "Suspended", "every replica removed: " + stop.message());
    LOG.infof("%s suspended: %s", s.ref(), stop.message());
  }

  /**
   * The budget gate for new replicas (the job loop has checked {@code spec.budget.maxCost}): the
   * payer's escrow must cover what the job would cost per hour with them (running and draining
   * groups included) for one settlement interval. Replicas already serving keep serving.
   */
  boolean admit(
      JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s,
      List<ReplicaGroup> serving,
      boolean servingAny,
      InferencePlanner.Placed placed) {
    List<Pod> running = new ArrayList<>();
    serving.forEach(g -> running.addAll(g.pods()));
    List<ShardAssignment> planned =
        placed.groups().values().stream().flatMap(List::stream).toList();
    Admission admission =
        billing.admit(
            s.job,
            ReplicaCost.weiPerHour(
                running, pod -> billing.placedTerms(pod, s.job), planned, billing::weiPerHour));
    if (admission.mayRun()) {
      s.condition(JobConditions.FUNDED, true, admission.reason(), admission.message());
      return true;
    }
    String reason = admission.reason();
    String message =
        (servingAny ? placed.groups().size() + " more replica(s) not started: " : "")
            + admission.message();
    if (s.condition(JobConditions.FUNDED, false, reason, message)) {
      events.record(s.job, EventRecorder.WARNING, reason, message);
      LOG.infof("%s refused by the budget gate: %s", s.ref(), message);
    }
    s.recheckIn(FUNDS_RECHECK);
    return false;
  }
}
