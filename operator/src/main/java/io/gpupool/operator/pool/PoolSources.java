package io.gpupool.operator.pool;

import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.PodTemplate;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.podtemplate.PodTemplateNodes;
import io.gpupool.operator.trust.TrustLedger;
import java.math.BigDecimal;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * What the scheduler's view of the pool is made of — the nodes, the providers (prices, reliability,
 * challenge records), challenge verdicts and quarantines, stake readings — and a {@link Stamp} of
 * them that moves with every change, so a view can be kept until it does.
 */
final class PoolSources {
  private final NodeInventory inventory;
  private final Supplier<List<GpuProvider>> providers;
  private final BiFunction<String, String, Optional<BigDecimal>> price;
  private final Function<String, Double> reliability;
  private final TrustLedger trust;
  private final Function<Collection<GpuNode>, Map<String, String>> stakeExclusions;
  private final LongSupplier stakeReadings;

  /**
   * @param providers every registered provider as the cache holds it (an update replaces the
   *     object, so the objects themselves say whether anything about a provider changed)
   * @param stakeExclusions nodes the stake gate leaves out, node name to reason
   * @param stakeReadings moves whenever a provider's stake as read changes
   */
  PoolSources(
      NodeInventory inventory,
      Supplier<List<GpuProvider>> providers,
      BiFunction<String, String, Optional<BigDecimal>> price,
      Function<String, Double> reliability,
      TrustLedger trust,
      Function<Collection<GpuNode>, Map<String, String>> stakeExclusions,
      LongSupplier stakeReadings) {
    this.inventory = inventory;
    this.providers = providers;
    this.price = price;
    this.reliability = reliability;
    this.trust = trust;
    this.stakeExclusions = stakeExclusions;
    this.stakeReadings = stakeReadings;
  }

  /**
   * What a view is built from, as counts and the provider objects. Read <em>before</em> building: a
   * change made while a view is being built then leaves the view older than the next stamp.
   */
  record Stamp(long nodes, long trust, long stakes, List<GpuProvider> providers) {
    boolean same(Stamp o) {
      if (nodes != o.nodes || trust != o.trust || stakes != o.stakes) {
        return false;
      }
      if (providers.size() != o.providers.size()) {
        return false;
      }
      for (int i = 0; i < providers.size(); i++) {
        if (providers.get(i) != o.providers.get(i)) {
          return false;
        }
      }
      return true;
    }
  }

  Stamp stamp() {
    return new Stamp(
        inventory.version(), trust.version(), stakeReadings.getAsLong(), providers.get());
  }

  /**
   * A view built now; {@code sharing}: shared GPUs count as capacity; only the nodes {@code
   * template} admits (null: all), labelled when its preferred node affinity needs the labels.
   */
  PoolView build(boolean sharing, PodTemplate template) {
    List<GpuNode> all = inventory.nodes();
    PoolView view =
        new PoolView(inventory.nodesFor(template), price, reliability, sharing)
            .rated(speedFactors(all))
            .excluding(exclusions(all));
    return PodTemplateNodes.preferred(template).isEmpty() ? view : view.labelled(inventory::labels);
  }

  /**
   * Nodes placement leaves out, node name to the reason the Unschedulable message counts them
   * under: providers whose stake falls short, and nodes a failed hardware challenge or wrong paid
   * work quarantined (restored from GpuProvider status first, so a restart does not let them back
   * in). A node both short of stake and quarantined is named for the quarantine: the graver reason.
   */
  private Map<String, String> exclusions(List<GpuNode> all) {
    Map<String, String> out = new HashMap<>(stakeExclusions.apply(all));
    trust.restore(providers.get());
    trust
        .quarantined(claims(all))
        .forEach(
            (node, q) ->
                out.put(
                    node,
                    "quarantined after "
                        + q.after()
                        + ": "
                        + node
                        + " ("
                        + q.provider()
                        + ": "
                        + q.reason()
                        + ")"));
    return out;
  }

  /**
   * Nodes a hardware challenge measured slower than their labels claim, with the share of the
   * claimed speed they are planned (and priced) at.
   */
  private Map<String, Double> speedFactors(List<GpuNode> all) {
    trust.restore(providers.get());
    return trust.speedFactors(claims(all));
  }

  private static Map<String, String> claims(List<GpuNode> all) {
    Map<String, String> claims = new HashMap<>();
    all.forEach(n -> claims.put(n.name(), n.product()));
    return claims;
  }
}
