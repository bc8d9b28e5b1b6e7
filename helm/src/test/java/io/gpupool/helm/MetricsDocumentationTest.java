package io.gpupool.helm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/observability.md's metric tables are the contract the dashboard checks hold the dashboards
 * to: every operator series listed there (outside "Not on a dashboard") is in {@link
 * MetricsContract}, and the contract lists nothing the doc does not.
 */
class MetricsDocumentationTest {
  private static final Path OBSERVABILITY = Chart.MODULE.resolve("../docs/observability.md");
  private static final Pattern ROW = Pattern.compile("(?m)^\\| `(gpupool_[a-z0-9_]+)` \\|");

  @Test
  void theDocumentedOperatorSeriesAreExactlyTheContract() throws IOException {
    String doc = Files.readString(OBSERVABILITY);
    int start = doc.indexOf("\n## Metric contract\n");
    int aside = doc.indexOf("\n### Not on a dashboard\n", start);
    int end = doc.indexOf("\n### GPU health", start);
    assertThat(start).as("a '## Metric contract' section").isPositive();
    assertThat(aside).as("a '### Not on a dashboard' subsection").isBetween(start, end);
    Set<String> contract = new TreeSet<>();
    MetricsContract.all().stream().filter(m -> m.startsWith("gpupool_")).forEach(contract::add);

    assertThat(names(doc.substring(start, aside)))
        .as("docs/observability.md's contract tables")
        .isEqualTo(contract);
    assertThat(names(doc.substring(aside, end)))
        .as("series the doc keeps off the dashboards")
        .isNotEmpty()
        .doesNotContainAnyElementsOf(contract);
  }

  private static Set<String> names(String section) {
    Set<String> names = new TreeSet<>();
    Matcher row = ROW.matcher(section);
    while (row.find()) {
      names.add(row.group(1));
    }
    return names;
  }
}
