package io.gpupool.billing.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeySourceTest {
  // anvil's public dev key #1 (not a secret).
  static final String KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

  @Test
  void readsTheKeyFromTheEnvironment() {
    assertThat(KeySource.fromEnvironment(Map.of("K", KEY), "K").getAddress())
        .isEqualTo("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
  }

  @Test
  void readsTheKeyFromASecretFile(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("reporter-key");
    Files.writeString(f, KEY + "\n");
    assertThat(KeySource.fromSecretFile(f).getAddress())
        .isEqualTo("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
  }

  @Test
  void errorsNeverContainTheKeyMaterial() {
    String almost = KEY.substring(0, KEY.length() - 1) + "z";
    assertThatThrownBy(() -> KeySource.fromEnvironment(Map.of("K", almost), "K"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("environment variable K")
        .hasMessageNotContaining(almost.substring(2, 20));
    assertThatThrownBy(() -> KeySource.fromEnvironment(Map.of(), "K"))
        .hasMessageContaining("K")
        .hasMessageContaining("not set");
  }
}
