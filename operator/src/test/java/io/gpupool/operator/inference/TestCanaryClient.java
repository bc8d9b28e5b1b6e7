package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.scheduler.verify.CanaryAnswer;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Replicas answering canaries in Quarkus tests, in place of {@link HttpCanaryClient}: every replica
 * serves the same "model" (its answer is a function of the prompt) unless its node was set to serve
 * another; each answer takes {@link #ANSWER_MILLIS}, during which the canary counts in its
 * replica's in-flight requests as a real server's gauge would ({@link #inFlight}, which {@link
 * TestLoadSignal} adds to what it reports).
 */
@ApplicationScoped
public class TestCanaryClient implements CanaryClient {
  public static final long ANSWER_MILLIS = 300;
  private static final Set<String> WRONG_MODEL_NODES = ConcurrentHashMap.newKeySet();
  private static final Map<String, AtomicInteger> IN_FLIGHT = new ConcurrentHashMap<>();
  private static final AtomicInteger SERVED = new AtomicInteger();
  private static final Executor LATER =
      CompletableFuture.delayedExecutor(ANSWER_MILLIS, TimeUnit.MILLISECONDS);

  /** The node's replicas answer from another model from now on. */
  public static void serveWrongModel(String node) {
    WRONG_MODEL_NODES.add(node);
  }

  /** Canaries the leader pod is answering now. */
  public static int inFlight(Pod leader) {
    AtomicInteger n = IN_FLIGHT.get(leader.getMetadata().getName());
    return n == null ? 0 : n.get();
  }

  /** Canaries answered so far, by every replica. */
  public static int served() {
    return SERVED.get();
  }

  @Override
  public CompletionStage<Optional<CanaryAnswer>> complete(
      Pod leader, int port, String prompt, int maxTokens, long seed, boolean logprobs) {
    AtomicInteger n =
        IN_FLIGHT.computeIfAbsent(leader.getMetadata().getName(), k -> new AtomicInteger());
    n.incrementAndGet();
    boolean wrong = WRONG_MODEL_NODES.contains(leader.getSpec().getNodeName());
    String text = (wrong ? "small-model:" : "model:") + Integer.toHexString(prompt.hashCode());
    return CompletableFuture.supplyAsync(
        () -> {
          SERVED.incrementAndGet();
          n.decrementAndGet();
          return Optional.of(
              CanaryAnswer.text(text.substring(0, Math.min(text.length(), maxTokens))));
        },
        LATER);
  }
}
