package io.gpupool.billing.it;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Locates the module's contracts folder and its npm tools; fails (never skips) when missing. */
final class Tools {
  static final String INSTALL =
      "the Maven build installs it (./mvnw -q -pl billing-bridge generate-resources; needs"
          + " `apt-get install nodejs npm`)";

  private Tools() {}

  static Path contractsDir() {
    Path dir = Path.of("contracts").toAbsolutePath();
    if (!Files.isDirectory(dir)) {
      dir = Path.of("billing-bridge/contracts").toAbsolutePath();
    }
    if (!Files.isDirectory(dir)) {
      fail("billing-bridge/contracts not found from " + Path.of("").toAbsolutePath());
    }
    return dir;
  }

  static Path requireTool(String relative, String what) {
    Path p = contractsDir().resolve(relative);
    if (!Files.isExecutable(p) && !Files.isRegularFile(p)) {
      fail(what + " is missing at " + p + ": " + INSTALL);
    }
    return p;
  }

  record Result(int exit, String output) {}

  static Result run(Path dir, long timeoutSeconds, List<String> cmd) throws Exception {
    Path out = Files.createTempFile("billing-tool-", ".log");
    try {
      Process p =
          new ProcessBuilder(cmd)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(out.toFile())
              .start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        return new Result(-1, "timed out after " + timeoutSeconds + " s\n" + read(out));
      }
      return new Result(p.exitValue(), read(out));
    } finally {
      Files.deleteIfExists(out);
    }
  }

  private static String read(Path p) throws IOException {
    return Files.readString(p, StandardCharsets.UTF_8);
  }

  static String node() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path p = Path.of(dir, "node");
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return fail("node is not on the PATH; install Node.js 20 (it runs the solc-js compile script)");
  }
}
