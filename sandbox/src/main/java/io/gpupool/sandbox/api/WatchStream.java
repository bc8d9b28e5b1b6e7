package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.WebSocket;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Receives the CRUD dispatcher's watch events (which it would send over a websocket) and forwards
 * them to any transport: websocket frames for the Fabric8 client, chunked HTTP lines for kubectl.
 * Drops replayed events older than the requested resourceVersion, applies label/field selectors and
 * converts objects to Tables when kubectl asked for them.
 *
 * <p>A watch from a resourceVersion drops the dispatcher's snapshot of the objects as they are now
 * and is sent the recorded writes after that version instead, then the live ones (see {@link
 * IndexedCrudDispatcher#openWatch}).
 */
final class WatchStream implements WebSocket {

  private final RecordedRequest request;
  private final long sinceResourceVersion;
  private final Selectors selectors;
  private final String group;
  private final Function<JsonNode, JsonNode> objectConverter;
  private final Consumer<String> sink;
  private final Runnable closer;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicInteger snapshotToDrop = new AtomicInteger();

  WatchStream(
      RecordedRequest request,
      long sinceResourceVersion,
      Selectors selectors,
      String group,
      Function<JsonNode, JsonNode> objectConverter,
      Consumer<String> sink,
      Runnable closer) {
    this.request = request;
    this.sinceResourceVersion = sinceResourceVersion;
    this.selectors = selectors;
    this.group = group;
    this.objectConverter = objectConverter;
    this.sink = sink;
    this.closer = closer;
  }

  @Override
  public RecordedRequest request() {
    return request;
  }

  @Override
  public boolean send(String text) {
    if (closed.get()) {
      return false;
    }
    if (snapshotToDrop.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      return true;
    }
    return deliver(text);
  }

  /** Drops the first {@code n} events the dispatcher sends (its snapshot of a watch's objects). */
  void dropFirst(int n) {
    snapshotToDrop.set(n);
  }

  /** Sends a recorded event before any live one (see {@link IndexedCrudDispatcher#openWatch}). */
  void replay(String event) {
    if (!closed.get()) {
      deliver(event);
    }
  }

  private boolean deliver(String text) {
    JsonNode event = Json.parse(text);
    JsonNode object = event.path("object");
    String type = event.path("type").asText();
    if (!group.equals(groupOf(object.path("apiVersion").asText("")))) {
      return true;
    }
    if ("ADDED".equals(type) && sinceResourceVersion > 0) {
      long rv = object.path("metadata").path("resourceVersion").asLong(0);
      if (rv <= sinceResourceVersion) {
        return true;
      }
    }
    if (!selectors.matches(object)) {
      return true;
    }
    ObjectNode out = Json.object().put("type", type);
    out.set("object", objectConverter.apply(object));
    try {
      sink.accept(Json.write(out));
      return true;
    } catch (RuntimeException e) {
      close(1000, "write failed");
      return false;
    }
  }

  @Override
  public boolean send(byte[] bytes) {
    return send(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
  }

  @Override
  public boolean close(int code, String reason) {
    if (closed.compareAndSet(false, true)) {
      closer.run();
    }
    return true;
  }

  boolean isClosed() {
    return closed.get();
  }

  static String groupOf(String apiVersion) {
    int slash = apiVersion.indexOf('/');
    return slash < 0 ? "" : apiVersion.substring(0, slash);
  }

  static List<JsonNode> single(JsonNode n) {
    return List.of(n);
  }
}
