package io.gpupool.e2e;

import com.marcnuri.helm.Helm;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The Helm chart (helm/gpupool) rendered as a production release (billing on) in {@value
 * #NAMESPACE}: the E2Es install its ServiceAccount, ClusterRole, Role and bindings into the sandbox
 * and run the operator with that service account's token, so every request the operator makes is
 * authorized by exactly the chart's RBAC, as it would be on a real cluster.
 */
final class ChartRelease {
  static final String NAME = "gpupool";
  static final String NAMESPACE = "gpupool-system";

  private static List<HasMetadata> rendered;

  private ChartRelease() {}

  /** The chart's objects (rendered once per test JVM). */
  static synchronized List<HasMetadata> objects() {
    if (rendered == null) {
      String manifests =
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
              .call();
      KubernetesSerialization serialization = new KubernetesSerialization();
      List<HasMetadata> objects = new ArrayList<>();
      for (String doc : Pattern.compile("(?m)^---\\s*$").split(manifests)) {
        if (doc.lines().anyMatch(l -> !l.isBlank() && !l.strip().startsWith("#"))) {
          objects.add(serialization.unmarshal(doc, HasMetadata.class));
        }
      }
      rendered = List.copyOf(objects);
    }
    return rendered;
  }

  /** The one object of {@code type} the chart renders. */
  static <T> T one(Class<T> type) {
    List<T> found = objects().stream().filter(type::isInstance).map(type::cast).toList();
    if (found.size() != 1) {
      throw new AssertionError(
          "the chart renders " + found.size() + " " + type.getSimpleName() + ", expected one");
    }
    return found.get(0);
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
    admin
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
        .create();
    for (HasMetadata o : objects()) {
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
    Deployment deployment = one(Deployment.class);
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar v : deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()) {
      if (v.getValue() != null) {
        env.put(v.getName(), v.getValue());
      }
    }
    return env;
  }
}
