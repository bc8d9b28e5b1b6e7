package io.gpupool.helm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The operator image builds on a base pinned by digest (helm/image/Dockerfile): every FROM names an
 * image by digest, directly or through an ARG whose default does.
 */
class ImageDockerfileTest {
  private static final Path DOCKERFILE = Chart.MODULE.resolve("image/Dockerfile");
  private static final Pattern PINNED =
      Pattern.compile(
          "^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+(:[A-Za-z0-9._-]+)?@sha256:[0-9a-f]{64}$");
  private static final Pattern ARG = Pattern.compile("^ARG\\s+([A-Za-z_]+)=(\\S+)\\s*$");
  private static final Pattern FROM = Pattern.compile("^FROM\\s+(\\S+)(\\s+AS\\s+\\S+)?\\s*$");

  /** The images the FROM lines name, with ARG defaults substituted. */
  static List<String> baseImages(List<String> lines) {
    java.util.Map<String, String> args = new java.util.HashMap<>();
    List<String> images = new java.util.ArrayList<>();
    for (String line : lines) {
      Matcher arg = ARG.matcher(line.strip());
      if (arg.matches()) {
        args.put(arg.group(1), arg.group(2));
      }
      Matcher from = FROM.matcher(line.strip());
      if (from.matches()) {
        String image = from.group(1);
        for (var e : args.entrySet()) {
          image = image.replace("${" + e.getKey() + "}", e.getValue());
        }
        images.add(image);
      }
    }
    return images;
  }

  @Test
  void everyBaseImageIsPinnedByDigest() throws IOException {
    List<String> images = baseImages(Files.readAllLines(DOCKERFILE));
    assertThat(images).isNotEmpty().allMatch(i -> PINNED.matcher(i).matches(), "pinned by digest");
    assertThat(images)
        .allMatch(i -> i.startsWith("registry.access.redhat.com/ubi9/openjdk-17-runtime"));
  }

  @Test
  void aTagOrAnArgWithoutDigestIsNotPinned() {
    assertThat(
            baseImages(
                List.of(
                    "ARG B=registry.access.redhat.com/ubi9/openjdk-17-runtime:1.21", "FROM ${B}")))
        .noneMatch(i -> PINNED.matcher(i).matches());
    assertThat(
            baseImages(List.of("FROM registry.access.redhat.com/ubi9/openjdk-17-runtime:latest")))
        .noneMatch(i -> PINNED.matcher(i).matches());
    assertThat(
            baseImages(
                List.of(
                    "FROM registry.access.redhat.com/ubi9/openjdk-17-runtime@sha256:"
                        + "0".repeat(64))))
        .allMatch(i -> PINNED.matcher(i).matches());
  }
}
