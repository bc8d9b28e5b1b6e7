package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.billing.chain.ChainUnavailableException;
import io.gpupool.billing.chain.ContractVersionMismatchException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ChainConnectionTest {
  private final Deque<Runnable> retries = new ArrayDeque<>();
  private final List<Duration> waits = new ArrayList<>();
  private final AtomicInteger connected = new AtomicInteger();

  private ChainConnection connection(ChainConnection.Attempt attempt) {
    return new ChainConnection(
        attempt,
        (task, wait) -> {
          retries.add(task);
          waits.add(wait);
        },
        connected::incrementAndGet);
  }

  @Test
  void anRpcErrorAtTheFirstAttemptDelaysSettlementAndNeverCancelsIt() {
    AtomicInteger calls = new AtomicInteger();
    ChainConnection c =
        connection(
            () -> {
              if (calls.incrementAndGet() <= 3) {
                throw new ChainUnavailableException("RPC unavailable: 502", null);
              }
            });

    c.start();
    assertThat(c.connected()).isFalse();
    assertThat(c.problem()).hasValueSatisfying(p -> assertThat(p).contains("502"));
    while (!retries.isEmpty()) {
      retries.poll().run();
    }

    assertThat(calls).hasValue(4);
    assertThat(c.connected()).isTrue();
    assertThat(c.problem()).isEmpty();
    assertThat(connected).as("the connected callback runs once").hasValue(1);
    assertThat(waits)
        .containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4));
  }

  @Test
  void aContractOfAnotherVersionIsReportedAndNotRetried() {
    ChainConnection c =
        connection(
            () -> {
              throw new ContractVersionMismatchException("is GpuPoolBilling version 1", null);
            });

    c.start();

    assertThat(retries).isEmpty();
    assertThat(c.connected()).isFalse();
    assertThat(connected).hasValue(0);
    assertThat(c.problem()).hasValue("is GpuPoolBilling version 1");
  }

  @Test
  void aStoppedConnectionTriesNoMore() {
    AtomicInteger calls = new AtomicInteger();
    ChainConnection c =
        connection(
            () -> {
              calls.incrementAndGet();
              throw new ChainUnavailableException("RPC unavailable", null);
            });
    c.start();
    c.stop();
    retries.poll().run();
    assertThat(calls).hasValue(1);
  }

  @Test
  void backoffDoublesUpToThirtySeconds() {
    assertThat(ChainConnection.backoff(1)).isEqualTo(Duration.ofSeconds(1));
    assertThat(ChainConnection.backoff(5)).isEqualTo(Duration.ofSeconds(16));
    assertThat(ChainConnection.backoff(6)).isEqualTo(Duration.ofSeconds(30));
    assertThat(ChainConnection.backoff(400)).isEqualTo(Duration.ofSeconds(30));
  }
}
