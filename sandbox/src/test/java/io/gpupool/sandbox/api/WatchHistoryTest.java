package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.mockwebserver.crud.AttributeSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class WatchHistoryTest {

  private static WatchHistory.Write write(long rv) {
    return new WatchHistory.Write(rv, null, null, new AttributeSet(), "{\"rv\":" + rv + "}");
  }

  private static List<Long> versions(List<WatchHistory.Write> writes) {
    return writes.stream().map(WatchHistory.Write::resourceVersion).toList();
  }

  @Test
  void replaysOnlyTheWritesAfterTheVersionOfTheirOwnResource() {
    WatchHistory history = new WatchHistory(10);
    history.record("configmaps", write(3));
    history.record("pods", write(4));
    history.record("configmaps", write(5));
    history.record("configmaps", write(7));

    assertThat(versions(history.after("configmaps", 4).orElseThrow())).containsExactly(5L, 7L);
    assertThat(versions(history.after("configmaps", 0).orElseThrow())).containsExactly(3L, 5L, 7L);
    assertThat(history.after("configmaps", 7).orElseThrow()).isEmpty();
    assertThat(versions(history.after("pods", 1).orElseThrow())).containsExactly(4L);
    assertThat(history.after("leases", 2).orElseThrow()).as("nothing written yet").isEmpty();
  }

  @Test
  void aVersionOlderThanTheKeptWritesIsTooOldButTheLastForgottenOneIsNot() {
    WatchHistory history = new WatchHistory(2);
    history.record("pods", write(10));
    history.record("pods", write(11));
    history.record("pods", write(12));

    assertThat(history.oldestReplayable("pods")).isEqualTo(10);
    assertThat(history.after("pods", 9)).as("write 10 is forgotten").isEmpty();
    assertThat(versions(history.after("pods", 10).orElseThrow())).containsExactly(11L, 12L);
    assertThat(history.after("configmaps", 1)).as("other resources keep theirs").isPresent();

    history.clear();
    assertThat(history.after("pods", 1)).isPresent();
  }

  @Test
  void aHistoryKeepsAtLeastOneWrite() {
    assertThatThrownBy(() -> new WatchHistory(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
