package io.gpupool.e2e.freshclone;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The README's two commands on a fresh clone (the committed HEAD, no node_modules, no target/):
 * {@code ./gpupool sandbox} must install anvil through the build and come up with the chain and the
 * operator ({@code --smoke} exits once the operator has taken up every example), then {@code ./mvnw
 * verify} (targeted at the two modules with npm tools, to keep CI time down) must install the
 * dashboard checker, find the contract tools up to date, and pass their tool-driven ITs. Only the
 * system packages of the README and the shared Maven repository are reused.
 */
class FreshCloneE2E {
  private static Path clone;

  @BeforeAll
  static void cloneTheRepository() throws IOException {
    assertThat(Shell.REPO.resolve(".git"))
        .as("the fresh-clone test clones the repository; %s is not a git checkout", Shell.REPO)
        .exists();
    clone = Files.createTempDirectory("gpupool-fresh-clone-");
    String head =
        Shell.run(Shell.REPO, Map.of(), 30, List.of("git", "rev-parse", "HEAD"))
            .expectSuccess("git rev-parse")
            .output()
            .strip();
    Shell.run(
            clone,
            Map.of(),
            120,
            List.of("git", "clone", "--quiet", "--no-checkout", Shell.REPO.toString(), "."))
        .expectSuccess("git clone");
    Shell.run(clone, Map.of(), 120, List.of("git", "checkout", "--quiet", head))
        .expectSuccess("git checkout " + head);
    try (Stream<Path> s = Files.walk(clone)) {
      assertThat(s.filter(p -> p.getFileName().toString().equals("node_modules")))
          .as("a fresh clone has no node_modules")
          .isEmpty();
    }
  }

  @AfterAll
  static void removeTheClone() throws IOException {
    if (clone == null) {
      return;
    }
    try (Stream<Path> s = Files.walk(clone)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private static Map<String, String> env() throws IOException {
    Map<String, String> env = new HashMap<>();
    // Others run sandboxes and operators on this machine: no fixed ports.
    env.put("QUARKUS_HTTP_PORT", Integer.toString(freePort()));
    env.put("MAVEN_OPTS", "-Xmx1g");
    return env;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void theReadmesTwoCommandsWorkOnAFreshClone() throws IOException {
    Shell.Result sandbox =
        Shell.run(
                clone,
                env(),
                900,
                List.of(
                    "./gpupool",
                    "sandbox",
                    "--smoke",
                    "--port",
                    Integer.toString(freePort()),
                    "--dcgm-port",
                    Integer.toString(freePort()),
                    "--time-scale",
                    "20"))
            .expectSuccess("./gpupool sandbox --smoke");
    assertThat(sandbox.output())
        .contains("npm-tools: installing")
        .contains("GpuPoolBilling")
        .as("every TrainingJob and InferenceJob of examples/ (and examples/workloads/)")
        .containsPattern("smoke: OK, the operator took up all ([4-9]|\\d\\d+) applied jobs");
    assertThat(clone.resolve("billing-bridge/contracts/node_modules/.gpupool-lock.sha256"))
        .exists();
    System.out.printf(
        "fresh clone: ./gpupool sandbox --smoke took %d s%n", sandbox.millis() / 1000);

    Shell.Result verify =
        Shell.run(
                clone,
                env(),
                900,
                List.of(
                    "./mvnw",
                    "-B",
                    "verify",
                    "-pl",
                    "billing-bridge,helm",
                    "-Dtest=NoUnitTests",
                    "-Dit.test=ContractArtifactsIT,DashboardTypeCheckIT",
                    "-Dsurefire.failIfNoSpecifiedTests=false",
                    "-Dfailsafe.failIfNoSpecifiedTests=false"))
            .expectSuccess("./mvnw verify");
    assertThat(verify.output())
        .as("the dashboard checker is installed by the build, the contract tools are up to date")
        .containsOnlyOnce("npm-tools: installing")
        .contains("helm/dashboards-check/node_modules from package-lock.json")
        .contains("Tests run: ")
        .contains("BUILD SUCCESS");
    System.out.printf("fresh clone: targeted ./mvnw verify took %d s%n", verify.millis() / 1000);
  }
}
