package io.gpupool.e2e.freshclone;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two scripts the Maven build runs: the npm tools install (skipped, without npm or network,
 * when the lock file's hash matches the stamp) and the suite's prerequisite guard.
 */
class BuildScriptsTest {
  private static final Path NPM_TOOLS = Shell.REPO.resolve(".mvn/npm-tools.sh");
  private static final Path SYSTEM_TOOLS = Shell.REPO.resolve(".mvn/system-tools.sh");
  private static final String[] CORE_UTILS = {"sha256sum", "cut", "cat"};

  @TempDir Path tmp;

  private Path toolsDir(String lock) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("tools"));
    Files.writeString(dir.resolve("package.json"), "{\"name\":\"t\",\"private\":true}");
    Files.writeString(dir.resolve("package-lock.json"), lock);
    return dir;
  }

  private Shell.Result npmTools(Path dir, Path pathDir) {
    return Shell.run(
        tmp,
        Map.of("PATH", pathDir.toString()),
        30,
        List.of("/bin/bash", NPM_TOOLS.toString(), dir.toString()));
  }

  @Test
  void upToDateToolsNeedNeitherNpmNorTheNetwork() throws Exception {
    Path dir = toolsDir("{\"lockfileVersion\":3}");
    Shell.Result hash =
        Shell.run(
            dir,
            Map.of(),
            10,
            List.of("/bin/bash", "-c", "sha256sum package-lock.json | cut -c1-64"));
    Files.createDirectories(dir.resolve("node_modules"));
    Files.writeString(
        dir.resolve("node_modules/.gpupool-lock.sha256"), hash.output().strip() + "\n");

    Shell.Result r = npmTools(dir, Shell.pathWith(tmp.resolve("bin"), CORE_UTILS));

    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output()).isEmpty();
  }

  @Test
  void aChangedLockFileReinstallsAndAMissingNpmNamesTheAptPackages() throws Exception {
    Path dir = toolsDir("{\"lockfileVersion\":3,\"packages\":{}}");
    Files.createDirectories(dir.resolve("node_modules"));
    Files.writeString(dir.resolve("node_modules/.gpupool-lock.sha256"), "stale\n");

    Shell.Result r = npmTools(dir, Shell.pathWith(tmp.resolve("bin"), CORE_UTILS));

    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.output())
        .contains("'node' is not installed")
        .contains("sudo apt-get install -y nodejs npm");
  }

  @Test
  void theSuiteGuardNamesTheAptPackageOfEachMissingTool() throws Exception {
    Path bin = Shell.pathWith(tmp.resolve("bin"), "java");

    Shell.Result r =
        Shell.run(
            tmp, Map.of("PATH", bin.toString()), 30, List.of("/bin/bash", SYSTEM_TOOLS.toString()));

    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.output())
        .contains("node (apt package nodejs)")
        .contains("npm (apt package npm)")
        .contains("promtool (apt package prometheus)")
        .contains("kubectl (not an apt package here")
        .contains(
            "sudo apt-get install -y --no-install-recommends openjdk-17-jdk nodejs npm prometheus"
                + " python3-torch")
        .doesNotContain("java (apt package");
  }
}
