package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The operator's CycloneDX SBOM (operator/target/gpupool-operator-sbom.json, written by the build's
 * package phase) describes what the image ships: every library jar of the Quarkus fast-jar
 * (quarkus-app/lib/main, copied into the image) is a component with a purl and a SHA-256.
 */
class OperatorSbomTest {
  private static final Path TARGET = SandboxCluster.REPO.resolve("operator/target");

  @Test
  void theSbomListsEveryJarTheImageShips() throws IOException {
    Path sbom = TARGET.resolve("gpupool-operator-sbom.json");
    // cyclonedx-maven-plugin's makeBom requires online mode and skips itself in `mvn -o`.
    Assumptions.assumeFalse(
        System.getProperty("maven.offline", "").equals("offline=true") && !Files.exists(sbom),
        "an offline build (-o) writes no SBOM");
    assertThat(sbom).as("built by the operator module's package phase").exists();
    JsonNode bom = new ObjectMapper().readTree(sbom.toFile());
    assertThat(bom.path("bomFormat").asText()).isEqualTo("CycloneDX");
    assertThat(bom.path("specVersion").asText()).matches("1\\.[4-9]");
    assertThat(bom.path("metadata").path("component").path("name").asText())
        .isEqualTo("gpupool-operator");
    assertThat(bom.path("metadata").path("component").path("type").asText())
        .isEqualTo("application");

    Set<String> described = new HashSet<>();
    for (JsonNode component : bom.path("components")) {
      assertThat(component.path("purl").asText()).as("purl of %s", component).startsWith("pkg:");
      if (!component.path("group").asText().equals("io.gpupool")) {
        // third-party jars by content; the project's own modules are described by version
        assertThat(component.path("hashes"))
            .as("hashes of %s", component.path("purl").asText())
            .anyMatch(h -> h.path("alg").asText().equals("SHA-256"));
      }
      described.add(
          component.path("group").asText()
              + "."
              + component.path("name").asText()
              + "-"
              + component.path("version").asText());
    }

    List<String> shipped;
    try (Stream<Path> jars = Files.list(TARGET.resolve("quarkus-app/lib/main"))) {
      shipped = jars.map(p -> p.getFileName().toString()).sorted().toList();
    }
    assertThat(shipped).hasSizeGreaterThan(50);
    List<String> missing = new ArrayList<>();
    for (String jar : shipped) {
      // Quarkus names them groupId.artifactId-version[-classifier].jar
      if (described.stream().noneMatch(d -> jar.equals(d + ".jar") || jar.startsWith(d + "-"))) {
        missing.add(jar);
      }
    }
    assertThat(missing).as("jars the image ships that the SBOM does not describe").isEmpty();
  }
}
