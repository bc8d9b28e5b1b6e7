package io.gpupool.operator.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.gpupool.operator.billing.PlacedTerms;
import io.gpupool.operator.billing.PlacementTerms;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
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
        .withName("p-" + provider + "-" + gpus + "-" + milli)
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

  /** The terms the operator recorded for the pods it placed, by pod name. */
  private static Function<Pod, Optional<PlacedTerms>> recorded(Map<String, PlacedTerms> byName) {
    return pod -> Optional.ofNullable(byName.get(pod.getMetadata().getName()));
  }

  private static PlacedTerms terms(String provider, long weiPerGpuHour, long milliGpus) {
    return new PlacedTerms(
        "n", provider, new PlacementTerms(BigInteger.valueOf(weiPerGpuHour), milliGpus));
  }

  @Test
  void addsRunningPodsAtTheirTermsAndPlannedShardsAtTheirProvidersPrices() {
    Pod two = pod("cheap", "RTX", "2", "1000");
    Pod quarter = pod("cheap", "RTX", "1", "250");
    BigInteger wei =
        ReplicaCost.weiPerHour(
            List.of(two, quarter),
            recorded(
                Map.of(
                    two.getMetadata().getName(), terms("cheap", 1000, 2000),
                    quarter.getMetadata().getName(), terms("cheap", 1001, 250))),
            List.of(shard("cheap", 4, 1000), shard("cheap", 1, 500)),
            prices);
    // 250/1000 of 1001 wei rounds up to 251, as the meter charges it
    assertThat(wei).isEqualTo(BigInteger.valueOf(2000 + 251 + 4000 + 500));
    assertThat(asked).containsExactly("cheap/A100/4000", "cheap/A100/500");
  }

  /**
   * A tenant rewrites the terms annotations and the provider label of its running pods: the
   * estimate the budget gate uses stays the terms the operator recorded.
   */
  @Test
  void aTenantRewritingItsPodsAnnotationsDoesNotChangeTheEstimate() {
    Pod asPlaced = pod("cheap", "RTX", "2", "1000");
    Pod rewritten =
        new PodBuilder(pod("unpriced", "RTX", "1", "1"))
            .editMetadata()
            .withName(asPlaced.getMetadata().getName())
            .addToAnnotations(PlacementTerms.PRICE_ANNOTATION, "0")
            .addToAnnotations(PlacementTerms.MILLI_GPUS_ANNOTATION, "1")
            .endMetadata()
            .build();
    var terms = recorded(Map.of(asPlaced.getMetadata().getName(), terms("cheap", 1000, 2000)));
    BigInteger before = ReplicaCost.weiPerHour(List.of(asPlaced), terms, List.of(), prices);
    BigInteger after = ReplicaCost.weiPerHour(List.of(rewritten), terms, List.of(), prices);
    assertThat(before).isEqualTo(BigInteger.valueOf(2000));
    assertThat(after).isEqualTo(before);
  }

  @Test
  void unpricedCapacityAndPodsWithoutTermsCostNothing() {
    Pod bare = new PodBuilder().withNewMetadata().withName("bare").endMetadata().build();
    BigInteger wei =
        ReplicaCost.weiPerHour(
            List.of(bare, pod("unpriced", "RTX", "1", "1000")),
            recorded(Map.of()),
            List.of(shard("unpriced", 1, 1000)),
            prices);
    assertThat(wei).isZero();
    assertThat(asked).containsExactly("unpriced/A100/1000");
  }
}
