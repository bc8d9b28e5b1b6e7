package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.WebSocketListener;
import io.gpupool.sandbox.api.TableConverter.IncludeObject;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of the sandbox API server (Vert.x on 127.0.0.1): authentication and authorization
 * of every request, protobuf bodies decoded, watches served over chunked HTTP and websocket,
 * followed pod logs; every other request goes to the {@code handler} off the event loop.
 */
final class HttpFront {

  private static final Logger LOG = LoggerFactory.getLogger(HttpFront.class);
  private static final String JSON = Reply.JSON;

  private final ObjectStore store;
  private final ResourceRegistry registry;
  private final TableConverter tables;
  private final Gatekeeper gatekeeper;
  private final ApiAccessLog accessLog;
  private final ReentrantLock writeLock;
  private final Supplier<PodLogSource> podLogs;
  private final Function<ApiRequest, Reply> handler;
  private final Supplier<FaultPlan> faults;
  private Vertx vertx;
  private HttpServer server;

  HttpFront(
      ObjectStore store,
      ResourceRegistry registry,
      TableConverter tables,
      Gatekeeper gatekeeper,
      ApiAccessLog accessLog,
      ReentrantLock writeLock,
      Supplier<PodLogSource> podLogs,
      Function<ApiRequest, Reply> handler,
      Supplier<FaultPlan> faults) {
    this.faults = faults;
    this.store = store;
    this.registry = registry;
    this.tables = tables;
    this.gatekeeper = gatekeeper;
    this.accessLog = accessLog;
    this.writeLock = writeLock;
    this.podLogs = podLogs;
    this.handler = handler;
  }

  /** Listens on 127.0.0.1; port 0 picks a free port. Returns the port listened on. */
  int listen(int requestedPort) {
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
    return server.actualPort();
  }

  void close() {
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
      onWebSocket(req, user);
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
              serveWithFaults(r, req);
            });
  }

  /**
   * Serves {@code r} unless the fault plan picks a fault for it: then answers with the fault's
   * status, resets the connection (before or after applying a write) or serves it late.
   */
  private void serveWithFaults(ApiRequest r, HttpServerRequest req) {
    FaultPlan plan = faults.get();
    FaultPlan.Target target = target(r);
    // a watch's faults are drawn where the watch is opened
    FaultPlan.Fault fault = target.watch() ? null : plan.draw(r.user(), target);
    if (fault == null) {
      offLoop(() -> serve(r, req.response()));
      return;
    }
    switch (fault) {
      case THROTTLE -> {
        req.response().putHeader("Retry-After", "1");
        send(req.response(), Faults.throttled());
      }
      case SERVER_ERROR -> send(req.response(), Faults.internalError());
      case UNAVAILABLE -> send(req.response(), Faults.unavailable());
      case CONFLICT -> send(req.response(), Faults.conflict(r));
      case DROPPED_CONNECTION -> req.response().reset();
      case LOST_REPLY ->
          offLoop(
              () -> {
                handler.apply(r);
                req.response().reset();
              });
      case SLOW ->
          vertx.setTimer(
              Math.max(1, plan.delayMillis(plan.maxDelay())),
              id -> offLoop(() -> serve(r, req.response())));
      default -> offLoop(() -> serve(r, req.response()));
    }
  }

  private void offLoop(Runnable action) {
    vertx.executeBlocking(
        () -> {
          action.run();
          return null;
        },
        false);
  }

  private static FaultPlan.Target target(ApiRequest r) {
    boolean watch = "GET".equals(r.method()) && r.isWatch();
    String rv = r.query().getOrDefault("resourceVersion", "");
    boolean fromVersion = watch && !rv.isEmpty() && !rv.equals("0");
    boolean conditional =
        r.method().equals("PUT")
            || (r.method().equals("PATCH")
                && r.body() != null
                && r.body().contains("resourceVersion"));
    return new FaultPlan.Target(r.method(), watch, fromVersion, conditional);
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
          var found = podLogs.get().find(p.namespace, p.name, r.query().get("container"));
          if (found.isPresent()) {
            PodLogFollower.start(vertx, response, found.get());
            return;
          }
        }
      }
      send(response, handler.apply(r));
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

  private void onWebSocket(HttpServerRequest req, UserInfo user) {
    ApiRequest r = new ApiRequest("GET", req.uri(), req.getHeader("Accept"), null, "", user);
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
              FaultPlan.Fault fault = faults.get().draw(user, target(r));
              if (fault == FaultPlan.Fault.WATCH_GONE) {
                ws.writeTextMessage(Faults.goneEvent(r)).onComplete(done -> ws.close());
                return;
              }
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
              if (listener == null) {
                ws.writeTextMessage(expired(r, p)).onComplete(done -> ws.close());
                return;
              }
              ws.closeHandler(v -> closeWatch(listener, holder[0]));
              ws.exceptionHandler(err -> closeWatch(listener, holder[0]));
              ws.textMessageHandler(text -> {});
              if (fault == FaultPlan.Fault.WATCH_CLOSED) {
                closeLater(listener, holder[0]);
              }
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
    FaultPlan.Fault fault = faults.get().draw(r.user(), target(r));
    if (fault == FaultPlan.Fault.WATCH_GONE) {
      response.end(Faults.goneEvent(r) + "\n");
      return;
    }
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
    if (listener == null) {
      response.end(expired(r, p) + "\n");
      return;
    }
    response.closeHandler(v -> closeWatch(listener, holder[0]));
    if (fault == FaultPlan.Fault.WATCH_CLOSED) {
      closeLater(listener, holder[0]);
    }
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

  /** The ERROR event of a watch from a version older than the recorded writes reach back. */
  private String expired(ApiRequest r, ResourcePath p) {
    return Faults.expiredEvent(
        r.query().getOrDefault("resourceVersion", ""), store.oldestReplayable(p.collectionPath()));
  }

  /** Closes a watch at a random moment within the plan's watch life (a fault). */
  private void closeLater(WebSocketListener listener, WatchStream stream) {
    FaultPlan plan = faults.get();
    vertx.setTimer(
        Math.max(1, plan.delayMillis(plan.maxWatchLife())),
        id -> {
          stream.close(1000, "closed by the sandbox's fault plan");
          closeWatch(listener, stream);
        });
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

  /**
   * Registers a watch with the CRUD dispatcher and connects its events to {@code sink}; null when
   * the requested resourceVersion is too old.
   */
  private WebSocketListener openWatch(
      ApiRequest r,
      ResourcePath p,
      ResourceType type,
      Consumer<String> sink,
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
    WatchStream stream =
        new WatchStream(
            ObjectStore.watchRequest(p.collectionPath()),
            since,
            Selectors.parse(r.query().get("labelSelector"), r.query().get("fieldSelector")),
            type.group(),
            converter,
            sink,
            closer);
    holder[0] = stream;
    return store.openWatch(p.collectionPath(), since, stream).orElse(null);
  }
}
