package io.gpupool.e2e;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.sandbox.api.SandboxApiServer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The Helm chart (helm/gpupool) rendered as a production release (billing on) in {@value
 * #NAMESPACE}: the E2Es install its ServiceAccount, ClusterRole, Role and bindings into the sandbox
 * and run the operator with that service account's token, so every request the operator makes is
 * authorized by exactly the chart's RBAC, as it would be on a real cluster. A release scoped to
 * some namespaces ({@code scope.namespaces}) renders differently; pass them where asked.
 */
final class ChartRelease {
  static final String NAME = "gpupool";
  static final String NAMESPACE = "gpupool-system";

  private static final Map<List<Object>, List<HasMetadata>> RENDERED = new HashMap<>();

  private ChartRelease() {}

  /** The chart's objects, managing every namespace (rendered once per test JVM). */
  static List<HasMetadata> objects() {
    return objects(List.of());
  }

  /** The chart's objects with {@code scope.namespaces} {@code scope} (empty: every namespace). */
  static List<HasMetadata> objects(List<String> scope) {
    return objects(scope, "");
  }

  /**
   * The chart's objects with {@code scope.namespaces} {@code scope} and {@code
   * scope.namespaceSelector} {@code selector} (blank: none).
   */
  static synchronized List<HasMetadata> objects(List<String> scope, String selector) {
    List<Object> key = List.of(List.copyOf(scope), selector);
    List<HasMetadata> rendered = RENDERED.get(key);
    if (rendered != null) {
      return rendered;
    }
    TemplateCommand command =
        new Helm(SandboxCluster.REPO.resolve("helm/gpupool"))
            .template()
            .withName(NAME)
            .withNamespace(NAMESPACE)
            .withKubeVersion("1." + SandboxApiServer.KUBE_MINOR + ".0")
            .set("billing.enabled", true)
            .set("billing.rpcUrl", "http://127.0.0.1:8545")
            .set("billing.contractAddress", "0x5FbDB2315678afecb367f032d93F642f64180aa3")
            .set("billing.chainId", 31337)
            .set("billing.reporterKey.secretName", "gpupool-reporter")
            // The sandbox runs the operator as a local process scraped over loopback: no Secret
            // mounts there, so plain HTTP (ChartRbacE2E serves the chart's default TLS itself).
            .set("metrics.tls.enabled", false);
    for (int i = 0; i < scope.size(); i++) {
      command = command.set("scope.namespaces[" + i + "]", scope.get(i));
    }
    if (!selector.isBlank()) {
      command = command.set("scope.namespaceSelector", selector);
    }
    KubernetesSerialization serialization = new KubernetesSerialization();
    List<HasMetadata> objects = new ArrayList<>();
    for (String doc : Pattern.compile("(?m)^---\\s*$").split(command.call())) {
      if (doc.lines().anyMatch(l -> !l.isBlank() && !l.strip().startsWith("#"))) {
        HasMetadata object = serialization.unmarshal(doc, HasMetadata.class);
        // Helm hooks (uninstall, CRD upgrade) run around a release, not in it.
        Map<String, String> annotations = object.getMetadata().getAnnotations();
        if (annotations == null || !annotations.containsKey("helm.sh/hook")) {
          objects.add(object);
        }
      }
    }
    rendered = List.copyOf(objects);
    RENDERED.put(key, rendered);
    return rendered;
  }

  /**
   * The plain-valued environment of the operator container when the production release is rendered
   * with {@code values} on top (not cached: for a test of one value's effect).
   */
  static Map<String, String> operatorEnvironmentWith(Map<String, Object> values) {
    return plainEnvironment(renderWith(values));
  }

  /**
   * The chart's default metrics TLS: the CA and certificate it generates into {@code
   * <release>-metrics-tls}, written into {@code dir} as the mounted Secret would be, and the
   * operator environment that serves HTTPS on {@code httpsPort} from them, plain HTTP off.
   */
  static MetricsTls metricsTls(java.nio.file.Path dir, int httpsPort) throws java.io.IOException {
    List<HasMetadata> objects = renderWith(Map.of("metrics.tls.enabled", true));
    io.fabric8.kubernetes.api.model.Secret secret =
        objects.stream()
            .filter(io.fabric8.kubernetes.api.model.Secret.class::isInstance)
            .map(io.fabric8.kubernetes.api.model.Secret.class::cast)
            .filter(x -> x.getMetadata().getName().equals(NAME + "-metrics-tls"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("the chart renders no metrics TLS Secret"));
    java.nio.file.Files.createDirectories(dir);
    for (String key : List.of("tls.crt", "tls.key", "ca.crt")) {
      java.nio.file.Files.write(
          dir.resolve(key), java.util.Base64.getDecoder().decode(secret.getData().get(key)));
    }
    Map<String, String> env = new LinkedHashMap<>();
    plainEnvironment(objects)
        .forEach(
            (k, v) -> {
              if (k.startsWith("QUARKUS_HTTP_")) {
                env.put(k, v.replace("/etc/gpupool/metrics-tls", dir.toString()));
              }
            });
    env.put("QUARKUS_HTTP_SSL_PORT", Integer.toString(httpsPort));
    return new MetricsTls(env, dir.resolve("ca.crt"), NAME + "-metrics." + NAMESPACE + ".svc");
  }

  /**
   * What a scraper needs of the chart's metrics TLS: the operator's environment, the CA file that
   * verifies it (the Secret's ca.crt) and the name the certificate must carry (the ServiceMonitor's
   * tlsConfig.serverName).
   */
  record MetricsTls(Map<String, String> env, java.nio.file.Path caFile, String serverName) {}

  private static List<HasMetadata> renderWith(Map<String, Object> values) {
    TemplateCommand command =
        new Helm(SandboxCluster.REPO.resolve("helm/gpupool"))
            .template()
            .withName(NAME)
            .withNamespace(NAMESPACE)
            .withKubeVersion("1." + SandboxApiServer.KUBE_MINOR + ".0")
            .set("billing.enabled", true)
            .set("billing.contractAddress", "0x5FbDB2315678afecb367f032d93F642f64180aa3")
            .set("billing.chainId", 31337)
            .set("billing.reporterKey.secretName", "gpupool-reporter")
            .set("metrics.tls.enabled", false); // as in objects(): a local process, no mounts
    for (Map.Entry<String, Object> value : values.entrySet()) {
      command = command.set(value.getKey(), value.getValue());
    }
    if (!values.containsKey("billing.rpcUrlSecret.secretName")) {
      command = command.set("billing.rpcUrl", "http://127.0.0.1:8545");
    }
    KubernetesSerialization serialization = new KubernetesSerialization();
    List<HasMetadata> objects = new ArrayList<>();
    for (String doc : Pattern.compile("(?m)^---\\s*$").split(command.call())) {
      if (doc.lines().anyMatch(l -> !l.isBlank() && !l.strip().startsWith("#"))) {
        objects.add(serialization.unmarshal(doc, HasMetadata.class));
      }
    }
    return objects;
  }

  /** The plain-valued environment of the operator container among {@code objects}. */
  private static Map<String, String> plainEnvironment(List<HasMetadata> objects) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar v :
        one(objects, Deployment.class)
            .getSpec()
            .getTemplate()
            .getSpec()
            .getContainers()
            .get(0)
            .getEnv()) {
      if (v.getValue() != null) {
        env.put(v.getName(), v.getValue());
      }
    }
    return env;
  }

  /** The one object of {@code type} the (unscoped) chart renders. */
  static <T> T one(Class<T> type) {
    return one(objects(), type);
  }

  private static <T> T one(List<HasMetadata> objects, Class<T> type) {
    List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
    if (found.size() != 1) {
      throw new AssertionError(
          "the chart renders " + found.size() + " " + type.getSimpleName() + ", expected one");
    }
    return found.get(0);
  }

  /** The operator's own ClusterRole (the chart also renders a metrics-reader ClusterRole). */
  static ClusterRole operatorClusterRole() {
    return objects().stream()
        .filter(ClusterRole.class::isInstance)
        .map(ClusterRole.class::cast)
        .filter(r -> r.getMetadata().getName().equals(NAME))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no ClusterRole " + NAME + " in the chart"));
  }

  /** The ClusterRole scrapers of the operator's metrics are bound to. */
  static String metricsReaderClusterRole() {
    return NAME + "-metrics-reader";
  }

  /**
   * A bearer token of the service account {@code namespace/name}, bound to the metrics-reader
   * ClusterRole as {@code metrics.auth.readers} binds a Prometheus: what a scraper presents.
   */
  static String metricsReaderToken(
      KubernetesClient admin, io.gpupool.sandbox.Sandbox sandbox, String namespace, String name) {
    if (admin.namespaces().withName(namespace).get() == null) {
      admin
          .namespaces()
          .resource(
              new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
          .create();
    }
    admin
        .resource(
            new io.fabric8.kubernetes.api.model.ServiceAccountBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .endMetadata()
                .build())
        .create();
    admin
        .resource(
            new io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder()
                .withNewMetadata()
                .withName(namespace + "-" + name + "-reads-gpupool-metrics")
                .endMetadata()
                .withNewRoleRef(
                    "rbac.authorization.k8s.io", "ClusterRole", metricsReaderClusterRole())
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(name)
                .withNamespace(namespace)
                .endSubject()
                .build())
        .create();
    return sandbox.apiServer().issueServiceAccountToken(namespace, name);
  }

  /** The operator's service account name. */
  static String serviceAccount() {
    return one(ServiceAccount.class).getMetadata().getName();
  }

  /**
   * Creates the release namespace, the operator's ServiceAccount and the chart's RBAC (every
   * ClusterRole, Role and binding it renders) through {@code admin}.
   */
  static void installIdentityAndRbac(KubernetesClient admin) {
    installIdentityAndRbac(admin, List.of());
  }

  /** As {@link #installIdentityAndRbac(KubernetesClient)} for a release scoped to {@code scope}. */
  static void installIdentityAndRbac(KubernetesClient admin, List<String> scope) {
    installIdentityAndRbac(admin, scope, "");
  }

  /** As {@link #installIdentityAndRbac(KubernetesClient, List)} with a namespace selector. */
  static void installIdentityAndRbac(KubernetesClient admin, List<String> scope, String selector) {
    List<String> namespaces = new ArrayList<>(List.of(NAMESPACE));
    namespaces.addAll(scope);
    for (String ns : namespaces) {
      if (admin.namespaces().withName(ns).get() == null) {
        admin
            .namespaces()
            .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
            .create();
      }
    }
    for (HasMetadata o : objects(scope, selector)) {
      if (o instanceof ServiceAccount
          || o instanceof ClusterRole
          || o instanceof ClusterRoleBinding
          || o instanceof Role
          || o instanceof RoleBinding) {
        admin.resource(o).create();
      }
    }
  }

  /** The plain-valued environment the chart's Deployment gives the operator container. */
  static Map<String, String> operatorEnvironment() {
    return operatorEnvironment(List.of());
  }

  /** As {@link #operatorEnvironment()} for a release scoped to {@code scope}. */
  static Map<String, String> operatorEnvironment(List<String> scope) {
    return operatorEnvironment(scope, "");
  }

  /** As {@link #operatorEnvironment(List)} with a namespace selector. */
  static Map<String, String> operatorEnvironment(List<String> scope, String selector) {
    Deployment deployment = one(objects(scope, selector), Deployment.class);
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar v : deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()) {
      if (v.getValue() != null) {
        env.put(v.getName(), v.getValue());
      }
    }
    return env;
  }
}
