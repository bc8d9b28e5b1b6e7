package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gpupool.sandbox.pool.NodeFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Plays the kubelets of the simulated nodes, the node lifecycle controller and the pod garbage
 * collector, all through the Kubernetes API (a Fabric8 client), so that it works the same on the
 * sandbox and on any API server.
 *
 * <p>A pod bound to a Ready node ({@code spec.nodeName}) is admitted if the node still has the
 * {@code nvidia.com/gpu} it asks for, runs, and ends after {@code SANDBOX_RUN_SECONDS} (sandbox
 * seconds) with {@code SANDBOX_EXIT_CODE}, both read from its first container's env. All work is
 * done on one thread, in event order.
 */
public final class KubeletSimulator implements AutoCloseable {

  /** Env var of the first container: simulated run time in sandbox seconds (absent = forever). */
  public static final String RUN_SECONDS_ENV = "SANDBOX_RUN_SECONDS";

  /** Env var of the first container: exit code when the run time is over (default 0). */
  public static final String EXIT_CODE_ENV = "SANDBOX_EXIT_CODE";

  /**
   * Node label a person can set with kubectl: {@code NotReady}, {@code Ready} or {@code Removed}.
   */
  public static final String FAULT_LABEL = "sandbox.gpupool.io/fault";

  public static final String UNREACHABLE_TAINT = "node.kubernetes.io/unreachable";

  /** How long a process-mode pod waits for the DNS names in its env to exist: 40 x 250 ms. */
  private static final int DNS_WAITS = 40;

  private static final long DNS_WAIT_MILLIS = 250;

  /** What happens to pods on a node that stayed NotReady past the eviction timeout. */
  public enum EvictionMode {
    /** Like taint-based eviction: the pod is deleted (after a DisruptionTarget condition). */
    DELETE,
    /** Like the pre-taint node controller: the pod is marked Failed with reason NodeLost. */
    FAIL
  }

  /**
   * Simulator settings.
   *
   * @param timeScale sandbox seconds per wall-clock second (10 runs a 60 s pod in 6 s)
   * @param evictionTimeout sandbox time a pod survives on a NotReady node, unless it tolerates
   *     {@code node.kubernetes.io/unreachable} for another number of seconds
   */
  public record Options(double timeScale, Duration evictionTimeout, EvictionMode evictionMode) {
    public static Options defaults() {
      return new Options(1.0, Duration.ofMinutes(5), EvictionMode.DELETE);
    }

    public Options withTimeScale(double scale) {
      return new Options(scale, evictionTimeout, evictionMode);
    }

    public Options withEvictionTimeout(Duration timeout) {
      return new Options(timeScale, timeout, evictionMode);
    }

    public Options withEvictionMode(EvictionMode mode) {
      return new Options(timeScale, evictionTimeout, mode);
    }
  }

  /** A pod this kubelet admitted and that has not terminated yet. */
  private static final class Run {
    final String namespace;
    final String name;
    final String node;
    final int gpus;
    ScheduledFuture<?> completion;
    ScheduledFuture<?> eviction;
    ScheduledFuture<?> readiness;

    /** Set when its process ended while the node was down and nobody reported it yet. */
    Integer unreportedExit;

    /** Times its process start waited for a peer's DNS name to exist. */
    int dnsWaits;

    /** What its container leaves in its termination message (a challenge's answer). */
    String terminationMessage;

    Run(String namespace, String name, String node, int gpus) {
      this.namespace = namespace;
      this.name = name;
      this.node = node;
      this.gpus = gpus;
    }
  }

  private final KubernetesClient client;
  private final Options options;
  private final Clock clock;
  private final Consumer<String> log;
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "sandbox-kubelet");
            t.setDaemon(true);
            return t;
          });

  /** Admitted, non-terminated pods by uid. */
  private final Map<String, Run> runs = new HashMap<>();

  /** Uids of pods this simulator has already decided about (admitted, rejected, finished). */
  private final Set<String> decided = new HashSet<>();

  private final Map<String, Node> nodes = new HashMap<>();
  private final KubeletEvents events;
  private final SimulatedMetricsEndpoints metricsEndpoints;
  private int podIps = 0;
  private PodNetwork network;
  private PodProcesses processes;
  private ServiceProxies serviceProxies;
  private SharedIndexInformer<io.fabric8.kubernetes.api.model.Service> serviceInformer;
  private SharedIndexInformer<Pod> podInformer;
  private SharedIndexInformer<Node> nodeInformer;

  public KubeletSimulator(KubernetesClient client, Options options, Consumer<String> log) {
    this(client, options, log, Clock.systemUTC());
  }

  public KubeletSimulator(
      KubernetesClient client, Options options, Consumer<String> log, Clock clock) {
    this.client = client;
    this.options = options;
    this.log = log;
    this.clock = clock;
    this.events = new KubeletEvents(client, clock, log);
    this.metricsEndpoints = new SimulatedMetricsEndpoints(client, log);
  }

  /**
   * Runs the containers of process-mode pods ({@link ProcessMode#applies}) as local processes
   * instead of simulating them; call before {@link #start()}. Returns where their output is.
   */
  public io.gpupool.sandbox.api.PodLogSource runProcesses(ProcessMode mode) {
    network = new PodNetwork(() -> podInformer == null ? List.of() : podInformer.getStore().list());
    processes = new PodProcesses(mode, network, log);
    serviceProxies =
        new ServiceProxies(
            network, () -> podInformer == null ? List.of() : podInformer.getStore().list(), log);
    network.services(serviceProxies::address);
    return processes;
  }

  /** The loopback address of a process-mode pod or a cluster DNS name, as its pods see it. */
  public java.util.Optional<String> resolve(String dnsName) {
    return network == null ? java.util.Optional.empty() : network.resolve(dnsName);
  }

  /** Starts watching nodes and pods; returns once both informers have synced. */
  public void start() {
    NodeLeases.ensureNamespace(client);
    if (serviceProxies != null) {
      serviceInformer =
          client
              .services()
              .inAnyNamespace()
              .inform(
                  new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(io.fabric8.kubernetes.api.model.Service s) {
                      serviceProxies.onService(s);
                    }

                    @Override
                    public void onUpdate(
                        io.fabric8.kubernetes.api.model.Service o,
                        io.fabric8.kubernetes.api.model.Service s) {
                      serviceProxies.onService(s);
                    }

                    @Override
                    public void onDelete(
                        io.fabric8.kubernetes.api.model.Service s, boolean unknownFinalState) {
                      serviceProxies.onServiceDeleted(s);
                    }
                  });
    }
    nodeInformer =
        client
            .nodes()
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(Node node) {
                    executor.execute(safely(() -> onNode(node)));
                  }

                  @Override
                  public void onUpdate(Node oldNode, Node node) {
                    executor.execute(safely(() -> onNode(node)));
                  }

                  @Override
                  public void onDelete(Node node, boolean unknownFinalState) {
                    executor.execute(safely(() -> onNodeDeleted(node.getMetadata().getName())));
                  }
                });
    podInformer =
        client
            .pods()
            .inAnyNamespace()
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(Pod pod) {
                    executor.execute(safely(() -> onPod(pod)));
                  }

                  @Override
                  public void onUpdate(Pod oldPod, Pod pod) {
                    executor.execute(safely(() -> onPod(pod)));
                  }

                  @Override
                  public void onDelete(Pod pod, boolean unknownFinalState) {
                    executor.execute(safely(() -> onPodDeleted(pod)));
                  }
                });
  }

  // ------------------------------------------------------------ fault injection

  /** The node stops reporting: Ready=Unknown, unreachable taint, its pods become not ready. */
  public void nodeNotReady(String name) {
    await(() -> setNodeReady(name, false));
  }

  /** The node reports again: Ready=True, taint removed, its pods ready again. */
  public void nodeReady(String name) {
    await(() -> setNodeReady(name, true));
  }

  /** The node leaves the cluster: the Node is deleted and the pod GC deletes its pods. */
  public void removeNode(String name) {
    await(
        () -> {
          client.nodes().withName(name).delete();
          onNodeDeleted(name);
        });
  }

  /** A node joins the cluster (e.g. one made by {@link NodeFactory#node}). */
  public void addNode(Node node) {
    await(() -> client.nodes().resource(node).create());
  }

  /** GPUs ({@code nvidia.com/gpu}) in use on a node by pods this kubelet runs. */
  public int gpusInUse(String nodeName) {
    return await(() -> usedGpus(nodeName));
  }

  /** Waits until every event received so far has been handled. */
  public void sync() {
    await(() -> null);
  }

  private void await(Runnable action) {
    await(
        () -> {
          action.run();
          return null;
        });
  }

  private <T> T await(java.util.concurrent.Callable<T> action) {
    CompletableFuture<T> f = new CompletableFuture<>();
    executor.execute(
        () -> {
          try {
            f.complete(action.call());
          } catch (Exception e) {
            f.completeExceptionally(e);
          }
        });
    try {
      return f.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  // ------------------------------------------------------------ nodes

  private void onNode(Node node) {
    String name = node.getMetadata().getName();
    boolean known = nodes.containsKey(name);
    nodes.put(name, node);
    if (!known && isReady(node)) {
      NodeLeases.renew(client, node, clock.instant());
    }
    String fault =
        node.getMetadata().getLabels() == null
            ? null
            : node.getMetadata().getLabels().get(FAULT_LABEL);
    if (fault != null) {
      switch (fault) {
        case "NotReady" -> {
          if (isReady(node)) {
            setNodeReady(name, false);
          }
          return;
        }
        case "Ready" -> {
          if (!isReady(node)) {
            setNodeReady(name, true);
          }
        }
        case "Removed" -> {
          client.nodes().withName(name).delete();
          onNodeDeleted(name);
          return;
        }
        default -> log.accept("node/" + name + ": unknown " + FAULT_LABEL + "=" + fault);
      }
    }
    if (isReady(node)) {
      // pods that waited for this node
      for (Pod pod : podInformer == null ? List.<Pod>of() : podInformer.getStore().list()) {
        if (name.equals(pod.getSpec().getNodeName())) {
          onPod(pod);
        }
      }
    }
  }

  private void setNodeReady(String name, boolean ready) {
    Node current = client.nodes().withName(name).get();
    if (current == null) {
      throw new IllegalArgumentException("no node " + name);
    }
    String now = now();
    Node updated =
        client
            .nodes()
            .withName(name)
            .editStatus(
                n -> {
                  for (NodeCondition c : n.getStatus().getConditions()) {
                    if ("Ready".equals(c.getType())) {
                      c.setStatus(ready ? "True" : "Unknown");
                      c.setReason(ready ? "KubeletReady" : "NodeStatusUnknown");
                      c.setMessage(
                          ready
                              ? "kubelet is posting ready status (simulated)"
                              : "Kubelet stopped posting node status.");
                      c.setLastTransitionTime(now);
                      c.setLastHeartbeatTime(now);
                    }
                  }
                  return n;
                });
    client
        .nodes()
        .withName(name)
        .edit(
            n -> {
              List<Taint> taints =
                  new ArrayList<>(
                      n.getSpec().getTaints() == null ? List.of() : n.getSpec().getTaints());
              taints.removeIf(t -> UNREACHABLE_TAINT.equals(t.getKey()));
              if (!ready) {
                taints.add(
                    new TaintBuilder()
                        .withKey(UNREACHABLE_TAINT)
                        .withEffect("NoExecute")
                        .withTimeAdded(now)
                        .build());
              }
              n.getSpec().setTaints(taints);
              return n;
            });
    nodes.put(name, updated);
    if (ready) {
      NodeLeases.renew(client, updated, clock.instant());
    }
    log.accept("node/" + name + " " + (ready ? "Ready" : "NotReady"));
    events.record(
        "Node",
        "default",
        name,
        updated.getMetadata().getUid(),
        "Normal",
        ready ? "NodeReady" : "NodeNotReady",
        "Node " + name + " status is now: " + (ready ? "NodeReady" : "NodeNotReady"),
        "node-controller",
        null);
    for (Map.Entry<String, Run> entry : new ArrayList<>(runs.entrySet())) {
      Run run = entry.getValue();
      if (!run.node.equals(name)) {
        continue;
      }
      if (!ready && processes != null) {
        // the machine failed: its processes die with it, whatever the API says of the pod
        processes.stop(entry.getKey(), true, 0);
      }
      setPodReady(run, ready);
      if (ready && run.unreportedExit != null) {
        Pod pod = client.pods().inNamespace(run.namespace).withName(run.name).get();
        if (pod != null) {
          complete(pod, run, run.unreportedExit);
        }
        continue;
      }
      if (ready) {
        if (run.eviction != null) {
          run.eviction.cancel(false);
          run.eviction = null;
        }
      } else if (run.eviction == null) {
        Pod pod = client.pods().inNamespace(run.namespace).withName(run.name).get();
        if (pod != null) {
          Duration timeout = evictionTimeout(pod);
          run.eviction =
              executor.schedule(
                  safely(() -> evict(run, pod)), wallMillis(timeout), TimeUnit.MILLISECONDS);
        }
      }
    }
  }

  private Duration evictionTimeout(Pod pod) {
    for (Toleration t : pod.getSpec().getTolerations()) {
      boolean matches =
          UNREACHABLE_TAINT.equals(t.getKey())
              || (t.getKey() == null && "Exists".equals(t.getOperator()));
      if (matches && (t.getEffect() == null || "NoExecute".equals(t.getEffect()))) {
        return t.getTolerationSeconds() == null
            ? Duration.ofDays(3650)
            : Duration.ofSeconds(t.getTolerationSeconds());
      }
    }
    return options.evictionTimeout();
  }

  private void evict(Run run, Pod pod) {
    if (!runs.containsKey(pod.getMetadata().getUid())) {
      return;
    }
    Node node = nodes.get(run.node);
    if (node != null && isReady(node)) {
      return;
    }
    if (options.evictionMode() == EvictionMode.FAIL) {
      finish(
          pod,
          run,
          137,
          "NodeLost",
          "Node " + run.node + " which was running pod " + run.name + " is unresponsive");
      return;
    }
    log.accept("pod/" + run.namespace + "/" + run.name + " evicted from NotReady node " + run.node);
    events.record(
        "Pod",
        run.namespace,
        run.name,
        pod.getMetadata().getUid(),
        "Normal",
        "TaintManagerEviction",
        "Marking for deletion Pod " + run.namespace + "/" + run.name,
        "taint-eviction-controller",
        null);
    try {
      client
          .pods()
          .inNamespace(run.namespace)
          .withName(run.name)
          .editStatus(
              p -> {
                upsertCondition(
                    p.getStatus(),
                    new PodConditionBuilder()
                        .withType("DisruptionTarget")
                        .withStatus("True")
                        .withReason("DeletionByTaintManager")
                        .withMessage("Taint manager: deleting due to NoExecute taint")
                        .withLastTransitionTime(now())
                        .build());
                return p;
              });
    } catch (KubernetesClientException e) {
      // already gone
    }
    forget(pod.getMetadata().getUid());
    client.pods().inNamespace(run.namespace).withName(run.name).delete();
  }

  private void onNodeDeleted(String name) {
    nodes.remove(name);
    // pod GC: pods bound to a node that no longer exists are deleted
    for (Pod pod : podInformer == null ? List.<Pod>of() : podInformer.getStore().list()) {
      if (name.equals(pod.getSpec().getNodeName())) {
        log.accept(
            "pod/"
                + pod.getMetadata().getNamespace()
                + "/"
                + pod.getMetadata().getName()
                + " deleted: node "
                + name
                + " is gone");
        if (processes != null) {
          processes.stop(pod.getMetadata().getUid(), true, 0); // the machine is gone: no grace
        }
        forget(pod.getMetadata().getUid());
        client
            .pods()
            .inNamespace(pod.getMetadata().getNamespace())
            .withName(pod.getMetadata().getName())
            .delete();
      }
    }
  }

  private static boolean isReady(Node node) {
    if (node.getStatus() == null || node.getStatus().getConditions() == null) {
      return false;
    }
    return node.getStatus().getConditions().stream()
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  // ------------------------------------------------------------ pods

  private void onPod(Pod pod) {
    String uid = pod.getMetadata().getUid();
    String nodeName = pod.getSpec().getNodeName();
    if (nodeName == null
        || decided.contains(uid)
        || pod.getMetadata().getDeletionTimestamp() != null) {
      return;
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
      decided.add(uid);
      return;
    }
    Node node = nodes.get(nodeName);
    if (node == null) {
      node = client.nodes().withName(nodeName).get();
      if (node == null) {
        onNodeDeletedForPod(pod, nodeName);
        return;
      }
      nodes.put(nodeName, node);
    }
    if (!isReady(node)) {
      return; // waits, like a pod bound to a node whose kubelet is down
    }
    if ("Running".equals(phase)) {
      adopt(pod, nodeName);
      return;
    }
    int gpus = requestedGpus(pod);
    int allocatable = allocatableGpus(node);
    int used = usedGpus(nodeName);
    decided.add(uid);
    if (used + gpus > allocatable) {
      String message =
          "Pod was rejected: Allocate failed due to requested number of devices unavailable for"
              + " nvidia.com/gpu. Requested: "
              + gpus
              + ", Available: "
              + Math.max(0, allocatable - used)
              + ", which is unexpected";
      log.accept(
          "pod/"
              + pod.getMetadata().getNamespace()
              + "/"
              + pod.getMetadata().getName()
              + " rejected on "
              + nodeName
              + ": "
              + gpus
              + " GPU(s) requested, "
              + Math.max(0, allocatable - used)
              + " free");
      events.pod(pod, nodeName, "Warning", "UnexpectedAdmissionError", message);
      writeStatus(
          pod,
          s -> {
            s.setPhase("Failed");
            s.setReason("UnexpectedAdmissionError");
            s.setMessage(message);
            s.setStartTime(now());
          });
      return;
    }
    Run run =
        new Run(pod.getMetadata().getNamespace(), pod.getMetadata().getName(), nodeName, gpus);
    runs.put(uid, run);
    start(pod, run, 0);
  }

  private void onNodeDeletedForPod(Pod pod, String nodeName) {
    log.accept(
        "pod/"
            + pod.getMetadata().getNamespace()
            + "/"
            + pod.getMetadata().getName()
            + " deleted: node "
            + nodeName
            + " does not exist");
    decided.add(pod.getMetadata().getUid());
    client
        .pods()
        .inNamespace(pod.getMetadata().getNamespace())
        .withName(pod.getMetadata().getName())
        .delete();
  }

  /** A pod found Running (e.g. after a simulator restart): account for it and finish it later. */
  private void adopt(Pod pod, String nodeName) {
    String uid = pod.getMetadata().getUid();
    decided.add(uid);
    Run run =
        new Run(
            pod.getMetadata().getNamespace(),
            pod.getMetadata().getName(),
            nodeName,
            requestedGpus(pod));
    runs.put(uid, run);
    Long runSeconds = envLong(pod, RUN_SECONDS_ENV);
    if (runSeconds != null) {
      Instant started =
          pod.getStatus().getStartTime() == null
              ? clock.instant()
              : Instant.parse(pod.getStatus().getStartTime());
      Duration elapsed = Duration.between(started, clock.instant());
      long remaining = Math.max(0, wallMillis(Duration.ofSeconds(runSeconds)) - elapsed.toMillis());
      scheduleCompletion(pod, run, remaining);
    }
  }

  private void start(Pod pod, Run run, int restartCount) {
    String now = now();
    Node node = nodes.get(run.node);
    String hostIp = node == null ? null : internalIp(node);
    boolean asProcess =
        processes != null && ProcessMode.applies(pod) && !ChallengeAnswers.applies(pod);
    if (asProcess && restartCount == 0 && run.dnsWaits < DNS_WAITS) {
      List<String> unresolved = processes.unresolvedNames(pod);
      if (!unresolved.isEmpty()) {
        // A gang's pods are created together; a peer not yet seen gets its name in a moment,
        // as cluster DNS answers once the pod exists.
        run.dnsWaits++;
        if (run.dnsWaits == 1 || run.dnsWaits == DNS_WAITS) {
          log.accept(
              "pod/" + run.namespace + "/" + run.name + " waits for DNS names " + unresolved);
        }
        executor.schedule(
            safely(
                () -> {
                  if (runs.get(pod.getMetadata().getUid()) == run) {
                    start(pod, run, restartCount);
                  }
                }),
            DNS_WAIT_MILLIS,
            TimeUnit.MILLISECONDS);
        return;
      }
    }
    String podIp =
        asProcess
            ? network.address(pod)
            : metricsEndpoints
                .serve(pod)
                .orElseGet(
                    () -> {
                      int ip = ++podIps;
                      return "10.244." + (ip / 250) + "." + (ip % 250 + 1);
                    });
    if (asProcess && !startProcess(pod, run, podIp)) {
      return;
    }
    boolean probed = asProcess && tcpReadinessPort(pod) != null;
    log.accept(
        "pod/"
            + run.namespace
            + "/"
            + run.name
            + " Running on "
            + run.node
            + (run.gpus > 0 ? " (" + run.gpus + " GPU)" : ""));
    writeStatus(
        pod,
        s -> {
          s.setPhase("Running");
          s.setReason(null);
          s.setMessage(null);
          if (s.getStartTime() == null) {
            s.setStartTime(now);
          }
          s.setHostIP(hostIp);
          if (s.getPodIP() == null) {
            s.setPodIP(podIp);
          }
          s.setQosClass(s.getQosClass() == null ? "BestEffort" : s.getQosClass());
          List<ContainerStatus> statuses = new ArrayList<>();
          for (var c : pod.getSpec().getContainers()) {
            statuses.add(
                new ContainerStatusBuilder()
                    .withName(c.getName())
                    .withImage(c.getImage())
                    .withImageID("sandbox://" + c.getImage())
                    .withContainerID(
                        "containerd://"
                            + Integer.toHexString(Objects.hash(run.name, c.getName(), now)))
                    .withReady(!probed)
                    .withStarted(true)
                    .withRestartCount(restartCount)
                    .withState(
                        new ContainerStateBuilder()
                            .withNewRunning()
                            .withStartedAt(now)
                            .endRunning()
                            .build())
                    .build());
          }
          s.setContainerStatuses(statuses);
          for (String type : List.of("PodScheduled", "Initialized", "ContainersReady", "Ready")) {
            boolean waits = probed && (type.equals("ContainersReady") || type.equals("Ready"));
            upsertCondition(s, condition(type, waits ? "False" : "True", null, now));
          }
        });
    if (probed) {
      probeReadiness(run, podIp, tcpReadinessPort(pod));
    }
    for (var c : pod.getSpec().getContainers()) {
      if (restartCount == 0) {
        events.pod(
            pod,
            run.node,
            "Normal",
            "Pulled",
            "Container image \"" + c.getImage() + "\" already present on machine");
        events.pod(pod, run.node, "Normal", "Created", "Created container " + c.getName());
      }
      events.pod(pod, run.node, "Normal", "Started", "Started container " + c.getName());
    }
    Long runSeconds = envLong(pod, RUN_SECONDS_ENV);
    if (runSeconds != null && !asProcess) {
      scheduleCompletion(pod, run, wallMillis(Duration.ofSeconds(runSeconds)));
    }
    ChallengeAnswers.answer(pod, node)
        .ifPresent(
            a -> {
              run.terminationMessage = a.message();
              scheduleCompletion(pod, run, a.wallMillis());
            });
  }

  /**
   * Starts the pod's container as a process; its exit completes the pod. A container that cannot
   * start fails the pod, as a kubelet reports StartError.
   */
  private boolean startProcess(Pod pod, Run run, String podIp) {
    String uid = pod.getMetadata().getUid();
    try {
      processes.start(
          pod,
          podIp,
          run.gpus,
          exitCode ->
              executor.execute(
                  safely(
                      () -> {
                        if (runs.get(uid) == run) {
                          run.unreportedExit = exitCode;
                          complete(pod, run, exitCode);
                        }
                      })));
      return true;
    } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
      log.accept("pod/" + run.namespace + "/" + run.name + " cannot start: " + e.getMessage());
      events.pod(pod, run.node, "Warning", "Failed", "Error: " + e.getMessage());
      finish(pod, run, 128, "StartError", e.getMessage());
      return false;
    }
  }

  /** The port of a tcpSocket readiness probe, if the container has one. */
  private static Integer tcpReadinessPort(Pod pod) {
    var probe = pod.getSpec().getContainers().get(0).getReadinessProbe();
    if (probe == null || probe.getTcpSocket() == null || probe.getTcpSocket().getPort() == null) {
      return null;
    }
    var port = probe.getTcpSocket().getPort();
    return port.getIntVal() != null ? port.getIntVal() : null;
  }

  /** Marks a process pod Ready once its port accepts connections, as a tcpSocket probe does. */
  private void probeReadiness(Run run, String podIp, int port) {
    run.readiness =
        executor.scheduleWithFixedDelay(
            safely(
                () -> {
                  try (java.net.Socket s = new java.net.Socket()) {
                    s.connect(new java.net.InetSocketAddress(podIp, port), 200);
                  } catch (java.io.IOException e) {
                    return; // not listening yet
                  }
                  run.readiness.cancel(false);
                  Node node = nodes.get(run.node);
                  if (node != null && isReady(node)) {
                    setPodReady(run, true);
                  }
                }),
            300,
            500,
            TimeUnit.MILLISECONDS);
  }

  private void scheduleCompletion(Pod pod, Run run, long delayMillis) {
    Long exit = envLong(pod, EXIT_CODE_ENV);
    int exitCode = exit == null ? 0 : exit.intValue();
    run.completion =
        executor.schedule(() -> complete(pod, run, exitCode), delayMillis, TimeUnit.MILLISECONDS);
  }

  private void complete(Pod pod, Run run, int exitCode) {
    if (!runs.containsKey(pod.getMetadata().getUid())) {
      return;
    }
    Node node = nodes.get(run.node);
    if (node == null || !isReady(node)) {
      return; // a kubelet that is down reports nothing
    }
    run.unreportedExit = null;
    String policy =
        pod.getSpec().getRestartPolicy() == null ? "Always" : pod.getSpec().getRestartPolicy();
    boolean restart = "Always".equals(policy) || ("OnFailure".equals(policy) && exitCode != 0);
    if (restart) {
      Pod current = client.pods().inNamespace(run.namespace).withName(run.name).get();
      if (current == null) {
        forget(pod.getMetadata().getUid());
        return;
      }
      int restarts =
          current.getStatus().getContainerStatuses().isEmpty()
              ? 0
              : current.getStatus().getContainerStatuses().get(0).getRestartCount();
      log.accept(
          "pod/"
              + run.namespace
              + "/"
              + run.name
              + " container exited "
              + exitCode
              + ", restarting (restartPolicy "
              + policy
              + ")");
      start(current, run, restarts + 1);
      return;
    }
    finish(pod, run, exitCode, null, null);
  }

  /** Terminates a pod: Succeeded on exit 0 (and no reason), Failed otherwise. */
  private void finish(Pod pod, Run run, int exitCode, String reason, String message) {
    forget(pod.getMetadata().getUid());
    String now = now();
    boolean succeeded = exitCode == 0 && reason == null;
    log.accept(
        "pod/"
            + run.namespace
            + "/"
            + run.name
            + " "
            + (succeeded ? "Succeeded" : "Failed")
            + " (exit code "
            + exitCode
            + (reason != null ? ", " + reason : "")
            + ")");
    writeStatus(
        pod,
        s -> {
          s.setPhase(succeeded ? "Succeeded" : "Failed");
          s.setReason(reason);
          s.setMessage(message);
          List<ContainerStatus> statuses = new ArrayList<>();
          for (ContainerStatus cs : s.getContainerStatuses()) {
            String startedAt =
                cs.getState() != null && cs.getState().getRunning() != null
                    ? cs.getState().getRunning().getStartedAt()
                    : s.getStartTime();
            statuses.add(
                new ContainerStatusBuilder(cs)
                    .withReady(false)
                    .withStarted(false)
                    .withState(
                        new ContainerStateBuilder()
                            .withNewTerminated()
                            .withExitCode(exitCode)
                            .withReason(exitCode == 0 ? "Completed" : "Error")
                            .withStartedAt(startedAt)
                            .withFinishedAt(now)
                            .withMessage(run.terminationMessage)
                            .withContainerID(cs.getContainerID())
                            .endTerminated()
                            .build())
                    .build());
          }
          s.setContainerStatuses(statuses);
          String why = succeeded ? "PodCompleted" : "PodFailed";
          upsertCondition(s, condition("Ready", "False", why, now));
          upsertCondition(s, condition("ContainersReady", "False", why, now));
        });
  }

  private void setPodReady(Run run, boolean ready) {
    try {
      client
          .pods()
          .inNamespace(run.namespace)
          .withName(run.name)
          .editStatus(
              p -> {
                String now = now();
                String reason = ready ? null : "NodeNotReady";
                upsertCondition(
                    p.getStatus(), condition("Ready", ready ? "True" : "False", reason, now));
                upsertCondition(
                    p.getStatus(),
                    condition("ContainersReady", ready ? "True" : "False", reason, now));
                p.getStatus().getContainerStatuses().forEach(cs -> cs.setReady(ready));
                return p;
              });
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  private void onPodDeleted(Pod pod) {
    forget(pod.getMetadata().getUid());
  }

  private void forget(String uid) {
    metricsEndpoints.stop(uid);
    if (processes != null) {
      // a pod that ended or was deleted: SIGTERM, then SIGKILL after a short grace
      processes.stop(uid, false, 5);
    }
    Run run = runs.remove(uid);
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

  private void writeStatus(Pod pod, Consumer<PodStatus> change) {
    try {
      client
          .pods()
          .inNamespace(pod.getMetadata().getNamespace())
          .withName(pod.getMetadata().getName())
          .editStatus(
              p -> {
                if (p.getStatus() == null) {
                  p.setStatus(new PodStatus());
                }
                change.accept(p.getStatus());
                return p;
              });
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        forget(pod.getMetadata().getUid());
        return;
      }
      throw e;
    }
  }

  // ------------------------------------------------------------ helpers

  /** Runs on the simulator thread, logging failures instead of losing them in a future. */
  private Runnable safely(Runnable action) {
    return () -> {
      try {
        action.run();
      } catch (RuntimeException e) {
        log.accept("kubelet simulator: " + e);
      }
    };
  }

  private int usedGpus(String nodeName) {
    return runs.values().stream().filter(r -> r.node.equals(nodeName)).mapToInt(r -> r.gpus).sum();
  }

  /** {@code nvidia.com/gpu} of all containers: limits, or requests when no limit is set. */
  static int requestedGpus(Pod pod) {
    int total = 0;
    for (var c : pod.getSpec().getContainers()) {
      if (c.getResources() == null) {
        continue;
      }
      Quantity q = null;
      if (c.getResources().getLimits() != null) {
        q = c.getResources().getLimits().get(NodeFactory.GPU_RESOURCE);
      }
      if (q == null && c.getResources().getRequests() != null) {
        q = c.getResources().getRequests().get(NodeFactory.GPU_RESOURCE);
      }
      if (q != null) {
        total += q.getNumericalAmount().intValue();
      }
    }
    return total;
  }

  private static int allocatableGpus(Node node) {
    if (node.getStatus() == null || node.getStatus().getAllocatable() == null) {
      return 0;
    }
    Quantity q = node.getStatus().getAllocatable().get(NodeFactory.GPU_RESOURCE);
    return q == null ? 0 : q.getNumericalAmount().intValue();
  }

  private static Long envLong(Pod pod, String name) {
    if (pod.getSpec().getContainers().isEmpty()) {
      return null;
    }
    for (EnvVar e : pod.getSpec().getContainers().get(0).getEnv()) {
      if (name.equals(e.getName()) && e.getValue() != null) {
        try {
          return Long.parseLong(e.getValue().trim());
        } catch (NumberFormatException ex) {
          return null;
        }
      }
    }
    return null;
  }

  private long wallMillis(Duration sandboxTime) {
    double millis = sandboxTime.toMillis() / options.timeScale();
    return millis > Long.MAX_VALUE / 2 ? Long.MAX_VALUE / 2 : (long) millis;
  }

  private String now() {
    return clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
  }

  private static String internalIp(Node node) {
    return node.getStatus().getAddresses().stream()
        .filter(a -> "InternalIP".equals(a.getType()))
        .map(a -> a.getAddress())
        .findFirst()
        .orElse(null);
  }

  private static PodCondition condition(String type, String status, String reason, String now) {
    return new PodConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withLastTransitionTime(now)
        .build();
  }

  private static void upsertCondition(PodStatus status, PodCondition condition) {
    List<PodCondition> conditions = new ArrayList<>(status.getConditions());
    conditions.removeIf(c -> c.getType().equals(condition.getType()));
    conditions.add(condition);
    status.setConditions(conditions);
  }

  @Override
  public void close() {
    if (podInformer != null) {
      podInformer.close();
    }
    if (nodeInformer != null) {
      nodeInformer.close();
    }
    executor.shutdownNow();
    metricsEndpoints.close();
    if (serviceInformer != null) {
      serviceInformer.close();
    }
    if (processes != null) {
      processes.close();
      serviceProxies.close();
    }
  }
}
