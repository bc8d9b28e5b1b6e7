package io.gpupool.sandbox;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code --smoke}: the sandbox came up when the operator has written a status phase on every
 * gpupool job that was applied and refused none of them (Funded=False): an example the default
 * sandbox refuses is a failed smoke test, not a newcomer's puzzle. Used by the fresh-clone test and
 * by CI-like scripts that must not leave a sandbox running.
 */
final class SmokeCheck {
  static final String GROUP_SUFFIX = "gpupool.io/";

  /** Funded=False reasons that clear by themselves (the chain answers again): waited on. */
  static final Set<String> TRANSIENT_FUNDING_REASONS = Set.of("BillingChainUnavailable");

  private SmokeCheck() {}

  /** The applied objects the check waits for: gpupool resources that carry a phase (jobs). */
  static List<HasMetadata> jobs(List<HasMetadata> applied) {
    return applied.stream()
        .filter(o -> o.getApiVersion() != null && o.getApiVersion().contains(GROUP_SUFFIX))
        .filter(o -> o.getKind().endsWith("Job"))
        .toList();
  }

  /** The phase the operator wrote into {@code status.phase}, or null while there is none. */
  static String phase(GenericKubernetesResource r) {
    if (r == null || !(r.getAdditionalProperties().get("status") instanceof Map<?, ?> status)) {
      return null;
    }
    Object phase = status.get("phase");
    return phase == null || phase.toString().isBlank() ? null : phase.toString();
  }

  /**
   * Why the operator refused the job, or null: a Funded=False condition (other than a transient
   * one).
   */
  static String refusal(GenericKubernetesResource r) {
    if (r == null || !(r.getAdditionalProperties().get("status") instanceof Map<?, ?> status)) {
      return null;
    }
    if (status.get("conditions") instanceof List<?> conditions) {
      for (Object c : conditions) {
        if (c instanceof Map<?, ?> condition
            && "Funded".equals(condition.get("type"))
            && "False".equals(String.valueOf(condition.get("status")))
            && !TRANSIENT_FUNDING_REASONS.contains(String.valueOf(condition.get("reason")))) {
          return "Funded=False " + condition.get("reason") + ": " + condition.get("message");
        }
      }
    }
    return null;
  }

  /**
   * Waits until every applied job has a phase; prints the outcome; true when all have one and the
   * operator refused none (false as soon as it refuses one).
   */
  static boolean awaitStatus(
      KubernetesClient client, List<HasMetadata> applied, Duration timeout, PrintStream out)
      throws InterruptedException {
    List<HasMetadata> jobs = jobs(applied);
    if (jobs.isEmpty()) {
      out.println("[sandbox] smoke: FAILED, no gpupool job among the applied manifests");
      return false;
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<String> refused = new ArrayList<>();
      for (HasMetadata j : jobs) {
        String why = refusal(fetch(client, j));
        if (why != null) {
          refused.add(describe(j) + " " + why);
        }
      }
      if (!refused.isEmpty()) {
        refused.forEach(r -> out.println("[sandbox] smoke: refused " + r));
        out.println("[sandbox] smoke: FAILED, the operator refused " + refused.size() + " job(s)");
        return false;
      }
      List<String> waiting =
          jobs.stream()
              .filter(j -> phase(fetch(client, j)) == null)
              .map(SmokeCheck::describe)
              .toList();
      if (waiting.isEmpty()) {
        jobs.forEach(
            j -> out.println("[sandbox] smoke: " + describe(j) + " " + phase(fetch(client, j))));
        out.println(
            "[sandbox] smoke: OK, the operator took up all " + jobs.size() + " applied jobs");
        return true;
      }
      if (System.nanoTime() > deadline) {
        out.println(
            "[sandbox] smoke: FAILED, no status phase after "
                + timeout.toSeconds()
                + " s on "
                + String.join(", ", waiting));
        return false;
      }
      Thread.sleep(500);
    }
  }

  static GenericKubernetesResource fetch(KubernetesClient client, HasMetadata job) {
    try {
      return client
          .genericKubernetesResources(job.getApiVersion(), job.getKind())
          .inNamespace(namespace(job))
          .withName(job.getMetadata().getName())
          .get();
    } catch (RuntimeException e) {
      return null; // the API server is busy or restarting: try again on the next round
    }
  }

  private static String namespace(HasMetadata job) {
    String ns = job.getMetadata().getNamespace();
    return ns == null ? "default" : ns;
  }

  static String describe(HasMetadata job) {
    return job.getKind() + "(" + namespace(job) + "/" + job.getMetadata().getName() + ")";
  }
}
