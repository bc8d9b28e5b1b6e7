package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.gpupool.sandbox.api.ResourceType.PrinterColumn;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Builds the {@code meta.k8s.io/v1 Table} kubectl asks for with {@code Accept: ...;as=Table}:
 * custom resources get their CRD's additionalPrinterColumns, a few built-ins get the columns the
 * real API server prints, the rest get Name and Age.
 */
public final class TableConverter {

  /** How much of each object to embed in its row ({@code includeObject} query parameter). */
  public enum IncludeObject {
    NONE,
    METADATA,
    OBJECT;

    public static IncludeObject parse(String value) {
      if (value == null) {
        return METADATA;
      }
      return switch (value) {
        case "None" -> NONE;
        case "Object" -> OBJECT;
        default -> METADATA;
      };
    }
  }

  private record Column(PrinterColumn definition, Function<JsonNode, JsonNode> cell) {}

  private final Clock clock;

  public TableConverter(Clock clock) {
    this.clock = clock;
  }

  /** A table with one row per object. */
  public ObjectNode toTable(
      ResourceType type, List<JsonNode> objects, IncludeObject include, String resourceVersion) {
    List<Column> columns = columns(type);
    ObjectNode table = Json.object().put("kind", "Table").put("apiVersion", "meta.k8s.io/v1");
    ObjectNode meta = table.putObject("metadata");
    if (resourceVersion != null) {
      meta.put("resourceVersion", resourceVersion);
    }
    ArrayNode defs = table.putArray("columnDefinitions");
    for (Column c : columns) {
      PrinterColumn d = c.definition();
      defs.addObject()
          .put("name", d.name())
          .put("type", d.type())
          .put("format", d.format())
          .put("description", d.description())
          .put("priority", d.priority());
    }
    ArrayNode rows = table.putArray("rows");
    for (JsonNode o : objects) {
      ObjectNode row = rows.addObject();
      ArrayNode cells = row.putArray("cells");
      for (Column c : columns) {
        JsonNode v;
        try {
          v = c.cell().apply(o);
        } catch (RuntimeException e) {
          v = NullNode.getInstance();
        }
        cells.add(v == null ? NullNode.getInstance() : v);
      }
      switch (include) {
        case OBJECT -> row.set("object", o);
        case METADATA -> {
          ObjectNode partial =
              row.putObject("object")
                  .put("kind", "PartialObjectMetadata")
                  .put("apiVersion", "meta.k8s.io/v1");
          partial.set("metadata", o.path("metadata").deepCopy());
        }
        case NONE -> {}
      }
    }
    return table;
  }

  private List<Column> columns(ResourceType type) {
    List<Column> cols = new ArrayList<>();
    cols.add(
        col(
            "Name",
            "string",
            "name",
            0,
            o -> TextNode.valueOf(o.path("metadata").path("name").asText())));
    if (type.isCustom()) {
      if (type.printerColumns().isEmpty()) {
        cols.add(age());
      }
      for (PrinterColumn pc : type.printerColumns()) {
        cols.add(new Column(pc, o -> customCell(pc, o)));
      }
      return cols;
    }
    switch (type.apiVersion() + "/" + type.kind()) {
      case "v1/Pod" -> {
        cols.add(col("Ready", "string", "", 0, o -> TextNode.valueOf(podReady(o))));
        cols.add(col("Status", "string", "", 0, o -> TextNode.valueOf(podStatus(o))));
        cols.add(col("Restarts", "string", "", 0, o -> TextNode.valueOf(podRestarts(o))));
        cols.add(age());
        cols.add(col("IP", "string", "", 1, o -> textOrNone(o, "status", "podIP")));
        cols.add(col("Node", "string", "", 1, o -> textOrNone(o, "spec", "nodeName")));
        cols.add(
            col(
                "Nominated Node",
                "string",
                "",
                1,
                o -> textOrNone(o, "status", "nominatedNodeName")));
        cols.add(col("Readiness Gates", "string", "", 1, o -> TextNode.valueOf("<none>")));
      }
      case "v1/Node" -> {
        cols.add(col("Status", "string", "", 0, o -> TextNode.valueOf(nodeStatus(o))));
        cols.add(col("Roles", "string", "", 0, o -> TextNode.valueOf("<none>")));
        cols.add(age());
        cols.add(
            col(
                "Version",
                "string",
                "",
                0,
                o -> textOrNone(o, "status", "nodeInfo", "kubeletVersion")));
        cols.add(col("Internal-IP", "string", "", 1, TableConverter::nodeInternalIp));
        cols.add(col("External-IP", "string", "", 1, o -> TextNode.valueOf("<none>")));
        cols.add(
            col("OS-Image", "string", "", 1, o -> textOrNone(o, "status", "nodeInfo", "osImage")));
        cols.add(
            col(
                "Kernel-Version",
                "string",
                "",
                1,
                o -> textOrNone(o, "status", "nodeInfo", "kernelVersion")));
        cols.add(
            col(
                "Container-Runtime",
                "string",
                "",
                1,
                o -> textOrNone(o, "status", "nodeInfo", "containerRuntimeVersion")));
      }
      case "v1/Namespace" -> {
        cols.add(
            col(
                "Status",
                "string",
                "",
                0,
                o -> TextNode.valueOf(o.path("status").path("phase").asText("Active"))));
        cols.add(age());
      }
      case "v1/Service" -> {
        cols.add(
            col(
                "Type",
                "string",
                "",
                0,
                o -> TextNode.valueOf(o.path("spec").path("type").asText("ClusterIP"))));
        cols.add(col("Cluster-IP", "string", "", 0, o -> textOrNone(o, "spec", "clusterIP")));
        cols.add(col("External-IP", "string", "", 0, o -> TextNode.valueOf("<none>")));
        cols.add(col("Port(s)", "string", "", 0, TableConverter::servicePorts));
        cols.add(age());
      }
      case "v1/ConfigMap", "v1/Secret" -> {
        cols.add(
            col(
                "Data",
                "integer",
                "",
                0,
                o ->
                    Json.MAPPER
                        .getNodeFactory()
                        .numberNode(o.path("data").size() + o.path("binaryData").size())));
        cols.add(age());
      }
      case "apps/v1/Deployment", "apps/v1/StatefulSet", "apps/v1/ReplicaSet" -> {
        cols.add(
            col(
                "Ready",
                "string",
                "",
                0,
                o ->
                    TextNode.valueOf(
                        o.path("status").path("readyReplicas").asInt(0)
                            + "/"
                            + o.path("spec").path("replicas").asInt(1))));
        cols.add(age());
      }
      case "v1/Event", "events.k8s.io/v1/Event" -> {
        cols.add(col("Type", "string", "", 0, o -> textOrNone(o, "type")));
        cols.add(col("Reason", "string", "", 0, o -> textOrNone(o, "reason")));
        cols.add(
            col(
                "Object",
                "string",
                "",
                0,
                o -> {
                  JsonNode ref =
                      o.has("involvedObject") ? o.path("involvedObject") : o.path("regarding");
                  return TextNode.valueOf(
                      ref.path("kind").asText("").toLowerCase(java.util.Locale.ROOT)
                          + "/"
                          + ref.path("name").asText(""));
                }));
        cols.add(
            col(
                "Message",
                "string",
                "",
                0,
                o -> TextNode.valueOf(o.path(o.has("message") ? "message" : "note").asText(""))));
        cols.add(age());
      }
      case "apiextensions.k8s.io/v1/CustomResourceDefinition" ->
          cols.add(
              col(
                  "Created At",
                  "date",
                  "",
                  0,
                  o -> textOrNone(o, "metadata", "creationTimestamp")));
      default -> cols.add(age());
    }
    return cols;
  }

  private Column age() {
    return col(
        "Age",
        "date",
        "",
        0,
        o -> TextNode.valueOf(age(o.path("metadata").path("creationTimestamp"))));
  }

  private static Column col(
      String name, String type, String format, int priority, Function<JsonNode, JsonNode> cell) {
    return new Column(new PrinterColumn(name, type, format, "", priority, ""), cell);
  }

  private JsonNode customCell(PrinterColumn pc, JsonNode o) {
    List<JsonNode> values = JsonPath.select(o, pc.jsonPath());
    if (values.isEmpty()) {
      return NullNode.getInstance();
    }
    JsonNode v = values.get(0);
    return switch (pc.type()) {
      case "date" -> TextNode.valueOf(age(v));
      case "integer" ->
          v.canConvertToLong() || v.isNumber()
              ? Json.MAPPER.getNodeFactory().numberNode(v.asLong())
              : v;
      case "number" -> v.isNumber() ? v : TextNode.valueOf(v.asText());
      case "boolean" -> v;
      default -> {
        if (values.size() > 1) {
          List<String> parts = new ArrayList<>();
          values.forEach(x -> parts.add(x.isValueNode() ? x.asText() : x.toString()));
          yield TextNode.valueOf(String.join(",", parts));
        }
        yield TextNode.valueOf(v.isValueNode() ? v.asText() : v.toString());
      }
    };
  }

  private String age(JsonNode timestamp) {
    if (timestamp == null || !timestamp.isTextual()) {
      return "<unknown>";
    }
    try {
      return humanDuration(Duration.between(Instant.parse(timestamp.asText()), clock.instant()));
    } catch (DateTimeParseException e) {
      return "<unknown>";
    }
  }

  /** kubectl's {@code duration.HumanDuration}: 5s, 3m20s, 2h10m, 4d, 1y30d. */
  public static String humanDuration(Duration d) {
    long seconds = d.getSeconds();
    if (seconds < -1) {
      return "<invalid>";
    } else if (seconds < 0) {
      return "0s";
    } else if (seconds < 60 * 2) {
      return seconds + "s";
    }
    long minutes = seconds / 60;
    if (minutes < 10) {
      long s = seconds % 60;
      return s == 0 ? minutes + "m" : minutes + "m" + s + "s";
    } else if (minutes < 60 * 3) {
      return minutes + "m";
    }
    long hours = minutes / 60;
    if (hours < 8) {
      long m = minutes % 60;
      return m == 0 ? hours + "h" : hours + "h" + m + "m";
    } else if (hours < 48) {
      return hours + "h";
    } else if (hours < 24 * 8) {
      long h = hours % 24;
      return h == 0 ? hours / 24 + "d" : hours / 24 + "d" + h + "h";
    } else if (hours < 24 * 365 * 2) {
      return hours / 24 + "d";
    } else if (hours < 24 * 365 * 8) {
      long dy = (hours / 24) % 365;
      return dy == 0 ? hours / 24 / 365 + "y" : hours / 24 / 365 + "y" + dy + "d";
    }
    return hours / 24 / 365 + "y";
  }

  private static JsonNode textOrNone(JsonNode o, String... path) {
    String v = Json.text(o, path);
    return TextNode.valueOf(v == null || v.isEmpty() ? "<none>" : v);
  }

  private static String podReady(JsonNode pod) {
    int total = pod.path("spec").path("containers").size();
    int ready = 0;
    for (JsonNode cs : pod.path("status").path("containerStatuses")) {
      if (cs.path("ready").asBoolean(false)) {
        ready++;
      }
    }
    return ready + "/" + total;
  }

  private static String podRestarts(JsonNode pod) {
    int restarts = 0;
    for (JsonNode cs : pod.path("status").path("containerStatuses")) {
      restarts += cs.path("restartCount").asInt(0);
    }
    return String.valueOf(restarts);
  }

  /** The STATUS column kubectl shows for a pod (reason, container state or phase). */
  public static String podStatus(JsonNode pod) {
    if (pod.path("metadata").has("deletionTimestamp")) {
      return "Terminating";
    }
    JsonNode status = pod.path("status");
    String reason = status.path("phase").asText("Pending");
    if (status.hasNonNull("reason")) {
      reason = status.path("reason").asText();
    }
    for (JsonNode cs : status.path("containerStatuses")) {
      JsonNode state = cs.path("state");
      if (state.has("waiting") && state.path("waiting").hasNonNull("reason")) {
        reason = state.path("waiting").path("reason").asText();
      } else if (state.has("terminated")) {
        JsonNode t = state.path("terminated");
        if (t.hasNonNull("reason")) {
          reason = t.path("reason").asText();
        } else {
          reason = "ExitCode:" + t.path("exitCode").asInt();
        }
      }
    }
    return reason;
  }

  private static String nodeStatus(JsonNode node) {
    String status = "Unknown";
    for (JsonNode c : node.path("status").path("conditions")) {
      if ("Ready".equals(c.path("type").asText())) {
        status = "True".equals(c.path("status").asText()) ? "Ready" : "NotReady";
      }
    }
    if (node.path("spec").path("unschedulable").asBoolean(false)) {
      status += ",SchedulingDisabled";
    }
    return status;
  }

  private static JsonNode nodeInternalIp(JsonNode node) {
    for (JsonNode a : node.path("status").path("addresses")) {
      if ("InternalIP".equals(a.path("type").asText())) {
        return TextNode.valueOf(a.path("address").asText());
      }
    }
    return TextNode.valueOf("<none>");
  }

  private static JsonNode servicePorts(JsonNode svc) {
    List<String> ports = new ArrayList<>();
    for (JsonNode p : svc.path("spec").path("ports")) {
      ports.add(p.path("port").asInt() + "/" + p.path("protocol").asText("TCP"));
    }
    return TextNode.valueOf(ports.isEmpty() ? "<none>" : String.join(",", ports));
  }
}
