package io.gpupool.operator.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GatheredChangesTest {
  private record Call(String cause, Set<String> nodes) {}

  private final List<Call> calls = new ArrayList<>();
  private final List<Runnable> scheduled = new ArrayList<>();
  private final GatheredChanges changes =
      new GatheredChanges((cause, nodes) -> calls.add(new Call(cause, nodes)), scheduled::add);

  @Test
  void aBurstOfChangesIsHandedOnOncePerCauseWithEveryNodeItNamed() {
    for (int i = 0; i < 1000; i++) {
      changes.add("release", null);
    }
    changes.add("node", "n1");
    changes.add("node", "n2");
    changes.add("node", "n1");
    changes.add("stake", null);
    assertThat(scheduled).as("one hand-on scheduled for the whole burst").hasSize(1);
    assertThat(calls).as("nothing before the gathering period ends").isEmpty();

    scheduled.remove(0).run();
    assertThat(calls)
        .containsExactly(
            new Call("release", Set.of()),
            new Call("node", Set.of("n1", "n2")),
            new Call("stake", Set.of()));
  }

  @Test
  void aChangeAfterAHandOnWaitsForTheNextOne() {
    changes.add("release", null);
    scheduled.remove(0).run();
    changes.add("node", "n3");
    assertThat(scheduled).hasSize(1);
    scheduled.remove(0).run();
    assertThat(calls)
        .containsExactly(new Call("release", Set.of()), new Call("node", Set.of("n3")));
    scheduled.forEach(Runnable::run);
    assertThat(calls).as("nothing handed on twice").hasSize(2);
  }

  @Test
  void aFailingListenerDoesNotStopTheOtherCauses() {
    List<String> seen = new ArrayList<>();
    GatheredChanges failing =
        new GatheredChanges(
            (cause, nodes) -> {
              seen.add(cause);
              if (cause.equals("release")) {
                throw new IllegalStateException("cache not ready");
              }
            },
            scheduled::add);
    failing.add("release", null);
    failing.add("provider", null);
    scheduled.remove(0).run();
    assertThat(seen).containsExactly("release", "provider");
    failing.add("release", null);
    assertThat(scheduled).as("still schedules after a failure").hasSize(1);
  }
}
