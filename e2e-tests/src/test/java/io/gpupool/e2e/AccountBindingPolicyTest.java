package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.gpupool.sandbox.api.CelRules;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The chart's account-binding ValidatingAdmissionPolicy, evaluated as the API server would (its
 * variables in order, then each validation, CEL by CEL-Java): a job may not name an account its
 * namespace is not bound to, yet a job already stored in a namespace that lost its binding can
 * still be updated without touching its budget and deleted (its finalizer removed), or deleting it
 * would hang.
 */
class AccountBindingPolicyTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final CelRules CEL = new CelRules();

  private static JsonNode policy() {
    List<HasMetadata> objects = ChartRelease.objects();
    HasMetadata policy =
        objects.stream()
            .filter(o -> o.getKind().equals("ValidatingAdmissionPolicy"))
            .filter(o -> o.getMetadata().getName().endsWith("-account-binding"))
            .findFirst()
            .orElseThrow();
    return JSON.valueToTree(policy);
  }

  /** The account {@code team-a}, bound to namespace team-a only. */
  private static JsonNode account() {
    return json(
        """
        {"apiVersion": "gpupool.io/v1alpha1", "kind": "BillingAccount",
         "metadata": {"name": "team-a"},
         "spec": {"payer": "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
                  "namespaces": ["team-a"]}}""");
  }

  private static ObjectNode job(String namespace, String account) {
    return (ObjectNode)
        json(
            """
            {"apiVersion": "gpupool.io/v1alpha1", "kind": "TrainingJob",
             "metadata": {"name": "j", "namespace": "%s", "finalizers": ["gpupool.io/finalizer"]},
             "spec": {"image": "x", "budget": {"account": "%s"}}}"""
                .formatted(namespace, account));
  }

  private static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (Exception e) {
      throw new IllegalArgumentException(text, e);
    }
  }

  /** Null when admitted, else the denial's message. */
  private static String admit(String operation, JsonNode object, JsonNode oldObject) {
    JsonNode policy = policy();
    String namespace = object.path("metadata").path("namespace").asText();
    Map<String, Object> bindings = new HashMap<>();
    bindings.put("object", object);
    bindings.put("oldObject", oldObject);
    bindings.put("params", account());
    bindings.put(
        "request",
        json("{\"operation\": \"%s\", \"namespace\": \"%s\"}".formatted(operation, namespace)));
    bindings.put(
        "namespaceObject", json("{\"metadata\": {\"name\": \"%s\"}}".formatted(namespace)));
    Map<String, Object> variables = new HashMap<>();
    for (JsonNode v : policy.path("spec").path("variables")) {
      bindings.put("variables", Map.copyOf(variables));
      variables.put(
          v.path("name").asText(), CEL.evaluateAdmission(v.path("expression").asText(), bindings));
    }
    bindings.put("variables", Map.copyOf(variables));
    for (JsonNode validation : policy.path("spec").path("validations")) {
      Object passed = CEL.evaluateAdmission(validation.path("expression").asText(), bindings);
      if (!Boolean.TRUE.equals(passed)) {
        return String.valueOf(
            CEL.evaluateAdmission(validation.path("messageExpression").asText(), bindings));
      }
    }
    return null;
  }

  @Test
  void aJobNamingAnAccountItsNamespaceIsNotBoundToIsRefused() {
    assertThat(admit("CREATE", job("team-b", "team-a"), null))
        .isEqualTo(
            "namespace team-b may not charge BillingAccount team-a: a platform admin must bind"
                + " the namespace to the account");
    assertThat(admit("CREATE", job("team-a", "team-a"), null)).isNull();
    assertThat(admit("CREATE", job("team-b", "other"), null))
        .as("another account's policy run judges that one")
        .isNull();
  }

  @Test
  void changingTheBudgetToAnUnboundAccountIsRefused() {
    assertThat(admit("UPDATE", job("team-b", "team-a"), job("team-b", "other")))
        .startsWith("namespace team-b may not charge BillingAccount team-a");
    ObjectNode withCap = job("team-b", "team-a");
    ((ObjectNode) withCap.path("spec").path("budget")).put("maxCost", "5");
    assertThat(admit("UPDATE", withCap, job("team-b", "team-a")))
        .as("any change of spec.budget is judged against the binding")
        .isNotNull();
  }

  @Test
  void aStoredJobWhoseNamespaceLostItsBindingCanStillBeUpdatedAndDeleted() {
    ObjectNode stored = job("team-b", "team-a"); // bound when it was created, unbound since
    ObjectNode finalizerRemoved = stored.deepCopy();
    ((ObjectNode) finalizerRemoved.path("metadata")).remove("finalizers");
    assertThat(admit("UPDATE", finalizerRemoved, stored)).as("metadata-only patch").isNull();

    ObjectNode deleting = stored.deepCopy();
    ((ObjectNode) deleting.path("metadata")).put("deletionTimestamp", "2026-12-06T12:00:00Z");
    ObjectNode deletingFinalizerRemoved = deleting.deepCopy();
    ((ObjectNode) deletingFinalizerRemoved.path("metadata")).remove("finalizers");
    assertThat(admit("UPDATE", deletingFinalizerRemoved, deleting))
        .as("the operator's finalizer removal on a deleting job")
        .isNull();
    ObjectNode deletingBudgetChanged = deletingFinalizerRemoved.deepCopy();
    ((ObjectNode) deletingBudgetChanged.path("spec").path("budget")).put("maxCost", "1");
    assertThat(admit("UPDATE", deletingBudgetChanged, deleting))
        .as("an object being deleted is never refused")
        .isNull();
  }
}
