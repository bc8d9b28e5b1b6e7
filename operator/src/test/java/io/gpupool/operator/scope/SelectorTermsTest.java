package io.gpupool.operator.scope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SelectorTermsTest {
  private static boolean matches(String selector, Map<String, String> labels) {
    return SelectorTerms.parse(selector).matches(labels);
  }

  private static boolean disjoint(String a, String b) {
    boolean ab = SelectorTerms.parse(a).disjointFrom(SelectorTerms.parse(b));
    assertThat(SelectorTerms.parse(b).disjointFrom(SelectorTerms.parse(a)))
        .as("disjointness is symmetric")
        .isEqualTo(ab);
    return ab;
  }

  @Test
  void matchesWithTheApiServersSemantics() {
    Map<String, String> teamA = Map.of("gpupool.io/pool", "a", "tier", "gpu");
    assertThat(matches("gpupool.io/pool=a", teamA)).isTrue();
    assertThat(matches("gpupool.io/pool==a", teamA)).isTrue();
    assertThat(matches("gpupool.io/pool=b", teamA)).isFalse();
    assertThat(matches("gpupool.io/pool!=b", teamA)).isTrue();
    assertThat(matches("gpupool.io/pool!=b", Map.of())).isTrue();
    assertThat(matches("tier in (gpu, cpu),gpupool.io/pool", teamA)).isTrue();
    assertThat(matches("tier notin (gpu)", teamA)).isFalse();
    assertThat(matches("tier notin (gpu)", Map.of())).isTrue();
    assertThat(matches("!legacy", teamA)).isTrue();
    assertThat(matches("!tier", teamA)).isFalse();
    assertThat(matches("gpupool.io/pool=a,!tier", teamA)).isFalse();
    assertThat(matches("gpupool.io/pool=a", null)).isFalse();
  }

  @Test
  void disjointOnlyWhenOneKeyMakesItImpossible() {
    assertThat(disjoint("gpupool.io/pool=a", "gpupool.io/pool=b")).isTrue();
    assertThat(disjoint("gpupool.io/pool in (a,b)", "gpupool.io/pool in (c)")).isTrue();
    assertThat(disjoint("gpupool.io/pool", "!gpupool.io/pool")).isTrue();
    assertThat(disjoint("gpupool.io/pool=a,team=x", "gpupool.io/pool=b")).isTrue();
    // A namespace labelled pool=a and team=x matches both: not provably disjoint.
    assertThat(disjoint("gpupool.io/pool=a", "team=x")).isFalse();
    assertThat(disjoint("gpupool.io/pool in (a,b)", "gpupool.io/pool=b")).isFalse();
    assertThat(disjoint("gpupool.io/pool=a", "gpupool.io/pool!=b")).isFalse();
    assertThat(disjoint("gpupool.io/pool notin (a)", "gpupool.io/pool=a"))
        .as("notin is not used to prove disjointness (conservative)")
        .isFalse();
  }

  @Test
  void anEmptyOrMalformedSelectorIsRefusedWithWhatIsExpected() {
    assertThatThrownBy(() -> SelectorTerms.parse(" "))
        .hasMessageContaining("leave it unset to manage every namespace");
    assertThatThrownBy(() -> SelectorTerms.parse("pool=a,tier >> gpu"))
        .hasMessageContaining("term 'tier >> gpu' is none of key, !key, key=value");
  }
}
