package io.gpupool.operator.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.smallrye.config.WithDefault;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The defaults docs/operations.md states are the operator's own: every operator setting lives in
 * {@link GpupoolConfig} with its default, and the document is read here, so a default changed in
 * one place and not the other fails the build.
 */
class DocumentedDefaultsTest {
  private static final Path OPERATIONS = Path.of("..", "docs", "operations.md");

  /** {@code | `gpupool.x` | `GPUPOOL_X` | `default` |}: the tables of operator settings. */
  private static final Pattern SETTING_ROW =
      Pattern.compile(
          "^\\| `(gpupool\\.[a-z0-9.-]+)` \\| `(GPUPOOL_[A-Z0-9_]+)` \\| `([^`]*)` \\|");

  /** {@code | `chart.key` | `default` | `GPUPOOL_X`…}: the chart's values that set a setting. */
  private static final Pattern CHART_ROW =
      Pattern.compile("^\\| `([a-zA-Z0-9.]+)` \\| `([^`]*)` \\| `(GPUPOOL_[A-Z0-9_]+)`[:;, ]");

  /** {@code `GPUPOOL_X` (`default`)}: a setting named in prose with its default. */
  private static final Pattern INLINE = Pattern.compile("`(GPUPOOL_[A-Z0-9_]+)` \\(`([^`]+)`[,)]");

  /**
   * The chart's values that deliberately differ from the operator's default, by environment
   * variable: a production install wants what a bare operator (tests, the sandbox) does not.
   */
  private static final Set<String> CHART_CHOICES =
      Set.of(
          "GPUPOOL_BILLING_CHAIN_ID", // the chart targets mainnet; the operator anvil (31337)
          "GPUPOOL_BILLING_SETTLEMENT_INTERVAL", // fewer transactions on a real chain
          "GPUPOOL_LEADER_ELECTION_ENABLED", // the chart can run replicas; a bare operator is one
          "GPUPOOL_LEADER_ELECTION_LEASE_NAME", // named after the release's operator
          "GPUPOOL_METRICS_AUTH"); // the chart renders the metrics-reader role auth needs

  /** Every setting's default by environment variable (null: none, the setting is optional). */
  static Map<String, String> operatorDefaults() {
    Map<String, String> defaults = new TreeMap<>();
    collect(GpupoolConfig.class, "gpupool", defaults);
    return defaults;
  }

  private static void collect(Class<?> group, String prefix, Map<String, String> into) {
    for (Method m : group.getDeclaredMethods()) {
      String name = prefix + "." + kebab(m.getName());
      if (m.getReturnType().isInterface()
          && m.getReturnType().getEnclosingClass() != null
          && m.getReturnType().getName().startsWith(GpupoolConfig.class.getName())) {
        collect(m.getReturnType(), name, into);
        continue;
      }
      WithDefault d = m.getAnnotation(WithDefault.class);
      into.put(env(name), d == null ? null : d.value());
    }
  }

  static String kebab(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
  }

  static String env(String property) {
    return property.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  /** A documented value as the configuration would read it: quotes off, empty is unset. */
  static String documented(String value) {
    String v =
        value.startsWith("\"") && value.endsWith("\"") && value.length() >= 2
            ? value.substring(1, value.length() - 1)
            : value;
    // An empty list in the chart (`[]`) is no value, as an unset optional setting is.
    return v.isEmpty() || v.equals("[]") ? null : v;
  }

  /** The rows of docs/operations.md that {@code row} matches, as matched. */
  static List<MatchResult> rows(Pattern row) throws IOException {
    List<MatchResult> rows = new ArrayList<>();
    for (String line : Files.readAllLines(OPERATIONS)) {
      Matcher m = row.matcher(line);
      if (m.find()) {
        rows.add(m.toMatchResult());
      }
    }
    return rows;
  }

  @Test
  void theSettingsTablesStateTheOperatorsDefaults() throws IOException {
    Map<String, String> defaults = operatorDefaults();
    List<MatchResult> rows = rows(SETTING_ROW);
    assertThat(rows).as("setting rows read from %s", OPERATIONS).isNotEmpty();
    for (MatchResult m : rows) {
      assertThat(env(m.group(1))).as("the variable of %s", m.group(1)).isEqualTo(m.group(2));
      assertThat(defaults).as("%s is an operator setting", m.group(1)).containsKey(m.group(2));
      assertThat(defaults.get(m.group(2)))
          .as("default of %s", m.group(1))
          .isEqualTo(documented(m.group(3)));
    }
  }

  @Test
  void theChartsValuesAreTheOperatorsDefaultsButWhereItChoosesOtherwise() throws IOException {
    Map<String, String> defaults = operatorDefaults();
    List<MatchResult> rows =
        rows(CHART_ROW).stream().filter(m -> !CHART_CHOICES.contains(m.group(3))).toList();
    assertThat(rows).as("chart rows read from %s", OPERATIONS).hasSizeGreaterThan(20);
    for (MatchResult m : rows) {
      assertThat(defaults).as("%s is an operator setting", m.group(3)).containsKey(m.group(3));
      assertThat(documented(m.group(2)))
          .as("chart value %s (%s)", m.group(1), m.group(3))
          .isEqualTo(defaults.get(m.group(3)));
    }
  }

  @Test
  void settingsNamedInProseStateTheOperatorsDefaults() throws IOException {
    Map<String, String> defaults = operatorDefaults();
    Matcher m = INLINE.matcher(Files.readString(OPERATIONS));
    int found = 0;
    while (m.find()) {
      found++;
      assertThat(defaults).as("%s is an operator setting", m.group(1)).containsKey(m.group(1));
      assertThat(defaults.get(m.group(1))).as("default of %s", m.group(1)).isEqualTo(m.group(2));
    }
    assertThat(found).as("settings named in prose in %s", OPERATIONS).isGreaterThan(0);
  }

  @Test
  void challengeAndSamplingSettingsAreReadThroughTheOneMapping() {
    // Read through a mapping of their own before, they were outside what this test walks.
    assertThat(operatorDefaults())
        .containsKeys(
            "GPUPOOL_TRUST_CHALLENGE_ENABLED",
            "GPUPOOL_TRUST_CHALLENGE_OPENING_PORT",
            "GPUPOOL_VERIFICATION_SAMPLING_SECRET");
  }
}
