package io.gpupool.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CanaryPromptsTest {
  @Test
  void theSameSeedGivesTheSamePromptsSoEvidenceReproduces() {
    assertThat(CanaryPrompts.forSeed(42, 3)).isEqualTo(CanaryPrompts.forSeed(42, 3));
  }

  @Test
  void promptsAreDistinctWithinACheckAndChangeWithTheSeed() {
    List<String> prompts = CanaryPrompts.forSeed(7, CanaryPrompts.BASES.size());
    assertThat(new HashSet<>(prompts)).hasSize(prompts.size());
    Set<String> seen = new HashSet<>();
    for (long seed = 0; seed < 200; seed++) {
      seen.add(CanaryPrompts.forSeed(seed, 1).get(0));
    }
    // 8 bases x 28^4 suffixes: 200 seeds practically never repeat a prompt
    assertThat(seen.size()).isGreaterThan(195);
  }

  @Test
  void eachPromptIsABaseAndFourWordsOfThePlainVocabulary() {
    for (String prompt : CanaryPrompts.forSeed(-3, 4)) {
      String base =
          CanaryPrompts.BASES.stream().filter(prompt::startsWith).findFirst().orElseThrow();
      String[] words = prompt.substring(base.length()).trim().split(" ");
      assertThat(words).hasSize(CanaryPrompts.SUFFIX_WORDS);
      assertThat(CanaryPrompts.WORDS).contains(words);
    }
  }

  @Test
  void theCountIsBounded() {
    assertThatThrownBy(() -> CanaryPrompts.forSeed(1, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CanaryPrompts.forSeed(1, CanaryPrompts.BASES.size() + 1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
