package io.gpupool.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SandboxMain as a user runs it: the default pool, the project's GpuProvider CRD, manifests to
 * apply, an operator command; then kubectl against the kubeconfig it wrote; then SIGTERM.
 */
class SandboxMainIT {

  @TempDir Path dir;

  @Test
  void startsThePoolAppliesManifestsRunsTheOperatorAndStopsCleanly() throws Exception {
    Path providerCrd = Path.of("..", "crds", "gpuproviders.gpupool.io.yaml");
    if (!Files.isRegularFile(providerCrd)) {
      fail("the project's GpuProvider CRD is missing at " + providerCrd.toAbsolutePath());
    }
    Path crds = Files.createDirectories(dir.resolve("crds"));
    Files.copy(providerCrd, crds.resolve("gpuproviders.gpupool.io.yaml"));
    try (var in = getClass().getResourceAsStream("/crds/widgets.test.gpupool.io.yaml")) {
      Files.copy(in, crds.resolve("widgets.test.gpupool.io.yaml"));
    }
    Path manifests = Files.createDirectories(dir.resolve("apply"));
    Files.writeString(
        manifests.resolve("widget.yaml"),
        "apiVersion: test.gpupool.io/v1\nkind: Widget\nmetadata: {name: w1, namespace: default}\n"
            + "spec: {size: 4}\n");
    Path kubeconfig = dir.resolve("out").resolve("kubeconfig");

    ProcessBuilder pb =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "io.gpupool.sandbox.SandboxMain",
                "--port",
                "0",
                "--kubeconfig",
                kubeconfig.toString(),
                "--crds",
                crds.toString(),
                "--apply",
                manifests.toString(),
                "--time-scale",
                "10",
                "--operator-cmd",
                "echo operator-sees $KUBECONFIG $KUBERNETES_MASTER; exec sleep 300")
            .redirectErrorStream(true);
    Process p = pb.start();
    List<String> out = new CopyOnWriteArrayList<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  out.add(line);
                }
              } catch (IOException e) {
                // ended
              }
            });
    reader.setDaemon(true);
    reader.start();
    try {
      awaitLine(out, "running; press Ctrl-C", Duration.ofSeconds(60));
      awaitLine(out, "GpuProvider monsoon-ai created", Duration.ofSeconds(20));
      String operatorLine = awaitLine(out, "[operator] operator-sees", Duration.ofSeconds(20));
      assertThat(operatorLine)
          .contains(kubeconfig.toAbsolutePath().toString())
          .contains("http://127.0.0.1:");
      assertThat(out)
          .anyMatch(l -> l.contains("kubeconfig written to " + kubeconfig.toAbsolutePath()));
      assertThat(Files.readString(kubeconfig)).contains("current-context: gpupool-sandbox");

      Kubectl kubectl = new Kubectl(kubeconfig, dir.resolve("cache"));
      assertThat(kubectl.run("get", "nodes", "--no-headers").ok().out().lines().count())
          .isEqualTo(28);
      assertThat(
              kubectl
                  .run(
                      "get",
                      "nodes",
                      "-l",
                      "gpupool.io/provider=lakeside-labs",
                      "-L",
                      "nvidia.com/gpu.product",
                      "--no-headers")
                  .ok()
                  .out())
          .contains("us-east-h100-1")
          .contains("NVIDIA-H100-80GB-HBM3");
      assertThat(kubectl.run("get", "gp", "--no-headers").ok().out().lines().count()).isEqualTo(6);
      assertThat(
              kubectl
                  .run(
                      "get",
                      "gp",
                      "atlas-compute",
                      "-o",
                      "jsonpath={.spec.prices[0].pricePerGpuHour}")
                  .ok()
                  .out())
          .isEqualTo("0.44");
      assertThat(kubectl.run("get", "wd", "w1", "--no-headers").ok().out()).contains("w1");

      // the fault-injection path a person uses
      kubectl
          .run(
              "label", "node", "eu-west-4090-1", "sandbox.gpupool.io/fault=NotReady", "--overwrite")
          .ok();
      awaitLine(out, "node/eu-west-4090-1 NotReady", Duration.ofSeconds(20));
      assertThat(kubectl.run("get", "node", "eu-west-4090-1", "--no-headers").ok().out())
          .containsPattern("eu-west-4090-1\\s+NotReady");
      awaitLine(out, "Widget", Duration.ofSeconds(1)).length();
    } finally {
      List<ProcessHandle> children = p.descendants().toList();
      // SIGTERM through the handle: Process.destroy() would also close our end of its stdout
      p.toHandle().destroy();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail("SandboxMain did not stop within 30 s of SIGTERM; output: " + out);
      }
      reader.join(5000);
      assertThat(children).as("operator process tree stopped").noneMatch(ProcessHandle::isAlive);
    }
    assertThat(out)
        .as("output after SIGTERM (exit code %s)", p.exitValue())
        .anyMatch(l -> l.contains("shutting down"));
  }

  private static String awaitLine(List<String> out, String text, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (String l : out) {
        if (l.contains(text)) {
          return l;
        }
      }
      Thread.sleep(100);
    }
    return fail("no output line containing '" + text + "' in " + timeout + "; output: " + out);
  }
}
