package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.ProviderUsage;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.devchain.DevAccounts;
import io.gpupool.sandbox.chain.SandboxChain;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Billing through the sandbox as a user sees it: the sandbox's anvil chain with GpuPoolBilling and
 * the example payers funded, the packaged operator settling on it. A job from examples/ runs to
 * completion and its provider's balance on the contract equals the metered cost to the wei (from
 * the pods' own timestamps, the usage record and {@code kubectl get tj}); the GpuProvider's status
 * earnings match the chain. A payer without enough escrow keeps its job Pending with condition
 * InsufficientFunds until it deposits.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BillingE2E {
  private static final Path EXAMPLE =
      SandboxCluster.REPO.resolve("examples/training-dp-finetune-4x4090.yaml");

  /** The accounts the example names, bound to its namespace, as a platform admin creates them. */
  private static final Path ACCOUNTS =
      SandboxCluster.REPO.resolve("examples/billing-accounts.yaml");

  private static final BigInteger GPU_HOUR_IN_MILLI_GPU_MILLIS = BigInteger.valueOf(3_600_000_000L);

  private SandboxCluster cluster;
  private Kubectl kubectl;
  private SandboxChain chain;

  @BeforeAll
  void start() throws IOException {
    cluster =
        SandboxCluster.startWithChain(
            "billing",
            20,
            SandboxChain.Options.forTimeScale(20),
            // long enough that billing the grace period would show (aNodeTurnedNotReady...)
            Map.of("GPUPOOL_NODES_LOST_GRACE_PERIOD", "12s"));
    kubectl = cluster.kubectl;
    chain = cluster.chain();
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void providersOnChainBalanceEqualsTheMeteredCostExactly() {
    kubectl.run("apply", "-f", ACCOUNTS.toString()).expectSuccess();
    kubectl.run("apply", "-f", EXAMPLE.toString()).expectSuccess();
    String job = "tinyllama-finetune";
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Succeeded", "tj/" + job, "--timeout=120s")
        .expectSuccess();
    BigInteger fromPods = costFromPods(job);
    TrainingJob settled = awaitSettled(job, fromPods);

    assertThat(settled.getStatus().usage.byProvider).isNotEmpty();
    BigInteger total = BigInteger.ZERO;
    for (ProviderUsage p : settled.getStatus().usage.byProvider) {
      BigInteger cost = new BigInteger(p.costWei);
      String address = payoutAddress(p.provider);
      assertThat(cost).as("metered cost of %s", p.provider).isPositive();
      assertThat(chain.providerBalance(address))
          .as("%s's balance on the contract", p.provider)
          .isEqualTo(cost);
      assertThat(usageRecordMeteredWei(settled, address)).contains(cost);
      total = total.add(cost);
    }
    assertThat(total).as("cost from the pods' timestamps").isEqualTo(fromPods);
    String row = kubectl.run("get", "tj", job).expectSuccess().out();
    assertThat(settled.getStatus().usage.costWei).isEqualTo(total.toString());
    assertThat(row)
        .as("the COST column: fixed decimals and the token's symbol")
        .contains(settled.getStatus().usage.costDisplay)
        .containsPattern("\\d+\\.\\d{6} ETH");
    // the payer paid exactly that out of its escrow
    String payer = settled.getSpec().budget.payer;
    assertThat(chain.escrow(payer)).isEqualTo(chain.options().escrowWeiPerPayer().subtract(total));

    // GpuProvider status (refreshed every minute) shows the same earnings as the chain
    for (ProviderUsage p : settled.getStatus().usage.byProvider) {
      String onChain =
          TokenUnits.fromWei(chain.providerBalance(payoutAddress(p.provider))).toPlainString();
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofSeconds(2))
          .untilAsserted(
              () ->
                  assertThat(
                          kubectl
                              .run(
                                  "get",
                                  "gpuprovider",
                                  p.provider,
                                  "-o",
                                  "jsonpath={.status.earnings.settled}")
                              .expectSuccess()
                              .out())
                      .isEqualTo(onChain));
      assertThat(
              kubectl
                  .run(
                      "get", "gpuprovider", p.provider, "-o", "jsonpath={.status.earnings.accrued}")
                  .out())
          .isEqualTo(onChain);
    }
  }

  @Test
  @Order(2)
  void payerWithoutEnoughEscrowWaitsAsInsufficientFundsAndStartsAfterADeposit() throws Exception {
    String payer = DevAccounts.account(12).getAddress(); // not one of anvil's funded accounts
    BigInteger crumbs = BigInteger.valueOf(1000);
    chain.deposit(payer, crumbs);
    kubectl.applyText(account("underfunded", payer, "default")).expectSuccess();
    TrainingJob job = Serialization.unmarshal(Files.readString(EXAMPLE), TrainingJob.class);
    job.getMetadata().setName("underfunded-finetune");
    job.getSpec().budget.account = "underfunded";
    job.getSpec().budget.payer = payer;
    kubectl.applyText(Serialization.asYaml(job)).expectSuccess();
    String name = "underfunded-finetune";

    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> funded(name).map(c -> "InsufficientFunds".equals(c.getReason())).orElse(false));
    assertThat(jsonpath(name, "{.status.phase}")).isEqualTo("Pending");
    assertThat(jsonpath(name, "{.status.conditions[?(@.type==\"Funded\")].status}"))
        .isEqualTo("False");
    String message = funded(name).orElseThrow().getMessage();
    assertThat(message)
        .as("names the payer, what is available and what is needed")
        .contains(payer.toLowerCase())
        .contains("escrow " + TokenUnits.fromWei(crumbs).toPlainString())
        .contains("cannot cover ");
    assertThat(kubectl.run("describe", "tj", name).expectSuccess().out())
        .contains("InsufficientFunds");
    // it stays so: no pods, still Pending, while settlement rounds go by
    Thread.sleep(chain.options().intervals().settlement().multipliedBy(3).toMillis());
    assertThat(jsonpath(name, "{.status.phase}")).isEqualTo("Pending");
    assertThat(
            kubectl
                .run("get", "pods", "-l", "gpupool.io/job-name=" + name, "-o", "name")
                .expectSuccess()
                .out())
        .isBlank();

    BigInteger topUp = TokenUnits.toWei("1");
    chain.deposit(payer, topUp);
    // the operator looks at unfunded jobs again every minute
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Succeeded", "tj/" + name, "--timeout=150s")
        .expectSuccess();
    assertThat(funded(name).orElseThrow().getStatus()).isEqualTo("True");
    BigInteger cost = costFromPods(name);
    assertThat(cost).isPositive();
    awaitSettled(name, cost);
    assertThat(chain.escrow(payer)).isEqualTo(crumbs.add(topUp).subtract(cost));

    // every provider's balance is the sum of what the jobs it served were metered
    Map<String, BigInteger> owed = new HashMap<>();
    for (String j : new String[] {"tinyllama-finetune", name}) {
      for (ProviderUsage p : get(j).getStatus().usage.byProvider) {
        owed.merge(payoutAddress(p.provider), new BigInteger(p.costWei), BigInteger::add);
      }
    }
    owed.forEach((address, wei) -> assertThat(chain.providerBalance(address)).isEqualTo(wei));
  }

  /**
   * Issue #18, as a user sees it: a job in team-a naming team-b's funded account is refused
   * (PayerNotAuthorized in describe, no pods) and team-b's escrow on chain does not move; a job
   * without budget in an unbound namespace is refused with BudgetRequired.
   */
  @Test
  @Order(3)
  void aNamespaceMayNotChargeAnotherTeamsAccount() throws Exception {
    String teamBPayer = DevAccounts.account(13).getAddress();
    chain.deposit(teamBPayer, TokenUnits.toWei("1"));
    BigInteger before = chain.escrow(teamBPayer);
    kubectl.run("create", "namespace", "team-a").expectSuccess();
    kubectl.run("create", "namespace", "team-c").expectSuccess();
    kubectl.applyText(account("team-b", teamBPayer, "team-b")).expectSuccess();

    TrainingJob job = Serialization.unmarshal(Files.readString(EXAMPLE), TrainingJob.class);
    job.getMetadata().setName("borrower");
    job.getMetadata().setNamespace("team-a");
    job.getSpec().budget.account = "team-b";
    job.getSpec().budget.payer = null;
    kubectl.applyText(Serialization.asYaml(job)).expectSuccess();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () ->
                kubectl
                    .run(
                        "get",
                        "tj",
                        "borrower",
                        "-n",
                        "team-a",
                        "-o",
                        "jsonpath={.status.conditions[?(@.type==\"Funded\")].reason}")
                    .out()
                    .equals("PayerNotAuthorized"));
    String described =
        kubectl.run("describe", "tj", "borrower", "-n", "team-a").expectSuccess().out();
    assertThat(described)
        .contains("PayerNotAuthorized")
        .contains("may not charge BillingAccount team-b")
        .doesNotContainIgnoringCase(teamBPayer);
    Thread.sleep(chain.options().intervals().settlement().multipliedBy(2).toMillis());
    assertThat(
            kubectl
                .run(
                    "get",
                    "pods",
                    "-n",
                    "team-a",
                    "-l",
                    "gpupool.io/job-name=borrower",
                    "-o",
                    "name")
                .expectSuccess()
                .out())
        .isBlank();
    assertThat(chain.escrow(teamBPayer)).isEqualTo(before);

    TrainingJob freeloader = Serialization.unmarshal(Files.readString(EXAMPLE), TrainingJob.class);
    freeloader.getMetadata().setName("freeloader");
    freeloader.getMetadata().setNamespace("team-c");
    freeloader.getSpec().budget = null;
    kubectl.applyText(Serialization.asYaml(freeloader)).expectSuccess();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () ->
                kubectl
                    .run(
                        "get",
                        "tj",
                        "freeloader",
                        "-n",
                        "team-c",
                        "-o",
                        "jsonpath={.status.conditions[?(@.type==\"Funded\")].reason}")
                    .out()
                    .equals("BudgetRequired"));
    kubectl.run("delete", "tj", "borrower", "-n", "team-a").expectSuccess();
    kubectl.run("delete", "tj", "freeloader", "-n", "team-c").expectSuccess();
  }

  /**
   * A node turned NotReady under a running job: its pod's billing ends at the node's Ready
   * transition (as the operator observed it), not when the rank is re-placed after the grace
   * period; the pod's metered GPU time is bounded by the transition.
   */
  /**
   * A node turns NotReady under a running two-rank job: the pod there is billed until the fault,
   * not through the grace period before its rank is re-placed, and the providers' balances on the
   * contract grow by exactly the time the job's pods delivered, at the prices listed when they were
   * placed, although the tenant rewrote the billing terms on its pods (price x1000, 4 GPUs).
   */
  @Test
  @Order(4)
  void aNodeTurnedNotReadyStopsItsPodsBillingAtTheFault() throws Exception {
    // every earlier job is settled: from here on only this job changes the providers' balances
    Map<String, BigInteger> before = providerBalances();
    String applied =
        kubectl
            .applyText(
                ExamplesE2E.trainingJob("outage", 2, "600")
                    + "  checkpoint:\n    uri: s3://ckpt/outage\n")
            .expectSuccess()
            .out();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .alias("tj/outage Running after: " + applied)
        .until(
            () ->
                kubectl
                    .run("get", "tj", "outage", "-o", "jsonpath={.status.phase}")
                    .out()
                    .trim()
                    .equals("Running"));
    String victim = tj("outage", "{.status.placements[1].node}");
    String victimPod = tj("outage", "{.status.placements[1].pod}");
    String jobUid = tj("outage", "{.metadata.uid}");
    Map<String, Pod> seen = new HashMap<>();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> runningPods("outage", 0), pods -> pods.size() == 2)
        .forEach(p -> seen.put(p.getMetadata().getUid(), p));
    String podUid = kubectl.run("get", "pod", victimPod, "-o", "jsonpath={.metadata.uid}").out();
    forgeTerms(seen.values());
    Thread.sleep(2000); // billed while it runs
    Instant faulted = Instant.now();
    kubectl
        .run("label", "node", victim, "sandbox.gpupool.io/fault=NotReady", "--overwrite")
        .expectSuccess();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> "1".equals(tj("outage", "{.status.restarts}")));
    Instant replaced = Instant.now();
    Instant transition =
        Instant.parse(
            kubectl
                .run(
                    "get",
                    "node",
                    victim,
                    "-o",
                    "jsonpath={.status.conditions[?(@.type==\"Ready\")].lastTransitionTime}")
                .expectSuccess()
                .out()
                .trim());
    com.fasterxml.jackson.databind.JsonNode record =
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofSeconds(1))
            .until(() -> podRecord(jobUid, podUid), r -> r != null && r.path("ended").asBoolean());
    Instant end = Instant.parse(record.get("end").asText());
    // the operator notices a node's status change through its informer within a moment
    assertThat(end)
        .as(
            "billing ends at the Ready transition %s (fault at %s, rank re-placed by %s)",
            transition, faulted, replaced)
        .isBetween(transition, transition.plusSeconds(4));
    assertThat(Duration.between(end, replaced))
        .as("the 12 s grace period before the rank was re-placed is not billed")
        .isGreaterThan(Duration.ofSeconds(6));

    // the re-placed ranks run, then the job is suspended: its pods deliver nothing more
    List<Pod> second =
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> runningPods("outage", 1), pods -> pods.size() == 2);
    second.forEach(p -> seen.put(p.getMetadata().getUid(), p));
    forgeTerms(second);
    Instant suspended = Instant.now();
    kubectl
        .run("patch", "tj", "outage", "--type=merge", "-p", "{\"spec\":{\"suspend\":true}}")
        .expectSuccess();
    awaitNoPods("outage");
    Instant gone = Instant.now();

    // each pod is billed from its container's start until it stopped delivering, at its
    // provider's listed price; the chain pays exactly that, to the wei
    Map<String, BigInteger> expected = new HashMap<>();
    Map<String, BigInteger> numerators = new HashMap<>();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> podRecords(jobUid).values().stream().allMatch(r -> r.path("ended").asBoolean()));
    Map<String, com.fasterxml.jackson.databind.JsonNode> records = podRecords(jobUid);
    assertThat(records.keySet())
        .as("every pod of both generations, none other")
        .isEqualTo(seen.keySet());
    for (var e : records.entrySet()) {
      Pod pod = seen.get(e.getKey());
      com.fasterxml.jackson.databind.JsonNode r = e.getValue();
      Instant from = Instant.parse(r.get("start").asText());
      Instant to = Instant.parse(r.get("end").asText());
      assertThat(from).as("start of %s", pod.getMetadata().getName()).isEqualTo(startedAt(pod));
      if (e.getKey().equals(podUid)) {
        assertThat(to).isEqualTo(end);
      } else if ("0".equals(pod.getMetadata().getLabels().get("gpupool.io/gang-generation"))) {
        // the sandbox fails the whole gang at the fault; its finishedAt is in whole seconds
        assertThat(to)
            .as("healthy rank stopped by the fault or removed for the restart")
            .isBetween(faulted.truncatedTo(java.time.temporal.ChronoUnit.SECONDS), gone);
      } else {
        assertThat(to).as("re-placed rank removed by the suspension").isBetween(suspended, gone);
      }
      String provider = pod.getMetadata().getLabels().get("gpupool.io/provider");
      BigInteger price = listedPrice(provider, pod);
      assertThat(new BigInteger(r.get("priceWeiPerGpuHour").asText()))
          .as("the price listed at placement, not the pod's rewritten annotation")
          .isEqualTo(price);
      assertThat(r.get("milliGpus").asLong()).as("one whole GPU").isEqualTo(1000);
      long milliGpuMillis = 1000L * Duration.between(from, to).toMillis();
      numerators.merge(
          provider, BigInteger.valueOf(milliGpuMillis).multiply(price), BigInteger::add);
    }
    numerators.forEach((p, n) -> expected.put(p, n.divide(GPU_HOUR_IN_MILLI_GPU_MILLIS)));
    assertThat(expected.values()).allMatch(v -> v.signum() > 0);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () -> {
              Map<String, BigInteger> now = providerBalances();
              for (String provider : now.keySet()) {
                assertThat(
                        now.get(provider).subtract(before.getOrDefault(provider, BigInteger.ZERO)))
                    .as("growth of %s's balance on the contract", provider)
                    .isEqualTo(expected.getOrDefault(provider, BigInteger.ZERO));
              }
            });
    assertThat(podRecord(jobUid, podUid).get("end").asText())
        .as("the failed node's pod is not billed further")
        .isEqualTo(record.get("end").asText());
    kubectl
        .run("label", "node", victim, "sandbox.gpupool.io/fault=Ready", "--overwrite")
        .expectSuccess();
    kubectl.run("delete", "tj", "outage").expectSuccess();
  }

  /** The job's pods of gang generation {@code generation} whose worker runs. */
  private List<Pod> runningPods(String job, int generation) {
    return Serialization.unmarshal(
            kubectl
                .run(
                    "get",
                    "pods",
                    "-l",
                    "gpupool.io/job-name=" + job + ",gpupool.io/gang-generation=" + generation,
                    "-o",
                    "json")
                .expectSuccess()
                .out(),
            PodList.class)
        .getItems()
        .stream()
        .filter(p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase()))
        .filter(p -> startedAt(p) != null)
        .toList();
  }

  /** The tenant rewrites the billing terms written on its pods: price x1000, 4 GPUs. */
  private void forgeTerms(java.util.Collection<Pod> pods) {
    for (Pod p : pods) {
      String price =
          p.getMetadata().getAnnotations().get("gpupool.io/billing-price-wei-per-gpu-hour");
      kubectl
          .run(
              "annotate",
              "pod",
              p.getMetadata().getName(),
              "--overwrite",
              "gpupool.io/billing-price-wei-per-gpu-hour="
                  + new BigInteger(price).multiply(BigInteger.valueOf(1000)),
              "gpupool.io/billing-milli-gpus=4000")
          .expectSuccess();
    }
  }

  /** When the pod's worker container started, as its kubelet reports it. */
  private static Instant startedAt(Pod pod) {
    return pod.getStatus().getContainerStatuses().stream()
        .filter(c -> "worker".equals(c.getName()))
        .findFirst()
        .map(c -> c.getState().getRunning())
        .map(r -> r.getStartedAt() == null ? null : Instant.parse(r.getStartedAt()))
        .orElse(null);
  }

  /** {@code provider}'s listed price for the GPU product of {@code pod}'s node, in wei. */
  private BigInteger listedPrice(String provider, Pod pod) {
    Node node =
        Serialization.unmarshal(
            kubectl
                .run("get", "node", pod.getSpec().getNodeName(), "-o", "json")
                .expectSuccess()
                .out(),
            Node.class);
    String product =
        node.getMetadata().getLabels().get("nvidia.com/gpu.product").replace("-SHARED", "");
    GpuProvider gp =
        Serialization.unmarshal(
            kubectl.run("get", "gpuprovider", provider, "-o", "json").expectSuccess().out(),
            GpuProvider.class);
    return gp.getSpec().prices.stream()
        .filter(p -> p.gpuProduct.equals(product))
        .map(p -> TokenUnits.toWei(p.pricePerGpuHour))
        .findFirst()
        .orElseThrow();
  }

  /** Every provider's balance on the contract, by GpuProvider name. */
  private Map<String, BigInteger> providerBalances() throws IOException {
    Map<String, BigInteger> out = new HashMap<>();
    var list =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(kubectl.run("get", "gpuprovider", "-o", "json").expectSuccess().out());
    for (var p : list.path("items")) {
      String payout = p.path("spec").path("payoutAddress").asText("");
      if (!payout.isEmpty()) {
        out.put(p.path("metadata").path("name").asText(), chain.providerBalance(payout));
      }
    }
    return out;
  }

  /** The usage records the operator keeps for a job's pods, by pod UID. */
  private Map<String, com.fasterxml.jackson.databind.JsonNode> podRecords(String jobUid)
      throws IOException {
    String json =
        kubectl
            .run(
                "get",
                "configmap",
                "-n",
                ChartRelease.NAMESPACE,
                "gpupool-usage-" + jobUid,
                "-o",
                "jsonpath={.data}")
            .expectSuccess()
            .out()
            .trim();
    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    Map<String, com.fasterxml.jackson.databind.JsonNode> out = new HashMap<>();
    var data = mapper.readTree(json.isEmpty() ? "{}" : json);
    for (var it = data.fields(); it.hasNext(); ) {
      var e = it.next();
      if (e.getKey().startsWith("pod.")) {
        out.put(e.getKey().substring(4), mapper.readTree(e.getValue().asText()));
      }
    }
    return out;
  }

  /**
   * A provider's kubelet reports its pod finished a day from now: billing stops when the operator
   * saw the pod stop, and the job is not charged for the day.
   */
  @Test
  @Order(5)
  void aFinishedAtInTheFutureDoesNotKeepCharging() throws Exception {
    kubectl.applyText(ExamplesE2E.trainingJob("liar", 1, "600")).expectSuccess();
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Running", "tj/liar", "--timeout=60s")
        .expectSuccess();
    String podName = tj("liar", "{.status.placements[0].pod}");
    String jobUid = tj("liar", "{.metadata.uid}");
    Thread.sleep(1500);
    Instant lied = Instant.now();
    Pod pod =
        cluster
            .client()
            .pods()
            .inNamespace("default")
            .withName(podName)
            .editStatus(
                p -> {
                  p.getStatus().setPhase("Succeeded");
                  ContainerStatus worker = p.getStatus().getContainerStatuses().get(0);
                  String started = worker.getState().getRunning().getStartedAt();
                  worker.setState(
                      new io.fabric8.kubernetes.api.model.ContainerStateBuilder()
                          .withNewTerminated()
                          .withExitCode(0)
                          .withStartedAt(started)
                          .withFinishedAt(Instant.now().plus(Duration.ofDays(1)).toString())
                          .endTerminated()
                          .build());
                  return p;
                });
    String podUid = pod.getMetadata().getUid();
    com.fasterxml.jackson.databind.JsonNode record =
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofSeconds(1))
            .until(() -> podRecord(jobUid, podUid), r -> r != null && r.path("ended").asBoolean());
    Instant end = Instant.parse(record.get("end").asText());
    assertThat(end)
        .as("billing ends when the operator saw the pod stop, not at its finishedAt")
        .isBetween(lied, Instant.now());
    Thread.sleep(2000);
    assertThat(podRecord(jobUid, podUid).get("end").asText()).isEqualTo(record.get("end").asText());
    kubectl.run("delete", "tj", "liar").expectSuccess();
  }

  /**
   * The rest of issue #18 as a tenant and a platform admin see it: a TrainingJob stops at its
   * budget's maxCost (BudgetExhausted, no pods) and runs again when it is raised; the account shows
   * what its jobs spent; unbinding the namespace from the account suspends the job (usage kept) and
   * binding it again resumes it.
   */
  @Test
  @Order(6)
  void maxCostStopsAJobAndUnbindingItsNamespaceSuspendsIt() throws Exception {
    kubectl.run("apply", "-f", ACCOUNTS.toString()).expectSuccess();
    kubectl
        .applyText(ExamplesE2E.trainingJob("capped", 1, "600") + "    maxCost: \"0.000001\"\n")
        .expectSuccess();
    awaitFunded("capped", "BudgetExhausted");
    awaitNoPods("capped");
    String spentAtCap = tj("capped", "{.status.usage.costWei}");

    kubectl
        .run(
            "patch",
            "tj",
            "capped",
            "--type=merge",
            "-p",
            "{\"spec\":{\"budget\":{\"maxCost\":\"50\"}}}")
        .expectSuccess();
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Running", "tj/capped", "--timeout=60s")
        .expectSuccess();
    assertThat(funded("capped")).map(Condition::getStatus).contains("True");
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () ->
                !kubectl
                    .run("get", "ba", "finetuning", "-o", "jsonpath={.status.spent}")
                    .expectSuccess()
                    .out()
                    .matches("|0|0\\.0*"));

    // The platform admin takes the namespace away from the account: the job may no longer charge
    // it.
    kubectl
        .run(
            "patch",
            "ba",
            "finetuning",
            "--type=merge",
            "-p",
            "{\"spec\":{\"namespaces\":[\"elsewhere\"]}}")
        .expectSuccess();
    awaitFunded("capped", "PayerNotAuthorized");
    awaitNoPods("capped");
    assertThat(new BigInteger(orZero(tj("capped", "{.status.usage.costWei}"))))
        .as("usage metered before the suspension is kept")
        .isGreaterThanOrEqualTo(new BigInteger(orZero(spentAtCap)));

    kubectl.run("apply", "-f", ACCOUNTS.toString()).expectSuccess();
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Running", "tj/capped", "--timeout=60s")
        .expectSuccess();
    kubectl.run("delete", "tj", "capped").expectSuccess();
  }

  private static String orZero(String wei) {
    return wei.isBlank() ? "0" : wei;
  }

  private void awaitFunded(String name, String reason) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> tj(name, "{.status.conditions[?(@.type==\"Funded\")].reason}").equals(reason));
  }

  private void awaitNoPods(String name) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () ->
                kubectl
                    .run("get", "pods", "-l", "gpupool.io/job-name=" + name, "-o", "name")
                    .expectSuccess()
                    .out()
                    .isBlank());
  }

  private String tj(String name, String jsonpath) {
    return kubectl
        .run("get", "tj", name, "-o", "jsonpath=" + jsonpath)
        .expectSuccess()
        .out()
        .trim();
  }

  /** The usage record the operator keeps for one pod, or null while it has none. */
  private com.fasterxml.jackson.databind.JsonNode podRecord(String jobUid, String podUid)
      throws IOException {
    var run =
        kubectl.run(
            "get",
            "configmap",
            "-n",
            ChartRelease.NAMESPACE,
            "gpupool-usage-" + jobUid,
            "-o",
            "jsonpath={.data.pod\\." + podUid + "}");
    String json = run.out().trim();
    return json.isEmpty() ? null : new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
  }

  private static String account(String name, String payer, String namespace) {
    return "apiVersion: gpupool.io/v1alpha1\nkind: BillingAccount\nmetadata:\n  name: "
        + name
        + "\nspec:\n  payer: \""
        + payer
        + "\"\n  namespaces: ["
        + namespace
        + "]\n";
  }

  /**
   * Waits until the job's status shows {@code expectedWei} as its cost, all of it settled, and
   * returns the job. A finished job's status picks up the final metering and settlement on the
   * operator's periodic refresh (every 30 s), hence the generous limit.
   */
  private TrainingJob awaitSettled(String name, BigInteger expectedWei) {
    String expected = TokenUnits.fromWei(expectedWei).toPlainString();
    TrainingJob[] last = new TrainingJob[1];
    try {
      awaitStatus(name, expected, last);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(e.getMessage() + "\n" + diagnose(last[0]), e);
    }
    return last[0];
  }

  /** What the usage record and the chain say, for a failure message. */
  private String diagnose(TrainingJob job) {
    if (job == null || job.getStatus() == null || job.getStatus().usage == null) {
      return "no usage in status";
    }
    StringBuilder b = new StringBuilder();
    String payer = job.getSpec().budget.payer;
    b.append("payer escrow on chain: ").append(chain.escrow(payer)).append('\n');
    for (ProviderUsage p : job.getStatus().usage.byProvider) {
      String address = payoutAddress(p.provider);
      b.append(p.provider)
          .append(": chain balance ")
          .append(chain.providerBalance(address))
          .append(", usage record ")
          .append(
              kubectl
                  .run(
                      "get",
                      "configmap",
                      "-n",
                      ChartRelease.NAMESPACE,
                      "gpupool-usage-" + job.getMetadata().getUid(),
                      "-o",
                      "jsonpath={.data}")
                  .out())
          .append('\n');
    }
    return b.toString();
  }

  private void awaitStatus(String name, String expected, TrainingJob[] last) {
    await()
        .atMost(Duration.ofSeconds(150))
        .pollInterval(Duration.ofSeconds(2))
        .untilAsserted(
            () -> {
              TrainingJob j = get(name);
              last[0] = j;
              assertThat(j.getStatus().usage).as("status.usage of %s", name).isNotNull();
              String seen = Serialization.asJson(j.getStatus().usage);
              assertThat(j.getStatus().usage.cost).as("cost in %s", seen).isEqualTo(expected);
              assertThat(j.getStatus().usage.settled).as("settled in %s", seen).isEqualTo(expected);
              assertThat(j.getStatus().usage.byProvider)
                  .as("per provider in %s", seen)
                  .allMatch(p -> p.costWei.equals(p.settledWei));
            });
  }

  private TrainingJob get(String name) {
    return Serialization.unmarshal(
        kubectl.run("get", "tj", name, "-o", "json").expectSuccess().out(), TrainingJob.class);
  }

  private String jsonpath(String name, String path) {
    return kubectl.run("get", "tj", name, "-o", "jsonpath=" + path).expectSuccess().out();
  }

  private Optional<Condition> funded(String name) {
    return Optional.ofNullable(get(name).getStatus()).stream()
        .flatMap(s -> s.conditions.stream())
        .filter(c -> "Funded".equals(c.getType()))
        .findFirst();
  }

  private String payoutAddress(String provider) {
    return Serialization.unmarshal(
            kubectl.run("get", "gpuprovider", provider, "-o", "json").expectSuccess().out(),
            GpuProvider.class)
        .getSpec()
        .payoutAddress;
  }

  /** The job's usage record (its ConfigMap) as the operator stored it: metered wei to provider. */
  private Optional<BigInteger> usageRecordMeteredWei(TrainingJob job, String provider) {
    String configMap = "gpupool-usage-" + job.getMetadata().getUid();
    String key = "pair." + job.getSpec().budget.payer.toLowerCase() + "." + provider.toLowerCase();
    String record =
        kubectl
            .run(
                "get",
                "configmap",
                "-n",
                ChartRelease.NAMESPACE,
                configMap,
                "-o",
                "jsonpath={.data." + key.replace(".", "\\.") + "}")
            .expectSuccess()
            .out();
    if (record.isBlank()) {
      return Optional.empty();
    }
    Map<?, ?> fields = Serialization.unmarshal(record, Map.class);
    return Optional.of(new BigInteger(String.valueOf(fields.get("meteredWei"))));
  }

  /**
   * The cost recomputed from what kubectl shows: each worker's container start and finish, its
   * GPUs, its node's GPU product and share, and the provider's price; floor(Σ milli-GPU·ms × price
   * / GPU-hour) per provider, as docs/billing.md defines it.
   */
  private BigInteger costFromPods(String job) {
    PodList pods =
        Serialization.unmarshal(
            kubectl
                .run("get", "pods", "-l", "gpupool.io/job-name=" + job, "-o", "json")
                .expectSuccess()
                .out(),
            PodList.class);
    assertThat(pods.getItems()).as("the job's pods are kept after it succeeded").isNotEmpty();
    Map<String, BigInteger> milliGpuMillisByProvider = new HashMap<>();
    Map<String, BigInteger> priceByProvider = new HashMap<>();
    for (Pod pod : pods.getItems()) {
      Node node =
          Serialization.unmarshal(
              kubectl
                  .run("get", "node", pod.getSpec().getNodeName(), "-o", "json")
                  .expectSuccess()
                  .out(),
              Node.class);
      Map<String, String> labels = node.getMetadata().getLabels();
      String provider = labels.get("gpupool.io/provider");
      String product = labels.get("nvidia.com/gpu.product").replace("-SHARED", "");
      long replicas = Long.parseLong(labels.getOrDefault("nvidia.com/gpu.replicas", "1"));
      long gpus =
          Long.parseLong(
              pod.getSpec().getContainers().stream()
                  .filter(c -> "worker".equals(c.getName()))
                  .findFirst()
                  .orElseThrow()
                  .getResources()
                  .getLimits()
                  .get("nvidia.com/gpu")
                  .getAmount());
      ContainerStatus worker =
          pod.getStatus().getContainerStatuses().stream()
              .filter(c -> "worker".equals(c.getName()))
              .findFirst()
              .orElseThrow();
      Instant start = Instant.parse(worker.getState().getTerminated().getStartedAt());
      Instant end = Instant.parse(worker.getState().getTerminated().getFinishedAt());
      long milliGpuMillis = gpus * 1000 / replicas * Duration.between(start, end).toMillis();
      milliGpuMillisByProvider.merge(provider, BigInteger.valueOf(milliGpuMillis), BigInteger::add);
      GpuProvider gp =
          Serialization.unmarshal(
              kubectl.run("get", "gpuprovider", provider, "-o", "json").expectSuccess().out(),
              GpuProvider.class);
      priceByProvider.put(
          provider,
          gp.getSpec().prices.stream()
              .filter(p -> p.gpuProduct.equals(product))
              .map(p -> TokenUnits.toWei(p.pricePerGpuHour))
              .findFirst()
              .orElseThrow());
    }
    BigInteger total = BigInteger.ZERO;
    for (var e : milliGpuMillisByProvider.entrySet()) {
      total =
          total.add(
              e.getValue()
                  .multiply(priceByProvider.get(e.getKey()))
                  .divide(GPU_HOUR_IN_MILLI_GPU_MILLIS));
    }
    return total;
  }
}
