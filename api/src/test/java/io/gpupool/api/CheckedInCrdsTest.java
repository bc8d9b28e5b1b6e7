package io.gpupool.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The CRDs users install (crds/ and the Helm chart) must be exactly what the model generates. */
class CheckedInCrdsTest {
  private static final Path GENERATED = Path.of("target/classes/META-INF/fabric8");
  private static final Path REPO = Path.of("..");

  @ParameterizedTest
  @ValueSource(strings = {"trainingjobs", "inferencejobs", "gpuproviders", "gpuqueues"})
  void checkedInCrdMatchesGeneratedOne(String plural) throws IOException {
    String generated = Files.readString(GENERATED.resolve(plural + ".gpupool.io-v1.yml"));
    for (Path copy : checkedInCopies(plural)) {
      assertThat(Files.readString(copy))
          .as("%s is stale: run ./gpupool update-crds and commit the result", copy.normalize())
          .isEqualTo(generated);
    }
  }

  private static Path[] checkedInCopies(String plural) throws IOException {
    String name = plural + ".gpupool.io.yaml";
    Path chartCrds = REPO.resolve("helm/gpupool/crds");
    try (Stream<Path> chart =
        Files.isDirectory(chartCrds) ? Stream.of(chartCrds.resolve(name)) : Stream.empty()) {
      return Stream.concat(Stream.of(REPO.resolve("crds").resolve(name)), chart)
          .toArray(Path[]::new);
    }
  }
}
