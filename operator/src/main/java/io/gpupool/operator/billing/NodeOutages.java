package io.gpupool.operator.billing;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the operator has seen of each node's readiness, for billing: a pod stops being billed when
 * its node stops delivering. The outage of a node starts at its Ready condition's {@code
 * lastTransitionTime} (reported by the node's own kubelet, so clamped): never before the last time
 * the operator saw the node Ready (billing up to there is already charged, and the node was
 * delivering as far as the operator could tell) and never after the operator saw it NotReady. Pure;
 * fed with observations by {@link UsageMeter}.
 */
public final class NodeOutages {

  /**
   * @param lastSeenReady the last instant the operator saw the node Ready, null if never
   * @param outageStart the start of the current outage, null while the node is Ready
   */
  private record Seen(Instant lastSeenReady, Instant outageStart) {}

  private final Map<String, Seen> nodes = new ConcurrentHashMap<>();

  /**
   * Takes in what the operator sees of {@code node} at {@code observedAt}.
   *
   * @param ready whether the node's Ready condition is True
   * @param transition the Ready condition's {@code lastTransitionTime} while not ready, or null
   * @return the start of an outage that this observation reveals (empty when the node is Ready or
   *     its outage was already known)
   */
  public Optional<Instant> observe(
      String node, boolean ready, Instant transition, Instant observedAt) {
    Seen[] started = new Seen[1];
    nodes.compute(
        node,
        (k, seen) -> {
          if (ready) {
            Instant last =
                seen == null ? observedAt : BillableTime.later(seen.lastSeenReady(), observedAt);
            return new Seen(last, null);
          }
          if (seen != null && seen.outageStart() != null) {
            return seen;
          }
          Instant lastReady = seen == null ? null : seen.lastSeenReady();
          Instant start = transition == null ? observedAt : transition;
          if (start.isAfter(observedAt)) {
            start = observedAt;
          }
          if (lastReady != null && start.isBefore(lastReady)) {
            start = lastReady;
          }
          started[0] = new Seen(lastReady, start);
          return started[0];
        });
    return started[0] == null ? Optional.empty() : Optional.of(started[0].outageStart());
  }

  /** A node that left the cluster stopped delivering when the operator saw it go. */
  public Optional<Instant> left(String node, Instant observedAt) {
    return observe(node, false, observedAt, observedAt);
  }

  /** The start of the node's current outage; empty while it is Ready or was never seen. */
  public Optional<Instant> outageStart(String node) {
    Seen seen = node == null ? null : nodes.get(node);
    return seen == null ? Optional.empty() : Optional.ofNullable(seen.outageStart());
  }

  /**
   * The latest instant a pod still running on {@code node} may be charged to: the start of the
   * node's outage while it is down, the last time it was seen Ready otherwise; empty when the node
   * was never seen (nothing caps the pod but the operator's view of the pod itself).
   */
  public Optional<Instant> billableUntil(String node) {
    Seen seen = node == null ? null : nodes.get(node);
    if (seen == null) {
      return Optional.empty();
    }
    return Optional.ofNullable(
        seen.outageStart() != null ? seen.outageStart() : seen.lastSeenReady());
  }

  /** Nodes no longer in the cluster nor carrying pods are forgotten. */
  public void retainOnly(Set<String> keep) {
    nodes.keySet().retainAll(keep);
  }
}
