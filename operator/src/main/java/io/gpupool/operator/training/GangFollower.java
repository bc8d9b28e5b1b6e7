package io.gpupool.operator.training;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.operator.billing.Admission;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.job.JobLoop;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.metrics.JobMetrics;
import io.gpupool.operator.status.Conditions;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.status.JobConditions;
import io.gpupool.operator.verification.SpotCheckRunner;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Follows a placed gang: observes it ({@link GangObserver}, pure), then acts on what it sees —
 * running, succeeded, a rank failed ({@link RestartDecision}: restart or fail), a node suspect or
 * lost (repair the gang elsewhere or wait for capacity), or the payer's escrow dry.
 */
final class GangFollower {
  private static final Logger LOG = Logger.getLogger(GangFollower.class);

  /** How soon a gang whose pod the operator's view lacks (the API server has it) is looked at. */
  static final Duration VIEW_RECHECK = Duration.ofSeconds(1);

  private final GangHealth pool;
  private final TrainingPlanner planner;
  private final BillingService billing;
  private final Gangs gangs;
  private final EventRecorder events;
  private final JobMetrics metrics;

  GangFollower(
      GangHealth pool,
      TrainingPlanner planner,
      BillingService billing,
      Gangs gangs,
      EventRecorder events,
      JobMetrics metrics) {
    this.pool = pool;
    this.planner = planner;
    this.billing = billing;
    this.gangs = gangs;
    this.events = events;
    this.metrics = metrics;
  }

  void follow(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s, List<RankAssignment> ranks) {
    TrainingJob job = s.job;
    TrainingJobStatus status = s.status;
    Map<Integer, Pod> gang = gangs.current(job);
    Map<String, GangObserver.NodeState> nodes = new HashMap<>();
    for (RankAssignment r : ranks) {
      pool.inventory()
          .node(r.node())
          .ifPresent(
              n -> nodes.put(n.name(), new GangObserver.NodeState(n.ready(), n.notReadySince())));
    }
    GangObservation seen = GangObserver.observe(ranks, gang, nodes, pool.lostGracePeriod(), s.now);
    if (seen instanceof GangObservation.RankFailed missing
        && !gang.containsKey(missing.rank())
        && gangs.onServer(job, missing.rank())) {
      // A rank's pod is missing from the operator's view but the API server has it: restarting
      // would burn a restart of the job's budget on a view that has not caught up (seen right
      // after a gang was moved off a lost node). Look again shortly.
      LOG.infof(
          "%s: rank %d's pod is on the API server though not yet in the operator's view;"
              + " looked at again in %s",
          JobLoop.ref(job), missing.rank(), VIEW_RECHECK);
      s.recheckIn(VIEW_RECHECK);
      return;
    }
    if (seen instanceof GangObservation.Starting st) {
      if (status.phase != TrainingJobPhase.Running) {
        status.phase = TrainingJobPhase.Scheduled;
      }
      s.condition(
          JobConditions.RUNNING,
          false,
          "Starting",
          st.running() + " of " + st.total() + " ranks running");
      return;
    }
    if (escrowDry(s)) {
      return;
    }
    if (seen instanceof GangObservation.Running) {
      running(s, ranks);
    } else if (seen instanceof GangObservation.Succeeded) {
      succeeded(s, ranks);
    } else if (seen instanceof GangObservation.NodeSuspect suspect) {
      s.condition(
          JobConditions.RUNNING,
          status.phase == TrainingJobPhase.Running,
          "NodeNotReady",
          "node "
              + suspect.node()
              + " is NotReady; ranks move if it is not back by "
              + suspect.recheckAt());
      s.recheckIn(Duration.between(s.now, suspect.recheckAt()).plusMillis(500));
    } else if (seen instanceof GangObservation.RankFailed failed) {
      rankFailed(s, ranks, failed);
    } else {
      nodesLost(s, ranks, (GangObservation.NodesLost) seen);
    }
  }

  /**
   * Stops a gang whose payer's escrow is dry past the grace period, or whose namespace may no
   * longer charge its account; true when it did. (The cost cap is the job loop's.)
   */
  private boolean escrowDry(JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s) {
    TrainingJob job = s.job;
    if (!billing.enabled()) {
      return false;
    }
    // Also when the job has no budget: it may be paid by its namespace's default account, and
    // an unbound namespace stops it (issue #18).
    Admission funds = billing.whileRunning(job);
    if (funds.mustSuspend()) {
      stop(s, funds.reason(), funds.stopMessage());
      s.recheckIn(TrainingLoop.FUNDS_RECHECK);
      return true;
    }
    s.condition(
        JobConditions.FUNDED,
        funds.mayRun() && funds.suspendAt() == null,
        funds.reason(),
        funds.message());
    return false;
  }

  /** Removes the gang (usage stops, what was metered is kept) and leaves the job Pending. */
  private void stop(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s, String reason, String message) {
    gangs.remove(s.job);
    s.status.placements = null;
    s.status.phase = TrainingJobPhase.Pending;
    s.condition(JobConditions.FUNDED, false, reason, message);
    s.condition(JobConditions.RUNNING, false, reason, "suspended: " + message);
    events.record(s.job, EventRecorder.WARNING, "Suspended", message);
  }

  private void running(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s, List<RankAssignment> ranks) {
    s.status.phase = TrainingJobPhase.Running;
    if (s.status.startTime == null) {
      s.status.startTime = Conditions.timestamp(s.now);
    }
    s.remove(JobConditions.RESTARTING);
    s.condition(JobConditions.RUNNING, true, "AllRanksRunning", ranks.size() + " ranks running");
  }

  private void succeeded(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s, List<RankAssignment> ranks) {
    if (SpotCheckRunner.wanted(s.job) && SpotCheckRunner.unsettled(s.status)) {
      // Succeeded means the work stands: the last intervals get their spot-checks first.
      s.status.phase = TrainingJobPhase.Running;
      s.condition(
          JobConditions.RUNNING,
          false,
          "Verifying",
          "all ranks exited 0; waiting for the spot-checks of the last checkpoint intervals");
      return;
    }
    s.status.phase = TrainingJobPhase.Succeeded;
    s.status.completionTime = Conditions.timestamp(s.now);
    s.condition(JobConditions.RUNNING, false, "Completed", "all ranks exited 0");
    s.condition(
        JobConditions.SUCCEEDED, true, "Completed", "all " + ranks.size() + " ranks exited 0");
  }

  private void rankFailed(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      List<RankAssignment> ranks,
      GangObservation.RankFailed failed) {
    RestartDecision decision =
        RestartDecision.forFailure(
            s.job.getSpec().restartPolicy,
            failed.exitCode(),
            s.status.restarts,
            s.job.getSpec().backoffLimitOrDefault(),
            failed.what());
    if (decision.restart()) {
      restart(s, ranks, "Restarting", decision.message());
    } else {
      fail(s, decision.reason(), decision.message());
    }
  }

  private void nodesLost(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      List<RankAssignment> ranks,
      GangObservation.NodesLost lost) {
    TrainingJob job = s.job;
    String what =
        "lost node(s) " + String.join(", ", lost.nodes()) + " under rank(s) " + lost.ranks();
    ranks.stream()
        .filter(r -> lost.nodes().contains(r.node()))
        .forEach(r -> pool.reliability().nodeLost(r.node(), r.provider()));
    TrainingPlanner.Placement repaired = planner.repair(job, ranks, lost.nodes());
    if (repaired instanceof TrainingPlanner.Placed placed) {
      restart(
          s,
          placed.ranks(),
          "Rescheduled",
          what
              + "; moved to "
              + TrainingLoop.describe(placed.ranks())
              + " and restarting from the last checkpoint");
      metrics.recovery(TrainingLoop.KIND);
      s.status.plan = placed.summary();
      return;
    }
    gangs.remove(job);
    s.status.placements = null;
    s.status.restarts++;
    s.status.resumeFrom = checkpoint(job);
    s.status.phase = TrainingJobPhase.Pending;
    String reason = ((TrainingPlanner.Unplaceable) repaired).reason();
    s.condition(
        JobConditions.SCHEDULED, false, "Unschedulable", what + "; no replacement: " + reason);
    events.record(
        job, EventRecorder.WARNING, "NodeLost", what + "; waiting for capacity: " + reason);
  }

  /**
   * Moves the gang off a provider the spot-checks caught cheating (its nodes are quarantined, so
   * placement avoids them) and restarts it from the last verified checkpoint; when no replacement
   * fits, the job waits Pending and resumes from that checkpoint once placed.
   */
  void rewind(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      List<RankAssignment> ranks,
      SpotCheckRunner.Cheat cheat) {
    TrainingJob job = s.job;
    TrainingPlanner.Placement repaired = planner.repair(job, ranks, cheat.nodes());
    if (repaired instanceof TrainingPlanner.Placed placed) {
      gangs.remove(job);
      s.status.restarts++;
      s.status.resumeFrom = checkpoint(job);
      gangs.start(s, placed.ranks(), s.status.resumeFrom, cheat.resumeStep());
      s.status.plan = placed.summary();
      s.status.phase = TrainingJobPhase.Scheduled;
      String message =
          "moved to "
              + TrainingLoop.describe(placed.ranks())
              + ", resuming from the last verified checkpoint, step "
              + cheat.resumeStep();
      s.condition(JobConditions.RESTARTING, true, "CheatReplaced", message);
      s.condition(JobConditions.RUNNING, false, "CheatReplaced", message);
      events.record(job, EventRecorder.WARNING, "CheatReplaced", message);
      metrics.restart(TrainingLoop.KIND, "CheatReplaced");
      return;
    }
    gangs.remove(job);
    s.status.placements = null;
    s.status.restarts++;
    s.status.resumeFrom = checkpoint(job);
    s.status.verification.rewindTo = cheat.resumeStep();
    s.status.phase = TrainingJobPhase.Pending;
    String reason = ((TrainingPlanner.Unplaceable) repaired).reason();
    s.condition(
        JobConditions.SCHEDULED,
        false,
        "Unschedulable",
        "left provider " + cheat.provider() + " after a proven cheat; no replacement: " + reason);
  }

  /** Replaces the gang by a new generation on {@code ranks}, resuming from the checkpoint. */
  private void restart(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      List<RankAssignment> ranks,
      String reason,
      String message) {
    gangs.remove(s.job);
    s.status.restarts++;
    s.status.resumeFrom = checkpoint(s.job);
    gangs.start(s, ranks, s.status.resumeFrom);
    s.status.phase = TrainingJobPhase.Scheduled;
    s.condition(JobConditions.RESTARTING, true, reason, message);
    s.condition(JobConditions.RUNNING, false, reason, message);
    events.record(s.job, EventRecorder.WARNING, reason, message);
    metrics.restart(TrainingLoop.KIND, reason);
    LOG.infof("%s %s: %s", JobLoop.ref(s.job), reason, message);
  }

  /** Ends the job as Failed: its pods go, and the loop frees its GPUs. */
  void fail(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s, String reason, String message) {
    gangs.remove(s.job);
    s.status.phase = TrainingJobPhase.Failed;
    s.status.completionTime = Conditions.timestamp(s.now);
    s.condition(JobConditions.RUNNING, false, reason, message);
    s.condition(JobConditions.FAILED, true, reason, message);
    events.record(s.job, EventRecorder.WARNING, reason, message);
  }

  private static String checkpoint(TrainingJob job) {
    return job.getSpec().checkpoint == null ? null : job.getSpec().checkpoint.uri;
  }
}
