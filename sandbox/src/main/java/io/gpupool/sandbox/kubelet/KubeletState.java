package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What the simulated kubelets and the node controller share: the pods they run, the nodes they know
 * and the one thread everything runs on. Touched only on that thread.
 */
final class KubeletState {

  final KubernetesClient client;
  final KubeletSimulator.Options options;
  final Clock clock;
  final Consumer<String> log;
  final ScheduledExecutorService executor;
  final KubeletEvents events;
  final SimulatedMetricsEndpoints metricsEndpoints;

  /** Runs containers of process-mode pods as local processes; null when all are simulated. */
  final PodProcesses processes;

  /** Admitted, non-terminated pods by uid. */
  final Map<String, PodRun> runs = new HashMap<>();

  /** Uids of pods this simulator has already decided about (admitted, rejected, finished). */
  final Set<String> decided = new HashSet<>();

  final Map<String, Node> nodes = new HashMap<>();

  /**
   * Nodes whose lease was stored before this simulator started (seeded with a large pool): their
   * first sighting needs no lease write, one LIST at start replaces a GET and a create per node.
   */
  final Set<String> leasedAtStart = new HashSet<>();

  /** The model weights each node's cache holds, and the fetches in progress. */
  final WeightsPulls weightsPulls;

  /** Commit-then-open challenges' commitments and openings, served on loopback pod IPs. */
  final ChallengeEndpoints challengeEndpoints;

  private final Supplier<List<Pod>> pods;

  KubeletState(
      KubernetesClient client,
      KubeletSimulator.Options options,
      Clock clock,
      Consumer<String> log,
      ScheduledExecutorService executor,
      KubeletEvents events,
      SimulatedMetricsEndpoints metricsEndpoints,
      PodProcesses processes,
      Supplier<List<Pod>> pods) {
    this.client = client;
    this.options = options;
    this.clock = clock;
    this.log = log;
    this.executor = executor;
    this.events = events;
    this.metricsEndpoints = metricsEndpoints;
    this.processes = processes;
    this.pods = pods;
    this.weightsPulls = new WeightsPulls(clock, options.timeScale(), executor, log);
    this.challengeEndpoints = new ChallengeEndpoints(log);
  }

  /** Every pod as last seen by the pod informer. */
  List<Pod> pods() {
    return pods.get();
  }

  /** A pod that ended or was deleted: its process, metrics endpoint and timers stop. */
  void forget(String uid) {
    metricsEndpoints.stop(uid);
    challengeEndpoints.stop(uid);
    weightsPulls.forgetPod(uid);
    if (processes != null) {
      // a pod that ended or was deleted: SIGTERM, then SIGKILL after a short grace
      processes.stop(uid, false, 5);
    }
    PodRun run = runs.remove(uid);
    decided.add(uid);
    if (run != null) {
      if (run.readiness != null) {
        run.readiness.cancel(false);
      }
      if (run.completion != null) {
        run.completion.cancel(false);
      }
      if (run.eviction != null) {
        run.eviction.cancel(false);
      }
    }
  }

  int usedGpus(String nodeName) {
    return runs.values().stream().filter(r -> r.node.equals(nodeName)).mapToInt(r -> r.gpus).sum();
  }

  /**
   * The pod {@code run} runs as the API server has it now, or null when it is gone, also when
   * another pod has taken its name since (a job placed again keeps its pod names): a kubelet acts
   * on the pod UID it admitted, never on a successor it has not admitted yet.
   */
  Pod current(PodRun run) {
    Pod pod = client.pods().inNamespace(run.namespace).withName(run.name).get();
    return pod == null || !run.uid.equals(pod.getMetadata().getUid()) ? null : pod;
  }

  /** Forgets the pods this kubelet runs on {@code nodeName} that the API server no longer has. */
  void forgetGone(String nodeName) {
    for (var e : new ArrayList<>(runs.entrySet())) {
      if (e.getValue().node.equals(nodeName) && current(e.getValue()) == null) {
        log.accept(
            "pod/"
                + e.getValue().namespace
                + "/"
                + e.getValue().name
                + " "
                + e.getKey()
                + " is gone from the API server: forgotten before an admission");
        forget(e.getKey());
      }
    }
  }

  /** The pods counted in {@link #usedGpus}, as {@code namespace/name (GPUs)}: who a refusal met. */
  List<String> holdersOf(String nodeName) {
    return runs.values().stream()
        .filter(r -> r.node.equals(nodeName) && r.gpus > 0)
        .map(r -> r.namespace + "/" + r.name + " (" + r.gpus + ")")
        .sorted()
        .toList();
  }

  /** Runs on the simulator thread, logging failures instead of losing them in a future. */
  Runnable safely(Runnable action) {
    return () -> {
      try {
        action.run();
      } catch (RuntimeException e) {
        log.accept("kubelet simulator: " + e);
      }
    };
  }

  long wallMillis(Duration sandboxTime) {
    double millis = sandboxTime.toMillis() / options.timeScale();
    return millis > Long.MAX_VALUE / 2 ? Long.MAX_VALUE / 2 : (long) millis;
  }

  String now() {
    return clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
