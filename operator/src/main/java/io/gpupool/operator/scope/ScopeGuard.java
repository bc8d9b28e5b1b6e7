package io.gpupool.operator.scope;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.operator.config.Backoffs;
import io.gpupool.operator.config.GpupoolConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Refuses to start an install whose namespaces another install already manages. Every install
 * records its claim ({@link InstallScope}) as an annotation on the TrainingJob CRD, the one
 * cluster-scoped object all installs share, and checks the others' claims first, before any
 * controller starts. A claim stays until the install is uninstalled (the chart's pre-delete hook or
 * {@code kubectl annotate crd trainingjobs.gpupool.io claims.gpupool.io/<ns>.<release>-}): replicas
 * and restarts of one install share its claim.
 */
@ApplicationScoped
public class ScopeGuard {
  static final String CRD = "trainingjobs.gpupool.io";
  private static final Logger LOG = Logger.getLogger(ScopeGuard.class);

  /** Reads and writes tried before start-up fails: about 15 s of back-off in all. */
  static final int ATTEMPTS = 6;

  private static final Duration FIRST_WAIT = Duration.ofMillis(500);
  private static final Duration LONGEST_WAIT = Duration.ofSeconds(8);

  private final GpupoolConfig config;
  private final KubernetesClient client;
  private final Sleeper sleeper;

  @Inject
  public ScopeGuard(GpupoolConfig config, KubernetesClient client) {
    this(config, client, ScopeGuard::pause);
  }

  ScopeGuard(GpupoolConfig config, KubernetesClient client, Sleeper sleeper) {
    this.config = config;
    this.client = client;
    this.sleeper = sleeper;
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting", e);
    }
  }

  /** Runs before the controllers start (JOSDK starts them on the same event, later). */
  void check(@Observes @Priority(1) StartupEvent ignored) {
    if (!config.scope().claim()) {
      return;
    }
    claimScope(scope(config, client.getNamespace()));
  }

  /**
   * Checks the other installs' claims and records this one's. An API server that drops the
   * connection, throttles or fails with a 5xx at this moment is asked again (up to {@link
   * #ATTEMPTS} times, backing off): a single lost request at start-up must not stop the operator,
   * which would otherwise only come back after the kubelet's crash-loop back-off.
   */
  void claimScope(InstallScope self) {
    for (int attempt = 1; ; attempt++) {
      CustomResourceDefinition crd;
      try {
        crd = client.apiextensions().v1().customResourceDefinitions().withName(CRD).get();
      } catch (KubernetesClientException e) {
        if (transientFailure(e) && attempt < ATTEMPTS) {
          backOff(attempt, "reading", e);
          continue;
        }
        throw new IllegalStateException(
            "cannot read CustomResourceDefinition " + CRD + " to check the install's scope", e);
      }
      if (crd == null) {
        throw new IllegalStateException(
            "CustomResourceDefinition "
                + CRD
                + " is not installed: apply the CRDs first (helm/gpupool/crds or crds/)");
      }
      ScopeClaims.Decision decision =
          ScopeClaims.decide(self, crd.getMetadata().getAnnotations(), CRD);
      if (decision.refusal().isPresent()) {
        throw new IllegalStateException(decision.refusal().get());
      }
      if (decision.claimToWrite().isEmpty()) {
        LOG.infof("scope: install %s manages %s", self.install(), describe(self));
        return;
      }
      try {
        claim(crd, self, decision.claimToWrite().get());
        LOG.infof("scope: install %s claimed %s", self.install(), describe(self));
        return;
      } catch (KubernetesClientException e) {
        boolean again = e.getCode() == 409 || transientFailure(e);
        if (!again || attempt >= ATTEMPTS) {
          throw new IllegalStateException(
              "cannot record install " + self.install() + "'s claim on " + CRD, e);
        }
        // Another install claimed at the same moment (409), or the write was lost: re-read (a
        // lost write that was applied shows as this install's own claim) and decide again.
        if (e.getCode() != 409) {
          backOff(attempt, "writing", e);
        }
      }
    }
  }

  /** No answer (connection dropped or reset), throttled, or a server-side failure. */
  static boolean transientFailure(KubernetesClientException e) {
    int code = e.getCode();
    return code == 0 || code == 429 || code >= 500;
  }

  private void backOff(int attempt, String what, KubernetesClientException e) {
    long millis = Backoffs.doubling(FIRST_WAIT, LONGEST_WAIT, attempt).toMillis();
    LOG.warnf(
        "scope: %s CustomResourceDefinition %s failed (%s); again in %d ms",
        what, CRD, e.getMessage(), millis);
    sleeper.sleep(millis);
  }

  /** How the back-off waits; tests do not. */
  interface Sleeper {
    void sleep(long millis);
  }

  /** A merge patch pinned to the read resourceVersion: concurrent claims conflict (409). */
  private void claim(CustomResourceDefinition crd, InstallScope self, String value) {
    String patch =
        Serialization.asJson(
            Map.of(
                "metadata",
                Map.of(
                    "resourceVersion",
                    crd.getMetadata().getResourceVersion(),
                    "annotations",
                    Map.of(self.annotationKey(), value))));
    client
        .apiextensions()
        .v1()
        .customResourceDefinitions()
        .withName(CRD)
        .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
  }

  /** The install's scope from its settings; the install defaults to {@code <namespace>/gpupool}. */
  static InstallScope scope(GpupoolConfig config, String clientNamespace) {
    String install =
        config
            .scope()
            .install()
            .filter(s -> !s.isBlank())
            .orElseGet(
                () ->
                    Optional.ofNullable(System.getenv("POD_NAMESPACE"))
                            .filter(s -> !s.isBlank())
                            .or(() -> Optional.ofNullable(clientNamespace))
                            .orElse("default")
                        + "/gpupool");
    Optional<String> selector = config.scope().namespaceSelector().filter(s -> !s.isBlank());
    List<String> namespaces = config.scope().namespaces().orElse(List.of());
    if (selector.isPresent()) {
      if (namespaces.stream().anyMatch(n -> !n.isBlank())) {
        throw new IllegalStateException(
            "gpupool.scope.namespaces and gpupool.scope.namespace-selector are both set: an"
                + " install manages a namespace list or the namespaces a selector matches");
      }
      return InstallScope.selected(install, selector.get());
    }
    return InstallScope.of(install, namespaces);
  }

  private static String describe(InstallScope scope) {
    return scope.describe();
  }
}
