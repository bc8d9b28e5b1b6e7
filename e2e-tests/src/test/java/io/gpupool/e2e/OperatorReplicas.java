package io.gpupool.e2e;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
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
  // HTTP/1.1: no h2c upgrade attempt on every scrape.
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private int started;
  private final AtomicLong kills = new AtomicLong();
  private long exits;
  private Double heapStart;
  private String heapStartOf;

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
   * The heap of the longest-running replica: its first reading stays the start figure while that
   * replica lives; "start → end" in MiB with its uptime. Empty when no replica is alive or the one
   * asked did not answer within {@code timeout}.
   */
  synchronized Optional<String> heap(Duration timeout) {
    Replica oldest =
        replicas.stream()
            .filter(this::alive)
            .min(java.util.Comparator.comparing(Replica::started))
            .orElse(null);
    if (oldest == null) {
      return Optional.empty();
    }
    OptionalDouble now = heapBytes(oldest.port(), timeout);
    if (now.isEmpty()) {
      return Optional.empty();
    }
    if (heapStart == null || !oldest.name().equals(heapStartOf)) {
      heapStart = now.getAsDouble();
      heapStartOf = oldest.name();
    }
    long uptime = Duration.between(oldest.started(), Instant.now()).toMinutes();
    return Optional.of(
        String.format(
            "%.0f MiB → %.0f MiB (%s, up %d min; live data after the last major GC)",
            heapStart / 1048576, now.getAsDouble() / 1048576, oldest.name(), uptime));
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
   * What the old generation kept after the last major collection ({@code jvm_gc_live_data_size}),
   * or the heap in use when no major collection ran yet.
   */
  private OptionalDouble heapBytes(int port, Duration timeout) {
    try {
      String body =
          http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/metrics"))
                      .timeout(timeout)
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      double live = sum(body, "jvm_gc_live_data_size_bytes", "");
      return OptionalDouble.of(
          live > 0 ? live : sum(body, "jvm_memory_used_bytes", "area=\"heap\""));
    } catch (IOException e) {
      return OptionalDouble.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return OptionalDouble.empty();
    }
  }

  private static double sum(String exposition, String metric, String labelPart) {
    return exposition
        .lines()
        .filter(l -> l.startsWith(metric + " ") || l.startsWith(metric + "{"))
        .filter(l -> l.contains(labelPart))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
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
