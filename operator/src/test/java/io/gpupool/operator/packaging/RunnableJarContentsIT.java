package io.gpupool.operator.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The operator's runnable application (target/quarkus-app, what the image ships) holds production
 * code only: no trace replay or benchmarks, no dev chain, no fakes, no test classes. An IT because
 * it reads what {@code package} built.
 */
class RunnableJarContentsIT {
  private static final Path APP = Path.of("target/quarkus-app");

  /** Class-file paths that belong to benchmarks, the dev chain or tests. */
  private static final List<String> NOT_PRODUCTION =
      List.of(
          "io/gpupool/scheduler/replay/",
          "io/gpupool/scheduler/bench/",
          "io/gpupool/billing/devchain/",
          "io/gpupool/billing/bench/",
          "io/gpupool/billing/it/",
          "io/gpupool/billing/chain/FakeBillingChain",
          "io/gpupool/billing/ledger/InMemoryBillingStore",
          "io/gpupool/operator/workload/FakeWorkloads",
          "io/gpupool/sandbox/");

  private static List<Path> jars() throws IOException {
    assertThat(APP.resolve("quarkus-run.jar"))
        .as("the operator is packaged (mvn package) before this IT runs")
        .exists();
    try (Stream<Path> files = Files.walk(APP)) {
      return files.filter(p -> p.toString().endsWith(".jar")).toList();
    }
  }

  @Test
  void noBenchmarkDevChainOrTestArtifactIsBundled() throws IOException {
    List<String> names = jars().stream().map(p -> p.getFileName().toString()).toList();
    assertThat(names)
        .as("the gpupool artifacts the runnable app bundles")
        .filteredOn(n -> n.startsWith("io.gpupool."))
        .containsExactlyInAnyOrder(
            "io.gpupool.gpupool-api-0.1.0-SNAPSHOT.jar",
            "io.gpupool.gpu-scheduler-0.1.0-SNAPSHOT.jar",
            "io.gpupool.billing-bridge-0.1.0-SNAPSHOT.jar");
    assertThat(names).noneMatch(n -> n.contains("-tests.jar") || n.contains("devchain"));
  }

  @Test
  void noJarHoldsReplayBenchmarkDevChainOrFakeClasses() throws IOException {
    List<String> offending = new ArrayList<>();
    int classes = 0;
    for (Path jar : jars()) {
      try (JarFile file = new JarFile(jar.toFile())) {
        for (var entries = file.entries(); entries.hasMoreElements(); ) {
          String entry = entries.nextElement().getName();
          if (!entry.startsWith("io/gpupool/")) {
            continue;
          }
          classes++;
          if (NOT_PRODUCTION.stream().anyMatch(entry::startsWith)) {
            offending.add(jar.getFileName() + "!" + entry);
          }
        }
      }
    }
    assertThat(classes).as("gpupool classes found in the runnable app").isGreaterThan(100);
    assertThat(offending).isEmpty();
  }
}
