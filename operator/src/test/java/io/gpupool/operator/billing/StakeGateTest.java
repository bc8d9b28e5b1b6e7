package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.billing.TokenUnits;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.SharingStrategy;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StakeGateTest {
  static final BigInteger ONE = TokenUnits.toWei("1");

  static GpuNode node(String name, String provider, int gpus) {
    return new GpuNode(
        name,
        provider,
        "eu",
        "eu-a",
        "NVIDIA-GeForce-RTX-4090",
        "ada-lovelace",
        8,
        9,
        gpus,
        24564,
        SharingStrategy.NONE,
        1,
        "nvidia.com/gpu",
        gpus,
        Map.of(),
        8000,
        1L << 35,
        true,
        (Instant) null,
        true);
  }

  final List<GpuNode> pool =
      List.of(
          node("alice-1", "alice", 4),
          node("alice-2", "alice", 4),
          node("bob-1", "bob", 2),
          node("carol-1", "carol", 1));
  final Map<String, BigInteger> stakes =
      Map.of("alice", TokenUnits.toWei("7.5"), "bob", TokenUnits.toWei("2"));

  Optional<BigInteger> stake(String provider) {
    return Optional.ofNullable(stakes.get(provider));
  }

  @Test
  void aProviderShortOfStakeForAllItsGpusIsLeftOutWithItsFigures() {
    StakeGate gate = new StakeGate(ONE, "ETH");
    Map<String, String> out = gate.excludedProviders(pool, this::stake);
    // alice offers 8 GPUs across two nodes: 7.5 does not cover 8; bob's 2 covers 2 exactly.
    assertThat(out)
        .containsEntry("alice", "provider alice stakes 7.5 ETH of the 8 ETH required for 8 GPUs")
        .containsEntry(
            "carol", "provider carol has no stake known on chain (1 ETH required for 1 GPUs)")
        .doesNotContainKey("bob");
    assertThat(gate.excludedNodes(pool, this::stake))
        .containsOnlyKeys("alice-1", "alice-2", "carol-1");
  }

  @Test
  void zeroTurnsTheGateOff() {
    StakeGate gate = new StakeGate(BigInteger.ZERO, "ETH");
    assertThat(gate.enabled()).isFalse();
    assertThat(gate.excludedNodes(pool, p -> Optional.empty())).isEmpty();
  }

  @Test
  void theRequirementScalesWithTheGpusOffered() {
    StakeGate gate = new StakeGate(TokenUnits.toWei("0.25"), "ETH");
    assertThat(StakeGate.gpusByProvider(pool)).containsEntry("alice", 8).containsEntry("bob", 2);
    assertThat(gate.required(8)).isEqualTo(TokenUnits.toWei("2"));
    assertThat(gate.excludedProviders(pool, this::stake)).containsOnlyKeys("carol");
  }
}
