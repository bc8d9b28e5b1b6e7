package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gpupool.sandbox.api.ResourceType.PrinterColumn;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Built-in resource types plus those defined by the CRDs stored in the server. */
public final class ResourceRegistry {

  private final List<ResourceType> builtIns = new ArrayList<>();
  private volatile List<ResourceType> custom = List.of();

  public ResourceRegistry() {
    core("Pod", "pods", true, true, List.of("po"), List.of("all"));
    core("Service", "services", true, true, List.of("svc"), List.of("all"));
    core("Endpoints", "endpoints", true, false, List.of("ep"), List.of());
    core("ConfigMap", "configmaps", true, false, List.of("cm"), List.of());
    core("Secret", "secrets", true, false, List.of(), List.of());
    core("Namespace", "namespaces", false, true, List.of("ns"), List.of());
    core("Node", "nodes", false, true, List.of("no"), List.of());
    core("Event", "events", true, false, List.of("ev"), List.of());
    core("ServiceAccount", "serviceaccounts", true, false, List.of("sa"), List.of());
    core("PersistentVolumeClaim", "persistentvolumeclaims", true, true, List.of("pvc"), List.of());
    core("ResourceQuota", "resourcequotas", true, true, List.of("quota"), List.of());
    core("LimitRange", "limitranges", true, false, List.of("limits"), List.of());
    add("apps", "v1", "Deployment", "deployments", true, true, List.of("deploy"), List.of("all"));
    add("apps", "v1", "StatefulSet", "statefulsets", true, true, List.of("sts"), List.of("all"));
    add("apps", "v1", "ReplicaSet", "replicasets", true, true, List.of("rs"), List.of("all"));
    add("apps", "v1", "DaemonSet", "daemonsets", true, true, List.of("ds"), List.of("all"));
    add("batch", "v1", "Job", "jobs", true, true, List.of(), List.of("all"));
    add("batch", "v1", "CronJob", "cronjobs", true, true, List.of("cj"), List.of("all"));
    add("coordination.k8s.io", "v1", "Lease", "leases", true, false, List.of(), List.of());
    add("events.k8s.io", "v1", "Event", "events", true, false, List.of("ev"), List.of());
    // GpuQueue admission reads a job's PriorityClass value (examples/queues define one).
    add(
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        "priorityclasses",
        false,
        false,
        List.of("pc"),
        List.of());
    add(
        AccessReviews.GROUP,
        "v1",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        false,
        false,
        List.of(),
        List.of());
    add(
        AccessReviews.GROUP,
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        false,
        false,
        List.of(),
        List.of());
    add(
        AccessReviews.GROUP,
        "v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        false,
        false,
        List.of(),
        List.of());
    add(
        AccessReviews.GROUP,
        "v1",
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        true,
        false,
        List.of(),
        List.of());
    add(
        AccessReviews.AUTHENTICATION_GROUP,
        "v1",
        "TokenReview",
        "tokenreviews",
        false,
        false,
        List.of(),
        List.of());
    add(
        AccessReviews.AUTHENTICATION_GROUP,
        "v1",
        "SelfSubjectReview",
        "selfsubjectreviews",
        false,
        false,
        List.of(),
        List.of());
    add(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
        true,
        List.of("pdb"),
        List.of());
    add(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
        false,
        List.of("netpol"),
        List.of());
    add("networking.k8s.io", "v1", "Ingress", "ingresses", true, true, List.of("ing"), List.of());
    add(
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        true,
        false,
        List.of(),
        List.of());
    add("rbac.authorization.k8s.io", "v1", "Role", "roles", true, false, List.of(), List.of());
    add(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
        false,
        List.of(),
        List.of());
    add(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
        false,
        List.of(),
        List.of());
    add(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
        false,
        List.of(),
        List.of());
    add(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        true,
        List.of("crd", "crds"),
        List.of("api-extensions"));
  }

  private void core(
      String kind,
      String plural,
      boolean namespaced,
      boolean status,
      List<String> shortNames,
      List<String> categories) {
    add("", "v1", kind, plural, namespaced, status, shortNames, categories);
  }

  private void add(
      String group,
      String version,
      String kind,
      String plural,
      boolean namespaced,
      boolean status,
      List<String> shortNames,
      List<String> categories) {
    builtIns.add(
        new ResourceType(
            group,
            version,
            kind,
            plural,
            kind.toLowerCase(java.util.Locale.ROOT),
            namespaced,
            shortNames,
            categories,
            status,
            List.of(),
            null));
  }

  /** All types, built-in first. */
  public List<ResourceType> all() {
    List<ResourceType> all = new ArrayList<>(builtIns);
    all.addAll(custom);
    return all;
  }

  public Optional<ResourceType> find(String group, String version, String plural) {
    return all().stream()
        .filter(
            t ->
                t.group().equals(group) && t.version().equals(version) && t.plural().equals(plural))
        .findFirst();
  }

  public Optional<ResourceType> findByKind(String apiVersion, String kind) {
    return all().stream()
        .filter(t -> t.apiVersion().equals(apiVersion) && t.kind().equals(kind))
        .findFirst();
  }

  /** Group names with their versions, core group excluded, in registration order. */
  public Map<String, Set<String>> groups() {
    Map<String, Set<String>> groups = new LinkedHashMap<>();
    for (ResourceType t : all()) {
      if (!t.group().isEmpty()) {
        groups.computeIfAbsent(t.group(), g -> new LinkedHashSet<>()).add(t.version());
      }
    }
    return groups;
  }

  public List<ResourceType> inGroupVersion(String group, String version) {
    return all().stream()
        .filter(t -> t.group().equals(group) && t.version().equals(version))
        .toList();
  }

  /** Replaces the custom types with those defined by the given CRD objects. */
  public void setCustomResourceDefinitions(Collection<JsonNode> crds) {
    List<ResourceType> types = new ArrayList<>();
    for (JsonNode crd : crds) {
      types.addAll(fromCrd(crd));
    }
    custom = List.copyOf(types);
  }

  /** The served versions of one CRD as resource types. */
  public static List<ResourceType> fromCrd(JsonNode crd) {
    JsonNode spec = crd.path("spec");
    JsonNode names = spec.path("names");
    String group = spec.path("group").asText();
    boolean namespaced = !"Cluster".equals(spec.path("scope").asText("Namespaced"));
    String plural = names.path("plural").asText();
    String kind = names.path("kind").asText();
    String singular = names.path("singular").asText(kind.toLowerCase(java.util.Locale.ROOT));
    List<String> shortNames = strings(names.path("shortNames"));
    List<String> categories = strings(names.path("categories"));
    List<ResourceType> out = new ArrayList<>();
    for (JsonNode v : spec.path("versions")) {
      if (!v.path("served").asBoolean(true)) {
        continue;
      }
      List<PrinterColumn> columns = new ArrayList<>();
      for (JsonNode c : v.path("additionalPrinterColumns")) {
        columns.add(
            new PrinterColumn(
                c.path("name").asText(),
                c.path("type").asText("string"),
                c.path("format").asText(""),
                c.path("description").asText(""),
                c.path("priority").asInt(0),
                c.path("jsonPath").asText()));
      }
      JsonNode schema = v.path("schema").path("openAPIV3Schema");
      out.add(
          new ResourceType(
              group,
              v.path("name").asText(),
              kind,
              plural,
              singular,
              namespaced,
              shortNames,
              categories,
              v.path("subresources").has("status"),
              columns,
              schema.isMissingNode() ? Json.object() : schema));
    }
    return out;
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  // ---- discovery documents ----

  /** {@code /api}: the core group's versions. */
  public ObjectNode apiVersions(String serverAddress) {
    ObjectNode doc = Json.object().put("kind", "APIVersions");
    doc.putArray("versions").add("v1");
    doc.putArray("serverAddressByClientCIDRs")
        .addObject()
        .put("clientCIDR", "0.0.0.0/0")
        .put("serverAddress", serverAddress);
    return doc;
  }

  /** {@code /apis}: every named group. */
  public ObjectNode apiGroupList() {
    ObjectNode doc = Json.object().put("kind", "APIGroupList").put("apiVersion", "v1");
    ArrayNode groups = doc.putArray("groups");
    groups()
        .forEach(
            (name, versions) -> {
              ObjectNode g = groups.addObject().put("name", name);
              ArrayNode vs = g.putArray("versions");
              String preferred = null;
              for (String v : versions) {
                vs.addObject().put("groupVersion", name + "/" + v).put("version", v);
                if (preferred == null) {
                  preferred = v;
                }
              }
              g.putObject("preferredVersion")
                  .put("groupVersion", name + "/" + preferred)
                  .put("version", preferred);
            });
    return doc;
  }

  /** {@code /apis/G/V} or {@code /api/v1}: null when the group version is unknown. */
  public ObjectNode apiResourceList(String group, String version) {
    List<ResourceType> types = inGroupVersion(group, version);
    if (types.isEmpty()) {
      return null;
    }
    ObjectNode doc =
        Json.object()
            .put("kind", "APIResourceList")
            .put("apiVersion", "v1")
            .put("groupVersion", group.isEmpty() ? version : group + "/" + version);
    ArrayNode resources = doc.putArray("resources");
    for (ResourceType t : types) {
      ObjectNode r =
          resources
              .addObject()
              .put("name", t.plural())
              .put("singularName", t.singular())
              .put("namespaced", t.namespaced())
              .put("kind", t.kind());
      ArrayNode verbs = r.putArray("verbs");
      ResourceType.VERBS.forEach(verbs::add);
      if (!t.shortNames().isEmpty()) {
        ArrayNode sn = r.putArray("shortNames");
        t.shortNames().forEach(sn::add);
      }
      if (!t.categories().isEmpty()) {
        ArrayNode cat = r.putArray("categories");
        t.categories().forEach(cat::add);
      }
      if (t.statusSubresource()) {
        ObjectNode s =
            resources
                .addObject()
                .put("name", t.plural() + "/status")
                .put("singularName", "")
                .put("namespaced", t.namespaced())
                .put("kind", t.kind());
        s.putArray("verbs").add("get").add("patch").add("update");
      }
    }
    return doc;
  }
}
