package io.gpupool.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SandboxMainTest {

  @Test
  void optionsAreParsed() {
    SandboxMain.Options o =
        SandboxMain.Options.parse(
            new String[] {
              "--port",
              "7000",
              "--kubeconfig",
              "/tmp/kc",
              "--operator-cmd",
              "java -jar op.jar",
              "--time-scale",
              "30",
              "--eviction-timeout",
              "60"
            });
    assertThat(o.port()).isEqualTo(7000);
    assertThat(o.kubeconfig()).isEqualTo(Path.of("/tmp/kc"));
    assertThat(o.operatorCmd()).isEqualTo("java -jar op.jar");
    assertThat(o.timeScale()).isEqualTo(30.0);
    assertThat(o.evictionSeconds()).isEqualTo(60);
    assertThat(o.pool()).isNull();
    assertThat(o.chain()).as("a billing chain unless --no-chain").isTrue();
    assertThat(SandboxMain.Options.parse(new String[] {"--no-chain", "--port", "7000"}).chain())
        .isFalse();
  }

  @Test
  void mistakesAreExplained() {
    assertThatThrownBy(() -> SandboxMain.Options.parse(new String[] {"--port"}))
        .hasMessage("missing value for --port");
    assertThatThrownBy(() -> SandboxMain.Options.parse(new String[] {"--colour", "red"}))
        .hasMessage("unknown option --colour");
    assertThatThrownBy(() -> SandboxMain.Options.parse(new String[] {"--pool", "/nope.yaml"}))
        .hasMessage("no pool file /nope.yaml");
    assertThatThrownBy(() -> SandboxMain.Options.parse(new String[] {"--time-scale", "0"}))
        .hasMessage("--time-scale must be positive");
  }

  @Test
  void kubeconfigNamesTheSandboxContext() {
    String yaml = Sandbox.kubeconfigYaml("http://127.0.0.1:1234");
    assertThat(yaml)
        .contains("server: http://127.0.0.1:1234")
        .contains("current-context: gpupool-sandbox")
        .contains("- name: gpupool-sandbox");
  }

  @Test
  void dcgmExporterPortIsAnOption() {
    assertThat(SandboxMain.Options.parse(new String[] {"--dcgm-port", "9555"}).dcgmPort())
        .isEqualTo(9555);
    assertThat(SandboxMain.Options.parse(new String[] {}).dcgmPort())
        .as("9400 when free, else any free port")
        .isIn(9400, 0);
    assertThatThrownBy(() -> SandboxMain.Options.parse(new String[] {"--dcgm-port", "-2"}))
        .hasMessage("--dcgm-port must be 0..65535, got -2");
  }

  @Test
  void smokeNeedsManifestsToWaitFor() {
    SandboxMain.Options o =
        SandboxMain.Options.parse(
            new String[] {"--apply", "src/test/resources", "--smoke", "--smoke-timeout", "30"});
    assertThat(o.smoke()).isTrue();
    assertThat(o.smokeTimeoutSeconds()).isEqualTo(30);
    assertThat(SandboxMain.Options.parse(new String[] {}).smoke()).isFalse();
    assertThatThrownBy(() -> SandboxMain.Options.parse(new String[] {"--smoke"}))
        .hasMessage("--smoke needs --apply DIR (the jobs it waits for)");
  }
}
