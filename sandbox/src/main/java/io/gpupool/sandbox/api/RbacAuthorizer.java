package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Kubernetes RBAC over a snapshot of Roles, ClusterRoles, RoleBindings and ClusterRoleBindings, as
 * the API server's RBAC authorizer decides: a request is allowed when a ClusterRoleBinding, or a
 * RoleBinding in the request's namespace, binds a rule that matches it to the user, one of its
 * groups or its service account. {@code system:masters} is allowed everything before RBAC is asked
 * (the API server's privileged-group authorizer). Bindings to a missing role grant nothing and are
 * reported in the reason ("RBAC: clusterrole.rbac.authorization.k8s.io "x" not found"), as on a
 * real server. Aggregated ClusterRoles ({@code aggregationRule}) are not expanded.
 */
public final class RbacAuthorizer {
  public static final String GROUP = "rbac.authorization.k8s.io";

  /** One PolicyRule. */
  public record Rule(
      List<String> verbs,
      List<String> apiGroups,
      List<String> resources,
      List<String> resourceNames,
      List<String> nonResourceURLs) {

    public Rule {
      verbs = List.copyOf(verbs);
      apiGroups = List.copyOf(apiGroups);
      resources = List.copyOf(resources);
      resourceNames = List.copyOf(resourceNames);
      nonResourceURLs = List.copyOf(nonResourceURLs);
    }

    static Rule parse(JsonNode rule) {
      return new Rule(
          strings(rule.path("verbs")),
          strings(rule.path("apiGroups")),
          strings(rule.path("resources")),
          strings(rule.path("resourceNames")),
          strings(rule.path("nonResourceURLs")));
    }

    /** RBAC's RuleAllows. */
    boolean allows(AuthorizationAttributes a) {
      if (!matches(verbs, a.verb())) {
        return false;
      }
      if (!a.resourceRequest()) {
        for (String url : nonResourceURLs) {
          if (url.equals("*")
              || url.equals(a.path())
              || (url.endsWith("*") && a.path().startsWith(url.substring(0, url.length() - 1)))) {
            return true;
          }
        }
        return false;
      }
      return matches(apiGroups, a.apiGroup())
          && resourceMatches(a)
          && (resourceNames.isEmpty() || resourceNames.contains(a.name()));
    }

    private boolean resourceMatches(AuthorizationAttributes a) {
      String combined = a.combinedResource();
      for (String r : resources) {
        if (r.equals("*") || r.equals(combined)) {
          return true;
        }
        // "*/status" grants the status subresource of every resource.
        if (!a.subresource().isEmpty() && r.equals("*/" + a.subresource())) {
          return true;
        }
      }
      return false;
    }

    private static boolean matches(List<String> allowed, String value) {
      return allowed.contains("*") || allowed.contains(value);
    }
  }

  /** A subject of a binding: User, Group or ServiceAccount. */
  record Subject(String kind, String name, String namespace) {
    /** RBAC's appliesToUser; a ServiceAccount without namespace means the binding's. */
    boolean appliesTo(UserInfo user, String bindingNamespace) {
      return switch (kind) {
        case "User" -> user.name().equals(name);
        case "Group" -> user.groups().contains(name);
        case "ServiceAccount" -> {
          String ns = namespace.isEmpty() ? bindingNamespace : namespace;
          yield !ns.isEmpty() && user.name().equals(UserInfo.serviceAccountUsername(ns, name));
        }
        default -> false;
      };
    }

    String describe(String bindingNamespace) {
      return kind.equals("ServiceAccount")
          ? "ServiceAccount \""
              + name
              + "/"
              + (namespace.isEmpty() ? bindingNamespace : namespace)
              + "\""
          : kind + " \"" + name + "\"";
    }
  }

  /** A RoleBinding (namespace set) or ClusterRoleBinding (namespace empty). */
  record Binding(
      String name, String namespace, String roleKind, String roleName, List<Subject> subjects) {
    boolean cluster() {
      return namespace.isEmpty();
    }

    String describe(Subject subject) {
      return (cluster()
              ? "ClusterRoleBinding \"" + name + "\""
              : "RoleBinding \"" + name + "/" + namespace + "\"")
          + " of "
          + roleKind
          + " \""
          + roleName
          + "\" to "
          + subject.describe(namespace);
    }
  }

  /** The decision and its reason (what RBAC says in a SubjectAccessReview's status). */
  public record Decision(boolean allowed, String reason) {}

  /** Rules that apply in a namespace, and the bindings whose role could not be found. */
  public record RuleSet(List<Rule> rules, List<String> errors) {}

  private final Map<String, List<Rule>> clusterRoles = new HashMap<>();
  private final Map<String, List<Rule>> roles = new HashMap<>();
  private final List<Binding> clusterRoleBindings = new ArrayList<>();
  private final Map<String, List<Binding>> roleBindings = new HashMap<>();

  private RbacAuthorizer() {}

  /** The policy made of {@code objects} (other kinds are ignored). */
  public static RbacAuthorizer of(Collection<? extends JsonNode> objects) {
    RbacAuthorizer rbac = new RbacAuthorizer();
    for (JsonNode o : objects) {
      if (!o.path("apiVersion").asText().startsWith(GROUP + "/")) {
        continue;
      }
      String name = o.path("metadata").path("name").asText();
      String namespace = o.path("metadata").path("namespace").asText("");
      switch (o.path("kind").asText()) {
        case "ClusterRole" -> rbac.clusterRoles.put(name, rules(o));
        case "Role" -> rbac.roles.put(namespace + "/" + name, rules(o));
        case "ClusterRoleBinding" -> rbac.clusterRoleBindings.add(binding(o, ""));
        case "RoleBinding" ->
            rbac.roleBindings
                .computeIfAbsent(namespace, k -> new ArrayList<>())
                .add(binding(o, namespace));
        default -> {}
      }
    }
    rbac.clusterRoleBindings.sort(java.util.Comparator.comparing(Binding::name));
    rbac.roleBindings.values().forEach(l -> l.sort(java.util.Comparator.comparing(Binding::name)));
    return rbac;
  }

  /** Whether {@code user} may do {@code request}, and why (or why it is unknown). */
  public Decision authorize(UserInfo user, AuthorizationAttributes request) {
    if (user.groups().contains(UserInfo.MASTERS)) {
      return new Decision(true, "");
    }
    List<String> errors = new ArrayList<>();
    for (Binding b : bindingsIn(request.namespace())) {
      for (Subject s : b.subjects()) {
        if (!s.appliesTo(user, b.namespace())) {
          continue;
        }
        List<Rule> rules = rulesOf(b, errors);
        for (Rule rule : rules) {
          if (rule.allows(request)) {
            return new Decision(true, "RBAC: allowed by " + b.describe(s));
          }
        }
        break;
      }
    }
    return new Decision(false, errors.isEmpty() ? "" : "RBAC: " + aggregate(errors));
  }

  /** Every rule bound to {@code user} that applies in {@code namespace} ("" for cluster only). */
  public RuleSet rulesFor(UserInfo user, String namespace) {
    List<Rule> rules = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    for (Binding b : bindingsIn(namespace)) {
      if (b.subjects().stream().anyMatch(s -> s.appliesTo(user, b.namespace()))) {
        rules.addAll(rulesOf(b, errors));
      }
    }
    return new RuleSet(rules, errors);
  }

  private List<Binding> bindingsIn(String namespace) {
    List<Binding> out = new ArrayList<>(clusterRoleBindings);
    if (namespace != null && !namespace.isEmpty()) {
      out.addAll(roleBindings.getOrDefault(namespace, List.of()));
    }
    return out;
  }

  private List<Rule> rulesOf(Binding b, List<String> errors) {
    List<Rule> rules =
        b.roleKind().equals("ClusterRole")
            ? clusterRoles.get(b.roleName())
            : b.cluster() ? null : roles.get(b.namespace() + "/" + b.roleName());
    if (rules == null) {
      String kind = b.roleKind().equals("ClusterRole") ? "clusterrole" : "role";
      String error = kind + "." + GROUP + " \"" + b.roleName() + "\" not found";
      if (!errors.contains(error)) {
        errors.add(error);
      }
      return List.of();
    }
    return rules;
  }

  /** Go's utilerrors aggregate: one message alone, several in brackets. */
  private static String aggregate(List<String> errors) {
    return errors.size() == 1 ? errors.get(0) : "[" + String.join(", ", errors) + "]";
  }

  private static List<Rule> rules(JsonNode role) {
    List<Rule> rules = new ArrayList<>();
    for (JsonNode r : role.path("rules")) {
      rules.add(Rule.parse(r));
    }
    return rules;
  }

  private static Binding binding(JsonNode o, String namespace) {
    List<Subject> subjects = new ArrayList<>();
    for (JsonNode s : o.path("subjects")) {
      subjects.add(
          new Subject(
              s.path("kind").asText(), s.path("name").asText(), s.path("namespace").asText("")));
    }
    return new Binding(
        o.path("metadata").path("name").asText(),
        namespace,
        o.path("roleRef").path("kind").asText(),
        o.path("roleRef").path("name").asText(),
        subjects);
  }

  private static List<String> strings(JsonNode array) {
    Set<String> out = new LinkedHashSet<>();
    array.forEach(v -> out.add(v.asText()));
    return List.copyOf(out);
  }
}
