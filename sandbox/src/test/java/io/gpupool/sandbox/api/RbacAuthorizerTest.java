package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RbacAuthorizerTest {
  static final UserInfo OPERATOR = UserInfo.serviceAccount("gpupool-system", "gpupool");
  static final UserInfo ALICE = new UserInfo("alice", List.of("ml-team", UserInfo.AUTHENTICATED));

  static List<JsonNode> yaml(String documents) {
    List<JsonNode> out = new ArrayList<>();
    for (String doc : documents.split("(?m)^---$")) {
      if (!doc.isBlank()) {
        out.add(Json.parse(Json.write(readYaml(doc))));
      }
    }
    return out;
  }

  private static JsonNode readYaml(String doc) {
    try {
      return Json.YAML.readTree(doc);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static final List<JsonNode> POLICY =
      yaml(
          """
          apiVersion: rbac.authorization.k8s.io/v1
          kind: ClusterRole
          metadata: {name: operator}
          rules:
            - apiGroups: [""]
              resources: ["pods"]
              verbs: ["get", "list", "watch", "create"]
            - apiGroups: ["gpupool.io"]
              resources: ["trainingjobs/status"]
              verbs: ["patch"]
          ---
          apiVersion: rbac.authorization.k8s.io/v1
          kind: ClusterRoleBinding
          metadata: {name: operator}
          roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: operator}
          subjects:
            - {kind: ServiceAccount, name: gpupool, namespace: gpupool-system}
          ---
          apiVersion: rbac.authorization.k8s.io/v1
          kind: Role
          metadata: {name: leases, namespace: gpupool-system}
          rules:
            - apiGroups: ["coordination.k8s.io"]
              resources: ["leases"]
              verbs: ["get", "create", "update", "patch"]
            - apiGroups: [""]
              resources: ["configmaps"]
              resourceNames: ["usage"]
              verbs: ["get"]
          ---
          apiVersion: rbac.authorization.k8s.io/v1
          kind: RoleBinding
          metadata: {name: leases, namespace: gpupool-system}
          roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: leases}
          subjects:
            - {kind: ServiceAccount, name: gpupool}
          ---
          apiVersion: rbac.authorization.k8s.io/v1
          kind: RoleBinding
          metadata: {name: team-view, namespace: ml}
          roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: viewer}
          subjects:
            - {kind: Group, name: ml-team}
          ---
          apiVersion: rbac.authorization.k8s.io/v1
          kind: ClusterRole
          metadata: {name: viewer}
          rules:
            - apiGroups: ["*"]
              resources: ["*/status"]
              verbs: ["get"]
            - nonResourceURLs: ["/metrics", "/debug/*"]
              verbs: ["get"]
          ---
          apiVersion: rbac.authorization.k8s.io/v1
          kind: ClusterRoleBinding
          metadata: {name: dangling}
          roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: gone}
          subjects:
            - {kind: User, name: alice}
          """);

  final RbacAuthorizer rbac = RbacAuthorizer.of(POLICY);

  private static AuthorizationAttributes res(
      String verb, String group, String resource, String sub, String ns, String name) {
    return AuthorizationAttributes.resource(verb, group, resource, sub, ns, name);
  }

  @Test
  void aClusterRoleBindingGrantsItsRulesInEveryNamespaceToTheServiceAccount() {
    assertThat(rbac.authorize(OPERATOR, res("create", "", "pods", "", "ml", "")).allowed())
        .isTrue();
    assertThat(rbac.authorize(OPERATOR, res("list", "", "pods", "", "", "")).reason())
        .isEqualTo(
            "RBAC: allowed by ClusterRoleBinding \"operator\" of ClusterRole \"operator\" to"
                + " ServiceAccount \"gpupool/gpupool-system\"");
    assertThat(rbac.authorize(OPERATOR, res("delete", "", "pods", "", "ml", "p")).allowed())
        .as("verb not granted")
        .isFalse();
    assertThat(
            rbac.authorize(
                    UserInfo.serviceAccount("other", "gpupool"),
                    res("get", "", "pods", "", "ml", "p"))
                .allowed())
        .as("same name, other namespace")
        .isFalse();
  }

  @Test
  void subresourcesAreSeparateResources() {
    assertThat(
            rbac.authorize(
                    OPERATOR, res("patch", "gpupool.io", "trainingjobs", "status", "ml", "t"))
                .allowed())
        .isTrue();
    assertThat(
            rbac.authorize(OPERATOR, res("patch", "gpupool.io", "trainingjobs", "", "ml", "t"))
                .allowed())
        .as("status does not grant the object")
        .isFalse();
    assertThat(
            rbac.authorize(ALICE, res("get", "apps", "deployments", "status", "ml", "d")).allowed())
        .as("*/status")
        .isTrue();
    assertThat(rbac.authorize(ALICE, res("get", "apps", "deployments", "", "ml", "d")).allowed())
        .isFalse();
  }

  @Test
  void aRoleBindingOnlyGrantsInItsNamespaceAndResourceNamesNarrow() {
    AuthorizationAttributes lease =
        res("update", "coordination.k8s.io", "leases", "", "gpupool-system", "l");
    assertThat(rbac.authorize(OPERATOR, lease).allowed()).isTrue();
    assertThat(rbac.authorize(OPERATOR, lease).reason())
        .contains("RoleBinding \"leases/gpupool-system\" of Role \"leases\"");
    assertThat(
            rbac.authorize(
                    OPERATOR, res("update", "coordination.k8s.io", "leases", "", "default", "l"))
                .allowed())
        .isFalse();
    assertThat(
            rbac.authorize(OPERATOR, res("get", "", "configmaps", "", "gpupool-system", "usage"))
                .allowed())
        .isTrue();
    assertThat(
            rbac.authorize(OPERATOR, res("get", "", "configmaps", "", "gpupool-system", "other"))
                .allowed())
        .isFalse();
    assertThat(
            rbac.authorize(OPERATOR, res("list", "", "configmaps", "", "gpupool-system", ""))
                .allowed())
        .as("a list names nothing, resourceNames cannot match")
        .isFalse();
  }

  @Test
  void groupsAndClusterRolesBoundInANamespace() {
    assertThat(rbac.authorize(ALICE, res("get", "", "pods", "status", "ml", "p")).allowed())
        .isTrue();
    assertThat(rbac.authorize(ALICE, res("get", "", "pods", "status", "other", "p")).allowed())
        .isFalse();
  }

  @Test
  void nonResourceUrlsMatchExactlyOrByPrefixStar() {
    assertThat(
            rbac.authorize(ALICE, AuthorizationAttributes.nonResource("get", "/metrics")).allowed())
        .as("only through a ClusterRoleBinding: ALICE's binding is a RoleBinding")
        .isFalse();
    RbacAuthorizer bound =
        RbacAuthorizer.of(
            yaml(
                """
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata: {name: viewer}
                rules:
                  - nonResourceURLs: ["/metrics", "/debug/*"]
                    verbs: ["get"]
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRoleBinding
                metadata: {name: viewer}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: viewer}
                subjects: [{kind: User, name: alice}]
                """));
    assertThat(
            bound
                .authorize(ALICE, AuthorizationAttributes.nonResource("get", "/metrics"))
                .allowed())
        .isTrue();
    assertThat(
            bound
                .authorize(ALICE, AuthorizationAttributes.nonResource("get", "/debug/pprof"))
                .allowed())
        .isTrue();
    assertThat(
            bound
                .authorize(ALICE, AuthorizationAttributes.nonResource("get", "/metricsx"))
                .allowed())
        .isFalse();
    assertThat(
            bound
                .authorize(ALICE, AuthorizationAttributes.nonResource("post", "/metrics"))
                .allowed())
        .isFalse();
  }

  @Test
  void aBindingToAMissingRoleGrantsNothingAndSaysSo() {
    RbacAuthorizer.Decision d = rbac.authorize(ALICE, res("list", "", "nodes", "", "", ""));
    assertThat(d.allowed()).isFalse();
    assertThat(d.reason())
        .isEqualTo("RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found");
    assertThat(rbac.rulesFor(ALICE, "ml").errors())
        .containsExactly("clusterrole.rbac.authorization.k8s.io \"gone\" not found");
  }

  @Test
  void systemMastersMayDoAnything() {
    assertThat(
            RbacAuthorizer.of(List.of())
                .authorize(UserInfo.ADMIN, res("delete", "", "nodes", "", "", "n"))
                .allowed())
        .isTrue();
  }

  @Test
  void rulesForListClusterAndNamespaceRules() {
    List<RbacAuthorizer.Rule> inRelease = rbac.rulesFor(OPERATOR, "gpupool-system").rules();
    assertThat(inRelease).hasSize(4);
    assertThat(rbac.rulesFor(OPERATOR, "default").rules()).hasSize(2);
  }

  @Test
  void forbiddenMessagesAreTheApiServers() {
    assertThat(
            res("list", "", "pods", "", "ml", "")
                .forbiddenMessage("system:serviceaccount:gpupool-system:gpupool", ""))
        .isEqualTo(
            "pods is forbidden: User \"system:serviceaccount:gpupool-system:gpupool\" cannot list"
                + " resource \"pods\" in API group \"\" in the namespace \"ml\"");
    assertThat(
            res("patch", "gpupool.io", "gpuproviders", "status", "", "atlas")
                .forbiddenMessage("bob", ""))
        .isEqualTo(
            "gpuproviders.gpupool.io \"atlas\" is forbidden: User \"bob\" cannot patch resource"
                + " \"gpuproviders/status\" in API group \"gpupool.io\" at the cluster scope");
    assertThat(AuthorizationAttributes.nonResource("get", "/metrics").forbiddenMessage("bob", ""))
        .isEqualTo("forbidden: User \"bob\" cannot get path \"/metrics\"");
  }
}
