package io.gpupool.e2e.freshclone;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's promise and what CI does stay one and the same. */
class ReadmeCommandsTest {
  private static final Pattern APT_LINE =
      Pattern.compile("sudo apt-get install -y --no-install-recommends ([a-z0-9 .+-]+)\\n");
  private static final Pattern APT_PACKAGES = Pattern.compile("APT_PACKAGES=\"([^\"]+)\"");

  private static String read(String relative) throws Exception {
    return Files.readString(Shell.REPO.resolve(relative));
  }

  private static String group(Pattern p, String text, String where) {
    Matcher m = p.matcher(text);
    assertThat(m.find()).as("%s has %s", where, p).isTrue();
    return m.group(1).strip();
  }

  @Test
  void ciInstallsExactlyTheReadmesSystemPackages() throws Exception {
    String readme = group(APT_LINE, read("README.md"), "README.md");
    assertThat(readme.split(" "))
        .containsExactly("openjdk-17-jdk", "nodejs", "npm", "prometheus", "python3-torch");
    assertThat(group(APT_PACKAGES, read(".ci/run"), ".ci/run")).isEqualTo(readme);
    assertThat(group(APT_PACKAGES, read(".mvn/system-tools.sh"), ".mvn/system-tools.sh"))
        .isEqualTo(readme);
  }

  @Test
  void ciRunsTheReadmesTestCommandAndNoInstallScript() throws Exception {
    String readme = read("README.md");
    Matcher test = Pattern.compile("\\n(\\./mvnw [^#\\n]*?)\\s+# 2\\.").matcher(readme);
    assertThat(test.find()).as("README's second command").isTrue();
    List<String> ci =
        Files.readAllLines(Shell.REPO.resolve(".ci/run")).stream()
            .filter(l -> !l.isBlank() && !l.startsWith("#"))
            .toList();
    assertThat(ci.get(ci.size() - 1)).isEqualTo(test.group(1).strip());
    assertThat(String.join("\n", ci))
        .doesNotContain("install-tools")
        .doesNotContainPattern("npm (ci|install)");
    assertThat(readme.substring(0, readme.indexOf("## Architecture")))
        .as("the README's way in lists system packages only")
        .doesNotContain("install-tools.sh");
  }
}
