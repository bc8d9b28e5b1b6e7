package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.scheduler.verify.CanaryAnswer;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Where the cross-checker sends a canary: an OpenAI-style completion with greedy decoding to a
 * replica's leader. Tests use a fake.
 */
public interface CanaryClient {
  /**
   * Asks the replica led by {@code leader} to complete {@code prompt} greedily.
   *
   * @param logprobs ask for per-token log-probabilities as well
   * @return the answer, or empty when the replica could not be reached or answered with an error
   *     (never completes exceptionally)
   */
  CompletionStage<Optional<CanaryAnswer>> complete(
      Pod leader, int port, String prompt, int maxTokens, long seed, boolean logprobs);
}
