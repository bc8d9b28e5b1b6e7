package io.gpupool.operator.verification;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CheckpointLogTest {

  @Test
  void checkpointLinesAreFoundUnderTorchrunsPrefixInOrderAndOnce() {
    String log =
        "[default0]:[rank 0] step 10 loss 0.1\n"
            + "[default0]:GPUPOOL-CHECKPOINT {\"step\": 10}\n"
            + "GPUPOOL-CHECKPOINT {\"step\":30}\n"
            + "[default0]:GPUPOOL-CHECKPOINT {\"step\": 20}\n"
            + "[default0]:GPUPOOL-CHECKPOINT {\"step\": 20}\n";
    assertThat(CheckpointLog.stepsAfter(log, 0)).containsExactly(10L, 20L, 30L);
    assertThat(CheckpointLog.stepsAfter(log, 10)).containsExactly(20L, 30L);
  }

  @Test
  void linesThatOnlyLookLikeTheContractAreNotCheckpoints() {
    String log =
        "[rank 0] checkpoint step 40 saved to /tmp/x/step-000040.pt\n"
            + "GPUPOOL-CHECKPOINT {\"step\": -5}\n"
            + "GPUPOOL-CHECKPOINT {\"step\": \"50\"}\n"
            + "GPUPOOL-CHECKPOINT step 60\n";
    assertThat(CheckpointLog.stepsAfter(log, 0)).isEmpty();
  }
}
