package io.gpupool.operator.scope;

import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * What one gpupool install manages: its identity ({@code <release namespace>/<release name>}) and
 * the namespaces whose jobs it reconciles, empty for every namespace. Two installs may run in one
 * cluster only when their namespaces are disjoint and neither manages every namespace.
 */
public record InstallScope(String install, List<String> namespaces) {
  /** Annotations on the TrainingJob CRD that record each install's claim. */
  public static final String CLAIM_PREFIX = "claims.gpupool.io/";

  static final String ALL = "*";

  public InstallScope {
    if (install == null
        || !install.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?")) {
      throw new IllegalArgumentException(
          "install identity must be <namespace>/<release name> in lower case, not '"
              + install
              + "'");
    }
    namespaces = List.copyOf(new TreeSet<>(namespaces));
  }

  /** A scope over {@code namespaces} (blank entries ignored; none means every namespace). */
  public static InstallScope of(String install, Collection<String> namespaces) {
    return new InstallScope(
        install, namespaces.stream().map(String::trim).filter(s -> !s.isEmpty()).toList());
  }

  public boolean allNamespaces() {
    return namespaces.isEmpty();
  }

  /** Whether both would manage some namespace. */
  public boolean overlaps(InstallScope other) {
    if (allNamespaces() || other.allNamespaces()) {
      return true;
    }
    return namespaces.stream().anyMatch(other.namespaces::contains);
  }

  /** The namespaces both would manage, "every namespace" when one manages all. */
  String overlapDescription(InstallScope other) {
    if (allNamespaces() && other.allNamespaces()) {
      return "every namespace";
    }
    if (allNamespaces()) {
      return "namespaces " + new TreeSet<>(other.namespaces);
    }
    if (other.allNamespaces()) {
      return "namespaces " + new TreeSet<>(namespaces);
    }
    TreeSet<String> both = new TreeSet<>(namespaces);
    both.retainAll(other.namespaces);
    return "namespaces " + both;
  }

  /** {@code claims.gpupool.io/<namespace>.<release>} (a valid annotation key). */
  public String annotationKey() {
    return CLAIM_PREFIX + install.replace('/', '.');
  }

  /** The claimed namespaces, comma-separated, or {@code *} for all. */
  public String annotationValue() {
    return allNamespaces() ? ALL : String.join(",", new TreeSet<>(namespaces));
  }

  /** The claim an annotation records, or null when {@code key} is not a claim. */
  static InstallScope fromAnnotation(String key, String value) {
    if (!key.startsWith(CLAIM_PREFIX)) {
      return null;
    }
    String name = key.substring(CLAIM_PREFIX.length());
    int dot = name.indexOf('.');
    if (dot <= 0) {
      return null;
    }
    String install = name.substring(0, dot) + "/" + name.substring(dot + 1);
    List<String> namespaces =
        value == null || value.trim().equals(ALL) ? List.of() : List.of(value.split(","));
    return of(install, namespaces);
  }
}
