package io.gpupool.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class VerifierPlacementTest {

  private static PoolNode node(
      String name, String provider, int gpus, double price, boolean ready) {
    return new PoolNode(
        name,
        provider,
        "us-east",
        "us-east-1a",
        "NVIDIA-GeForce-RTX-4090",
        gpus,
        24564,
        1,
        16_000,
        64 * 1024,
        price,
        0.99,
        ready);
  }

  private static final PoolSnapshot POOL =
      PoolSnapshot.of(
          List.of(
              node("cheat-1", "cheat", 2, 0.10, true),
              node("honest-a-1", "honest-a", 2, 0.44, true),
              node("honest-b-1", "honest-b", 1, 0.39, true),
              node("honest-c-down", "honest-c", 4, 0.20, false)));

  @Test
  void theVerifierRunsOnTheCheapestNodeOfAnotherProvider() {
    VerifierPlacement.Choice c = VerifierPlacement.choose(POOL, 1, Set.of("cheat"));
    assertThat(c.node()).contains("honest-b-1");
  }

  @Test
  void theRefereeAvoidsTheTrainersAndTheVerifier() {
    VerifierPlacement.Choice c = VerifierPlacement.choose(POOL, 1, Set.of("cheat", "honest-b"));
    assertThat(c.node()).contains("honest-a-1");
  }

  @Test
  void aCheckStaysInTheRegionsTheJobMayUse() {
    PoolNode west =
        new PoolNode(
            "west-1",
            "honest-w",
            "eu-west",
            "eu-west-1a",
            "NVIDIA-GeForce-RTX-4090",
            1,
            24564,
            1,
            16_000,
            64 * 1024,
            0.01,
            0.99,
            true);
    PoolSnapshot pool =
        PoolSnapshot.of(List.of(west, node("honest-a-1", "honest-a", 2, 0.44, true)));
    assertThat(VerifierPlacement.choose(pool, 1, Set.of("cheat")).node()).contains("west-1");
    assertThat(VerifierPlacement.choose(pool, 1, Set.of("cheat"), Set.of("us-east")).node())
        .contains("honest-a-1");
    VerifierPlacement.Choice none =
        VerifierPlacement.choose(pool, 1, Set.of("honest-a"), Set.of("us-east"));
    assertThat(none.node()).isEmpty();
    assertThat(none.reason()).isEqualTo("no provider besides honest-a in us-east");
  }

  @Test
  void notReadyExcludedOrTooSmallNodesAreSkipped() {
    assertThat(VerifierPlacement.choose(POOL, 2, Set.of("cheat")).node()).contains("honest-a-1");
    PoolSnapshot quarantined = POOL.excluding(Map.of("honest-b-1", "quarantined"));
    assertThat(VerifierPlacement.choose(quarantined, 1, Set.of("cheat")).node())
        .contains("honest-a-1");
  }

  @Test
  void withoutAnotherProviderTheReasonSaysSo() {
    VerifierPlacement.Choice none =
        VerifierPlacement.choose(POOL, 1, Set.of("cheat", "honest-a", "honest-b", "honest-c"));
    assertThat(none.node()).isEmpty();
    assertThat(none.reason()).startsWith("no provider besides cheat, honest-a");
    VerifierPlacement.Choice full = VerifierPlacement.choose(POOL, 3, Set.of("cheat"));
    assertThat(full.node()).isEmpty();
    assertThat(full.reason()).contains("3 free GPU(s)");
    assertThatThrownBy(() -> VerifierPlacement.choose(POOL, 0, Set.of()))
        .hasMessageContaining("at least one GPU");
  }
}
