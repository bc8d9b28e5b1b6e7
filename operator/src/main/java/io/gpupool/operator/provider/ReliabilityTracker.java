package io.gpupool.operator.provider;

import io.gpupool.api.v1alpha1.Reliability;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.NodeInventory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * How dependable each provider has been: the share of observed node-time its nodes were Ready, and
 * how often it cost a running job a node. Placement reads the resulting score from the GpuProvider
 * status, so unreliable contributors get fewer (and cheaper-to-lose) ranks.
 *
 * <p>score = uptime / (1 + 0.25 × recent failures), where recent failures decay with a 24 h
 * half-life: a provider recovers its standing by staying up, and one bad evening does not exclude
 * it for good. Hardware challenges count too: a failed one is a failure, a passed one forgives half
 * a recent failure (never below none), so a provider whose nodes keep passing recovers faster than
 * by waiting, while one pass cannot undo one failure. The figures are seeded from the GpuProvider
 * status, so an operator restart keeps them.
 */
@ApplicationScoped
public class ReliabilityTracker {
  static final Duration FAILURE_HALF_LIFE = Duration.ofHours(24);
  static final double FAILURE_WEIGHT = 0.25;
  static final double CHALLENGE_PASS_CREDIT = 0.5;

  private final Clock clock;
  private final Map<String, Ledger> byProvider = new HashMap<>();
  private final Map<String, NodeSeen> nodes = new HashMap<>();
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
  private final Set<String> lostNodes = new HashSet<>();

  /** What is known about one provider. */
  private static final class Ledger {
    double observedSeconds;
    double readySeconds;
    int failures;
    double recentFailures;
    Instant recentAt;
  }

  private record NodeSeen(String provider, boolean ready, Instant since) {}

  @Inject
  public ReliabilityTracker(NodeInventory inventory) {
    this(Clock.systemUTC());
    inventory.onChange(name -> observe(name, inventory.node(name).orElse(null)));
  }

  ReliabilityTracker(Clock clock) {
    this.clock = clock;
  }

  /** Starts a provider's figures from what its status recorded, unless already tracked. */
  public synchronized void seed(String provider, Reliability recorded) {
    if (recorded == null || byProvider.containsKey(provider)) {
      return;
    }
    Ledger l = ledger(provider);
    l.observedSeconds = recorded.observedNodeSeconds == null ? 0 : recorded.observedNodeSeconds;
    l.readySeconds =
        recorded.uptime == null ? l.observedSeconds : recorded.uptime * l.observedSeconds;
    l.failures = recorded.failures == null ? 0 : recorded.failures;
    if (recorded.score != null && recorded.score > 0 && recorded.uptime != null) {
      l.recentFailures = Math.max(0, (recorded.uptime / recorded.score - 1) / FAILURE_WEIGHT);
    }
    l.recentAt = clock.instant();
  }

  /** Records a node's current state (null: the node left the pool). */
  public void observe(String nodeName, GpuNode node) {
    String provider;
    synchronized (this) {
      Instant now = clock.instant();
      NodeSeen before = nodes.remove(nodeName);
      if (before != null) {
        accrue(before, now);
      }
      if (node != null) {
        nodes.put(nodeName, new NodeSeen(node.provider(), node.ready(), now));
        if (node.ready()) {
          lostNodes.remove(nodeName); // back: a later loss counts again
        }
      }
      provider = node != null ? node.provider() : before == null ? null : before.provider();
    }
    if (provider != null) {
      listeners.forEach(l -> l.accept(provider));
    }
  }

  /**
   * A node of {@code provider} was lost under running work (NotReady past the grace, or gone).
   * Counted once per outage, however many jobs had ranks there.
   */
  public void nodeLost(String nodeName, String provider) {
    synchronized (this) {
      if (!lostNodes.add(nodeName)) {
        return;
      }
      Ledger l = ledger(provider);
      decay(l, clock.instant());
      l.failures++;
      l.recentFailures += 1;
    }
    listeners.forEach(listener -> listener.accept(provider));
  }

  /**
   * A node of {@code provider} failed a hardware challenge: it counts as a failure, like a lost
   * node, so the score drops and recovers with the same half-life.
   */
  public void challengeFailed(String provider) {
    synchronized (this) {
      Ledger l = ledger(provider);
      decay(l, clock.instant());
      l.failures++;
      l.recentFailures += 1;
    }
    listeners.forEach(listener -> listener.accept(provider));
  }

  /**
   * A node of {@code provider} passed a hardware challenge: it forgives {@value
   * #CHALLENGE_PASS_CREDIT} of a recent failure, never more than the provider has, so passes banked
   * before a failure do not cancel it and the lifetime count of failures stays.
   */
  public void challengePassed(String provider) {
    synchronized (this) {
      Ledger l = ledger(provider);
      decay(l, clock.instant());
      l.recentFailures = Math.max(0, l.recentFailures - CHALLENGE_PASS_CREDIT);
    }
    listeners.forEach(listener -> listener.accept(provider));
  }

  /** The provider's figures now, as GpuProvider status shows them. */
  public synchronized Reliability reliability(String provider) {
    Instant now = clock.instant();
    nodes.replaceAll(
        (name, seen) -> {
          if (seen.provider().equals(provider)) {
            accrue(seen, now);
            return new NodeSeen(seen.provider(), seen.ready(), now);
          }
          return seen;
        });
    Ledger l = ledger(provider);
    decay(l, now);
    Reliability r = new Reliability();
    r.observedNodeSeconds = Math.round(l.observedSeconds);
    r.uptime = l.observedSeconds <= 0 ? 1.0 : round(l.readySeconds / l.observedSeconds);
    r.failures = l.failures;
    r.score = round(r.uptime / (1 + FAILURE_WEIGHT * l.recentFailures));
    return r;
  }

  /** Tells {@code listener} the provider whose figures changed. */
  public void onChange(Consumer<String> listener) {
    listeners.add(listener);
  }

  private void accrue(NodeSeen seen, Instant now) {
    double seconds = Math.max(0, Duration.between(seen.since(), now).toMillis() / 1000.0);
    Ledger l = ledger(seen.provider());
    l.observedSeconds += seconds;
    if (seen.ready()) {
      l.readySeconds += seconds;
    }
  }

  private Ledger ledger(String provider) {
    return byProvider.computeIfAbsent(
        provider,
        p -> {
          Ledger l = new Ledger();
          l.recentAt = clock.instant();
          return l;
        });
  }

  private static void decay(Ledger l, Instant now) {
    double halfLives =
        Duration.between(l.recentAt, now).toMillis() / (double) FAILURE_HALF_LIFE.toMillis();
    if (halfLives > 0) {
      l.recentFailures *= Math.pow(0.5, halfLives);
      l.recentAt = now;
    }
  }

  private static double round(double v) {
    return Math.round(v * 10000) / 10000.0;
  }
}
