package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.Volume;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The sandbox's model-weights fetch: a pod with a {@code fetch-weights} init container stays
 * Pending (init container running) while its weights are pulled — size / the node's simulated
 * bandwidth — unless the node's local cache already holds them (the same hostPath directory was
 * filled on this node before), which takes {@link #WARM}. The init container then terminates with
 * exit 0 and the termination message {@code Hit} or {@code Miss}, as the operator's fetch contract
 * says, and the pod starts. A node that is deleted loses its cache (re-imaged or replaced).
 */
final class WeightsPulls {
  static final String FETCH_CONTAINER = "fetch-weights";
  static final String BYTES_ENV = "GPUPOOL_WEIGHTS_BYTES";

  /**
   * Node annotation a person may set with kubectl: the node's download rate in MiB per sandbox
   * second (default {@link #DEFAULT_MIB_PER_SECOND}).
   */
  static final String BANDWIDTH_ANNOTATION = "sandbox.gpupool.io/weights-bandwidth-mib";

  /** 2 GiB/s: a 140 GB model takes about a minute of sandbox time, an 8 GiB one 4 s. */
  static final long DEFAULT_MIB_PER_SECOND = 2048;

  /** Checking a complete cache entry: near zero. */
  static final Duration WARM = Duration.ofMillis(100);

  /** A fetch to do before a pod starts: the cache directory (null for an emptyDir) and size. */
  record Pull(String cacheDir, long bytes) {}

  private final Clock clock;
  private final double timeScale;
  private final ScheduledExecutorService executor;
  private final Consumer<String> log;

  /** Cache directories filled, by node. */
  private final Map<String, Set<String>> filled = new ConcurrentHashMap<>();

  /** Pods whose fetch has finished, by uid: they start at once. */
  private final Set<String> fetched = ConcurrentHashMap.newKeySet();

  WeightsPulls(
      Clock clock, double timeScale, ScheduledExecutorService executor, Consumer<String> log) {
    this.clock = clock;
    this.timeScale = timeScale;
    this.executor = executor;
    this.log = log;
  }

  /**
   * Starts the pod's weights fetch when it has one still to do, and runs {@code resume} (on the
   * simulator's thread) when it is done, unless the pod is no longer {@code alive} (deleted while
   * pulling: a partial download fills nothing). Returns false when the pod may start now.
   */
  boolean holdsStart(
      Pod pod,
      Node node,
      BiConsumer<Pod, Consumer<PodStatus>> writeStatus,
      BooleanSupplier alive,
      Runnable resume) {
    String uid = pod.getMetadata().getUid();
    if (node == null || fetched.contains(uid)) {
      return false;
    }
    Optional<Pull> pull = pull(pod);
    if (pull.isEmpty()) {
      return false;
    }
    String nodeName = node.getMetadata().getName();
    boolean warm =
        pull.get().cacheDir() != null
            && filled.getOrDefault(nodeName, Set.of()).contains(pull.get().cacheDir());
    Duration took = warm ? WARM : pullTime(pull.get().bytes(), node);
    Instant started = clock.instant();
    writeStatus.accept(pod, s -> initializing(s, pod, started));
    log.accept(
        "pod/"
            + pod.getMetadata().getNamespace()
            + "/"
            + pod.getMetadata().getName()
            + (warm ? " finds its weights on " : " pulls its weights on ")
            + nodeName
            + " ("
            + took.toMillis()
            + " ms sandbox time)");
    long wall = (long) (took.toMillis() / timeScale);
    executor.schedule(
        () -> {
          try {
            finish(pod, nodeName, pull.get(), warm, started, writeStatus, alive, resume);
          } catch (RuntimeException e) {
            log.accept("kubelet simulator: weights fetch of " + uid + ": " + e);
          }
        },
        wall,
        TimeUnit.MILLISECONDS);
    return true;
  }

  private void finish(
      Pod pod,
      String nodeName,
      Pull pull,
      boolean warm,
      Instant started,
      BiConsumer<Pod, Consumer<PodStatus>> writeStatus,
      BooleanSupplier alive,
      Runnable resume) {
    if (!alive.getAsBoolean()) {
      return;
    }
    if (pull.cacheDir() != null) {
      filled.computeIfAbsent(nodeName, n -> ConcurrentHashMap.newKeySet()).add(pull.cacheDir());
    }
    Instant finished = clock.instant();
    writeStatus.accept(pod, s -> s.setInitContainerStatuses(done(pod, warm, started, finished)));
    fetched.add(pod.getMetadata().getUid());
    resume.run();
  }

  /** The node left the cluster: whatever its disk held is gone. */
  void forgetNode(String node) {
    filled.remove(node);
  }

  /** The pod was deleted or finished before it started. */
  void forgetPod(String uid) {
    fetched.remove(uid);
  }

  /**
   * The fetch {@code pod} asks for, if any: its fetch container, the volume it writes, the size.
   */
  static Optional<Pull> pull(Pod pod) {
    List<Container> init = pod.getSpec().getInitContainers();
    if (init == null) {
      return Optional.empty();
    }
    for (Container c : init) {
      if (!FETCH_CONTAINER.equals(c.getName())) {
        continue;
      }
      long bytes = 0;
      for (EnvVar e : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
        if (BYTES_ENV.equals(e.getName()) && e.getValue() != null) {
          try {
            bytes = Long.parseLong(e.getValue());
          } catch (NumberFormatException ignored) {
            // unknown size: a pull of no time, as a fetcher that finds nothing to download
          }
        }
      }
      String dir = null;
      if (c.getVolumeMounts() != null && !c.getVolumeMounts().isEmpty()) {
        String volume = c.getVolumeMounts().get(0).getName();
        for (Volume v :
            pod.getSpec().getVolumes() == null ? List.<Volume>of() : pod.getSpec().getVolumes()) {
          if (v.getName().equals(volume) && v.getHostPath() != null) {
            dir = v.getHostPath().getPath();
          }
        }
      }
      return Optional.of(new Pull(dir, bytes));
    }
    return Optional.empty();
  }

  /** Sandbox time to pull {@code bytes} over the node's simulated link. */
  static Duration pullTime(long bytes, Node node) {
    long mib = DEFAULT_MIB_PER_SECOND;
    var annotations = node.getMetadata().getAnnotations();
    if (annotations != null && annotations.get(BANDWIDTH_ANNOTATION) != null) {
      try {
        mib = Math.max(1, Long.parseLong(annotations.get(BANDWIDTH_ANNOTATION).trim()));
      } catch (NumberFormatException ignored) {
        // a malformed annotation keeps the default
      }
    }
    return Duration.ofMillis(Math.max(WARM.toMillis(), bytes * 1000 / (mib << 20)));
  }

  private static void initializing(PodStatus s, Pod pod, Instant started) {
    s.setPhase("Pending");
    List<ContainerStatus> statuses = new ArrayList<>();
    for (Container c : pod.getSpec().getInitContainers()) {
      var b =
          new ContainerStatusBuilder()
              .withName(c.getName())
              .withImage(c.getImage())
              .withReady(false)
              .withRestartCount(0);
      if (FETCH_CONTAINER.equals(c.getName())) {
        b.withNewState().withNewRunning().withStartedAt(started.toString()).endRunning().endState();
      } else {
        b.withNewState().withNewWaiting().withReason("PodInitializing").endWaiting().endState();
      }
      statuses.add(b.build());
    }
    s.setInitContainerStatuses(statuses);
    String now = started.toString();
    List<PodCondition> conditions =
        new ArrayList<>(s.getConditions() == null ? List.of() : s.getConditions());
    conditions.removeIf(
        c -> "Initialized".equals(c.getType()) || "PodScheduled".equals(c.getType()));
    conditions.add(condition("PodScheduled", "True", null, now));
    conditions.add(condition("Initialized", "False", "ContainersNotInitialized", now));
    s.setConditions(conditions);
  }

  private static List<ContainerStatus> done(Pod pod, boolean warm, Instant started, Instant end) {
    List<ContainerStatus> statuses = new ArrayList<>();
    for (Container c : pod.getSpec().getInitContainers()) {
      statuses.add(
          new ContainerStatusBuilder()
              .withName(c.getName())
              .withImage(c.getImage())
              .withReady(true)
              .withRestartCount(0)
              .withNewState()
              .withNewTerminated()
              .withExitCode(0)
              .withReason("Completed")
              .withMessage(FETCH_CONTAINER.equals(c.getName()) ? (warm ? "Hit" : "Miss") : null)
              .withStartedAt(started.toString())
              .withFinishedAt(end.toString())
              .endTerminated()
              .endState()
              .build());
    }
    return statuses;
  }

  private static PodCondition condition(String type, String status, String reason, String now) {
    return new PodConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withLastTransitionTime(now)
        .build();
  }
}
