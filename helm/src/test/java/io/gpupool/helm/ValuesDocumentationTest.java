package io.gpupool.helm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Every value is commented in values.yaml and listed in docs/operations.md, and nothing more. */
class ValuesDocumentationTest {
  private static final Path VALUES = Chart.DIR.resolve("values.yaml");
  private static final Path OPERATIONS = Chart.MODULE.resolve("../docs/operations.md");
  private static final Pattern TABLE_ROW = Pattern.compile("(?m)^\\| `([A-Za-z0-9_.]+)` \\|");
  private static final Pattern KEY_LINE = Pattern.compile("^( *)([A-Za-z0-9_]+):(.*)$");

  @Test
  void everyValueIsInTheOperationsTableAndEveryRowIsAValue() throws IOException {
    Set<String> leaves = leaves("", Chart.readYaml(VALUES));
    String operations = Files.readString(OPERATIONS);
    int start = operations.indexOf("\n## Values\n");
    assertThat(start).as("docs/operations.md has a '## Values' section").isPositive();
    int end = operations.indexOf("\n## ", start + 1);
    String section = operations.substring(start, end < 0 ? operations.length() : end);
    Set<String> documented = new LinkedHashSet<>();
    Matcher row = TABLE_ROW.matcher(section);
    while (row.find()) {
      documented.add(row.group(1));
    }
    for (String leaf : leaves) {
      assertThat(documented.stream().anyMatch(d -> leaf.equals(d) || leaf.startsWith(d + ".")))
          .as("values.yaml's %s is not in docs/operations.md's values table", leaf)
          .isTrue();
    }
    for (String value : documented) {
      assertThat(leaves.stream().anyMatch(l -> l.equals(value) || l.startsWith(value + ".")))
          .as("docs/operations.md documents %s, which values.yaml lacks", value)
          .isTrue();
    }
  }

  @Test
  void everyValueHasACommentInValuesYaml() throws IOException {
    List<String> lines = Files.readAllLines(VALUES);
    List<String> uncommented = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      Matcher key = KEY_LINE.matcher(lines.get(i));
      // Section headers (`image:`) have no value of their own; their keys carry the comments.
      if (key.matches() && !key.group(3).isBlank() && !commented(lines, i)) {
        uncommented.add((i + 1) + ": " + lines.get(i).strip());
      }
    }
    assertThat(uncommented).as("values without a comment").isEmpty();
  }

  /**
   * A value line is commented when a comment precedes it, or when it sits inside a block (like
   * `resources:`) whose header is commented and documents it as a whole.
   */
  private static boolean commented(List<String> lines, int index) {
    if (precededByComment(lines, index)) {
      return true;
    }
    int indent = indent(lines.get(index));
    for (int i = index - 1; i >= 0; i--) {
      String line = lines.get(i);
      if (!line.isBlank() && !line.strip().startsWith("#") && indent(line) < indent) {
        return commented(lines, i);
      }
    }
    return false;
  }

  private static boolean precededByComment(List<String> lines, int index) {
    return index > 0 && lines.get(index - 1).strip().startsWith("#");
  }

  private static int indent(String line) {
    int n = 0;
    while (n < line.length() && line.charAt(n) == ' ') {
      n++;
    }
    return n;
  }

  @SuppressWarnings("unchecked")
  private static Set<String> leaves(String prefix, Map<String, Object> map) {
    Set<String> leaves = new LinkedHashSet<>();
    for (Map.Entry<String, Object> e : map.entrySet()) {
      String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      if (e.getValue() instanceof Map<?, ?> child && !child.isEmpty()) {
        leaves.addAll(leaves(path, (Map<String, Object>) child));
      } else {
        leaves.add(path);
      }
    }
    return leaves;
  }
}
