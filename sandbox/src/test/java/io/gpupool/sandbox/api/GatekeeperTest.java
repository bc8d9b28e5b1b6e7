package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GatekeeperTest {
  private final ServiceAccountTokens tokens = new ServiceAccountTokens();
  private final List<com.fasterxml.jackson.databind.JsonNode> policy =
      new java.util.ArrayList<>(RbacAuthorizerTest.POLICY);
  private final Gatekeeper gate = new Gatekeeper(tokens, () -> RbacAuthorizer.of(policy));

  private static Map<String, List<String>> headers(String... nameValues) {
    Map<String, List<String>> h = new HashMap<>();
    for (int i = 0; i < nameValues.length; i += 2) {
      h.computeIfAbsent(nameValues[i].toLowerCase(), k -> new java.util.ArrayList<>())
          .add(nameValues[i + 1]);
    }
    return h;
  }

  @Test
  void noCredentialsIsTheAdministratorAndAnUnknownTokenIsUnauthorized() {
    assertThat(gate.admit("DELETE", "/api/v1/nodes/n1", headers()).user())
        .isEqualTo(UserInfo.ADMIN);
    Gatekeeper.Admission bad =
        gate.admit("GET", "/api/v1/pods", headers("Authorization", "Bearer nope"));
    assertThat(bad.admitted()).isFalse();
    assertThat(bad.refusal().code()).isEqualTo(401);
  }

  @Test
  void aServiceAccountTokenIsAuthorizedByRbac() {
    String token = tokens.issue("gpupool-system", "gpupool");
    var auth = headers("Authorization", "Bearer " + token);
    assertThat(gate.admit("GET", "/api/v1/pods?watch=true", auth).user())
        .isEqualTo(RbacAuthorizerTest.OPERATOR);
    Gatekeeper.Admission denied = gate.admit("DELETE", "/api/v1/namespaces/ml/pods/p-0", auth);
    assertThat(denied.admitted()).isFalse();
    assertThat(denied.refusal().code()).isEqualTo(403);
    var status = Json.parse(denied.refusal().body());
    assertThat(status.path("reason").asText()).isEqualTo("Forbidden");
    assertThat(status.path("message").asText())
        .isEqualTo(
            "pods \"p-0\" is forbidden: User \"system:serviceaccount:gpupool-system:gpupool\""
                + " cannot delete resource \"pods\" in API group \"\" in the namespace \"ml\"");
    assertThat(status.path("details").path("name").asText()).isEqualTo("p-0");
    assertThat(status.path("details").path("kind").asText()).isEqualTo("pods");
  }

  @Test
  void discoveryNeedsTheBootstrapBindings() {
    String token = tokens.issue("gpupool-system", "gpupool");
    var auth = headers("Authorization", "Bearer " + token);
    assertThat(gate.admit("GET", "/apis/gpupool.io/v1alpha1", auth).admitted())
        .as("no system:discovery binding in this policy")
        .isFalse();
    policy.addAll(
        BootstrapRbac.objects().stream()
            .map(o -> (com.fasterxml.jackson.databind.JsonNode) o)
            .toList());
    assertThat(gate.admit("GET", "/apis/gpupool.io/v1alpha1", auth).admitted()).isTrue();
    assertThat(
            gate.admit("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", auth)
                .admitted())
        .as("system:basic-user")
        .isTrue();
  }

  @Test
  void impersonationIsItselfAuthorizedAndGivesServiceAccountsTheirGroups() {
    Gatekeeper.Admission asOperator =
        gate.admit(
            "GET",
            "/api/v1/pods",
            headers("Impersonate-User", "system:serviceaccount:gpupool-system:gpupool"));
    assertThat(asOperator.user().name()).isEqualTo("system:serviceaccount:gpupool-system:gpupool");
    assertThat(asOperator.user().groups())
        .containsExactlyInAnyOrder(
            "system:serviceaccounts",
            "system:serviceaccounts:gpupool-system",
            UserInfo.AUTHENTICATED);
    Gatekeeper.Admission deniedAsOperator =
        gate.admit(
            "DELETE",
            "/api/v1/nodes/n1",
            headers("Impersonate-User", "system:serviceaccount:gpupool-system:gpupool"));
    assertThat(deniedAsOperator.refusal().code()).isEqualTo(403);

    String token = tokens.issue("gpupool-system", "gpupool");
    Gatekeeper.Admission escalation =
        gate.admit(
            "GET",
            "/api/v1/pods",
            headers("Authorization", "Bearer " + token, "Impersonate-User", "alice"));
    assertThat(escalation.admitted()).isFalse();
    assertThat(Json.parse(escalation.refusal().body()).path("message").asText())
        .isEqualTo(
            "users \"alice\" is forbidden: User \"system:serviceaccount:gpupool-system:gpupool\""
                + " cannot impersonate resource \"users\" in API group \"\" at the cluster scope");

    Gatekeeper.Admission withGroups =
        gate.admit(
            "GET",
            "/api/v1/namespaces/ml/pods/p/status",
            headers("Impersonate-User", "bob", "Impersonate-Group", "ml-team"));
    assertThat(withGroups.user().groups()).containsExactly("ml-team", UserInfo.AUTHENTICATED);
    assertThat(
            gate.admit("GET", "/api/v1/pods", headers("Impersonate-Group", "x")).refusal().code())
        .isEqualTo(400);
  }

  @Test
  void namespacesAreTheirOwnNamespaceAndFieldSelectorsName() {
    assertThat(RequestAttributes.authorization("GET", "/api/v1/namespaces/ml"))
        .isEqualTo(AuthorizationAttributes.resource("get", "", "namespaces", "", "ml", "ml"));
    assertThat(
            RequestAttributes.authorization(
                "GET",
                "/apis/coordination.k8s.io/v1/namespaces/x/leases?fieldSelector=metadata.name%3Dl&watch=true"))
        .isEqualTo(
            AuthorizationAttributes.resource(
                "watch", "coordination.k8s.io", "leases", "", "x", "l"));
    assertThat(RequestAttributes.authorization("GET", "/version"))
        .isEqualTo(AuthorizationAttributes.nonResource("get", "/version"));
  }
}
