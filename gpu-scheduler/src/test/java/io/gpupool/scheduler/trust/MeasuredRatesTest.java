package io.gpupool.scheduler.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Measured rates are read from the line {@code challenge.py --bench} prints, and bad ones refused.
 */
class MeasuredRatesTest {

  @Test
  void entriesAreReadAndLookedUpInAnySpellingTheCatalogAccepts() {
    MeasuredRates rates =
        MeasuredRates.parse(
            List.of("NVIDIA-H100-80GB-HBM3@512=1480", " NVIDIA-GeForce-RTX-3090@512=296.5 ", ""));
    assertThat(rates.at("NVIDIA-H100-80GB-HBM3", 512))
        .contains(new MeasuredRate("NVIDIA-H100-80GB-HBM3", 512, 1480));
    // The catalog's own name, and a time-sliced node's label, are the same product.
    assertThat(rates.at("H100-80GB-HBM3", 512)).isPresent();
    assertThat(rates.at("NVIDIA-H100-80GB-HBM3-SHARED", 512)).isPresent();
    assertThat(rates.at("nvidia-geforce-rtx-3090", 512).orElseThrow().roundsPerSecond())
        .isEqualTo(296.5);
    // A rate holds for the size it was measured at only.
    assertThat(rates.at("NVIDIA-H100-80GB-HBM3", 1024)).isEmpty();
    assertThat(rates.at("NVIDIA-A100-SXM4-80GB", 512)).isEmpty();
    assertThat(MeasuredRates.parse(List.of())).isSameAs(MeasuredRates.none());
  }

  @Test
  void anEntryReadsBackAsTheRateItWasWrittenFrom() {
    for (MeasuredRate r :
        List.of(
            new MeasuredRate("cpu", 512, 15.5),
            new MeasuredRate("NVIDIA-H100-80GB-HBM3", 2048, 25_000),
            new MeasuredRate("Tesla-T4", 8, 0.001))) {
      assertThat(MeasuredRates.parse(List.of(MeasuredRates.entry(r))).all()).containsExactly(r);
    }
    assertThat(MeasuredRates.entry(new MeasuredRate("cpu", 512, 15.5))).isEqualTo("cpu@512=15.5");
  }

  @Test
  void badRatesAreRefusedSayingWhatIsWrong() {
    assertThatThrownBy(() -> MeasuredRates.parse(List.of("NVIDIA-H100-80GB-HBM3@512=0")))
        .hasMessageContaining("'NVIDIA-H100-80GB-HBM3@512=0'")
        .hasMessageContaining("must be a number above 0, was 0.0");
    assertThatThrownBy(() -> MeasuredRates.parse(List.of("NVIDIA-H100-80GB-HBM3@512=-3")))
        .hasMessageContaining("above 0");
    assertThatThrownBy(() -> MeasuredRates.parse(List.of("NVIDIA-H100-80GB-HBM3@512=NaN")))
        .hasMessageContaining("above 0");
    assertThatThrownBy(() -> MeasuredRates.parse(List.of("NVIDIA-H100-80GB-HBM3@512=Infinity")))
        .hasMessageContaining("above 0");
    assertThatThrownBy(() -> MeasuredRates.parse(List.of("NVIDIA-H100-80GB-HBM3@512=fast")))
        .hasMessageContaining("the rounds per second are not a number");
    assertThatThrownBy(() -> MeasuredRates.parse(List.of("NVIDIA-H100-80GB-HBM3@4096=1480")))
        .hasMessageContaining("must be a challenge size, 8..2048, was 4096");
    assertThatThrownBy(() -> MeasuredRates.parse(List.of("NVIDIA-H100-80GB-HBM3@big=1480")))
        .hasMessageContaining("the size is not a whole number");
    assertThatThrownBy(() -> MeasuredRates.parse(List.of("NVIDIA-H100-80GB-HBM3=1480")))
        .hasMessageContaining("is not PRODUCT@SIZE=ROUNDS_PER_SECOND");
    assertThatThrownBy(() -> MeasuredRates.parse(List.of("NVIDIA H100@512=1480")))
        .hasMessageContaining("as GFD labels it");
    assertThatThrownBy(
            () ->
                MeasuredRates.parse(
                    List.of("NVIDIA-H100-80GB-HBM3@512=1480", "H100-80GB-HBM3@512=1500")))
        .hasMessageContaining("two rates for H100-80GB-HBM3 at size 512")
        .hasMessageContaining("NVIDIA-H100-80GB-HBM3@512=1480 and H100-80GB-HBM3@512=1500");
  }
}
