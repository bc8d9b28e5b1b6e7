package io.gpupool.operator.scope;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Decides, from the claims recorded on the TrainingJob CRD, whether an install may start: another
 * install whose namespaces overlap refuses it with a message that says what to do; otherwise its
 * own claim is added or brought up to date. Pure: {@link ScopeGuard} reads and writes the CRD.
 */
final class ScopeClaims {
  /** The outcome: a refusal, or the annotation value to write (empty when already current). */
  record Decision(Optional<String> refusal, Optional<String> claimToWrite) {}

  private ScopeClaims() {}

  static Decision decide(InstallScope self, Map<String, String> annotations, String crd) {
    List<String> conflicts = new ArrayList<>();
    List<String> conflictingKeys = new ArrayList<>();
    String current = null;
    Map<String, String> claims = annotations == null ? Map.of() : new TreeMap<>(annotations);
    for (Map.Entry<String, String> a : claims.entrySet()) {
      InstallScope other;
      try {
        other = InstallScope.fromAnnotation(a.getKey(), a.getValue());
      } catch (IllegalArgumentException e) {
        continue; // not a claim this version understands
      }
      if (other == null) {
        continue;
      }
      if (other.install().equals(self.install())) {
        current = a.getValue();
        continue;
      }
      if (self.overlaps(other)) {
        conflictingKeys.add(a.getKey() + "-");
        conflicts.add(
            "install "
                + other.install()
                + " already manages "
                + self.overlapDescription(other)
                + " (annotation "
                + a.getKey()
                + "="
                + a.getValue()
                + ")");
      }
    }
    if (!conflicts.isEmpty()) {
      return new Decision(
          Optional.of(
              "gpupool install "
                  + self.install()
                  + " (managing "
                  + self.describe()
                  + ") cannot start: "
                  + String.join("; ", conflicts)
                  + " on CustomResourceDefinition "
                  + crd
                  + ". Two installs must manage disjoint namespace lists (Helm value"
                  + " scope.namespaces) or label selectors that exclude each other"
                  + " (scope.namespaceSelector, e.g. gpupool.io/pool=a and gpupool.io/pool=b)."
                  + " If that install is gone, remove its claim: kubectl"
                  + " annotate crd "
                  + crd
                  + " "
                  + String.join(" ", conflictingKeys)),
          Optional.empty());
    }
    String wanted = self.annotationValue();
    return new Decision(
        Optional.empty(), wanted.equals(current) ? Optional.empty() : Optional.of(wanted));
  }
}
