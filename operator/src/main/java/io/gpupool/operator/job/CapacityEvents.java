package io.gpupool.operator.job;

import io.gpupool.operator.allocation.AllocationLedger;
import io.gpupool.operator.billing.ProviderStakes;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.ProviderDirectory;
import jakarta.inject.Singleton;

/**
 * What may let a waiting job be placed, for both job kinds' wake-ups: GPUs freed in the allocation
 * ledger, a node joining, changing or leaving, a GpuProvider changing, and a provider's stake as
 * read from the chain changing (nothing in the cluster changes with a stake, but the stake gate
 * lets placement use more or less of the provider).
 */
@Singleton
public class CapacityEvents {
  /** Told what changed and, when a node did, the node's name (null otherwise). */
  public interface Listener {
    void changed(String cause, String node);
  }

  private final AllocationLedger ledger;
  private final NodeInventory inventory;
  private final ProviderDirectory providers;
  private final ProviderStakes stakes;

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
    ledger.onRelease(() -> listener.changed("release", null));
    inventory.onChange(node -> listener.changed("node", node));
    providers.onChange(provider -> listener.changed("provider", null));
    stakes.onChange(provider -> listener.changed("stake", null));
  }
}
