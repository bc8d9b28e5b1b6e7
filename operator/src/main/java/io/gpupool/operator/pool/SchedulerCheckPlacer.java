package io.gpupool.operator.pool;

import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.verification.CheckPlacer;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.verify.VerifierPlacement;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@link CheckPlacer} over the live pool: the same view placement uses (quarantined nodes and
 * providers short of stake left out), gpu-scheduler's {@link VerifierPlacement} to choose, and the
 * choice held in the allocation ledger under the ledger's lock, like a gang's ranks.
 */
@ApplicationScoped
public class SchedulerCheckPlacer implements CheckPlacer {
  private static final String KIND = "TrainingJob";

  private final PlanningContext pool;

  public SchedulerCheckPlacer(PlanningContext pool) {
    this.pool = pool;
  }

  @Override
  public Choice place(String holder, Set<String> barredProviders, Set<String> regions) {
    if (!pool.ready()) {
      return new Choice(Optional.empty(), "the pool has not been read yet");
    }
    return pool.decide(
        KIND,
        false,
        () -> {
          PoolView view = pool.view(false);
          PoolSnapshot snapshot = pool.snapshot(view, Map.of(holder, Map.of()));
          VerifierPlacement.Choice choice =
              VerifierPlacement.choose(snapshot, 1, barredProviders, regions);
          if (choice.node().isEmpty()) {
            return new Choice(Optional.empty(), choice.reason());
          }
          GpuNode node = view.gpuNode(choice.node().get());
          pool.hold(holder, Map.of(node.name(), view.slots(node.name(), 1, 1000)));
          return new Choice(
              Optional.of(new Node(node.name(), node.provider(), node.product())), "");
        },
        c -> c.node().isPresent());
  }

  @Override
  public void release(String holder) {
    pool.release(holder);
  }
}
