package io.gpupool.operator.scope;

import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * What one gpupool install manages: its identity ({@code <release namespace>/<release name>}) and
 * the namespaces whose jobs it reconciles: a list, or those matching a label selector, or (neither)
 * every namespace. Two installs may run in one cluster only when no namespace can be managed by
 * both: disjoint lists, or selectors that provably exclude each other ({@link SelectorTerms}).
 */
public record InstallScope(String install, List<String> namespaces, String selector) {
  /** Annotations on the TrainingJob CRD that record each install's claim. */
  public static final String CLAIM_PREFIX = "claims.gpupool.io/";

  static final String ALL = "*";

  /** Prefix of a selector claim's annotation value (namespace names cannot contain ':'). */
  static final String SELECTOR_CLAIM = "selector:";

  public InstallScope {
    if (install == null
        || !install.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?")) {
      throw new IllegalArgumentException(
          "install identity must be <namespace>/<release name> in lower case, not '"
              + install
              + "'");
    }
    namespaces = List.copyOf(new TreeSet<>(namespaces));
    if (selector != null) {
      if (!namespaces.isEmpty()) {
        throw new IllegalArgumentException(
            "an install manages either a namespace list or the namespaces a selector matches,"
                + " not both (Helm values scope.namespaces and scope.namespaceSelector)");
      }
      selector = SelectorTerms.parse(selector).toString();
    }
  }

  /** A scope over {@code namespaces} (blank entries ignored; none means every namespace). */
  public static InstallScope of(String install, Collection<String> namespaces) {
    return new InstallScope(
        install, namespaces.stream().map(String::trim).filter(s -> !s.isEmpty()).toList(), null);
  }

  /** A scope over the namespaces whose labels match {@code selector}. */
  public static InstallScope selected(String install, String selector) {
    return new InstallScope(install, List.of(), selector);
  }

  public boolean allNamespaces() {
    return namespaces.isEmpty() && selector == null;
  }

  public boolean bySelector() {
    return selector != null;
  }

  /**
   * Whether both could manage some namespace. A selector and a list are taken to overlap: labels
   * change, so a listed namespace may come to match the selector at any time.
   */
  public boolean overlaps(InstallScope other) {
    if (allNamespaces() || other.allNamespaces()) {
      return true;
    }
    if (bySelector() && other.bySelector()) {
      return !SelectorTerms.parse(selector).disjointFrom(SelectorTerms.parse(other.selector));
    }
    if (bySelector() || other.bySelector()) {
      return true;
    }
    return namespaces.stream().anyMatch(other.namespaces::contains);
  }

  /** What both would manage, "every namespace" when one manages all. */
  String overlapDescription(InstallScope other) {
    if (allNamespaces() && other.allNamespaces()) {
      return "every namespace";
    }
    if (other.bySelector()) {
      return "the namespaces matching selector '" + other.selector + "'";
    }
    if (bySelector() || allNamespaces()) {
      return other.describe();
    }
    if (other.allNamespaces()) {
      return describe();
    }
    TreeSet<String> both = new TreeSet<>(namespaces);
    both.retainAll(other.namespaces);
    return "namespaces " + both;
  }

  /** "every namespace", "namespaces [a, b]" or "namespaces matching selector 'k=v'". */
  public String describe() {
    if (allNamespaces()) {
      return "every namespace";
    }
    return bySelector()
        ? "the namespaces matching selector '" + selector + "'"
        : "namespaces " + namespaces;
  }

  /** {@code claims.gpupool.io/<namespace>.<release>} (a valid annotation key). */
  public String annotationKey() {
    return CLAIM_PREFIX + install.replace('/', '.');
  }

  /** The claimed namespaces, comma-separated, {@code selector:<selector>}, or {@code *} for all. */
  public String annotationValue() {
    if (bySelector()) {
      return SELECTOR_CLAIM + selector;
    }
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
    if (value != null && value.startsWith(SELECTOR_CLAIM)) {
      return selected(install, value.substring(SELECTOR_CLAIM.length()));
    }
    List<String> namespaces =
        value == null || value.trim().equals(ALL) ? List.of() : List.of(value.split(","));
    return of(install, namespaces);
  }
}
