package io.gpupool.operator.job;

import io.gpupool.operator.allocation.AllocationLedger;
import io.gpupool.operator.billing.ProviderStakes;
import io.gpupool.operator.config.DaemonThreads;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.ProviderDirectory;
import jakarta.inject.Singleton;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What may let a waiting job be placed, for both job kinds' wake-ups: GPUs freed in the allocation
 * ledger, a node joining, changing or leaving, a GpuProvider changing, and a provider's stake as
 * read from the chain changing (nothing in the cluster changes with a stake, but the stake gate
 * lets placement use more or less of the provider). Changes are gathered for {@link #GATHER_MILLIS}
 * and handed on together ({@link GatheredChanges}).
 */
@Singleton
public class CapacityEvents {
  /** Told what changed and the nodes that changed (empty when none did: GPUs freed, a stake). */
  public interface Listener {
    void changed(String cause, Set<String> nodes);
  }

  /** How long changes are gathered before they are handed on. */
  static final long GATHER_MILLIS = 100;

  private final AllocationLedger ledger;
  private final NodeInventory inventory;
  private final ProviderDirectory providers;
  private final ProviderStakes stakes;
  private final ScheduledExecutorService handOn =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("capacity-changes"));

  public CapacityEvents(
      AllocationLedger ledger,
      NodeInventory inventory,
      ProviderDirectory providers,
      ProviderStakes stakes) {
    this.ledger = ledger;
    this.inventory = inventory;
    this.providers = providers;
    this.stakes = stakes;
  }

  /** Runs {@code listener} on every capacity change, with the cause its wake-ups are counted by. */
  public void onChange(Listener listener) {
    GatheredChanges changes =
        new GatheredChanges(
            listener, r -> handOn.schedule(r, GATHER_MILLIS, TimeUnit.MILLISECONDS));
    ledger.onRelease(() -> changes.add("release", null));
    inventory.onChange(node -> changes.add("node", node));
    providers.onChange(provider -> changes.add("provider", null));
    stakes.onChange(provider -> changes.add("stake", null));
  }
}
