package io.gpupool.scheduler.verify;

import io.gpupool.scheduler.model.NodeState;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import java.util.Comparator;
import java.util.Optional;
import java.util.Set;

/**
 * Where a verifier or referee runs: on a provider that took no part in what it checks.
 *
 * <p>A verifier must not belong to a provider that trained the interval (it would check its own
 * work), and a referee must belong to neither the trainers nor the verifier. Among the nodes left
 * it takes a ready one, not excluded from placement (quarantine, stake gate), with whole GPUs free
 * for the replay, preferring the cheapest (verification is charged to the payer), then the most
 * reliable, then the name for a stable choice.
 */
public final class VerifierPlacement {
  private VerifierPlacement() {}

  /**
   * A node chosen for a check, or why there is none.
   *
   * @param node the node's name, empty when none fits
   * @param reason why none fits (empty string when one does)
   */
  public record Choice(Optional<String> node, String reason) {}

  /**
   * @param pool the pool with current allocations and exclusions
   * @param gpus whole GPUs the check needs
   * @param barredProviders providers that may not check (trainers; for a referee also the
   *     verifier's)
   */
  public static Choice choose(PoolSnapshot pool, int gpus, Set<String> barredProviders) {
    return choose(pool, gpus, barredProviders, Set.of());
  }

  /**
   * As {@link #choose(PoolSnapshot, int, Set)}, on nodes of {@code regions} only (empty: any). A
   * check reads the job's checkpoints and data, so it stays where the job may run.
   */
  public static Choice choose(
      PoolSnapshot pool, int gpus, Set<String> barredProviders, Set<String> regions) {
    if (gpus < 1) {
      throw new IllegalArgumentException("a check needs at least one GPU, not " + gpus);
    }
    int others = 0;
    Optional<PoolNode> best =
        pool.nodes().stream()
            .filter(n -> !barredProviders.contains(n.provider()) && !n.provider().isEmpty())
            .filter(n -> regions.isEmpty() || regions.contains(n.region()))
            .filter(PoolNode::ready)
            .filter(n -> !pool.exclusions().containsKey(n.name()))
            .filter(n -> freeWhole(pool, n) >= gpus)
            .min(
                Comparator.comparingDouble(PoolNode::pricePerGpuHour)
                    .thenComparing(Comparator.comparingDouble(PoolNode::reliability).reversed())
                    .thenComparing(PoolNode::name));
    if (best.isPresent()) {
      return new Choice(Optional.of(best.get().name()), "");
    }
    for (PoolNode n : pool.nodes()) {
      if (!barredProviders.contains(n.provider())
          && !n.provider().isEmpty()
          && (regions.isEmpty() || regions.contains(n.region()))) {
        others++;
      }
    }
    String reason =
        others == 0
            ? "no provider besides "
                + String.join(", ", barredProviders.stream().sorted().toList())
                + (regions.isEmpty()
                    ? ""
                    : " in " + String.join(", ", regions.stream().sorted().toList()))
            : "no ready, unexcluded node of another provider has " + gpus + " free GPU(s)";
    return new Choice(Optional.empty(), reason);
  }

  private static int freeWhole(PoolSnapshot pool, PoolNode n) {
    NodeState s = pool.state(n.name());
    return s == null ? 0 : s.wholeFree();
  }
}
