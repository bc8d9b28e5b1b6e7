package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.gpupool.api.v1alpha1.BillingAccount;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.billing.devchain.DevAccounts;
import io.gpupool.operator.billing.PayerAuthorization;
import io.gpupool.sandbox.chain.SandboxChain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every job in examples/ (and its subdirectories: the reference workloads the default sandbox
 * applies, the queue walkthrough) is paid by a BillingAccount of examples/ when billing is on, as
 * it is in the default {@code ./gpupool sandbox}: decided by the operator's own {@link
 * PayerAuthorization} with budgets required, and each account's payer is one the sandbox chain
 * funds. A job in a namespace bound to several accounts without naming one, or in a namespace bound
 * to none, fails here instead of showing Funded=False to a newcomer.
 */
class ExamplesBillingTest {
  private static final Path EXAMPLES = SandboxCluster.REPO.resolve("examples");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private record Manifest(Path file, JsonNode object) {
    String kind() {
      return object.path("kind").asText();
    }

    String name() {
      return object.path("metadata").path("name").asText();
    }

    String namespace() {
      return object.path("metadata").path("namespace").asText("default");
    }

    String describe() {
      return EXAMPLES.relativize(file) + ": " + kind() + " " + namespace() + "/" + name();
    }
  }

  private static List<Manifest> manifests() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.walk(EXAMPLES)) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    List<Manifest> all = new ArrayList<>();
    for (Path f : files) {
      try (var docs = YAML.readerFor(JsonNode.class).<JsonNode>readValues(f.toFile())) {
        while (docs.hasNext()) {
          JsonNode doc = docs.next();
          if (doc != null && doc.has("kind")) {
            all.add(new Manifest(f, doc));
          }
        }
      }
    }
    return all;
  }

  private static boolean isJob(Manifest m) {
    return m.object().path("apiVersion").asText().startsWith("gpupool.io/")
        && m.kind().endsWith("Job");
  }

  @Test
  void everyExampleJobIsPaidByAnExampleAccountWhenBillingIsOn() throws IOException {
    List<Manifest> manifests = manifests();
    List<BillingAccount> accounts =
        manifests.stream()
            .filter(m -> m.kind().equals("BillingAccount"))
            .map(m -> YAML.convertValue(m.object(), BillingAccount.class))
            .toList();
    Map<String, Map<String, String>> namespaceLabels = new HashMap<>();
    manifests.stream()
        .filter(m -> m.kind().equals("Namespace"))
        .forEach(
            m ->
                namespaceLabels.put(
                    m.name(),
                    YAML.convertValue(
                        m.object().path("metadata").path("labels"),
                        YAML.getTypeFactory()
                            .constructMapType(Map.class, String.class, String.class))));
    List<Manifest> jobs = manifests.stream().filter(ExamplesBillingTest::isJob).toList();
    assertThat(jobs)
        .as("the workloads and the queue walkthrough are among the examples read")
        .anyMatch(j -> j.file().startsWith(EXAMPLES.resolve("workloads")))
        .anyMatch(j -> j.file().startsWith(EXAMPLES.resolve("queues")));

    List<String> refused = new ArrayList<>();
    for (Manifest job : jobs) {
      JsonNode budgetNode = job.object().path("spec").path("budget");
      Budget budget =
          budgetNode.isMissingNode() ? null : YAML.convertValue(budgetNode, Budget.class);
      var decision =
          PayerAuthorization.decide(
              job.namespace(),
              namespaceLabels.getOrDefault(job.namespace(), Map.of()),
              budget,
              accounts,
              true);
      if (decision instanceof PayerAuthorization.Refused r) {
        refused.add(job.describe() + " -> " + r.reason() + ": " + r.message());
      }
    }
    assertThat(refused).as("jobs the operator refuses with billing on").isEmpty();
  }

  @Test
  void everyExampleAccountPaysFromAPayerTheSandboxChainFunds() throws IOException {
    List<String> funded =
        SandboxChain.PAYER_ACCOUNTS.stream()
            .map(i -> DevAccounts.account(i).getAddress().toLowerCase(Locale.ROOT))
            .toList();
    List<Manifest> accounts =
        manifests().stream().filter(m -> m.kind().equals("BillingAccount")).toList();
    assertThat(accounts).isNotEmpty();
    for (Manifest account : accounts) {
      assertThat(account.object().path("spec").path("payer").asText().toLowerCase(Locale.ROOT))
          .as(account.describe())
          .isIn(funded);
    }
  }
}
