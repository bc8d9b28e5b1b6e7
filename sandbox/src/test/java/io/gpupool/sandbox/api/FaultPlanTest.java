package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.sandbox.api.FaultPlan.Fault;
import io.gpupool.sandbox.api.FaultPlan.Target;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FaultPlanTest {
  private static final UserInfo OPERATOR = UserInfo.serviceAccount("gpupool-system", "gpupool");
  private static final Target GET = new Target("GET", false, false, false);
  private static final Target PUT = new Target("PUT", false, false, true);
  private static final Target POST = new Target("POST", false, false, false);
  private static final Target WATCH_FROM_RV = new Target("GET", true, true, false);
  private static final Target WATCH_FROM_0 = new Target("GET", true, false, false);

  @Test
  void parsesRatesByNameWithAllAsTheDefault() {
    FaultPlan plan = FaultPlan.parse("conflict=0.1, all=0.02,watch-gone=0.3", 1);
    assertThat(plan.rate(Fault.CONFLICT)).isEqualTo(0.1);
    assertThat(plan.rate(Fault.WATCH_GONE)).isEqualTo(0.3);
    assertThat(plan.rate(Fault.LOST_REPLY)).isEqualTo(0.02);
    assertThat(plan.rate(Fault.SLOW)).isEqualTo(0.02);
  }

  @Test
  void refusesUnknownNamesBadRatesAndRatesAddingUpOverOne() {
    assertThatThrownBy(() -> FaultPlan.parse("conflicts=0.1", 1))
        .hasMessageContaining("unknown fault 'conflicts'")
        .hasMessageContaining("lost-reply");
    assertThatThrownBy(() -> FaultPlan.parse("conflict=x", 1)).hasMessageContaining("not a number");
    assertThatThrownBy(() -> FaultPlan.parse("conflict", 1)).hasMessageContaining("NAME=RATE");
    assertThatThrownBy(() -> FaultPlan.parse("slow=1.5", 1))
        .hasMessageContaining("between 0 and 1");
    assertThatThrownBy(() -> FaultPlan.parse("slow=0.6,throttle=0.6", 1))
        .hasMessageContaining("add up to at most 1");
    // watch faults are drawn apart from request faults: each side may add up to 1
    FaultPlan.parse("slow=0.6,throttle=0.4,watch-gone=0.5,watch-closed=0.5", 1);
  }

  @Test
  void drawsEachFaultAboutAsOftenAsItsRateAndCountsWhatItInjects() {
    Map<Fault, Double> rates = new EnumMap<>(Fault.class);
    rates.put(Fault.THROTTLE, 0.1);
    rates.put(Fault.SERVER_ERROR, 0.2);
    rates.put(Fault.SLOW, 0.3);
    FaultPlan plan = FaultPlan.of(rates, 42);
    Map<Fault, Integer> seen = new EnumMap<>(Fault.class);
    int n = 20_000;
    for (int i = 0; i < n; i++) {
      Fault f = plan.draw(OPERATOR, GET);
      if (f != null) {
        seen.merge(f, 1, Integer::sum);
      }
    }
    assertThat(seen.get(Fault.THROTTLE) / (double) n)
        .isCloseTo(0.1, org.assertj.core.data.Offset.offset(0.01));
    assertThat(seen.get(Fault.SERVER_ERROR) / (double) n)
        .isCloseTo(0.2, org.assertj.core.data.Offset.offset(0.01));
    assertThat(seen.get(Fault.SLOW) / (double) n)
        .isCloseTo(0.3, org.assertj.core.data.Offset.offset(0.01));
    assertThat(plan.counts().get(Fault.THROTTLE)).isEqualTo((long) seen.get(Fault.THROTTLE));
    assertThat(plan.total()).isEqualTo(seen.values().stream().mapToLong(Integer::longValue).sum());
  }

  @Test
  void theSameSeedInjectsTheSameSequence() {
    List<Fault> a = sequence(FaultPlan.uniform(0.05, 7));
    List<Fault> b = sequence(FaultPlan.uniform(0.05, 7));
    List<Fault> c = sequence(FaultPlan.uniform(0.05, 8));
    assertThat(a).isEqualTo(b).isNotEqualTo(c);
  }

  private static List<Fault> sequence(FaultPlan plan) {
    java.util.ArrayList<Fault> out = new java.util.ArrayList<>();
    for (int i = 0; i < 500; i++) {
      out.add(plan.draw(OPERATOR, i % 2 == 0 ? PUT : GET));
    }
    return out;
  }

  @Test
  void faultsOnlyHitTheRequestsTheyCanHit() {
    FaultPlan conflicts = FaultPlan.parse("conflict=1", 1);
    assertThat(conflicts.draw(OPERATOR, PUT)).isEqualTo(Fault.CONFLICT);
    assertThat(conflicts.draw(OPERATOR, POST)).as("a create cannot be stale").isNull();
    assertThat(conflicts.draw(OPERATOR, GET)).isNull();
    assertThat(conflicts.draw(OPERATOR, WATCH_FROM_RV)).as("a watch gets watch faults").isNull();

    FaultPlan lost = FaultPlan.parse("lost-reply=1", 1);
    assertThat(lost.draw(OPERATOR, POST)).isEqualTo(Fault.LOST_REPLY);
    assertThat(lost.draw(OPERATOR, GET)).as("only a write's reply is lost").isNull();

    FaultPlan gone = FaultPlan.parse("watch-gone=1", 1);
    assertThat(gone.draw(OPERATOR, WATCH_FROM_RV)).isEqualTo(Fault.WATCH_GONE);
    assertThat(gone.draw(OPERATOR, WATCH_FROM_0)).as("no version, nothing too old").isNull();
    assertThat(gone.counts().get(Fault.WATCH_GONE)).isEqualTo(1);
  }

  @Test
  void onlyTheTargetedUsersAreTouched() {
    FaultPlan plan = FaultPlan.parse("server-error=1", 1);
    assertThat(plan.draw(UserInfo.ADMIN, GET)).as("kubectl and the kubelet simulator").isNull();
    assertThat(plan.draw(OPERATOR, GET)).isEqualTo(Fault.SERVER_ERROR);
    FaultPlan adminToo = plan.targeting(u -> true);
    assertThat(adminToo.draw(UserInfo.ADMIN, GET)).isEqualTo(Fault.SERVER_ERROR);
    assertThat(FaultPlan.none().draw(OPERATOR, PUT)).isNull();
    assertThat(FaultPlan.none().total()).isZero();
  }
}
