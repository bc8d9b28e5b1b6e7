package io.gpupool.operator.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ReplicaCostTest {
  /** 1000 wei per whole GPU-hour at "cheap", nothing listed at "unpriced"; records each ask. */
  private final List<String> asked = new ArrayList<>();

  private final ReplicaCost.Prices prices =
      (provider, product, milli) -> {
        asked.add(provider + "/" + product + "/" + milli);
        return "cheap".equals(provider) ? Optional.of(BigInteger.valueOf(milli)) : Optional.empty();
      };

  private static Pod pod(String provider, String product, String gpus, String milli) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("p")
        .withLabels(Map.of("gpupool.io/provider", provider))
        .withAnnotations(
            Map.of(
                "gpupool.io/gpu-product", product,
                "gpupool.io/gpus", gpus,
                "gpupool.io/gpu-milli", milli))
        .endMetadata()
        .build();
  }

  private static ShardAssignment shard(String provider, int gpus, int milli) {
    return new ShardAssignment(
        0, 0, 1, "n", provider, "r", "A100", gpus, milli, gpus, "nvidia.com/gpu", 0, 1);
  }

  @Test
  void addsRunningPodsAndPlannedShardsAtTheirProvidersPrices() {
    BigInteger wei =
        ReplicaCost.weiPerHour(
            List.of(pod("cheap", "RTX", "2", "1000"), pod("cheap", "RTX", "1", "250")),
            List.of(shard("cheap", 4, 1000), shard("cheap", 1, 500)),
            prices);
    assertThat(wei).isEqualTo(BigInteger.valueOf(2000 + 250 + 4000 + 500));
    assertThat(asked)
        .containsExactly("cheap/RTX/2000", "cheap/RTX/250", "cheap/A100/4000", "cheap/A100/500");
  }

  @Test
  void unpricedCapacityAndPodsWithoutPlacementCostNothing() {
    Pod bare = new PodBuilder().withNewMetadata().withName("bare").endMetadata().build();
    BigInteger wei =
        ReplicaCost.weiPerHour(
            List.of(bare, pod("unpriced", "RTX", "1", "1000")),
            List.of(shard("unpriced", 1, 1000)),
            prices);
    assertThat(wei).isZero();
    assertThat(asked).containsExactly("unpriced/RTX/1000", "unpriced/A100/1000");
  }
}
