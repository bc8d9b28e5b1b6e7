package io.gpupool.operator.provider;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpuPrice;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.GpuProviderStatus;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.billing.ProviderStakes;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.NodeReading;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.gpupool.operator.status.Conditions;
import io.gpupool.operator.status.StatusDiff;
import io.gpupool.operator.status.StatusReplace;
import io.gpupool.operator.trust.TrustLedger;
import io.gpupool.operator.trust.VerifiedCondition;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Keeps a GpuProvider's status true to its nodes: how many, how many ready, GPUs by model, and
 * whether every product it contributes has a price (unpriced GPUs cannot be offered).
 */
@ControllerConfiguration(name = GpuProviderReconciler.NAME)
public class GpuProviderReconciler implements Reconciler<GpuProvider> {
  public static final String NAME = "gpuprovider";

  private static final Duration REFRESH = Duration.ofSeconds(60);
  private static final Duration NOT_SYNCED_RECHECK = Duration.ofMillis(500);
  private final Clock clock = Clock.systemUTC();
  private final ReliabilityTracker reliability;
  private final SimpleInboundEventSource<GpuProvider> reliabilityChanges =
      new SimpleInboundEventSource<>("provider-reliability");
  private final BillingService billing;
  private final ProviderStakes stakes;
  private final KubernetesClient client;
  private final ProviderDirectory directory;
  private final NodeInventory inventory;

  private final TrustLedger trust;

  public GpuProviderReconciler(
      ReliabilityTracker reliability,
      BillingService billing,
      KubernetesClient client,
      ProviderDirectory directory,
      ProviderStakes stakes,
      TrustLedger trust,
      NodeInventory inventory) {
    this.client = client;
    this.inventory = inventory;
    // The nodes are read from the inventory's watch (the operator's only one on Nodes).
    inventory.onProviderNodesChange(
        provider -> reliabilityChanges.propagateEvent(new ResourceID(provider)));
    this.stakes = stakes;
    this.directory = directory;
    this.trust = trust;
    trust.onChange(provider -> reliabilityChanges.propagateEvent(new ResourceID(provider)));
    this.reliability = reliability;
    this.billing = billing;
    reliability.onChange(provider -> reliabilityChanges.propagateEvent(new ResourceID(provider)));
    // A stake read anew changes status.stake (and may let the provider's nodes be placed on).
    stakes.onChange(provider -> reliabilityChanges.propagateEvent(new ResourceID(provider)));
  }

  @Override
  public List<EventSource<?, GpuProvider>> prepareEventSources(
      EventSourceContext<GpuProvider> context) {
    directory.readFrom(context.getPrimaryCache());
    return List.of(reliabilityChanges);
  }

  @Override
  public UpdateControl<GpuProvider> reconcile(GpuProvider provider, Context<GpuProvider> context) {
    if (!inventory.synced()) {
      // Counting nodes before they are listed would write a pool of none.
      return UpdateControl.<GpuProvider>noUpdate().rescheduleAfter(NOT_SYNCED_RECHECK);
    }
    GpuProviderStatus before = StatusDiff.copy(provider.getStatus(), GpuProviderStatus.class);
    GpuProviderStatus status =
        provider.getStatus() == null ? new GpuProviderStatus() : provider.getStatus();
    provider.setStatus(status);
    Long generation = provider.getMetadata().getGeneration();

    List<NodeReading> nodes = inventory.readingsOf(provider.getMetadata().getName());
    int ready = 0;
    int gpus = 0;
    Map<String, Integer> byModel = new TreeMap<>();
    List<String> unreadable = new ArrayList<>();
    Map<String, String> claims = new TreeMap<>();
    for (NodeReading reading : nodes) {
      if (reading instanceof NodeReading.Accepted accepted) {
        GpuNode gpuNode = accepted.node();
        claims.put(gpuNode.name(), gpuNode.product());
        gpus += gpuNode.physicalGpus();
        byModel.merge(gpuNode.product(), gpuNode.physicalGpus(), Integer::sum);
        if (gpuNode.ready()) {
          ready++;
        }
      } else if (reading instanceof NodeReading.Skipped skipped && skipped.gpuNode()) {
        unreadable.add(skipped.nodeName() + " (" + skipped.reason() + ")");
      }
    }
    status.nodes = nodes.size();
    status.readyNodes = ready;
    status.totalGpus = gpus;
    status.gpusByModel = byModel;
    reliability.seed(provider.getMetadata().getName(), status.reliability);
    status.reliability = reliability.reliability(provider.getMetadata().getName());
    status.earnings = billing.earnings(provider.getMetadata().getName());
    trust.seed(provider.getMetadata().getName(), status.challenges);
    status.challenges = trust.counts(provider.getMetadata().getName());
    status.stake = stakes.status(provider.getMetadata().getName(), gpus);

    Set<String> priced = new TreeSet<>();
    if (provider.getSpec() != null && provider.getSpec().prices != null) {
      for (GpuPrice price : provider.getSpec().prices) {
        priced.add(price.gpuProduct);
      }
    }
    Set<String> unpriced = new TreeSet<>(byModel.keySet());
    unpriced.removeAll(priced);

    var now = clock.instant();
    Conditions.set(
        status.conditions,
        "Ready",
        ready > 0,
        ready > 0 ? "NodesReady" : "NoReadyNodes",
        ready + " of " + nodes.size() + " nodes ready",
        generation,
        now);
    Conditions.set(
        status.conditions,
        "Priced",
        unpriced.isEmpty(),
        unpriced.isEmpty() ? "AllProductsPriced" : "MissingPrice",
        unpriced.isEmpty()
            ? "every contributed GPU product has a price"
            : "no price for " + String.join(", ", unpriced) + ": those GPUs are not offered",
        generation,
        now);
    VerifiedCondition.set(status.conditions, trust.verified(claims), generation, now);
    if (unreadable.isEmpty()) {
      Conditions.remove(status.conditions, "NodesReadable");
    } else {
      Conditions.set(
          status.conditions,
          "NodesReadable",
          false,
          "BadNodeLabels",
          "left out of the pool: " + String.join("; ", unreadable),
          generation,
          now);
    }
    status.observedGeneration = generation;
    if (before == null || StatusDiff.changed(before, status)) {
      StatusReplace.write(client, GpuProvider.class, provider, status);
    }
    directory.observed(provider);
    // Uptime accrues and earnings grow without cluster events: refresh them now and then.
    return UpdateControl.<GpuProvider>noUpdate().rescheduleAfter(REFRESH);
  }
}
