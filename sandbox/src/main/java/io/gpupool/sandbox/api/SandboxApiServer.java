package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.sandbox.api.TableConverter.IncludeObject;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Fabric8 mock API server's CRUD dispatcher behind an HTTP front that real kubectl can drive:
 * version and discovery documents (built-ins plus stored CRDs), Tables with printer columns,
 * watches over chunked HTTP as well as websocket, JSON/merge/strategic/apply patches, validation
 * and defaulting of custom resources, owner-reference garbage collection and namespace deletion.
 *
 * <p>This class routes requests and answers reads; {@link HttpFront} is the transport and watches,
 * {@link ObjectWrites} creates, replaces and patches, {@link Deletions} deletes and cascades, and
 * {@link ObjectStore} holds the objects.
 */
public final class SandboxApiServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SandboxApiServer.class);
  private static final String JSON = Reply.JSON;

  /** The Kubernetes version reported by {@code /version}; kubectl's dispatcher picks a match. */
  public static final String KUBE_MINOR = "32";

  private final ResourceRegistry registry = new ResourceRegistry();
  private final ObjectStore store = new ObjectStore(registry);
  private final Deletions deletions = new Deletions(store, registry, this::policyChanged);
  private final ObjectWrites writes;
  private final TableConverter tables;
  private final ReentrantLock writeLock = new ReentrantLock();
  private final ApiAccessLog accessLog = new ApiAccessLog();
  private final ServiceAccountTokens tokens = new ServiceAccountTokens();
  private final Gatekeeper gatekeeper = new Gatekeeper(tokens, this::rbac);
  private final HttpFront front;
  private volatile RbacAuthorizer rbacPolicy;
  private volatile boolean rbacStale = true;
  private volatile PodLogSource podLogs = PodLogSource.NONE;
  private volatile FaultPlan faults = FaultPlan.none();
  private int port = -1;

  public SandboxApiServer() {
    this(Clock.systemUTC());
  }

  public SandboxApiServer(Clock clock) {
    this.tables = new TableConverter(clock);
    this.writes = new ObjectWrites(store, deletions, clock);
    this.front =
        new HttpFront(
            store,
            registry,
            tables,
            gatekeeper,
            accessLog,
            writeLock,
            () -> podLogs,
            this::handle,
            () -> faults);
  }

  /**
   * Keeps at most {@code writesPerResource} writes of each resource for watches from a
   * resourceVersion to replay (default {@value WatchHistory#DEFAULT_CAPACITY}): an older version
   * gets 410 Gone. For tests of that answer.
   */
  void limitWatchHistory(int writesPerResource) {
    store.limitWatchHistory(writesPerResource);
  }

  /** Starts on 127.0.0.1; port 0 picks a free port. */
  public synchronized void start(int requestedPort) {
    port = front.listen(requestedPort);
    ensureNamespace("default");
    ensureNamespace("kube-system");
    BootstrapRbac.objects().forEach(this::ensureObject);
    LOG.debug("sandbox API server listening on {}", url());
  }

  public int port() {
    return port;
  }

  /** {@code http://127.0.0.1:PORT}. */
  public String url() {
    return "http://127.0.0.1:" + port;
  }

  public ResourceRegistry registry() {
    return registry;
  }

  /**
   * A bearer token that authenticates as the service account {@code namespace/name}: put it in a
   * kubeconfig and the client is authorized by the RBAC stored in the server, as a pod running with
   * that service account would be.
   */
  public String issueServiceAccountToken(String namespace, String name) {
    return tokens.issue(namespace, name);
  }

  /** The RBAC policy stored now (rebuilt after any write to rbac.authorization.k8s.io). */
  RbacAuthorizer rbac() {
    RbacAuthorizer current = rbacPolicy;
    if (current != null && !rbacStale) {
      return current;
    }
    synchronized (this) {
      if (rbacPolicy == null || rbacStale) {
        rbacStale = false;
        List<JsonNode> objects = new ArrayList<>();
        for (String plural :
            List.of("clusterroles", "clusterrolebindings", "roles", "rolebindings")) {
          ResourceType t = registry.find(RbacAuthorizer.GROUP, "v1", plural).orElseThrow();
          store.listInto(t.collectionPath(null), t, Selectors.parse(null, null), objects);
        }
        rbacPolicy = RbacAuthorizer.of(objects);
      }
      return rbacPolicy;
    }
  }

  private void policyChanged(ResourceType type) {
    if (type.group().equals(RbacAuthorizer.GROUP) || type.kind().equals("Namespace")) {
      rbacStale = true;
    }
  }

  /** Where pod logs come from for containers that run as processes. */
  public void podLogs(PodLogSource source) {
    this.podLogs = source;
  }

  /**
   * Injects faults into the requests of the plan's targets from now on ({@link FaultPlan#none()}
   * stops).
   */
  public void injectFaults(FaultPlan plan) {
    this.faults = plan;
  }

  /** The fault plan in force (its counts say what was injected). */
  public FaultPlan faults() {
    return faults;
  }

  /** Every resource request received, by user agent (for RBAC checks). */
  public ApiAccessLog accessLog() {
    return accessLog;
  }

  /** How many stored objects requests were tested against so far (the store index's work). */
  long objectsTested() {
    return store.objectsTested();
  }

  @Override
  public synchronized void close() {
    front.close();
  }

  // ---------------------------------------------------------------- routing

  /** Handles one non-watch request. Public so tests and the sandbox can call in-process. */
  Reply handle(ApiRequest r) {
    String path = r.path();
    switch (path) {
      case "/version":
        return Reply.json(200, version());
      case "/healthz":
      case "/livez":
      case "/readyz":
        return new Reply(200, "text/plain", "ok");
      case "/api":
        return Reply.json(200, registry.apiVersions("127.0.0.1:" + port));
      case "/apis":
        return Reply.json(200, registry.apiGroupList());
      default:
        break;
    }
    if (path.equals("/openapi/v3")) {
      return Reply.json(200, OpenApi.root(registry));
    }
    if (path.startsWith("/openapi/v3/")) {
      ResourcePath gv = ResourcePath.parse(path.substring("/openapi/v3".length()));
      ObjectNode doc = gv == null ? null : OpenApi.groupVersion(registry, gv.group, gv.version);
      return doc == null ? Reply.notFoundPath() : Reply.json(200, doc);
    }
    if (path.startsWith("/openapi/")) {
      return Reply.notFoundPath();
    }
    ResourcePath p = ResourcePath.parse(path);
    if (p == null) {
      return Reply.notFoundPath();
    }
    if (p.plural == null) {
      ObjectNode list = registry.apiResourceList(p.group, p.version);
      return list == null ? Reply.notFoundPath() : Reply.json(200, list);
    }
    ResourceType type = registry.find(p.group, p.version, p.plural).orElse(null);
    if (type == null) {
      return Reply.notFoundPath();
    }
    if (p.subresource != null && !p.subresource.equals("status")) {
      if (p.subresource.equals("log") && type.kind().equals("Pod")) {
        return podLog(p, r);
      }
      return Reply.notFoundPath();
    }
    if (AccessReviews.answers(type.group())) {
      return AccessReviews.answer(
          r.method(), p.plural, p.namespace, r.parsedBody(), r.user(), rbac(), tokens);
    }
    String ct = r.contentType() == null ? "" : r.contentType();
    if (ct.contains("protobuf") || ct.contains("cbor")) {
      return Reply.status(
          415,
          "UnsupportedMediaType",
          "the sandbox API server accepts JSON (YAML for apply; protobuf only for Namespace,"
              + " ConfigMap, Secret and ServiceAccount), not "
              + ct);
    }
    Reply reply = dispatch(r, p, type);
    if (!r.method().equals("GET")) {
      // After the write, not before: a policy rebuilt between the two would miss the new object
      // and stay stale (an operator refused with 403 by a Role that had just been created).
      policyChanged(type);
    }
    return reply;
  }

  private Reply dispatch(ApiRequest r, ResourcePath p, ResourceType type) {
    return switch (r.method()) {
      case "GET" -> p.name == null ? list(r, p, type) : get(r, p, type);
      case "POST" -> locked(() -> writes.create(r, p, type));
      case "PUT" -> {
        JsonNode body = r.parsedBody();
        yield body == null
            ? Reply.status(400, "BadRequest", "the request body is not valid JSON or YAML")
            : locked(() -> writes.update(r, p, type, body));
      }
      case "PATCH" -> locked(() -> writes.patch(r, p, type));
      case "DELETE" ->
          locked(
              () ->
                  p.name == null
                      ? deletions.deleteCollection(r, p, type)
                      : deletions.delete(r, p, type));
      default -> Reply.status(405, "MethodNotAllowed", "method not allowed");
    };
  }

  private Reply locked(Supplier<Reply> action) {
    writeLock.lock();
    try {
      return action.get();
    } finally {
      writeLock.unlock();
    }
  }

  private ObjectNode version() {
    return Json.object()
        .put("major", "1")
        .put("minor", KUBE_MINOR)
        .put("gitVersion", "v1." + KUBE_MINOR + ".0-gpupool-sandbox")
        .put("gitCommit", "sandbox")
        .put("gitTreeState", "clean")
        .put("buildDate", "2025-01-01T00:00:00Z")
        .put("goVersion", "go1.23.0")
        .put("compiler", "gc")
        .put("platform", "linux/amd64");
  }

  // ---------------------------------------------------------------- reads

  private Reply get(ApiRequest r, ResourcePath p, ResourceType type) {
    JsonNode object = store.fetch(p.itemPath());
    if (object == null
        || !WatchStream.groupOf(object.path("apiVersion").asText()).equals(type.group())) {
      return Reply.notFound(type, p.name);
    }
    if (r.wantsTable()) {
      return Reply.json(
          200,
          tables.toTable(
              type,
              List.of(object),
              IncludeObject.parse(r.query().get("includeObject")),
              object.path("metadata").path("resourceVersion").asText(null)));
    }
    return Reply.json(200, object);
  }

  private Reply list(ApiRequest r, ResourcePath p, ResourceType type) {
    Selectors selectors =
        Selectors.parse(r.query().get("labelSelector"), r.query().get("fieldSelector"));
    List<JsonNode> items = new ArrayList<>();
    String resourceVersion = store.listInto(p.collectionPath(), type, selectors, items);
    if (r.wantsTable()) {
      return Reply.json(
          200,
          tables.toTable(
              type, items, IncludeObject.parse(r.query().get("includeObject")), resourceVersion));
    }
    ObjectNode list =
        Json.object().put("apiVersion", type.apiVersion()).put("kind", type.kind() + "List");
    list.putObject("metadata").put("resourceVersion", resourceVersion);
    ArrayNode array = list.putArray("items");
    items.forEach(array::add);
    return Reply.json(200, list);
  }

  private Reply podLog(ResourcePath p, ApiRequest r) {
    JsonNode pod = store.fetch(p.itemPathWithoutSubresource());
    if (pod == null) {
      return Reply.notFound(registry.find("", "v1", "pods").orElseThrow(), p.name);
    }
    var found = podLogs.find(p.namespace, p.name, r.query().get("container"));
    if (found.isPresent()) {
      return new Reply(
          200, "text/plain", PodLogFollower.read(found.get(), r.query().get("tailLines")));
    }
    String phase = pod.path("status").path("phase").asText("Pending");
    return new Reply(
        200,
        "text/plain",
        "sandbox: simulated container of pod "
            + p.name
            + " (phase "
            + phase
            + "); no real output\n");
  }

  private void ensureNamespace(String name) {
    ResourceType ns = registry.find("", "v1", "namespaces").orElseThrow();
    if (store.fetch("/api/v1/namespaces/" + name) == null) {
      ObjectNode object = Json.object().put("apiVersion", "v1").put("kind", "Namespace");
      object.putObject("metadata").put("name", name);
      Reply reply =
          writes.create(
              new ApiRequest("POST", "/api/v1/namespaces", JSON, JSON, Json.write(object)),
              ResourcePath.parse("/api/v1/namespaces"),
              ns);
      if (reply.code() >= 300) {
        throw new IllegalStateException("cannot create namespace " + name + ": " + reply.body());
      }
    }
  }

  /**
   * Stores {@code objects} — built-in objects known to be new, such as a fresh sandbox's pool of
   * nodes and their leases — in-process: the built-in defaults and metadata of a create, but no
   * HTTP round trip and no existence check each (the mock dispatcher's check scans every stored
   * object, which made a 5,000-node pool take many minutes); one hold of the write lock. Returns
   * them as stored (uid, resourceVersion, creationTimestamp).
   */
  @SuppressWarnings("unchecked")
  public <T extends HasMetadata> List<T> seed(List<T> objects) {
    List<T> stored = new ArrayList<>(objects.size());
    writeLock.lock();
    try {
      for (T object : objects) {
        ObjectNode json = (ObjectNode) Json.parse(Serialization.asJson(object));
        ResourceType type =
            registry
                .findByKind(json.path("apiVersion").asText(), json.path("kind").asText())
                .orElseThrow(
                    () -> new IllegalArgumentException("no resource type for " + object.getKind()));
        stored.add((T) Serialization.unmarshal(writes.seed(type, json), object.getClass()));
      }
    } finally {
      writeLock.unlock();
    }
    return stored;
  }

  /** Creates the namespace {@code name} in-process unless it exists. */
  public void createNamespaceIfMissing(String name) {
    writeLock.lock();
    try {
      ensureNamespace(name);
    } finally {
      writeLock.unlock();
    }
    policyChanged(registry.find("", "v1", "namespaces").orElseThrow());
  }

  /** Creates {@code object} unless an object of its kind and name is stored already. */
  private void ensureObject(ObjectNode object) {
    ResourceType type =
        registry
            .findByKind(object.path("apiVersion").asText(), object.path("kind").asText())
            .orElseThrow();
    String ns = object.path("metadata").path("namespace").asText(null);
    String collection = type.collectionPath(ns);
    if (store.fetch(collection + "/" + object.path("metadata").path("name").asText()) != null) {
      return;
    }
    Reply reply =
        writes.create(
            new ApiRequest("POST", collection, JSON, JSON, Json.write(object)),
            ResourcePath.parse(collection),
            type);
    if (reply.code() >= 300) {
      throw new IllegalStateException("cannot create " + object + ": " + reply.body());
    }
    policyChanged(type);
  }
}
