package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** The bootstrap ClusterRoles and bindings (bootstrap-rbac.yaml) every API server starts with. */
final class BootstrapRbac {
  private BootstrapRbac() {}

  static List<ObjectNode> objects() {
    try (InputStream in = BootstrapRbac.class.getResourceAsStream("bootstrap-rbac.yaml")) {
      if (in == null) {
        throw new IllegalStateException("bootstrap-rbac.yaml is missing from the sandbox jar");
      }
      List<ObjectNode> out = new ArrayList<>();
      try (var values = Json.YAML.readerFor(ObjectNode.class).<ObjectNode>readValues(in)) {
        values.forEachRemaining(out::add);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
