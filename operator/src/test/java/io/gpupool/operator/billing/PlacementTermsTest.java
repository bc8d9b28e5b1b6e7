package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.gpupool.billing.TokenUnits;
import java.math.BigInteger;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PlacementTermsTest {
  static final BigInteger LISTED = TokenUnits.toWei("0.40");

  static Pod pod() {
    return new PodBuilder().withNewMetadata().withName("p").endMetadata().build();
  }

  @Test
  void theListedPriceIsCappedByTheJobsCeiling() {
    assertThat(PlacementTerms.at(Optional.of(LISTED), "0.25", 1000).priceWeiPerGpuHour())
        .isEqualTo(TokenUnits.toWei("0.25"));
    assertThat(PlacementTerms.at(Optional.of(LISTED), "2.50", 1000).priceWeiPerGpuHour())
        .isEqualTo(LISTED);
    assertThat(PlacementTerms.at(Optional.of(LISTED), null, 1000).priceWeiPerGpuHour())
        .isEqualTo(LISTED);
    assertThat(PlacementTerms.at(Optional.empty(), "1", 500).priceWeiPerGpuHour()).isZero();
  }

  @Test
  void termsWrittenOnAPodReadBackAndReplaceWhatATemplateBrought() {
    Pod forged =
        new PodBuilder(pod())
            .editMetadata()
            .addToAnnotations(PlacementTerms.PRICE_ANNOTATION, "999999999999999999999")
            .addToAnnotations("team", "a")
            .endMetadata()
            .build();
    Pod written = new PlacementTerms(LISTED, 250).writeOn(forged);
    assertThat(PlacementTerms.readFrom(written)).contains(new PlacementTerms(LISTED, 250));
    assertThat(written.getMetadata().getAnnotations()).containsEntry("team", "a");
  }

  @Test
  void missingOrUnreadableTermsReadAsNone() {
    assertThat(PlacementTerms.readFrom(pod())).isEmpty();
    for (String[] bad :
        new String[][] {{"-1", "1000"}, {"1.5", "1000"}, {"1", "1e3"}, {"1", "99999999999"}}) {
      Pod p =
          new PodBuilder(pod())
              .editMetadata()
              .addToAnnotations(PlacementTerms.PRICE_ANNOTATION, bad[0])
              .addToAnnotations(PlacementTerms.MILLI_GPUS_ANNOTATION, bad[1])
              .endMetadata()
              .build();
      assertThat(PlacementTerms.readFrom(p)).as(String.join("/", bad)).isEmpty();
    }
  }
}
