package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gpupool.sandbox.api.PodLogSource;
import io.gpupool.sandbox.pool.NodeFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
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

  private final KubeletEvents events;
  private final SimulatedMetricsEndpoints metricsEndpoints;
  private PodNetwork network;
  private PodProcesses processes;
  private ServiceProxies serviceProxies;
  private SharedIndexInformer<Service> serviceInformer;
  private SharedIndexInformer<Pod> podInformer;
  private SharedIndexInformer<Node> nodeInformer;

  /** Set by {@link #start()}. */
  private KubeletState state;

  private PodLifecycle pods;
  private NodeLifecycle nodeLifecycle;

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
  public PodLogSource runProcesses(ProcessMode mode) {
    network = new PodNetwork(this::informedPods);
    processes = new PodProcesses(mode, network, log);
    serviceProxies = new ServiceProxies(network, this::informedPods, log);
    network.services(serviceProxies::address);
    return processes;
  }

  /** The loopback address of a process-mode pod or a cluster DNS name, as its pods see it. */
  public Optional<String> resolve(String dnsName) {
    return network == null ? Optional.empty() : network.resolve(dnsName);
  }

  /** Starts watching nodes and pods; returns once both informers have synced. */
  public void start() {
    NodeLeases.ensureNamespace(client);
    state =
        new KubeletState(
            client,
            options,
            clock,
            log,
            executor,
            events,
            metricsEndpoints,
            processes,
            this::informedPods);
    for (var lease : client.leases().inNamespace(NodeLeases.NAMESPACE).list().getItems()) {
      state.leasedAtStart.add(lease.getMetadata().getName());
    }
    PodStatusWriter statuses = new PodStatusWriter(state);
    pods = new PodLifecycle(state, statuses, network);
    nodeLifecycle = new NodeLifecycle(state, pods, statuses);
    if (serviceProxies != null) {
      serviceInformer =
          client
              .services()
              .inAnyNamespace()
              .inform(
                  new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Service s) {
                      serviceProxies.onService(s);
                    }

                    @Override
                    public void onUpdate(Service o, Service s) {
                      serviceProxies.onService(s);
                    }

                    @Override
                    public void onDelete(Service s, boolean unknownFinalState) {
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
                    executor.execute(state.safely(() -> nodeLifecycle.onNode(node)));
                  }

                  @Override
                  public void onUpdate(Node oldNode, Node node) {
                    executor.execute(state.safely(() -> nodeLifecycle.onNode(node)));
                  }

                  @Override
                  public void onDelete(Node node, boolean unknownFinalState) {
                    executor.execute(
                        state.safely(
                            () -> nodeLifecycle.onNodeDeleted(node.getMetadata().getName())));
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
                    executor.execute(state.safely(() -> pods.onPod(pod)));
                  }

                  @Override
                  public void onUpdate(Pod oldPod, Pod pod) {
                    executor.execute(state.safely(() -> pods.onPod(pod)));
                  }

                  @Override
                  public void onDelete(Pod pod, boolean unknownFinalState) {
                    executor.execute(state.safely(() -> pods.onPodDeleted(pod)));
                  }
                });
  }

  // ------------------------------------------------------------ fault injection

  /** The node stops reporting: Ready=Unknown, unreachable taint, its pods become not ready. */
  public void nodeNotReady(String name) {
    await(() -> nodeLifecycle.setNodeReady(name, false));
  }

  /** The node reports again: Ready=True, taint removed, its pods ready again. */
  public void nodeReady(String name) {
    await(() -> nodeLifecycle.setNodeReady(name, true));
  }

  /** The node leaves the cluster: the Node is deleted and the pod GC deletes its pods. */
  public void removeNode(String name) {
    await(
        () -> {
          client.nodes().withName(name).delete();
          nodeLifecycle.onNodeDeleted(name);
        });
  }

  /** A node joins the cluster (e.g. one made by {@link NodeFactory#node}). */
  public void addNode(Node node) {
    await(() -> client.nodes().resource(node).create());
  }

  /**
   * Handles {@code pod} as an informer's add or update, on the calling thread, which must be the
   * kubelet's own (a log line's consumer): lets a test deliver events in the order a relisting
   * informer does.
   */
  void podEventOnKubeletThread(Pod pod) {
    pods.onPod(pod);
  }

  /** GPUs ({@code nvidia.com/gpu}) in use on a node by pods this kubelet runs. */
  public int gpusInUse(String nodeName) {
    return await(() -> state.usedGpus(nodeName));
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

  private <T> T await(Callable<T> action) {
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
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private List<Pod> informedPods() {
    return podInformer == null ? List.of() : podInformer.getStore().list();
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
    if (state != null) {
      state.challengeEndpoints.close();
    }
    if (serviceInformer != null) {
      serviceInformer.close();
    }
    if (processes != null) {
      processes.close();
      serviceProxies.close();
    }
  }
}
