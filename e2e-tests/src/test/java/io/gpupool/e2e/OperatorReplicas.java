package io.gpupool.e2e;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.e2e.chaos.HeapReadings;
import io.gpupool.e2e.chaos.LogLines;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The operator replicas of a chaos run, always two with leader election: the cluster's own and more
 * started as {@link OperatorProcess}es. The leader can be SIGKILLed; a replica that died (a kill,
 * or a leader that could not renew and exited) is replaced.
 */
final class OperatorReplicas implements AutoCloseable {

  /** One replica: its process id, metrics port and how to kill it. */
  private record Replica(
      String name, long pid, int port, Instant started, OperatorProcess process) {}

  private final SandboxCluster cluster;
  private final Map<String, String> env;
  private final String lease;
  // Read and changed by the run's loop and by a kill timed from the RPC proxy's thread.
  private final List<Replica> replicas = new CopyOnWriteArrayList<>();
  private final HeapReadings heapReadings = new HeapReadings();
  private int started;
  private final AtomicLong kills = new AtomicLong();
  private long exits;

  OperatorReplicas(SandboxCluster cluster, int firstPort, Map<String, String> env, String lease) {
    this.cluster = cluster;
    this.env = env;
    this.lease = lease;
    replicas.add(new Replica("first", cluster.operatorPid(), firstPort, Instant.now(), null));
    started = 1;
  }

  /** Starts replicas until two run, counting those found dead (exited on their own) first. */
  synchronized void keepTwo() throws IOException {
    for (Replica r : List.copyOf(replicas)) {
      if (!alive(r)) {
        replicas.remove(r);
        exits++;
      }
    }
    while (replicas.size() < 2) {
      String name = "chaos-replica-" + started;
      OperatorProcess p = OperatorProcess.start(cluster.operatorKubeconfig(), name, env);
      replicas.add(new Replica(name, p.pid(), p.httpPort(), Instant.now(), p));
      started++;
    }
  }

  private boolean alive(Replica r) {
    return r.process() == null ? cluster.operatorAlive() : r.process().isAlive();
  }

  /** The Lease holder's pid, or -1 when no live replica holds it. */
  long leaderPid(KubernetesClient admin) {
    Lease l = admin.leases().inNamespace(ChartRelease.NAMESPACE).withName(lease).get();
    String holder = l == null || l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
    if (holder == null) {
      return -1;
    }
    for (Replica r : replicas) {
      if (holder.endsWith("-" + r.pid())) {
        return r.pid();
      }
    }
    return -1;
  }

  /**
   * SIGKILLs the leader, if one of ours leads; true when it did. Not under the lock {@link
   * #keepTwo} holds while a replacement starts (up to a minute): a kill timed to a moment must not
   * wait for that.
   */
  boolean killLeader(KubernetesClient admin) {
    long pid = leaderPid(admin);
    for (Replica r : replicas) {
      if (r.pid() == pid && alive(r) && replicas.remove(r)) {
        // removed first: keepTwo must not count it as a replica that exited on its own
        if (r.process() == null) {
          cluster.killOperator();
        } else {
          r.process().kill();
        }
        kills.incrementAndGet();
        return true;
      }
    }
    return false;
  }

  long kills() {
    return kills.get();
  }

  /** Replicas that died without being killed (a leader that could not renew exits). */
  long exits() {
    return exits;
  }

  long started() {
    return started;
  }

  /**
   * The heap of the longest-running replica that answers within {@code timeout} ({@link
   * HeapReadings}): its first reading stays the start figure while that replica lives; "start →
   * end" in MiB with its uptime. Empty when no replica answered ({@link #whyNoHeap} says why).
   */
  Optional<String> heap(Duration timeout) {
    List<HeapReadings.Replica> live =
        replicas.stream()
            .filter(this::alive)
            .map(r -> new HeapReadings.Replica(r.name(), r.port(), r.started()))
            .toList();
    return heapReadings.read(live, timeout, Instant.now());
  }

  /**
   * The end's heap reading: a scrape of a replica that has metered hundreds of jobs can take longer
   * than a sample's few seconds on a loaded machine, so each try waits 30 s, up to three.
   */
  Optional<String> heapAtEnd() throws InterruptedException {
    for (int attempt = 0; attempt < 3; attempt++) {
      Optional<String> reading = heap(Duration.ofSeconds(30));
      if (reading.isPresent()) {
        return reading;
      }
      Thread.sleep(2000);
    }
    return Optional.empty();
  }

  /**
   * Each live replica at the end: its name and pid, whether it holds the Lease, its last leadership
   * line and its last warning or error (the first line of each), for a run that went wrong.
   */
  String leadership(KubernetesClient admin) {
    long leader = leaderPid(admin);
    StringBuilder b = new StringBuilder("lease held by ");
    b.append(leader < 0 ? "no live replica of ours" : "pid " + leader).append('\n');
    for (Replica r : replicas) {
      String log = r.process() == null ? cluster.operatorLog() : r.process().log();
      b.append("- ")
          .append(r.name())
          .append(" (pid ")
          .append(r.pid())
          .append(alive(r) ? ", alive" : ", dead")
          .append("): last leadership line: ")
          .append(LogLines.last(log, line -> line.contains("[io.gp.op.le.")))
          .append("; last warning: ")
          .append(LogLines.last(log, line -> line.contains(" WARN ") || line.contains(" ERROR ")))
          .append('\n');
    }
    return b.toString();
  }

  /** Why the last heap reading failed, replica by replica. */
  String whyNoHeap() {
    return heapReadings.whyNot();
  }

  @Override
  public synchronized void close() {
    for (Replica r : replicas) {
      if (r.process() != null) {
        r.process().close();
      }
    }
  }
}
