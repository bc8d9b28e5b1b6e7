package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.Autoscaling;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.status.EventRecorder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import org.jboss.logging.Logger;

/** Reads an InferenceJob's load and moves its desired replica count ({@link Autoscaler}). */
final class ReplicaScaler {
  private static final Logger LOG = Logger.getLogger(ReplicaScaler.class);

  /** What the scaler remembers of a job between reconciles. */
  static final class Memory {
    Instant lastPoll;
    Instant lowSince;
  }

  private final LoadSignal load;
  private final InferenceMetrics scaleMetrics;
  private final EventRecorder events;
  private final Duration pollInterval;

  ReplicaScaler(
      LoadSignal load, InferenceMetrics scaleMetrics, EventRecorder events, Duration pollInterval) {
    this.load = load;
    this.scaleMetrics = scaleMetrics;
    this.events = events;
    this.pollInterval = pollInterval;
  }

  /** The desired count after reading the load (at most once per poll interval). */
  int desired(
      JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s,
      Memory mem,
      List<ReplicaGroup> active,
      int floor,
      int max,
      int desired) {
    Autoscaling autoscaling = s.job.getSpec().autoscaling;
    if (autoscaling == null || max <= floor) {
      s.remove(InferenceJobReconciler.SCALING);
      return Autoscaler.clamp(desired, floor, max);
    }
    if (mem.lastPoll != null && s.now.isBefore(mem.lastPoll.plus(pollInterval))) {
      s.recheckIn(Duration.between(s.now, mem.lastPoll.plus(pollInterval)));
      return desired;
    }
    mem.lastPoll = s.now;
    s.recheckIn(pollInterval);
    List<Double> loads = new ArrayList<>();
    int port = InferenceGroup.port(s.job.getSpec());
    for (ReplicaGroup g : active) {
      Pod leader = g.leader();
      if (g.ready() && leader != null) {
        OptionalDouble v = load.inFlight(leader, port, autoscaling.metricsPath);
        if (v.isPresent()) {
          loads.add(v.getAsDouble());
        }
      }
    }
    int target = autoscaling.targetInFlightRequestsOrDefault();
    Duration window = Duration.ofSeconds(autoscaling.scaleDownStabilizationSecondsOrDefault());
    Autoscaler.Decision d =
        Autoscaler.decide(floor, max, desired, loads, target, mem.lowSince, s.now, window);
    mem.lowSince = d.lowSince();
    String ns = s.job.getMetadata().getNamespace();
    String name = s.job.getMetadata().getName();
    scaleMetrics.load(
        ns, name, loads.stream().mapToDouble(Double::doubleValue).sum(), loads.size(), target);
    if (d.scaled()) {
      scaleMetrics.scaled(
          ns, name, d.desired() > desired ? InferenceMetrics.UP : InferenceMetrics.DOWN);
    }
    if ("NoSignal".equals(d.reason())
        && s.status.conditions.stream()
            .anyMatch(c -> InferenceJobReconciler.SCALING.equals(c.getType()))) {
      return d.desired();
    }
    s.condition(InferenceJobReconciler.SCALING, d.scaled(), d.reason(), d.message());
    if (d.scaled()) {
      events.record(s.job, EventRecorder.NORMAL, d.reason(), d.message());
      LOG.infof("%s %s: %s", s.ref(), d.reason(), d.message());
    }
    return d.desired();
  }
}
