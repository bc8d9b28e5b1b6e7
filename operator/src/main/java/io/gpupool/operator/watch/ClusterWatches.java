package io.gpupool.operator.watch;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gpupool.api.v1alpha1.BillingAccount;
import io.gpupool.operator.config.GpupoolConfig;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The operator's watches outside its controllers, one per kind: pods (both job controllers, the GPU
 * ledger, metering), Nodes (inventory, GpuProvider controller), Namespaces (the scope's selector,
 * billing's payer check), BillingAccounts and the usage ConfigMaps. Each is made when first asked
 * for; the custom resources the controllers reconcile are watched by JOSDK, and other readers take
 * them from the controllers' caches.
 */
@ApplicationScoped
public class ClusterWatches implements AutoCloseable {
  /** Index of {@link #pods()} by the UIDs in a pod's owner references. */
  public static final String OWNER_UID = "owner-uid";

  private final KubernetesClient client;
  private final Duration nodeResync;
  private final List<SharedWatch<?>> made = new ArrayList<>();
  private SharedWatch<Pod> pods;
  private SharedWatch<Node> nodes;
  private SharedWatch<Namespace> namespaces;
  private SharedWatch<BillingAccount> accounts;
  private SharedWatch<ConfigMap> configMaps;
  private String configMapScope;

  @Inject
  public ClusterWatches(KubernetesClient client, GpupoolConfig config) {
    this(client, config.nodes().resyncPeriod());
  }

  /**
   * Watches of a process of their own through {@code client}, Nodes never resynced: a second
   * operator in a test, or a store opened as a restarted operator would open it.
   */
  public ClusterWatches(KubernetesClient client) {
    this(client, Duration.ZERO);
  }

  private ClusterWatches(KubernetesClient client, Duration nodeResync) {
    this.client = client;
    this.nodeResync = nodeResync;
  }

  /** Pods in every namespace, indexed by owner UID ({@link #OWNER_UID}). */
  public synchronized SharedWatch<Pod> pods() {
    if (pods == null) {
      SharedIndexInformer<Pod> informer = client.pods().inAnyNamespace().runnableInformer(0);
      informer.addIndexers(
          Map.of(
              OWNER_UID,
              pod ->
                  pod.getMetadata().getOwnerReferences().stream()
                      .map(OwnerReference::getUid)
                      .toList()));
      pods = made("pods", informer);
    }
    return pods;
  }

  /** Every Node, resynced as {@code gpupool.nodes.resync-period} says (a safety net). */
  public synchronized SharedWatch<Node> nodes() {
    if (nodes == null) {
      nodes = made("nodes", client.nodes().runnableInformer(nodeResync.toMillis()));
    }
    return nodes;
  }

  public synchronized SharedWatch<Namespace> namespaces() {
    if (namespaces == null) {
      namespaces = made("namespaces", client.namespaces().runnableInformer(0));
    }
    return namespaces;
  }

  public synchronized SharedWatch<BillingAccount> billingAccounts() {
    if (accounts == null) {
      accounts =
          made("billingaccounts", client.resources(BillingAccount.class).runnableInformer(0));
    }
    return accounts;
  }

  /**
   * The ConfigMaps of {@code namespace} labelled {@code label=value}: the operator reads only its
   * own usage records, so it watches only them. One scope per operator: asking again for another is
   * a programming error, not a second watch.
   */
  public synchronized SharedWatch<ConfigMap> configMaps(
      String namespace, String label, String value) {
    String scope = namespace + "/" + label + "=" + value;
    if (configMaps == null) {
      configMaps =
          made(
              "configmaps",
              client
                  .configMaps()
                  .inNamespace(namespace)
                  .withLabel(label, value)
                  .runnableInformer(0));
      configMapScope = scope;
    } else if (!Objects.equals(configMapScope, scope)) {
      throw new IllegalStateException(
          "ConfigMaps are watched in " + configMapScope + ", not also in " + scope);
    }
    return configMaps;
  }

  private <T extends HasMetadata> SharedWatch<T> made(
      String kind, SharedIndexInformer<T> informer) {
    SharedWatch<T> watch = new SharedWatch<>(kind, informer);
    made.add(watch);
    return watch;
  }

  /** {@code watch/KIND} of each watch started here that is not watching now (InformerWatchdog). */
  synchronized Set<String> notWatching() {
    Set<String> out = new TreeSet<>();
    for (SharedWatch<?> watch : made) {
      if (watch.startedButNotWatching()) {
        out.add("watch/" + watch.kind());
      }
    }
    return out;
  }

  void stop(@Observes ShutdownEvent ignored) {
    close();
  }

  /** Stops every watch made here. */
  @Override
  public void close() {
    List<SharedWatch<?>> all;
    synchronized (this) {
      all = List.copyOf(made);
    }
    all.forEach(SharedWatch::stop);
  }
}
