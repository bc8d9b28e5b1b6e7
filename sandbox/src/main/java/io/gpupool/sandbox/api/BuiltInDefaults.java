package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** What the real API server (and its controllers) fill in on built-in objects at creation. */
final class BuiltInDefaults {

  private final Clock clock;
  private final AtomicInteger clusterIps = new AtomicInteger(10);

  BuiltInDefaults(Clock clock) {
    this.clock = clock;
  }

  /** Fills in what the real API server (and its controllers) set on creation. */
  void apply(ResourceType type, ObjectNode object) {
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
}
