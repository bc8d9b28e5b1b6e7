package io.gpupool.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewSpecBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.sandbox.api.SandboxApiServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sandbox authorizes as a real API server: a service account's token gets what the stored RBAC
 * grants and 403 otherwise, kubectl's access reviews (also with {@code --as}) are answered truly,
 * and the administrator's kubeconfig may do everything.
 */
class AuthorizationIT {
  static final String SA = "system:serviceaccount:ops:operator";

  @TempDir static Path dir;
  private static SandboxApiServer server;
  private static Kubectl admin;
  private static Path operatorKubeconfig;

  @BeforeAll
  static void start() throws IOException {
    server = new SandboxApiServer();
    server.start(0);
    Path kubeconfig = dir.resolve("admin.kubeconfig");
    Files.writeString(kubeconfig, Sandbox.kubeconfigYaml(server.url()));
    admin = new Kubectl(kubeconfig, dir.resolve("cache"));
    admin.run("create", "namespace", "ops").ok();
    admin.run("create", "namespace", "ml").ok();
    admin
        .runWithInput(
            """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: pod-reader}
            rules:
              - apiGroups: [""]
                resources: ["pods"]
                verbs: ["get", "list", "watch"]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: operator-reads-pods}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
            subjects: [{kind: ServiceAccount, name: operator, namespace: ops}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: leases, namespace: ops}
            rules:
              - apiGroups: ["coordination.k8s.io"]
                resources: ["leases"]
                verbs: ["get", "create", "update", "patch"]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: leases, namespace: ops}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: leases}
            subjects: [{kind: ServiceAccount, name: operator, namespace: ops}]
            """,
            "apply",
            "-f",
            "-")
        .ok();
    operatorKubeconfig = dir.resolve("operator.kubeconfig");
    Files.writeString(
        operatorKubeconfig,
        Sandbox.kubeconfigYaml(
            server.url(), server.issueServiceAccountToken("ops", "operator"), "ops"));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  /**
   * kubectl sends a bearer token only over HTTPS and the sandbox serves HTTP, so kubectl acts as
   * the service account through impersonation; the operator's Fabric8 client sends the token.
   */
  @Test
  void kubectlAsTheServiceAccountGetsWhatItsBindingsGrantAndTheApiServersForbiddenOtherwise() {
    assertThat(admin.run("get", "pods", "-n", "ml", "--as=" + SA).exit()).isZero();
    assertThat(admin.run("get", "pods", "--all-namespaces", "--as=" + SA).exit()).isZero();
    Kubectl.Result create = admin.run("create", "configmap", "x", "-n", "ml", "--as=" + SA);
    assertThat(create.exit()).isNotZero();
    assertThat(create.err())
        .contains(
            "configmaps is forbidden: User \""
                + SA
                + "\" cannot create resource \"configmaps\" in API group \"\" in the namespace"
                + " \"ml\"");
    assertThat(admin.run("get", "nodes", "--as=" + SA).err())
        .contains(
            "nodes is forbidden: User \""
                + SA
                + "\" cannot list resource \"nodes\" in API group \"\" at the cluster scope");
    assertThat(admin.run("create", "configmap", "y", "-n", "ml").exit())
        .as("the administrator may do everything")
        .isZero();
  }

  @Test
  void kubectlAuthCanIIsAnsweredTrulyForTheImpersonatedUser() {
    assertThat(admin.run("auth", "can-i", "update", "leases", "-n", "ops", "--as=" + SA).out())
        .isEqualTo("yes\n");
    Kubectl.Result elsewhere =
        admin.run("auth", "can-i", "update", "leases", "-n", "ml", "--as=" + SA);
    assertThat(elsewhere.out()).isEqualTo("no\n");
    assertThat(elsewhere.exit()).isEqualTo(1);
    assertThat(admin.run("auth", "can-i", "delete", "pods", "-n", "ml", "--as=" + SA).out())
        .isEqualTo("no\n");
    assertThat(admin.run("auth", "can-i", "delete", "nodes").out()).isEqualTo("yes\n");
    assertThat(admin.run("auth", "can-i", "--list", "-n", "ops", "--as=" + SA).ok().out())
        .contains("leases.coordination.k8s.io")
        .contains("pods")
        .contains("selfsubjectrulesreviews.authorization.k8s.io");
    assertThat(admin.run("auth", "whoami", "--as=" + SA).ok().out()).contains(SA);
    assertThat(
            admin.run("get", "pods", "-n", "ml", "--as=" + SA, "--as-group=system:masters").exit())
        .as("groups are impersonated as given")
        .isZero();
  }

  @Test
  void aServiceAccountTokenIsAuthorizedAndMayNotImpersonate() {
    Config config = Config.fromKubeconfig(null, readString(operatorKubeconfig), null);
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
      // What JOSDK's LeaderElectionManager asks before it starts.
      SelfSubjectRulesReview review = new SelfSubjectRulesReview();
      review.setSpec(new SelfSubjectRulesReviewSpecBuilder().withNamespace("ops").build());
      SelfSubjectRulesReview answered = client.resource(review).create();
      assertThat(answered.getStatus().getResourceRules())
          .anySatisfy(
              r -> {
                assertThat(r.getApiGroups()).containsExactly("coordination.k8s.io");
                assertThat(r.getVerbs()).contains("get", "create", "update");
              });
      assertThat(client.pods().inNamespace("ml").list().getItems()).isEmpty();
      assertThatThrownBy(() -> client.nodes().list())
          .isInstanceOfSatisfying(
              KubernetesClientException.class,
              e -> {
                assertThat(e.getCode()).isEqualTo(403);
                assertThat(e.getStatus().getMessage())
                    .isEqualTo(
                        "nodes is forbidden: User \""
                            + SA
                            + "\" cannot list resource \"nodes\" in API group \"\" at the"
                            + " cluster scope");
              });
    }
    Config impersonating = Config.fromKubeconfig(null, readString(operatorKubeconfig), null);
    impersonating.setImpersonateUsername("alice");
    try (KubernetesClient client =
        new KubernetesClientBuilder().withConfig(impersonating).build()) {
      assertThatThrownBy(() -> client.pods().inNamespace("ml").list())
          .isInstanceOfSatisfying(
              KubernetesClientException.class,
              e ->
                  assertThat(e.getStatus().getMessage())
                      .isEqualTo(
                          "users \"alice\" is forbidden: User \""
                              + SA
                              + "\" cannot impersonate resource \"users\" in API group \"\" at"
                              + " the cluster scope"));
    }
  }

  @Test
  void anUnknownTokenIsUnauthorized() {
    Config config =
        Config.fromKubeconfig(
            null, Sandbox.kubeconfigYaml(server.url(), "sandbox-sa.forged", "ops"), null);
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
      assertThatThrownBy(() -> client.pods().list())
          .isInstanceOfSatisfying(
              KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(401));
    }
  }

  private static String readString(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
