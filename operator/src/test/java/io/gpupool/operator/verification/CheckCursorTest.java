package io.gpupool.operator.verification;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.api.v1alpha1.TrainingVerificationStatus;
import io.gpupool.operator.verification.CheckCursor.Decision;
import org.junit.jupiter.api.Test;

class CheckCursorTest {

  private static TrainingVerificationStatus fresh() {
    TrainingVerificationStatus v = new TrainingVerificationStatus();
    v.checkedThrough = 0L;
    v.lastVerifiedCheckpoint = 0L;
    return v;
  }

  @Test
  void verifiedIntervalsInARowMoveTheResumePoint() {
    TrainingVerificationStatus v = fresh();
    CheckCursor.decided(v, 0, 10, Decision.VERIFIED);
    CheckCursor.decided(v, 10, 20, Decision.VERIFIED);
    assertThat(v.lastVerifiedCheckpoint).isEqualTo(20L);
    assertThat(v.checkedThrough).isEqualTo(20L);
  }

  @Test
  void anUnsampledIntervalIsNotTrustedNorIsAnythingAfterIt() {
    TrainingVerificationStatus v = fresh();
    CheckCursor.decided(v, 0, 10, Decision.VERIFIED);
    CheckCursor.decided(v, 10, 20, Decision.UNSAMPLED);
    assertThat(v.lastVerifiedCheckpoint).isEqualTo(10L);
    // replayed from checkpoint 20, which nobody checked: its match proves nothing about 10..20
    CheckCursor.decided(v, 20, 30, Decision.VERIFIED);
    assertThat(v.lastVerifiedCheckpoint).isEqualTo(10L);
    assertThat(v.checkedThrough).isEqualTo(30L);
  }

  @Test
  void anUnsampledFirstIntervalLeavesTheStartAsTheResumePoint() {
    TrainingVerificationStatus v = fresh();
    CheckCursor.decided(v, 0, 10, Decision.UNSAMPLED);
    CheckCursor.decided(v, 10, 20, Decision.VERIFIED);
    assertThat(v.lastVerifiedCheckpoint).isZero();
    assertThat(v.checkedThrough).isEqualTo(20L);
  }

  @Test
  void anIntervalLeftUncheckedStopsTheResumePointToo() {
    TrainingVerificationStatus v = fresh();
    CheckCursor.decided(v, 0, 10, Decision.VERIFIED);
    CheckCursor.decided(v, 10, 20, Decision.UNCHECKED);
    CheckCursor.decided(v, 20, 30, Decision.VERIFIED);
    assertThat(v.lastVerifiedCheckpoint).isEqualTo(10L);
  }

  @Test
  void afterARewindTheVerifiedRunStartsAgainFromTheResumePoint() {
    TrainingVerificationStatus v = fresh();
    CheckCursor.decided(v, 0, 10, Decision.VERIFIED);
    // a cheat caught in 10..20: the gang resumed from 10 and the cursor went back there
    v.checkedThrough = 10L;
    CheckCursor.decided(v, 10, 20, Decision.VERIFIED);
    assertThat(v.lastVerifiedCheckpoint).isEqualTo(20L);
  }
}
