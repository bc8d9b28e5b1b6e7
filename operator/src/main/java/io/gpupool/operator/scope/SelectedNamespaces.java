package io.gpupool.operator.scope;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.watch.ClusterWatches;
import io.gpupool.operator.watch.SharedWatch;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.RegisteredController;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import org.jboss.logging.Logger;

/**
 * Scope by label selector ({@code gpupool.scope.namespace-selector}): follows the namespaces whose
 * labels match and narrows the namespaced controllers' informers (JOSDK's {@code changeNamespaces})
 * to exactly those, as namespaces are created, labelled, unlabelled or deleted. Jobs elsewhere are
 * neither cached nor reconciled.
 *
 * <p>JOSDK starts its informers over every namespace (the namespaces are not known when the Quarkus
 * configuration is read) and is narrowed right after; {@link #manages} lets the reconcilers ignore
 * a foreign job that an event delivers in that moment. Without a selector every call is a no-op and
 * {@link #manages} is always true (a namespace list is JOSDK's own configuration).
 */
@ApplicationScoped
public class SelectedNamespaces {
  private static final Logger LOG = Logger.getLogger(SelectedNamespaces.class);
  private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(30);

  private final ClusterWatches watches;
  private final Instance<Operator> operator;
  private final SelectorTerms selector;
  private volatile Set<String> selected;
  private volatile SharedWatch<Namespace> namespaces;
  private boolean controllersStarted;
  private Set<String> applied;

  public SelectedNamespaces(
      ClusterWatches watches, Instance<Operator> operator, GpupoolConfig config) {
    this.watches = watches;
    this.operator = operator;
    this.selector =
        config
            .scope()
            .namespaceSelector()
            .filter(s -> !s.isBlank())
            .map(SelectorTerms::parse)
            .orElse(null);
  }

  /** Whether this install manages the jobs of {@code namespace}. */
  public boolean manages(String namespace) {
    if (selector == null) {
      return true;
    }
    Set<String> now = selected;
    return now != null && now.contains(namespace);
  }

  /** Learns the matching namespaces before the controllers start (after the scope claim). */
  void watch(@Observes @Priority(2) StartupEvent ignored) throws Exception {
    if (selector == null) {
      return;
    }
    namespaces = watches.namespaces();
    namespaces.listen(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(Namespace ns) {
            follow();
          }

          @Override
          public void onUpdate(Namespace old, Namespace ns) {
            follow();
          }

          @Override
          public void onDelete(Namespace ns, boolean unknown) {
            follow();
          }
        });
    namespaces.startAndWait(SYNC_TIMEOUT);
    follow();
    LOG.infof(
        "scope: namespaces matching selector '%s': %s",
        selector, selected == null ? "[]" : selected);
  }

  /** Narrows the controllers once JOSDK has started them (its own StartupEvent observer). */
  void narrow(@Observes @Priority(5000) StartupEvent ignored) {
    if (selector == null) {
      return;
    }
    synchronized (this) {
      controllersStarted = true;
    }
    follow();
  }

  private synchronized void follow() {
    SharedWatch<Namespace> source = namespaces;
    if (source == null || !source.synced()) {
      return;
    }
    Set<String> now = new TreeSet<>();
    for (Namespace ns : source.list()) {
      // A terminating namespace stays: its jobs' finalizers must still be removed.
      if (selector.matches(ns.getMetadata().getLabels())) {
        now.add(ns.getMetadata().getName());
      }
    }
    selected = Set.copyOf(now);
    if (!controllersStarted || now.equals(applied)) {
      return;
    }
    for (RegisteredController<?> controller : operator.get().getRegisteredControllers()) {
      if (Namespaced.class.isAssignableFrom(controller.getConfiguration().getResourceClass())) {
        controller.changeNamespaces(now);
      }
    }
    LOG.infof("scope: watching the jobs of %s (selector '%s')", now, selector);
    applied = now;
  }
}
