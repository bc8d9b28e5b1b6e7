package io.gpupool.sandbox;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gpupool.sandbox.api.SandboxApiServer;
import io.gpupool.sandbox.kubelet.KubeletSimulator;
import io.gpupool.sandbox.kubelet.NodeLeases;
import io.gpupool.sandbox.kubelet.ProcessMode;
import io.gpupool.sandbox.pool.NodeFactory;
import io.gpupool.sandbox.pool.PoolFile;
import io.gpupool.sandbox.pool.PoolSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The whole simulated cluster, for programs and tests: the API server, the pool's Nodes, the
 * GpuProviders, the kubelet simulator (with its fault-injection methods) and a kubeconfig.
 *
 * <pre>{@code
 * try (Sandbox sandbox = Sandbox.builder().timeScale(20).crds(Path.of("crds")).start()) {
 *   KubernetesClient client = sandbox.client();
 *   sandbox.kubelet().nodeNotReady("eu-west-4090-1");
 * }
 * }</pre>
 */
public final class Sandbox implements AutoCloseable {

  /** Name of the cluster, user and context written to the kubeconfig. */
  public static final String CONTEXT = "gpupool-sandbox";

  public static final String PROVIDER_CRD = "gpuproviders.gpupool.io";

  private final Builder settings;
  private final SandboxApiServer apiServer;
  private KubernetesClient client;
  private KubeletSimulator kubelet;
  private SharedIndexInformer<CustomResourceDefinition> crdInformer;
  private Path kubeconfig;

  private Sandbox(Builder settings) {
    this.settings = settings;
    this.apiServer = new SandboxApiServer(settings.clock);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Settings; every one has a default. */
  public static final class Builder {
    private PoolSpec pool;
    private int port = 0;
    private Path kubeconfig;
    private Path crds;
    private double timeScale = 1.0;
    private Duration evictionTimeout = Duration.ofMinutes(5);
    private KubeletSimulator.EvictionMode evictionMode = KubeletSimulator.EvictionMode.DELETE;
    private Consumer<String> log = line -> {};
    private Clock clock = Clock.systemUTC();
    private ProcessMode processMode;

    /** The simulated nodes and providers (default: the bundled default pool). */
    public Builder pool(PoolSpec pool) {
      this.pool = pool;
      return this;
    }

    public Builder poolFile(Path file) {
      this.pool = PoolFile.load(file);
      return this;
    }

    /** Port on 127.0.0.1 (default 0: a free port). */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** Where to write the kubeconfig (default: a temporary file). */
    public Builder kubeconfig(Path path) {
      this.kubeconfig = path;
      return this;
    }

    /** A directory of CRD YAML files applied at start (default: none). */
    public Builder crds(Path dir) {
      this.crds = dir;
      return this;
    }

    /** Sandbox seconds per wall second for pod run times and eviction (default 1). */
    public Builder timeScale(double scale) {
      if (scale <= 0) {
        throw new IllegalArgumentException("time scale must be positive");
      }
      this.timeScale = scale;
      return this;
    }

    /** Sandbox time a pod stays on a NotReady node before eviction (default 5 minutes). */
    public Builder evictionTimeout(Duration timeout) {
      this.evictionTimeout = timeout;
      return this;
    }

    public Builder evictionMode(KubeletSimulator.EvictionMode mode) {
      this.evictionMode = mode;
      return this;
    }

    /** Receives one line per thing the simulator does (default: discarded). */
    public Builder log(Consumer<String> log) {
      this.log = Objects.requireNonNull(log);
      return this;
    }

    /**
     * Runs the reference workload images (and pods annotated {@value ProcessMode#ANNOTATION}) as
     * local processes (default: every pod is simulated).
     */
    public Builder processMode(ProcessMode mode) {
      this.processMode = mode;
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    public Sandbox start() {
      Sandbox sandbox = new Sandbox(this);
      try {
        sandbox.doStart();
      } catch (RuntimeException e) {
        sandbox.close();
        throw e;
      }
      return sandbox;
    }
  }

  private void doStart() {
    PoolSpec pool = settings.pool == null ? PoolFile.loadDefault() : settings.pool;
    apiServer.start(settings.port);
    kubeconfig = writeKubeconfig(settings.kubeconfig);
    client = newClient();
    if (settings.crds != null) {
      applyDirectory(settings.crds);
    }
    // In-process, not through the client: thousands of nodes and their leases in seconds.
    List<Node> nodes = apiServer.seed(NodeFactory.nodes(pool, settings.clock.instant()));
    apiServer.createNamespaceIfMissing(NodeLeases.NAMESPACE);
    apiServer.seed(
        nodes.stream()
            .filter(NodeLeases::isReady)
            .map(n -> NodeLeases.of(n, settings.clock.instant()))
            .toList());
    settings.log.accept(
        pool.nodeGroups().stream().mapToInt(PoolSpec.NodeGroup::count).sum()
            + " simulated GPU nodes from "
            + pool.providers().size()
            + " providers");
    kubelet =
        new KubeletSimulator(
            client,
            new KubeletSimulator.Options(
                settings.timeScale, settings.evictionTimeout, settings.evictionMode),
            settings.log,
            settings.clock);
    if (settings.processMode != null) {
      apiServer.podLogs(kubelet.runProcesses(settings.processMode));
    }
    kubelet.start();
    // GpuProviders need the team's CRD: create them as soon as it is there.
    crdInformer =
        client
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(CustomResourceDefinition crd) {
                    if (PROVIDER_CRD.equals(crd.getMetadata().getName())) {
                      createProviders(pool);
                    }
                  }

                  @Override
                  public void onUpdate(CustomResourceDefinition o, CustomResourceDefinition n) {}

                  @Override
                  public void onDelete(CustomResourceDefinition crd, boolean unknown) {}
                });
  }

  private synchronized void createProviders(PoolSpec pool) {
    for (PoolSpec.Provider p : pool.providers()) {
      GenericKubernetesResource gp = NodeFactory.gpuProvider(p);
      try {
        var existing =
            client
                .genericKubernetesResources("gpupool.io/v1alpha1", "GpuProvider")
                .withName(p.name())
                .get();
        if (existing == null) {
          client
              .genericKubernetesResources("gpupool.io/v1alpha1", "GpuProvider")
              .resource(gp)
              .create();
          settings.log.accept("GpuProvider " + p.name() + " created");
        }
      } catch (KubernetesClientException e) {
        settings.log.accept("GpuProvider " + p.name() + " not created: " + e.getMessage());
      }
    }
  }

  /** A new client for the sandbox (the caller closes it). */
  public KubernetesClient newClient() {
    Config config =
        new ConfigBuilder(Config.empty())
            .withMasterUrl(apiServer.url())
            .withNamespace("default")
            .withTrustCerts(true)
            .withRequestTimeout(30_000)
            .build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /**
   * Creates or updates every object in the YAML files of {@code dir} (sorted by name; CRDs first,
   * then the rest) and returns them.
   */
  public List<HasMetadata> applyDirectory(Path dir) {
    List<HasMetadata> applied = new ArrayList<>();
    for (HasMetadata o : load(dir)) {
      applied.add(apply(o));
    }
    return applied;
  }

  /**
   * The objects of every YAML file in {@code dir}, in file order, CustomResourceDefinitions first.
   */
  public List<HasMetadata> load(Path dir) {
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files =
          s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
              .sorted()
              .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
    List<HasMetadata> objects = new ArrayList<>();
    for (Path f : files) {
      try (InputStream in = Files.newInputStream(f)) {
        objects.addAll(client.load(in).items());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + f, e);
      }
    }
    objects.sort(
        (a, b) ->
            Boolean.compare(
                !"CustomResourceDefinition".equals(a.getKind()),
                !"CustomResourceDefinition".equals(b.getKind())));
    return objects;
  }

  /** Creates the object, or updates it when it exists. */
  public HasMetadata apply(HasMetadata object) {
    HasMetadata result = client.resource(object).createOr(NonDeletingOperation::update);
    settings.log.accept(
        result.getKind()
            + " "
            + (result.getMetadata().getNamespace() == null
                ? ""
                : result.getMetadata().getNamespace() + "/")
            + result.getMetadata().getName()
            + " applied");
    return result;
  }

  private Path writeKubeconfig(Path requested) {
    try {
      Path path = requested;
      if (path == null) {
        path = Files.createTempFile("gpupool-sandbox-", ".kubeconfig");
        path.toFile().deleteOnExit();
      } else if (path.getParent() != null) {
        Files.createDirectories(path.getParent());
      }
      Files.writeString(path, kubeconfigYaml(apiServer.url()));
      return path;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write kubeconfig", e);
    }
  }

  /**
   * Writes a kubeconfig to {@code path} that authenticates as the service account {@code
   * namespace/name} with a token this sandbox issued: its client is authorized by the RBAC stored
   * in the sandbox (Roles, ClusterRoles and their bindings), as a pod running with that service
   * account would be. The kubeconfig {@link #kubeconfig()} stays the administrator's.
   */
  public Path writeServiceAccountKubeconfig(Path path, String namespace, String name) {
    String token = apiServer.issueServiceAccountToken(namespace, name);
    try {
      if (path.getParent() != null) {
        Files.createDirectories(path.getParent());
      }
      Files.writeString(path, kubeconfigYaml(apiServer.url(), token, namespace));
      return path;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write kubeconfig " + path, e);
    }
  }

  /**
   * A kubeconfig whose single context points at {@code url} and authenticates with the bearer
   * {@code token}; {@code namespace} is the default namespace, as in a pod.
   */
  public static String kubeconfigYaml(String url, String token, String namespace) {
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: %1$s
          cluster:
            server: %2$s
            insecure-skip-tls-verify: true
        users:
        - name: %1$s
          user:
            token: %3$s
        contexts:
        - name: %1$s
          context:
            cluster: %1$s
            user: %1$s
            namespace: %4$s
        current-context: %1$s
        preferences: {}
        """
        .formatted(CONTEXT, url, token, namespace);
  }

  /**
   * A kubeconfig whose single context {@value #CONTEXT} points at {@code url} without credentials:
   * the sandbox's administrator (in {@code system:masters}, allowed everything).
   */
  public static String kubeconfigYaml(String url) {
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: %1$s
          cluster:
            server: %2$s
            insecure-skip-tls-verify: true
        users:
        - name: %1$s
          user: {}
        contexts:
        - name: %1$s
          context:
            cluster: %1$s
            user: %1$s
            namespace: default
        current-context: %1$s
        preferences: {}
        """
        .formatted(CONTEXT, url);
  }

  /** A client connected to the sandbox, owned by the sandbox. */
  public KubernetesClient client() {
    return client;
  }

  /** The kubelet simulator: fault injection ({@code nodeNotReady}, {@code removeNode}...). */
  public KubeletSimulator kubelet() {
    return kubelet;
  }

  public SandboxApiServer apiServer() {
    return apiServer;
  }

  public Path kubeconfig() {
    return kubeconfig;
  }

  /** {@code http://127.0.0.1:PORT}. */
  public String url() {
    return apiServer.url();
  }

  public int port() {
    return apiServer.port();
  }

  @Override
  public void close() {
    if (crdInformer != null) {
      crdInformer.close();
    }
    if (kubelet != null) {
      kubelet.close();
    }
    if (client != null) {
      client.close();
    }
    apiServer.close();
  }
}
