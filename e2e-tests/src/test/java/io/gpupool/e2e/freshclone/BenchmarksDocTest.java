package io.gpupool.e2e.freshclone;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** docs/benchmarks.md: every section's figures name a date, a command and a commit. */
class BenchmarksDocTest {
  private static final Pattern DATE = Pattern.compile("\\b20\\d\\d-\\d\\d-\\d\\d\\b");
  private static final Pattern COMMIT = Pattern.compile("commits?\\s+`[0-9a-f]{7,40}`");
  private static final Pattern COMMAND =
      Pattern.compile("(\\./gpupool [a-z-]+|\\./mvnw |java (-\\S+ )*-cp )");
  private static final Pattern INTERNAL = Pattern.compile("(?i)\\b(session|work round)s?\\b");

  private static List<String> sections() throws Exception {
    String doc = Files.readString(Shell.REPO.resolve("docs/benchmarks.md"));
    List<String> sections = new ArrayList<>();
    for (String part : doc.split("\n(?=## )")) {
      if (part.startsWith("## ")) {
        sections.add(part);
      }
    }
    return sections;
  }

  @Test
  void everySectionIsDatedTiedToACommitAndNamesItsCommand() throws Exception {
    List<String> sections = sections();
    assertThat(sections).hasSizeGreaterThanOrEqualTo(3);
    for (String section : sections) {
      String title = section.lines().findFirst().orElseThrow();
      assertThat(DATE.matcher(section).find()).as("%s names a date", title).isTrue();
      assertThat(COMMIT.matcher(section).find()).as("%s names a commit", title).isTrue();
      assertThat(COMMAND.matcher(section).find()).as("%s names its command", title).isTrue();
    }
  }

  @Test
  void figuresAreLabelledByDateNotByInternalWorkPeriods() throws Exception {
    String doc = Files.readString(Shell.REPO.resolve("docs/benchmarks.md"));
    assertThat(INTERNAL.matcher(doc).results().map(m -> m.group()).toList()).isEmpty();
  }
}
