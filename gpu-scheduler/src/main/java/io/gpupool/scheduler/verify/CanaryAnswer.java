package io.gpupool.scheduler.verify;

import java.util.List;
import java.util.Objects;

/**
 * One replica's answer to one canary prompt.
 *
 * @param text the completion text
 * @param tokens the generated tokens as the server reports them (OpenAI {@code logprobs.tokens}),
 *     or empty when it reports none: the text is then compared as a whole
 * @param logprobs the log-probability of each generated token ({@code logprobs.token_logprobs}),
 *     the same length as {@code tokens}, or empty when the server reports none
 */
public record CanaryAnswer(String text, List<String> tokens, List<Double> logprobs) {
  public CanaryAnswer {
    Objects.requireNonNull(text, "text");
    tokens = List.copyOf(tokens);
    logprobs = List.copyOf(logprobs);
    if (!logprobs.isEmpty() && logprobs.size() != tokens.size()) {
      throw new IllegalArgumentException(
          "logprobs for " + logprobs.size() + " tokens but " + tokens.size() + " tokens");
    }
  }

  /** An answer from a server that reports text only. */
  public static CanaryAnswer text(String text) {
    return new CanaryAnswer(text, List.of(), List.of());
  }

  /** True when per-token log-probabilities came with the answer. */
  public boolean hasLogprobs() {
    return !logprobs.isEmpty();
  }

  /** The tokens, or the text's characters when the server reported no tokens. */
  List<String> tokensOrText() {
    return tokens.isEmpty() ? text.codePoints().mapToObj(Character::toString).toList() : tokens;
  }
}
