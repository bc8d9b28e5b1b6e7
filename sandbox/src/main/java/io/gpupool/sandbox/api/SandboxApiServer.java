package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.WebSocketListener;
import io.gpupool.sandbox.api.TableConverter.IncludeObject;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Fabric8 mock API server's CRUD dispatcher behind an HTTP front that real kubectl can drive:
 * version and discovery documents (built-ins plus stored CRDs), Tables with printer columns,
 * watches over chunked HTTP as well as websocket, JSON/merge/strategic/apply patches, validation
 * and defaulting of custom resources, owner-reference garbage collection and namespace deletion.
 */
public final class SandboxApiServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SandboxApiServer.class);
  private static final String JSON = Reply.JSON;

  /** The Kubernetes version reported by {@code /version}; kubectl's dispatcher picks a match. */
  public static final String KUBE_MINOR = "32";

  private final KubernetesCrudDispatcher crud = new KubernetesCrudDispatcher();
  private final ResourceRegistry registry = new ResourceRegistry();
  private final SchemaValidator validator = new SchemaValidator();
  private final TableConverter tables;
  private final Clock clock;
  private final ReentrantLock writeLock = new ReentrantLock();
  private final AtomicInteger clusterIps = new AtomicInteger(10);
  private final ApiAccessLog accessLog = new ApiAccessLog();
  private final ServiceAccountTokens tokens = new ServiceAccountTokens();
  private final Gatekeeper gatekeeper = new Gatekeeper(tokens, this::rbac);
  private volatile RbacAuthorizer rbacPolicy;
  private volatile boolean rbacStale = true;
  private volatile PodLogSource podLogs = PodLogSource.NONE;
  private Vertx vertx;
  private HttpServer server;
  private int port = -1;

  public SandboxApiServer() {
    this(Clock.systemUTC());
  }

  public SandboxApiServer(Clock clock) {
    this.clock = clock;
    this.tables = new TableConverter(clock);
  }

  /** Starts on 127.0.0.1; port 0 picks a free port. */
  public synchronized void start(int requestedPort) {
    vertx = Vertx.vertx();
    server =
        vertx.createHttpServer(
            new HttpServerOptions()
                .setHost("127.0.0.1")
                .setPort(requestedPort)
                .setMaxWebSocketFrameSize(16 * 1024 * 1024)
                .setMaxWebSocketMessageSize(64 * 1024 * 1024));
    server.requestHandler(this::onRequest);
    try {
      server.listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      vertx.close();
      throw new IllegalStateException("cannot listen on 127.0.0.1:" + requestedPort, e);
    }
    port = server.actualPort();
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
          listInto(t.collectionPath(null), t, Selectors.parse(null, null), objects);
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

  /** Every resource request received, by user agent (for RBAC checks). */
  public ApiAccessLog accessLog() {
    return accessLog;
  }

  @Override
  public synchronized void close() {
    if (vertx != null) {
      try {
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.debug("error while stopping the API server", e);
      }
      vertx = null;
    }
  }

  // ---------------------------------------------------------------- transport

  private void onRequest(HttpServerRequest req) {
    accessLog.record(req.getHeader("User-Agent"), req.method().name(), req.uri());
    Map<String, List<String>> headers = new HashMap<>();
    req.headers()
        .forEach(
            h ->
                headers
                    .computeIfAbsent(h.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(h.getValue()));
    Gatekeeper.Admission admission = gatekeeper.admit(req.method().name(), req.uri(), headers);
    if (!admission.admitted()) {
      send(req.response(), admission.refusal());
      return;
    }
    UserInfo user = admission.user();
    String upgrade = req.getHeader("Upgrade");
    if (upgrade != null && upgrade.toLowerCase(Locale.ROOT).contains("websocket")) {
      onWebSocket(req);
      return;
    }
    req.body()
        .onFailure(err -> req.response().setStatusCode(500).end())
        .onSuccess(
            buf -> {
              String contentType = req.getHeader("Content-Type");
              String body = buf == null ? "" : buf.toString(StandardCharsets.UTF_8);
              if (buf != null && contentType != null && contentType.contains("protobuf")) {
                ObjectNode decoded = decodeProtobuf(buf.getBytes());
                if (decoded != null) {
                  contentType = JSON;
                  body = Json.write(decoded);
                }
              }
              ApiRequest r =
                  new ApiRequest(
                      req.method().name(),
                      req.uri(),
                      req.getHeader("Accept"),
                      contentType,
                      body,
                      user);
              vertx.executeBlocking(
                  () -> {
                    serve(r, req.response());
                    return null;
                  },
                  false);
            });
  }

  private static ObjectNode decodeProtobuf(byte[] body) {
    try {
      return Protobuf.decode(body);
    } catch (RuntimeException e) {
      return null;
    }
  }

  private void serve(ApiRequest r, HttpServerResponse response) {
    try {
      if ("GET".equals(r.method()) && r.isWatch()) {
        ResourcePath p = ResourcePath.parse(r.path());
        ResourceType type =
            p == null ? null : registry.find(p.group, p.version, p.plural).orElse(null);
        if (type == null) {
          send(response, Reply.notFoundPath());
          return;
        }
        startHttpWatch(r, p, type, response);
        return;
      }
      if ("GET".equals(r.method()) && "true".equals(r.query().get("follow"))) {
        ResourcePath p = ResourcePath.parse(r.path());
        if (p != null && "log".equals(p.subresource) && "pods".equals(p.plural)) {
          var found = podLogs.find(p.namespace, p.name, r.query().get("container"));
          if (found.isPresent()) {
            PodLogFollower.start(vertx, response, found.get());
            return;
          }
        }
      }
      send(response, handle(r));
    } catch (RuntimeException e) {
      LOG.warn("{} {} failed", r.method(), r.uri(), e);
      send(response, Reply.status(500, "InternalError", "sandbox: " + e));
    }
  }

  private static void send(HttpServerResponse response, Reply reply) {
    if (response.closed()) {
      return;
    }
    response
        .setStatusCode(reply.code())
        .putHeader("Content-Type", reply.contentType())
        .putHeader("Cache-Control", "no-cache, private")
        .end(reply.body());
  }

  private void onWebSocket(HttpServerRequest req) {
    ApiRequest r = new ApiRequest("GET", req.uri(), req.getHeader("Accept"), null, "");
    ResourcePath p = ResourcePath.parse(r.path());
    ResourceType type = p == null ? null : registry.find(p.group, p.version, p.plural).orElse(null);
    if (!r.isWatch() || type == null) {
      req.response().setStatusCode(400).end("sandbox: websocket is only served for watches");
      return;
    }
    req.toWebSocket()
        .onFailure(err -> LOG.debug("websocket upgrade failed", err))
        .onSuccess(
            ws -> {
              WatchStream[] holder = new WatchStream[1];
              WebSocketListener listener =
                  openWatch(
                      r,
                      p,
                      type,
                      text -> ws.writeTextMessage(text),
                      () -> {
                        if (!ws.isClosed()) {
                          ws.close();
                        }
                      },
                      holder);
              ws.closeHandler(v -> closeWatch(listener, holder[0]));
              ws.exceptionHandler(err -> closeWatch(listener, holder[0]));
              ws.textMessageHandler(text -> {});
            });
  }

  private void startHttpWatch(
      ApiRequest r, ResourcePath p, ResourceType type, HttpServerResponse response) {
    response
        .setStatusCode(200)
        .setChunked(true)
        .putHeader("Content-Type", JSON)
        .putHeader("Cache-Control", "no-cache, private");
    response.write("");
    WatchStream[] holder = new WatchStream[1];
    WebSocketListener listener =
        openWatch(
            r,
            p,
            type,
            text -> response.write(text + "\n"),
            () -> {
              if (!response.ended() && !response.closed()) {
                response.end();
              }
            },
            holder);
    response.closeHandler(v -> closeWatch(listener, holder[0]));
    String timeout = r.query().get("timeoutSeconds");
    if (timeout != null) {
      long seconds = Long.parseLong(timeout);
      if (seconds > 0) {
        vertx.setTimer(
            TimeUnit.SECONDS.toMillis(seconds),
            id -> {
              holder[0].close(1000, "timeout");
              closeWatch(listener, holder[0]);
            });
      }
    }
  }

  /** Unregisters a watch off the event loop (the dispatcher waits for its sender to stop). */
  private void closeWatch(WebSocketListener listener, WatchStream stream) {
    Vertx v = vertx;
    if (v == null) {
      unregister(listener, stream);
      return;
    }
    try {
      v.executeBlocking(
          () -> {
            unregister(listener, stream);
            return null;
          },
          false);
    } catch (RuntimeException e) {
      unregister(listener, stream);
    }
  }

  /**
   * Under the write lock: the mock's listener shuts its sender down before it leaves the
   * dispatcher's set, and a write in between failed with RejectedExecutionException (a 500 after
   * the object was stored; the client's retry then got 409 AlreadyExists).
   */
  private void unregister(WebSocketListener listener, WatchStream stream) {
    writeLock.lock();
    try {
      listener.onClosed(stream, 1000, "closed");
    } finally {
      writeLock.unlock();
    }
  }

  /** Registers a watch with the CRUD dispatcher and connects its events to {@code sink}. */
  private WebSocketListener openWatch(
      ApiRequest r,
      ResourcePath p,
      ResourceType type,
      java.util.function.Consumer<String> sink,
      Runnable closer,
      WatchStream[] holder) {
    Function<JsonNode, JsonNode> converter =
        r.wantsTable()
            ? o ->
                tables.toTable(
                    type,
                    List.of(o),
                    IncludeObject.parse(r.query().get("includeObject")),
                    o.path("metadata").path("resourceVersion").asText(null))
            : Function.identity();
    long since = 0;
    try {
      since = Long.parseLong(r.query().getOrDefault("resourceVersion", "0"));
    } catch (NumberFormatException e) {
      since = 0;
    }
    String mockPath = p.collectionPath() + "?watch=true";
    RecordedRequest recorded = recorded(HttpMethod.GET, mockPath, null, null);
    WatchStream stream =
        new WatchStream(
            recorded,
            since,
            Selectors.parse(r.query().get("labelSelector"), r.query().get("fieldSelector")),
            type.group(),
            converter,
            sink,
            closer);
    holder[0] = stream;
    MockResponse mock = crud.handleWatch(mockPath);
    WebSocketListener listener = mock.getWebSocketListener();
    listener.onOpen(stream, mock);
    return listener;
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
          r.method(), p.plural, p.namespace, parseBody(r), r.user(), rbac(), tokens);
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
      case "POST" -> locked(() -> create(r, p, type));
      case "PUT" -> {
        JsonNode body = parseBody(r);
        yield body == null
            ? Reply.status(400, "BadRequest", "the request body is not valid JSON or YAML")
            : locked(() -> update(r, p, type, body));
      }
      case "PATCH" -> locked(() -> patch(r, p, type));
      case "DELETE" ->
          locked(() -> p.name == null ? deleteCollection(r, p, type) : delete(r, p, type));
      default -> Reply.status(405, "MethodNotAllowed", "method not allowed");
    };
  }

  private Reply locked(java.util.function.Supplier<Reply> action) {
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
    JsonNode object = fetch(p.itemPath());
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
    String resourceVersion = listInto(p.collectionPath(), type, selectors, items);
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

  /**
   * Lists the objects of {@code type} under {@code collectionPath}, sorted; returns the list RV.
   */
  private String listInto(
      String collectionPath, ResourceType type, Selectors selectors, List<JsonNode> items) {
    MockResponse response = crud.handleGet(collectionPath);
    JsonNode body = Json.parse(response.getBody().readUtf8());
    for (JsonNode item : body.path("items")) {
      if (WatchStream.groupOf(item.path("apiVersion").asText()).equals(type.group())
          && item.path("kind").asText().equals(type.kind())
          && selectors.matches(item)) {
        items.add(item);
      }
    }
    items.sort(
        Comparator.comparing((JsonNode o) -> o.path("metadata").path("namespace").asText(""))
            .thenComparing(o -> o.path("metadata").path("name").asText("")));
    return body.path("metadata").path("resourceVersion").asText("0");
  }

  private JsonNode fetch(String itemPath) {
    MockResponse response = crud.handleGet(itemPath);
    if (response.code() != 200 || response.getBody() == null) {
      return null;
    }
    JsonNode node = Json.parse(response.getBody().readUtf8());
    return node.has("items") ? null : node;
  }

  private Reply podLog(ResourcePath p, ApiRequest r) {
    JsonNode pod = fetch(p.itemPathWithoutSubresource());
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

  // ---------------------------------------------------------------- writes

  private Reply create(ApiRequest r, ResourcePath p, ResourceType type) {
    JsonNode parsed = parseBody(r);
    if (!(parsed instanceof ObjectNode object)) {
      return Reply.status(400, "BadRequest", "the request body is not a JSON object");
    }
    ObjectNode meta = Json.obj(object, "metadata");
    if (type.namespaced() && p.namespace == null) {
      return Reply.status(
          405,
          "MethodNotAllowed",
          "the server does not allow this method on the requested resource (namespaced "
              + type.plural()
              + " are created under /namespaces/NAMESPACE/)");
    }
    if (type.namespaced()) {
      String ns = meta.path("namespace").asText(null);
      if (ns != null && !ns.equals(p.namespace)) {
        return Reply.status(
            400,
            "BadRequest",
            "the namespace of the provided object does not match the namespace sent on the request");
      }
      meta.put("namespace", p.namespace);
    } else {
      meta.remove("namespace");
    }
    if (!object.hasNonNull("apiVersion")) {
      object.put("apiVersion", type.apiVersion());
    }
    if (!object.hasNonNull("kind")) {
      object.put("kind", type.kind());
    }
    String name = meta.path("name").asText("");
    if (name.isEmpty()) {
      String generateName = meta.path("generateName").asText("");
      if (generateName.isEmpty()) {
        return Reply.invalid(
            type,
            "",
            List.of(
                new SchemaValidator.FieldError(
                    "metadata.name",
                    "Required value",
                    null,
                    "name or generateName is required",
                    "FieldValueRequired")));
      }
      name = generateName + Long.toString(Math.abs(clock.millis() ^ System.nanoTime()), 36);
      name = name.substring(0, Math.min(name.length(), 63)).toLowerCase(Locale.ROOT);
      meta.put("name", name);
    }
    ResourcePath item = p.withName(name);
    if (fetch(item.itemPath()) != null) {
      return Reply.status(
          409,
          "AlreadyExists",
          type.qualifiedResource() + " \"" + name + "\" already exists",
          Reply.details(type, name));
    }
    if (type.isCustom()) {
      Reply strict = prune(r, type, object);
      if (strict != null) {
        return strict;
      }
      SchemaValidator.applyDefaults(object, type.schema());
      List<SchemaValidator.FieldError> errors = validator.validate(object, type.schema(), null);
      if (!errors.isEmpty()) {
        return Reply.invalid(type, name, errors);
      }
    }
    builtInDefaults(type, object);
    if (r.isDryRun()) {
      return Reply.json(201, object);
    }
    MockResponse response =
        crud.handleCreate(
            recorded(HttpMethod.POST, p.collectionPath(), r.contentTypeJson(), object));
    if (type.kind().equals("CustomResourceDefinition")) {
      refreshCrds();
    }
    return fromMock(response, type, name);
  }

  /** Fills in what the real API server (and its controllers) set on creation. */
  private void builtInDefaults(ResourceType type, ObjectNode object) {
    if (!type.group().isEmpty() && !type.kind().equals("CustomResourceDefinition")) {
      return;
    }
    switch (type.kind()) {
      case "Pod" -> {
        ObjectNode status = Json.obj(object, "status");
        if (!status.has("phase")) {
          status.put("phase", "Pending");
        }
        ObjectNode spec = Json.obj(object, "spec");
        if (!spec.has("restartPolicy")) {
          spec.put("restartPolicy", "Always");
        }
        // Like the API server's defaulting: a limit without a request is also the request.
        for (JsonNode c : spec.path("containers")) {
          JsonNode limits = c.path("resources").path("limits");
          if (c instanceof ObjectNode container && limits.isObject()) {
            ObjectNode requests = Json.obj(Json.obj(container, "resources"), "requests");
            limits
                .fields()
                .forEachRemaining(
                    e -> {
                      if (!requests.has(e.getKey())) {
                        requests.set(e.getKey(), e.getValue().deepCopy());
                      }
                    });
          }
        }
      }
      case "Namespace" -> Json.obj(object, "status").put("phase", "Active");
      case "Service" -> {
        ObjectNode spec = Json.obj(object, "spec");
        if (!spec.has("type")) {
          spec.put("type", "ClusterIP");
        }
        if (!spec.has("clusterIP")) {
          int n = clusterIps.incrementAndGet();
          spec.put("clusterIP", "10.96." + (n / 250) + "." + (n % 250 + 1));
        }
      }
      case "CustomResourceDefinition" -> {
        ObjectNode status = Json.obj(object, "status");
        status.set("acceptedNames", object.path("spec").path("names").deepCopy());
        ArrayNode conditions = status.putArray("conditions");
        String now = Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
        for (String t : List.of("NamesAccepted", "Established")) {
          conditions
              .addObject()
              .put("type", t)
              .put("status", "True")
              .put("lastTransitionTime", now)
              .put("reason", t.equals("Established") ? "InitialNamesAccepted" : "NoConflicts")
              .put(
                  "message",
                  t.equals("Established")
                      ? "the initial names have been accepted"
                      : "no conflicts found");
        }
        ArrayNode stored = status.putArray("storedVersions");
        for (JsonNode v : object.path("spec").path("versions")) {
          if (v.path("storage").asBoolean(false)) {
            stored.add(v.path("name").asText());
          }
        }
      }
      default -> {}
    }
  }

  private Reply update(ApiRequest r, ResourcePath p, ResourceType type, JsonNode body) {
    if (!(body instanceof ObjectNode object)) {
      return Reply.status(400, "BadRequest", "the request body is not a JSON object");
    }
    JsonNode current = fetch(p.itemPathWithoutSubresource());
    if (current == null) {
      return Reply.notFound(type, p.name);
    }
    ObjectNode meta = Json.obj(object, "metadata");
    if (!meta.hasNonNull("name")) {
      meta.put("name", p.name);
    }
    if (!p.name.equals(meta.path("name").asText())) {
      return Reply.status(
          400,
          "BadRequest",
          "the name of the object ("
              + meta.path("name").asText()
              + ") does not match the name on"
              + " the URL ("
              + p.name
              + ")");
    }
    if (type.namespaced()) {
      meta.put("namespace", p.namespace);
    }
    String expectedRv = meta.path("resourceVersion").asText("");
    String currentRv = current.path("metadata").path("resourceVersion").asText("");
    if (!expectedRv.isEmpty() && !expectedRv.equals(currentRv)) {
      return Reply.status(
          409,
          "Conflict",
          "Operation cannot be fulfilled on "
              + type.qualifiedResource()
              + " \""
              + p.name
              + "\": the object has been modified; please apply your changes to the latest version"
              + " and try again",
          Reply.details(type, p.name));
    }
    meta.put("resourceVersion", currentRv);
    if (!object.hasNonNull("apiVersion")) {
      object.put("apiVersion", type.apiVersion());
    }
    if (!object.hasNonNull("kind")) {
      object.put("kind", type.kind());
    }
    boolean statusPath = "status".equals(p.subresource);
    if (type.isCustom()) {
      Reply strict = prune(r, type, object);
      if (strict != null) {
        return strict;
      }
      ObjectNode effective = effective(type, current, object, statusPath);
      SchemaValidator.applyDefaults(effective, type.schema());
      List<SchemaValidator.FieldError> errors =
          validator.validate(effective, type.schema(), current);
      if (!errors.isEmpty()) {
        return Reply.invalid(type, p.name, errors);
      }
      if (!statusPath) {
        SchemaValidator.applyDefaults(object, type.schema());
      }
    }
    if (r.isDryRun()) {
      return Reply.json(200, effective(type, current, object, statusPath));
    }
    String target = statusPath ? p.itemPath() : p.itemPathWithoutSubresource();
    ObjectNode toStore = statusPath ? object : effective(type, current, object, false);
    MockResponse response =
        crud.handleUpdate(recorded(HttpMethod.PUT, target, r.contentTypeJson(), toStore));
    if (response.code() < 300
        && current.path("metadata").has("deletionTimestamp")
        && fetch(p.itemPathWithoutSubresource()) == null) {
      // The last finalizer went: the dispatcher removed the object; now its dependents go too.
      afterDeletion(type, current, "Background");
      ObjectNode last = effective(type, current, object, statusPath);
      return Reply.json(200, last);
    }
    if (type.kind().equals("CustomResourceDefinition")) {
      refreshCrds();
    }
    return fromMock(response, type, p.name);
  }

  /**
   * Prunes fields the CRD schema does not declare; with {@code fieldValidation=Strict} (what
   * kubectl sends by default) they are refused instead, like the real API server does.
   */
  private static Reply prune(ApiRequest r, ResourceType type, ObjectNode object) {
    List<String> unknown = SchemaValidator.prune(object, type.schema());
    if (unknown.isEmpty() || !"Strict".equals(r.query().get("fieldValidation"))) {
      return null;
    }
    List<String> parts = new ArrayList<>();
    unknown.forEach(u -> parts.add("unknown field \"" + u + "\""));
    return Reply.status(
        400,
        "BadRequest",
        type.kind()
            + " in version \""
            + type.version()
            + "\" cannot be handled as a "
            + type.kind()
            + ": strict decoding error: "
            + String.join(", ", parts));
  }

  /** What will be stored: the status subresource splits spec and status writes. */
  private static ObjectNode effective(
      ResourceType type, JsonNode current, ObjectNode update, boolean statusPath) {
    ObjectNode effective;
    if (statusPath) {
      effective = current.deepCopy();
      if (update.has("status")) {
        effective.set("status", update.get("status").deepCopy());
      } else {
        effective.remove("status");
      }
    } else {
      effective = update.deepCopy();
      if (type.statusSubresource()) {
        if (current.has("status")) {
          effective.set("status", current.get("status").deepCopy());
        } else {
          effective.remove("status");
        }
      }
    }
    return effective;
  }

  private Reply patch(ApiRequest r, ResourcePath p, ResourceType type) {
    String contentType = r.contentType() == null ? "" : r.contentType();
    boolean apply = contentType.startsWith("application/apply-patch");
    JsonNode patch;
    try {
      patch = apply ? Json.YAML.readTree(r.body()) : Json.parse(r.body());
    } catch (Exception e) {
      return Reply.status(400, "BadRequest", "cannot parse patch: " + e.getMessage());
    }
    JsonNode current = fetch(p.itemPathWithoutSubresource());
    if (current == null) {
      if (apply && p.subresource == null) {
        return create(
            new ApiRequest("POST", p.collectionPath(), r.accept(), JSON, Json.write(patch)),
            p.withName(null),
            type);
      }
      return Reply.notFound(type, p.name);
    }
    JsonNode result;
    try {
      result = Patches.apply(contentType, current, patch);
    } catch (UnsupportedOperationException e) {
      return Reply.status(415, "UnsupportedMediaType", e.getMessage());
    } catch (RuntimeException e) {
      return Reply.status(422, "Invalid", "the patch could not be applied: " + e.getMessage());
    }
    if (result instanceof ObjectNode o) {
      String patchedRv = patch.path("metadata").path("resourceVersion").asText("");
      if (patchedRv.isEmpty() || !contentType.contains("merge")) {
        Json.obj(o, "metadata")
            .put(
                "resourceVersion",
                patchedRv.isEmpty()
                    ? current.path("metadata").path("resourceVersion").asText()
                    : patchedRv);
      }
    }
    return update(new ApiRequest("PUT", r.uri(), r.accept(), JSON, ""), p, type, result);
  }

  private Reply delete(ApiRequest r, ResourcePath p, ResourceType type) {
    JsonNode current = fetch(p.itemPath());
    if (current == null) {
      return Reply.notFound(type, p.name);
    }
    String propagation = "Background";
    if (!r.body().isBlank()) {
      try {
        propagation = Json.parse(r.body()).path("propagationPolicy").asText("Background");
      } catch (RuntimeException e) {
        // not JSON: keep the default
      }
    }
    if (r.query().containsKey("propagationPolicy")) {
      propagation = r.query().get("propagationPolicy");
    }
    if (r.isDryRun()) {
      return Reply.json(200, current);
    }
    deleteObject(type, p.itemPath(), current, propagation);
    return Reply.json(200, current);
  }

  private Reply deleteCollection(ApiRequest r, ResourcePath p, ResourceType type) {
    Selectors selectors =
        Selectors.parse(r.query().get("labelSelector"), r.query().get("fieldSelector"));
    List<JsonNode> items = new ArrayList<>();
    String rv = listInto(p.collectionPath(), type, selectors, items);
    for (JsonNode item : items) {
      String ns = item.path("metadata").path("namespace").asText(null);
      deleteObject(
          type,
          type.collectionPath(ns) + "/" + item.path("metadata").path("name").asText(),
          item,
          "Background");
    }
    ObjectNode list =
        Json.object().put("apiVersion", type.apiVersion()).put("kind", type.kind() + "List");
    list.putObject("metadata").put("resourceVersion", rv);
    ArrayNode array = list.putArray("items");
    items.forEach(array::add);
    return Reply.json(200, list);
  }

  /** Deletes one object (or marks it when it has finalizers) and cascades to what it owns. */
  private void deleteObject(
      ResourceType type, String itemPath, JsonNode current, String propagation) {
    crud.handleDelete(itemPath);
    policyChanged(type);
    boolean gone = fetch(itemPath) == null;
    if (!gone) {
      return; // finalizers pending: dependents go when the owner finally goes
    }
    afterDeletion(type, current, propagation);
  }

  /** Garbage collection and cascades once an object is really gone. */
  private void afterDeletion(ResourceType type, JsonNode current, String propagation) {
    String uid = current.path("metadata").path("uid").asText("");
    if (!"Orphan".equals(propagation)) {
      collectGarbage(uid);
    }
    if (type.kind().equals("Namespace")) {
      deleteNamespaceContents(current.path("metadata").path("name").asText());
    }
    if (type.kind().equals("CustomResourceDefinition")) {
      for (ResourceType t : ResourceRegistry.fromCrd(current)) {
        List<JsonNode> items = new ArrayList<>();
        listInto(t.collectionPath(null), t, Selectors.parse(null, null), items);
        for (JsonNode item : items) {
          String ns = item.path("metadata").path("namespace").asText(null);
          crud.handleDelete(
              t.collectionPath(ns) + "/" + item.path("metadata").path("name").asText());
        }
      }
      refreshCrds();
    }
  }

  /** Owner-reference garbage collection: deletes every object owned by {@code ownerUid}. */
  private void collectGarbage(String ownerUid) {
    if (ownerUid.isEmpty()) {
      return;
    }
    for (JsonNode o : allObjects()) {
      for (JsonNode ref : o.path("metadata").path("ownerReferences")) {
        if (ownerUid.equals(ref.path("uid").asText())) {
          deleteDependent(o);
          break;
        }
      }
    }
  }

  private void deleteNamespaceContents(String namespace) {
    for (JsonNode o : allObjects()) {
      if (namespace.equals(o.path("metadata").path("namespace").asText(null))) {
        deleteDependent(o);
      }
    }
  }

  private void deleteDependent(JsonNode o) {
    ResourceType t =
        registry.findByKind(o.path("apiVersion").asText(), o.path("kind").asText()).orElse(null);
    if (t == null) {
      return;
    }
    String ns = o.path("metadata").path("namespace").asText(null);
    String path = t.collectionPath(ns) + "/" + o.path("metadata").path("name").asText();
    if (fetch(path) != null) {
      deleteObject(t, path, o, "Background");
    }
  }

  private List<JsonNode> allObjects() {
    List<String> values;
    synchronized (crud.getMap()) {
      values = new ArrayList<>(crud.getMap().values());
    }
    List<JsonNode> out = new ArrayList<>();
    values.forEach(v -> out.add(Json.parse(v)));
    return out;
  }

  private void refreshCrds() {
    List<JsonNode> crds = new ArrayList<>();
    for (JsonNode o : allObjects()) {
      if ("CustomResourceDefinition".equals(o.path("kind").asText())
          && o.path("apiVersion").asText().startsWith("apiextensions.k8s.io/")) {
        crds.add(o);
      }
    }
    registry.setCustomResourceDefinitions(crds);
  }

  private void ensureNamespace(String name) {
    ResourceType ns = registry.find("", "v1", "namespaces").orElseThrow();
    if (fetch("/api/v1/namespaces/" + name) == null) {
      ObjectNode object = Json.object().put("apiVersion", "v1").put("kind", "Namespace");
      object.putObject("metadata").put("name", name);
      Reply reply =
          create(
              new ApiRequest("POST", "/api/v1/namespaces", JSON, JSON, Json.write(object)),
              ResourcePath.parse("/api/v1/namespaces"),
              ns);
      if (reply.code() >= 300) {
        throw new IllegalStateException("cannot create namespace " + name + ": " + reply.body());
      }
    }
  }

  /** Creates {@code object} unless an object of its kind and name is stored already. */
  private void ensureObject(ObjectNode object) {
    ResourceType type =
        registry
            .findByKind(object.path("apiVersion").asText(), object.path("kind").asText())
            .orElseThrow();
    String ns = object.path("metadata").path("namespace").asText(null);
    String collection = type.collectionPath(ns);
    if (fetch(collection + "/" + object.path("metadata").path("name").asText()) != null) {
      return;
    }
    Reply reply =
        create(
            new ApiRequest("POST", collection, JSON, JSON, Json.write(object)),
            ResourcePath.parse(collection),
            type);
    if (reply.code() >= 300) {
      throw new IllegalStateException("cannot create " + object + ": " + reply.body());
    }
    policyChanged(type);
  }

  // ---------------------------------------------------------------- helpers

  private static JsonNode parseBody(ApiRequest r) {
    String body = r.body();
    if (body == null || body.isBlank()) {
      return null;
    }
    try {
      String ct = r.contentType() == null ? "" : r.contentType();
      return ct.contains("yaml") ? Json.YAML.readTree(body) : Json.parse(body);
    } catch (Exception e) {
      return null;
    }
  }

  private static RecordedRequest recorded(
      HttpMethod method, String path, String contentType, JsonNode body) {
    Headers.Builder headers = Headers.builder();
    if (contentType != null) {
      headers.add("Content-Type", contentType);
    }
    return new RecordedRequest(
        "HTTP/1.1",
        method,
        path,
        headers.build(),
        body == null ? new Buffer() : new Buffer().writeUtf8(Json.write(body)));
  }

  private Reply fromMock(MockResponse response, ResourceType type, String name) {
    String body = response.getBody() == null ? "" : response.getBody().readUtf8();
    int code = response.code();
    if (code == 202) {
      code = 200;
    }
    if (code >= 400) {
      if (code == 404) {
        return Reply.notFound(type, name);
      }
      return new Reply(code, JSON, body);
    }
    return new Reply(code, JSON, body);
  }
}
