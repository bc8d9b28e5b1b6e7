package io.gpupool.sandbox.api;

import java.util.ArrayList;
import java.util.List;

/** {@code /api/v1/namespaces/ns/pods/name/status} split into its parts. */
final class ResourcePath {
  final String group;
  final String version;
  final String namespace;
  final String plural;
  final String name;
  final String subresource;

  private ResourcePath(
      String group, String version, String namespace, String plural, String name, String sub) {
    this.group = group;
    this.version = version;
    this.namespace = namespace;
    this.plural = plural;
    this.name = name;
    this.subresource = sub;
  }

  static ResourcePath parse(String path) {
    List<String> s = new ArrayList<>();
    for (String part : path.split("/")) {
      if (!part.isEmpty()) {
        s.add(part);
      }
    }
    String group;
    String version;
    int i;
    if (s.size() >= 2 && s.get(0).equals("api")) {
      group = "";
      version = s.get(1);
      i = 2;
    } else if (s.size() >= 3 && s.get(0).equals("apis")) {
      group = s.get(1);
      version = s.get(2);
      i = 3;
    } else {
      return null;
    }
    List<String> rest = s.subList(i, s.size());
    if (rest.isEmpty()) {
      return new ResourcePath(group, version, null, null, null, null);
    }
    String namespace = null;
    if (rest.get(0).equals("namespaces") && rest.size() >= 3) {
      if (group.isEmpty()
          && rest.size() == 3
          && List.of("status", "finalize").contains(rest.get(2))) {
        return new ResourcePath(group, version, null, "namespaces", rest.get(1), rest.get(2));
      }
      namespace = rest.get(1);
      rest = rest.subList(2, rest.size());
    }
    if (rest.size() > 3) {
      return null;
    }
    return new ResourcePath(
        group,
        version,
        namespace,
        rest.get(0),
        rest.size() > 1 ? rest.get(1) : null,
        rest.size() > 2 ? rest.get(2) : null);
  }

  ResourcePath withName(String newName) {
    return new ResourcePath(group, version, namespace, plural, newName, null);
  }

  private String base() {
    return (group.isEmpty() ? "/api/" + version : "/apis/" + group + "/" + version)
        + (namespace != null ? "/namespaces/" + namespace : "");
  }

  String collectionPath() {
    return base() + "/" + plural;
  }

  String itemPathWithoutSubresource() {
    return collectionPath() + "/" + name;
  }

  String itemPath() {
    return itemPathWithoutSubresource() + (subresource != null ? "/" + subresource : "");
  }
}
