package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.TrainingJob;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The operator with exactly the chart's RBAC, authorized by the sandbox as a real API server would:
 * it starts, passes JOSDK's Lease permission check, elects itself and places a job; a Role without
 * {@code update} on leases stops a replica at start ("No permission to lease resource"), and a verb
 * taken from the ClusterRole fails with the API server's 403 message.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChartRbacE2E {
  static final String OPERATOR_USER =
      "system:serviceaccount:" + ChartRelease.NAMESPACE + ":" + ChartRelease.serviceAccount();
  private static final String LEASE = "gpupool-operator";
  private static final String INFERENCE_CRD = "inferencejobs.gpupool.io";
  private static final String CLAIM =
      "claims.gpupool.io/" + ChartRelease.NAMESPACE + "." + ChartRelease.NAME;

  private SandboxCluster cluster;
  private int httpPort;
  private int httpsPort;
  private ChartRelease.MetricsTls tls;
  private javax.net.ssl.SSLSocketFactory caSockets;
  private KubernetesClient admin;
  private Kubectl kubectl;

  @BeforeAll
  void start() throws IOException {
    Map<String, String> env = new java.util.HashMap<>(ChartRelease.operatorEnvironment());
    env.keySet().removeIf(k -> k.startsWith("GPUPOOL_BILLING_"));
    env.put("GPUPOOL_LEADER_ELECTION_LEASE_NAME", LEASE);
    assertThat(env).containsEntry("GPUPOOL_LEADER_ELECTION_ENABLED", "true");
    httpPort = OperatorProcess.freePort();
    httpsPort = OperatorProcess.freePort();
    // the chart's default: HTTPS only, from the CA and certificate the chart generates
    tls =
        ChartRelease.metricsTls(
            SandboxCluster.REPO.resolve("e2e-tests/target/e2e-logs/chart-rbac-metrics-tls"),
            httpsPort);
    env.putAll(tls.env());
    cluster = SandboxCluster.start("chart-rbac", 20, env, httpPort);
    admin = cluster.client();
    kubectl = cluster.kubectl;
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void theOperatorElectsItselfAndPlacesAJobWithOnlyTheChartsRbac() {
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              Lease lease =
                  admin.leases().inNamespace(ChartRelease.NAMESPACE).withName(LEASE).get();
              return lease != null
                  && lease.getSpec().getHolderIdentity() != null
                  && lease.getSpec().getHolderIdentity().endsWith("-" + cluster.operatorPid());
            });
    kubectl.applyText(ExamplesE2E.trainingJob("chart-rbac", 2, "20")).expectSuccess();
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Succeeded", "tj/chart-rbac", "--timeout=120s")
        .expectSuccess();
    assertThat(cluster.operatorLog()).doesNotContain("is forbidden");
    // What the operator may do, asked as the API server is asked (kubectl auth can-i --as).
    assertThat(canI("create", "pods", "-n", "default")).isEqualTo("yes");
    assertThat(canI("update", "leases.coordination.k8s.io", "-n", ChartRelease.NAMESPACE))
        .isEqualTo("yes");
    assertThat(canI("get", "leases.coordination.k8s.io", "-n", "default")).isEqualTo("no");
    assertThat(canI("get", "secrets", "-n", ChartRelease.NAMESPACE)).isEqualTo("no");
  }

  @Test
  @Order(2)
  void aRoleWithoutLeaseUpdateStopsAReplicaAtStart() throws IOException {
    String name = "gpupool-no-lease-update";
    admin
        .serviceAccounts()
        .inNamespace(ChartRelease.NAMESPACE)
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(ChartRelease.NAMESPACE)
                .endMetadata()
                .build())
        .create();
    List<PolicyRule> rules = new ArrayList<>();
    for (PolicyRule r : ChartRelease.one(Role.class).getRules()) {
      List<String> verbs = new ArrayList<>(r.getVerbs());
      if (r.getResources().contains("leases")) {
        verbs.remove("update"); // the Role as the chart had it before JOSDK's check was known
      }
      rules.add(new PolicyRuleBuilder(r).withVerbs(verbs).build());
    }
    admin
        .resource(
            new RoleBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(ChartRelease.NAMESPACE)
                .endMetadata()
                .withRules(rules)
                .build())
        .create();
    admin
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(ChartRelease.NAMESPACE)
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", name)
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(name)
                .withNamespace(ChartRelease.NAMESPACE)
                .endSubject()
                .build())
        .create();
    admin
        .resource(
            new ClusterRoleBindingBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withNewRoleRef(
                    "rbac.authorization.k8s.io",
                    "ClusterRole",
                    ChartRelease.operatorClusterRole().getMetadata().getName())
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(name)
                .withNamespace(ChartRelease.NAMESPACE)
                .endSubject()
                .build())
        .create();
    Path kubeconfig =
        cluster
            .sandbox()
            .writeServiceAccountKubeconfig(
                SandboxCluster.REPO.resolve("e2e-tests/target/e2e-logs/" + name + ".kubeconfig"),
                ChartRelease.NAMESPACE,
                name);
    Map<String, String> env = new java.util.HashMap<>();
    env.put("GPUPOOL_LEADER_ELECTION_ENABLED", "true");
    env.put("GPUPOOL_LEADER_ELECTION_LEASE_NAME", LEASE);
    try (OperatorProcess replica = OperatorProcess.start(kubeconfig, name, env)) {
      await().atMost(Duration.ofSeconds(90)).until(() -> !replica.isAlive());
      assertThat(replica.log()).contains("No permission to lease resource");
    }
  }

  @Test
  @Order(3)
  void aVerbTakenFromTheClusterRoleFailsWithTheApiServersForbiddenMessage() {
    ClusterRole chartRole = ChartRelease.operatorClusterRole();
    ClusterRole stored =
        admin.rbac().clusterRoles().withName(chartRole.getMetadata().getName()).get();
    List<PolicyRule> withoutPodCreate = new ArrayList<>();
    for (PolicyRule r : stored.getRules()) {
      List<String> verbs = new ArrayList<>(r.getVerbs());
      if (r.getApiGroups().equals(List.of("")) && r.getResources().contains("pods")) {
        verbs.remove("create");
      }
      withoutPodCreate.add(new PolicyRuleBuilder(r).withVerbs(verbs).build());
    }
    stored.setRules(withoutPodCreate);
    admin.resource(stored).update();
    try {
      assertThat(canI("create", "pods", "-n", "default")).isEqualTo("no");
      kubectl.applyText(ExamplesE2E.trainingJob("no-pods", 1, "20")).expectSuccess();
      String forbidden =
          "pods is forbidden: User \""
              + OPERATOR_USER
              + "\" cannot create resource \"pods\" in API group \"\" in the namespace"
              + " \"default\"";
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  kubectl.run("get", "tj", "no-pods", "-o", "json").out().contains(forbidden)
                      || cluster.operatorLog().contains(forbidden));
      assertThat(
              kubectl.run("get", "pods", "-l", "gpupool.io/job-name=no-pods", "-o", "name").out())
          .isBlank();
    } finally {
      admin.resource(chartRole).update();
    }
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Succeeded", "tj/no-pods", "--timeout=420s")
        .expectSuccess();
  }

  @Test
  @Order(4)
  void aSecondInstallOverlappingTheFirstIsRefusedAtStartWithWhatToDo() throws IOException {
    assertThat(
            admin
                .apiextensions()
                .v1()
                .customResourceDefinitions()
                .withName("trainingjobs.gpupool.io")
                .get()
                .getMetadata()
                .getAnnotations())
        .as("the first install's claim")
        .containsEntry(
            "claims.gpupool.io/" + ChartRelease.NAMESPACE + "." + ChartRelease.NAME, "*");
    Map<String, String> env = new java.util.HashMap<>();
    env.put("GPUPOOL_SCOPE_INSTALL", "team-b/gpupool");
    env.put("GPUPOOL_SCOPE_NAMESPACES", "default,ml-b");
    try (OperatorProcess other =
        OperatorProcess.start(cluster.operatorKubeconfig(), "team-b-install", env)) {
      await().atMost(Duration.ofSeconds(90)).until(() -> !other.isAlive());
      assertThat(other.log())
          .contains(
              "gpupool install team-b/gpupool (managing namespaces [default, ml-b]) cannot start:"
                  + " install "
                  + ChartRelease.NAMESPACE
                  + "/"
                  + ChartRelease.NAME
                  + " already manages namespaces [default, ml-b]")
          .contains(
              "kubectl annotate crd trainingjobs.gpupool.io claims.gpupool.io/"
                  + ChartRelease.NAMESPACE
                  + "."
                  + ChartRelease.NAME
                  + "-");
    }
  }

  /**
   * The chart's defaults together: HTTPS only with the chart's own CA (plain HTTP refused), and
   * metrics.auth: 401 without a token, 403 for a token not allowed, 200 for a reader's.
   */
  @Test
  @Order(5)
  void metricsAreServedOnlyToAPermittedTokenOverTheChartsTls() throws Exception {
    assertThatThrownBy(
            () ->
                HttpClient.newHttpClient()
                    .send(
                        HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + httpPort + "/q/metrics"))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                        HttpResponse.BodyHandlers.ofString()))
        .as("no plain HTTP")
        .isInstanceOf(IOException.class);
    assertThat(scrape(null).statusCode()).isEqualTo(401);
    String tenant = cluster.sandbox().apiServer().issueServiceAccountToken("default", "tenant");
    Response refused = scrape(tenant);
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body())
        .contains("User \"system:serviceaccount:default:tenant\" cannot get path \"/q/metrics\"");
    String reader =
        ChartRelease.metricsReaderToken(admin, cluster.sandbox(), "monitoring", "prometheus");
    Response served = scrape(reader);
    assertThat(served.statusCode()).isEqualTo(200);
    assertThat(served.body()).contains("gpupool_operator_leader");
    assertThat(scrape("sandbox-sa.forged").statusCode()).isEqualTo(401);
    assertThat(get("/q/health/live", null).statusCode()).as("probes stay open").isEqualTo(200);
  }

  private Response scrape(String token) throws Exception {
    return get("/q/metrics", token);
  }

  /**
   * GET over HTTPS as the chart's ServiceMonitor scrapes: trusting only the Secret's ca.crt and
   * requiring the certificate to name the metrics Service (tlsConfig.serverName); the request goes
   * to loopback, where the sandbox's operator listens.
   */
  private Response get(String path, String token) throws Exception {
    var connection =
        (javax.net.ssl.HttpsURLConnection)
            URI.create("https://127.0.0.1:" + httpsPort + path).toURL().openConnection();
    connection.setSSLSocketFactory(trustingTheChartsCa());
    connection.setHostnameVerifier(
        (host, session) -> {
          try {
            var served = (java.security.cert.X509Certificate) session.getPeerCertificates()[0];
            return served.getSubjectAlternativeNames().stream()
                .anyMatch(san -> tls.serverName().equals(san.get(1)));
          } catch (Exception e) {
            return false;
          }
        });
    connection.setConnectTimeout(10_000);
    connection.setReadTimeout(10_000);
    if (token != null) {
      connection.setRequestProperty("Authorization", "Bearer " + token);
    }
    int status = connection.getResponseCode();
    var stream = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
    String body = stream == null ? "" : new String(stream.readAllBytes());
    return new Response(status, body);
  }

  /** Sockets that trust only the Secret's ca.crt (made once: every scrape checks the same CA). */
  private javax.net.ssl.SSLSocketFactory trustingTheChartsCa() throws Exception {
    if (caSockets != null) {
      return caSockets;
    }
    java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (var in = java.nio.file.Files.newInputStream(tls.caFile())) {
      trust.setCertificateEntry(
          "gpupool-metrics-ca",
          java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    javax.net.ssl.TrustManagerFactory trustManagers =
        javax.net.ssl.TrustManagerFactory.getInstance(
            javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trust);
    javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
    context.init(null, trustManagers.getTrustManagers(), null);
    caSockets = context.getSocketFactory();
    return caSockets;
  }

  /**
   * The pre-upgrade hook run as its ServiceAccount: the CRDs an older chart installed (here the
   * InferenceJob CRD without spec.autoscaling) are applied server-side from the hook's ConfigMap
   * and served at once; the scope claim another field manager set on the TrainingJob CRD stays.
   */
  @Test
  @Order(6)
  void theCrdUpgradeHookAppliesTheChangedCrdsAsItsServiceAccount() throws Exception {
    List<HasMetadata> hooks = ChartHooks.render("pre-upgrade", Map.of());
    ChartHooks.Installed hook = ChartHooks.install(hooks, admin, cluster.sandbox(), "crd-upgrade");
    CustomResourceDefinition older =
        admin.apiextensions().v1().customResourceDefinitions().withName(INFERENCE_CRD).get();
    older.getMetadata().setManagedFields(null);
    older
        .getSpec()
        .getVersions()
        .forEach(
            v ->
                v.getSchema()
                    .getOpenAPIV3Schema()
                    .getProperties()
                    .get("spec")
                    .getProperties()
                    .remove("autoscaling"));
    admin.resource(older).update();
    assertThat(kubectl.run("explain", "inferencejobs.spec.autoscaling").exitCode())
        .as("the older CRD does not serve spec.autoscaling")
        .isNotZero();

    ChartHooks.Run run = ChartHooks.run(hooks, hook, Duration.ofSeconds(90));

    assertThat(run.exit()).as("the CRD upgrade hook's output:%n%s", run.output()).isZero();
    assertThat(run.output())
        .contains(
            "customresourcedefinition.apiextensions.k8s.io/"
                + INFERENCE_CRD
                + " serverside-applied",
            "customresourcedefinition.apiextensions.k8s.io/trainingjobs.gpupool.io"
                + " serverside-applied");
    assertThat(kubectl.run("explain", "inferencejobs.spec.autoscaling").expectSuccess().out())
        .contains("autoscaling");
    assertThat(trainingJobCrdAnnotations()).containsEntry(CLAIM, "*");
    assertThat(
            kubectl
                .run(
                    "auth",
                    "can-i",
                    "delete",
                    "customresourcedefinitions",
                    "--as=system:serviceaccount:" + ChartRelease.NAMESPACE + ":" + hook.account())
                .out()
                .trim())
        .as("the hook may apply the chart's CRDs, not delete them")
        .isEqualTo("no");
  }

  /**
   * The pre-delete hook run as its ServiceAccount while the operator runs: it deletes every job and
   * waits (kubectl delete --wait) while the operator lifts its finalizers, then removes the
   * release's scope claim. kubectl waits by listing and then watching from the list's version: a
   * finalizer lifted in between must reach that watch as a deletion, or the hook hangs.
   */
  @Test
  @Order(7)
  void theUninstallHookDeletesTheJobsAsTheOperatorLiftsItsFinalizersAndDropsTheClaim()
      throws Exception {
    String ns = "leaving";
    admin
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    List<String> jobs = List.of("leaving-a", "leaving-b", "leaving-c");
    for (String job : jobs) {
      kubectl
          .applyText(
              ExamplesE2E.trainingJob(job, 1, "600")
                  .replace("namespace: default", "namespace: " + ns))
          .expectSuccess();
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                admin.resources(TrainingJob.class).inNamespace(ns).list().getItems().stream()
                            .filter(tj -> !tj.getMetadata().getFinalizers().isEmpty())
                            .count()
                        == jobs.size()
                    && !admin.pods().inNamespace(ns).list().getItems().isEmpty());
    List<HasMetadata> hooks = ChartHooks.render("pre-delete", Map.of("uninstall.timeout", "60s"));
    ChartHooks.Installed hook = ChartHooks.install(hooks, admin, cluster.sandbox(), "uninstall");
    int logBefore = cluster.operatorLog().length(); // earlier tests took verbs away on purpose

    ChartHooks.Run run = ChartHooks.run(hooks, hook, Duration.ofSeconds(120));

    assertThat(run.exit()).as("the uninstall hook's output:%n%s", run.output()).isZero();
    assertThat(run.output())
        .contains(ns + ": deleting TrainingJobs and InferenceJobs")
        .contains("removing this release's scope claim " + CLAIM);
    assertThat(run.took()).isLessThan(Duration.ofSeconds(60));
    assertThat(admin.resources(TrainingJob.class).inAnyNamespace().list().getItems()).isEmpty();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> admin.pods().inNamespace(ns).list().getItems().isEmpty());
    assertThat(trainingJobCrdAnnotations()).doesNotContainKey(CLAIM);
    assertThat(cluster.operatorLog().substring(logBefore)).doesNotContain("is forbidden");
  }

  private Map<String, String> trainingJobCrdAnnotations() {
    return admin
        .apiextensions()
        .v1()
        .customResourceDefinitions()
        .withName("trainingjobs.gpupool.io")
        .get()
        .getMetadata()
        .getAnnotations();
  }

  /** What the checks read of a response. */
  private record Response(int statusCode, String body) {}

  private String canI(String verb, String resource, String... more) {
    List<String> args = new ArrayList<>(List.of("auth", "can-i", verb, resource));
    args.addAll(List.of(more));
    args.add("--as=" + OPERATOR_USER);
    return kubectl.run(args.toArray(String[]::new)).out().trim();
  }
}
