package io.gpupool.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Lints and renders the chart with helm-java and checks the manifests parsed with Fabric8. */
class ChartRenderTest {
  private static final String NS = "gpupool-system";

  @Test
  void lintStrictPassesWithDefaultValues() {
    LintResult result = new Helm(Chart.DIR).lint().strict().call();
    assertThat(result.isFailed()).as("lint: %s", result.getMessages()).isFalse();
    assertThat(result.getMessages())
        .noneMatch(m -> m.contains("[WARNING]") || m.contains("[ERROR]"));
  }

  @Test
  void chartDeclaresAppVersionAndTheImageDefaultsToIt() {
    Map<String, Object> chart = Chart.readYaml(Chart.DIR.resolve("Chart.yaml"));
    assertThat(chart).containsEntry("appVersion", "0.1.0").containsEntry("apiVersion", "v2");
    Deployment deployment = Chart.render(NS, Map.of()).one(Deployment.class);
    assertThat(operator(deployment).getImage()).isEqualTo("ghcr.io/gpupool/operator:0.1.0");
  }

  @Test
  void crdsAreExactCopiesOfTheRepositoryCrds() throws IOException {
    Path repoCrds = Chart.MODULE.resolve("../crds");
    List<String> names;
    try (Stream<Path> files = Files.list(repoCrds)) {
      names = files.map(p -> p.getFileName().toString()).sorted().toList();
    }
    try (Stream<Path> files = Files.list(Chart.CRDS)) {
      assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
          .containsExactlyElementsOf(names);
    }
    for (String name : names) {
      assertThat(Files.readAllBytes(Chart.CRDS.resolve(name)))
          .as("helm/gpupool/crds/%s must equal crds/%s byte for byte", name, name)
          .isEqualTo(Files.readAllBytes(repoCrds.resolve(name)));
    }
  }

  @Nested
  class DefaultValues {
    private final Chart.Rendered rendered = Chart.render(NS, Map.of());

    @Test
    void rendersTheExpectedObjects() {
      assertThat(rendered.resources().stream().map(r -> r.getKind()).sorted().toList())
          .containsExactly(
              "ClusterRole",
              "ClusterRole",
              "ClusterRole",
              "ClusterRole",
              "ClusterRoleBinding",
              "ConfigMap",
              "ConfigMap",
              "ConfigMap",
              "ConfigMap",
              "ConfigMap",
              "Deployment",
              "PodDisruptionBudget",
              "Role",
              "RoleBinding",
              "Secret", // the metrics TLS certificate the chart signs itself
              "Service",
              "ServiceAccount",
              "ValidatingAdmissionPolicy",
              "ValidatingAdmissionPolicyBinding");
      assertThat(rendered.resources())
          .filteredOn(
              r -> !r.getKind().startsWith("Cluster") && !r.getKind().startsWith("Validating"))
          .allSatisfy(r -> assertThat(r.getMetadata().getNamespace()).isEqualTo(NS));
    }

    @Test
    void deploymentRunsTwoLeaderElectedReplicasWithProbesAndResources() {
      Deployment deployment = rendered.one(Deployment.class);
      assertThat(deployment.getSpec().getReplicas()).isEqualTo(2);
      Container operator = operator(deployment);
      assertThat(env(operator))
          .containsEntry("GPUPOOL_LEADER_ELECTION_ENABLED", "true")
          .containsEntry("GPUPOOL_LEADER_ELECTION_LEASE_NAME", "gpupool-operator")
          .containsEntry("GPUPOOL_NODES_LOST_GRACE_PERIOD", "60s")
          .containsEntry("GPUPOOL_PLANNER_HOLD_AFTER", "2m")
          .containsEntry("GPUPOOL_BILLING_ENABLED", "false")
          .containsEntry("QUARKUS_LOG_LEVEL", "INFO")
          .containsEntry("KUBERNETES_USER_AGENT", "gpupool-operator/0.1.0")
          .doesNotContainKeys(
              "GPUPOOL_BILLING_RPC_URL",
              "GPUPOOL_BILLING_REPORTER_KEY",
              "GPUPOOL_BILLING_CONTRACT_ADDRESS");
      EnvVar namespace = envVar(operator, "GPUPOOL_LEADER_ELECTION_NAMESPACE");
      assertThat(namespace.getValueFrom().getFieldRef().getFieldPath())
          .isEqualTo("metadata.namespace");

      assertThat(operator.getPorts())
          .singleElement()
          .satisfies(
              p -> {
                assertThat(p.getContainerPort()).isEqualTo(8443);
                assertThat(p.getName()).isEqualTo("https");
              });
      assertProbe(operator.getLivenessProbe().getHttpGet(), "/q/health/live");
      assertProbe(operator.getReadinessProbe().getHttpGet(), "/q/health/ready");
      assertProbe(operator.getStartupProbe().getHttpGet(), "/q/health/live");
      assertThat(operator.getResources().getRequests()).containsKeys("cpu", "memory");
      assertThat(operator.getResources().getLimits()).containsKey("memory");
    }

    @Test
    void podIsNonRootReadOnlyAndWithoutCapabilities() {
      PodSpec pod = rendered.one(Deployment.class).getSpec().getTemplate().getSpec();
      assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
      assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(185L);
      assertThat(pod.getSecurityContext().getSeccompProfile().getType())
          .isEqualTo("RuntimeDefault");
      Container operator = pod.getContainers().get(0);
      var security = operator.getSecurityContext();
      assertThat(security.getRunAsNonRoot()).isTrue();
      assertThat(security.getReadOnlyRootFilesystem()).isTrue();
      assertThat(security.getAllowPrivilegeEscalation()).isFalse();
      assertThat(security.getPrivileged()).isNotEqualTo(Boolean.TRUE);
      assertThat(security.getCapabilities().getDrop()).containsExactly("ALL");
      assertThat(security.getCapabilities().getAdd()).isNullOrEmpty();
      assertThat(security.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
      // The read-only root filesystem needs a writable /tmp.
      assertThat(operator.getVolumeMounts())
          .anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
      assertThat(pod.getVolumes())
          .anySatisfy(
              v -> {
                assertThat(v.getName()).isEqualTo("tmp");
                assertThat(v.getEmptyDir()).isNotNull();
              });
      assertThat(pod.getServiceAccountName()).isEqualTo("gpupool");
    }

    @Test
    void replicasPreferDifferentNodes() {
      PodSpec pod = rendered.one(Deployment.class).getSpec().getTemplate().getSpec();
      var preferred =
          pod.getAffinity()
              .getPodAntiAffinity()
              .getPreferredDuringSchedulingIgnoredDuringExecution();
      assertThat(preferred).hasSize(1);
      var term = preferred.get(0).getPodAffinityTerm();
      assertThat(term.getTopologyKey()).isEqualTo("kubernetes.io/hostname");
      assertThat(term.getLabelSelector().getMatchLabels())
          .isEqualTo(rendered.one(Deployment.class).getSpec().getSelector().getMatchLabels());
      assertThat(
              pod.getAffinity()
                  .getPodAntiAffinity()
                  .getRequiredDuringSchedulingIgnoredDuringExecution())
          .isNullOrEmpty();
      PodDisruptionBudget pdb = rendered.one(PodDisruptionBudget.class);
      assertThat(pdb.getSpec().getMinAvailable()).isEqualTo(new IntOrString(1));
    }

    @Test
    void clusterRoleGrantsExactlyTheOperatorsCalls() {
      ClusterRole clusterRole = operatorClusterRole(rendered);
      assertThat(RbacContract.flatten(clusterRole.getRules())).isEqualTo(RbacContract.CLUSTER);
      ClusterRoleBinding binding = operatorClusterRoleBinding(rendered);
      assertThat(binding.getRoleRef().getName()).isEqualTo(clusterRole.getMetadata().getName());
      assertThat(binding.getSubjects())
          .singleElement()
          .satisfies(
              s -> {
                assertThat(s.getKind()).isEqualTo("ServiceAccount");
                assertThat(s.getName()).isEqualTo(serviceAccount(rendered));
                assertThat(s.getNamespace()).isEqualTo(NS);
              });
    }

    @Test
    void roleOnlyGrantsTheLeaseWhenBillingIsOff() {
      Role role = rendered.one(Role.class);
      assertThat(role.getMetadata().getNamespace()).isEqualTo(NS);
      Map<String, java.util.Set<String>> expectedRole = new HashMap<>(RbacContract.USAGE_RECORDS);
      expectedRole.putAll(RbacContract.LEADER_ELECTION);
      assertThat(RbacContract.flatten(role.getRules())).isEqualTo(expectedRole);
      RoleBinding binding = rendered.one(RoleBinding.class);
      assertThat(binding.getRoleRef().getKind()).isEqualTo("Role");
      assertThat(binding.getSubjects().get(0).getName()).isEqualTo(serviceAccount(rendered));
    }

    /**
     * JOSDK 5.2.1's LeaderElectionManager asks a SelfSubjectRulesReview in the Lease's namespace
     * and refuses to start ("No permission to lease resource") unless the rules on
     * coordination.k8s.io leases (unrestricted or naming the Lease) together grant get, create and
     * update, whatever verbs the elector really sends.
     */
    @Test
    void roleLetsJosdkLeaderElectionStart() {
      java.util.Set<String> verbs = new java.util.TreeSet<>();
      for (var rule : rendered.one(Role.class).getRules()) {
        if (rule.getApiGroups().contains("coordination.k8s.io")
            && rule.getResources().contains("leases")
            && (rule.getResourceNames() == null
                || rule.getResourceNames().isEmpty()
                || rule.getResourceNames().contains("gpupool-operator"))) {
          verbs.addAll(rule.getVerbs());
        }
      }
      assertThat(verbs).contains("get", "create", "update");
    }

    @Test
    void metricsServiceExposesTheOperatorPodsHttpsPortOn8080() {
      Service service = rendered.one(Service.class);
      assertThat(service.getSpec().getPorts())
          .singleElement()
          .satisfies(
              p -> {
                assertThat(p.getPort()).isEqualTo(8080);
                assertThat(p.getName()).isEqualTo("https-metrics");
                assertThat(p.getTargetPort()).isEqualTo(new IntOrString("https"));
              });
      assertThat(service.getSpec().getSelector())
          .isEqualTo(rendered.one(Deployment.class).getSpec().getSelector().getMatchLabels());
      assertThat(rendered.one(Deployment.class).getSpec().getTemplate().getMetadata().getLabels())
          .containsAllEntriesOf(service.getSpec().getSelector());
    }

    @Test
    void noServiceMonitorOrPrometheusRuleByDefault() {
      assertThat(rendered.ofKind("ServiceMonitor")).isEmpty();
      assertThat(rendered.ofKind("PrometheusRule")).isEmpty();
    }

    @Test
    void everyDashboardShipsAsAConfigMapForTheGrafanaSidecar() throws IOException {
      List<ConfigMap> configMaps = rendered.all(ConfigMap.class);
      List<Path> dashboards;
      try (Stream<Path> files = Files.list(Chart.DASHBOARDS)) {
        dashboards = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
      }
      assertThat(configMaps).hasSameSizeAs(dashboards).hasSizeGreaterThanOrEqualTo(4);
      Map<String, String> shipped = new HashMap<>();
      for (ConfigMap configMap : configMaps) {
        assertThat(configMap.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
        shipped.putAll(configMap.getData());
      }
      for (Path dashboard : dashboards) {
        String name = dashboard.getFileName().toString();
        assertThat(shipped).containsKey(name);
        assertThat(Chart.JSON.readTree(shipped.get(name)))
            .as("%s survives the ConfigMap unchanged", name)
            .isEqualTo(Chart.JSON.readTree(dashboard.toFile()));
      }
    }
  }

  @Nested
  class ProductionValues {
    private static final String OTHER_NS = "ml-platform";
    private final Chart.Rendered rendered = Chart.render(OTHER_NS, Chart.productionValues());

    @Test
    void productionValuesFileRendersThroughTheSchema() throws IOException {
      Path values = Files.createTempFile("gpupool-values", ".yaml");
      try {
        Files.writeString(
            values,
            """
            replicaCount: 3
            billing:
              enabled: true
              rpcUrl: https://rpc.example.org
              contractAddress: "0x5FbDB2315678afecb367f032d93F642f64180aa3"
              chainId: 8453
              reporterKey:
                secretName: gpupool-reporter
            metrics:
              serviceMonitor:
                enabled: true
              prometheusRule:
                enabled: true
            """);
        // lint has no --values in helm-java: render with them instead; the schema and templates
        // are what lint would check.
        String out =
            new Helm(Chart.DIR)
                .template()
                .withName(Chart.RELEASE)
                .withNamespace(OTHER_NS)
                .withKubeVersion(Chart.KUBE_VERSION)
                .withValuesFile(values)
                .call();
        assertThat(Chart.parse(out)).extracting(r -> r.getKind()).contains("ServiceMonitor");
      } finally {
        Files.deleteIfExists(values);
      }
    }

    @Test
    void deploymentCarriesBillingSettingsAndTheKeyFromTheSecret() {
      Deployment deployment = rendered.one(Deployment.class);
      assertThat(deployment.getMetadata().getNamespace()).isEqualTo(OTHER_NS);
      assertThat(deployment.getSpec().getReplicas()).isEqualTo(3);
      Container operator = operator(deployment);
      assertThat(env(operator))
          .containsEntry("GPUPOOL_BILLING_ENABLED", "true")
          .containsEntry("GPUPOOL_BILLING_RPC_URL", "https://rpc.example.org")
          .containsEntry(
              "GPUPOOL_BILLING_CONTRACT_ADDRESS", "0x5FbDB2315678afecb367f032d93F642f64180aa3")
          .containsEntry("GPUPOOL_BILLING_CHAIN_ID", "8453")
          .containsEntry("GPUPOOL_BILLING_SETTLEMENT_INTERVAL", "10m")
          .containsEntry("GPUPOOL_BILLING_BATCH_SIZE", "50")
          .containsEntry("GPUPOOL_LEADER_ELECTION_LEASE_NAME", "gpupool-leader")
          .containsEntry("GPUPOOL_NODES_LOST_GRACE_PERIOD", "2m")
          .containsEntry("GPUPOOL_PLANNER_HOLD_AFTER", "30s")
          .containsEntry("QUARKUS_LOG_LEVEL", "DEBUG");
      EnvVar key = envVar(operator, "GPUPOOL_BILLING_REPORTER_KEY");
      assertThat(key.getValue()).isNull();
      assertThat(key.getValueFrom().getSecretKeyRef().getName()).isEqualTo("gpupool-reporter");
      assertThat(key.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("private-key");
    }

    @Test
    void roleHoldsUsageRecordsAndLeasesAndNoSecretEvenWithBilling() {
      Role role = rendered.one(Role.class);
      assertThat(role.getMetadata().getNamespace()).isEqualTo(OTHER_NS);
      Map<String, java.util.Set<String>> expected = new HashMap<>(RbacContract.LEADER_ELECTION);
      expected.putAll(RbacContract.USAGE_RECORDS);
      assertThat(RbacContract.flatten(role.getRules())).isEqualTo(expected);
      // The reporter key reaches the pod through secretKeyRef: the kubelet reads it, not the
      // operator.
      assertThat(role.getRules()).noneMatch(r -> r.getResources().contains("secrets"));
      assertThat(RbacContract.flatten(operatorClusterRole(rendered).getRules()))
          .isEqualTo(RbacContract.CLUSTER);
    }

    @Test
    void serviceMonitorScrapesQMetricsAsJobGpupoolOperator() {
      GenericKubernetesResource monitor =
          (GenericKubernetesResource) rendered.ofKind("ServiceMonitor").get(0);
      assertThat(monitor.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
      assertThat(monitor.getMetadata().getLabels())
          .containsEntry("release", "kube-prometheus-stack");
      List<Map<String, Object>> endpoints = monitor.get("spec", "endpoints");
      assertThat(endpoints).hasSize(1);
      Map<String, Object> endpoint = endpoints.get(0);
      assertThat(endpoint)
          .containsEntry("port", "https-metrics")
          .containsEntry("scheme", "https")
          .containsEntry("path", "/q/metrics")
          .containsEntry("honorLabels", true);
      assertThat((List<Map<String, Object>>) endpoint.get("relabelings"))
          .contains(
              Map.of("action", "replace", "targetLabel", "job", "replacement", "gpupool-operator"));
      Map<String, String> selector = monitor.get("spec", "selector", "matchLabels");
      Service service = rendered.one(Service.class);
      assertThat(service.getMetadata().getLabels()).containsAllEntriesOf(selector);
      assertThat((List<String>) monitor.get("spec", "namespaceSelector", "matchNames"))
          .containsExactly(OTHER_NS);
    }

    @Test
    void prometheusRuleCarriesTheStandaloneRulesFile() {
      GenericKubernetesResource rule =
          (GenericKubernetesResource) rendered.ofKind("PrometheusRule").get(0);
      assertThat(rule.getMetadata().getNamespace()).isEqualTo(OTHER_NS);
      Object groups = rule.getAdditionalProperties().get("spec");
      assertThat(groups).isEqualTo(Chart.readYaml(Chart.RULES));
    }

    @Test
    void dashboardsCarryTheConfiguredSidecarLabel() {
      assertThat(rendered.all(ConfigMap.class))
          .hasSize(5)
          .allSatisfy(
              cm ->
                  assertThat(cm.getMetadata().getLabels())
                      .containsEntry("grafana.io/dashboard", "gpupool")
                      .doesNotContainKey("grafana_dashboard"));
    }
  }

  @Test
  void existingServiceAccountAndPinnedDigest() {
    Map<String, Object> set = new HashMap<>();
    set.put("serviceAccount.create", false);
    set.put("serviceAccount.name", "platform-operator");
    set.put("image.digest", "sha256:" + "a".repeat(64));
    set.put("replicaCount", 1);
    set.put("dashboards.enabled", false);
    Chart.Rendered rendered = Chart.render(NS, set);
    assertThat(rendered.all(ServiceAccount.class)).isEmpty();
    assertThat(rendered.all(ConfigMap.class)).isEmpty();
    assertThat(rendered.all(PodDisruptionBudget.class)).as("no PDB for one replica").isEmpty();
    Deployment deployment = rendered.one(Deployment.class);
    assertThat(deployment.getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo("platform-operator");
    assertThat(operator(deployment).getImage())
        .isEqualTo("ghcr.io/gpupool/operator@sha256:" + "a".repeat(64));
    assertThat(operatorClusterRoleBinding(rendered).getSubjects().get(0).getName())
        .isEqualTo("platform-operator");
  }

  static Stream<Map<String, Object>> invalidValues() {
    return Stream.of(
        Map.of("replicaCount", "two"),
        Map.of("replicaCount", 0),
        Map.of("unknownTopLevelKey", true),
        Map.of("image.pullPolicy", "Sometimes"),
        Map.of("logLevel", "VERBOSE"),
        Map.of("billing.reporterKey.privateKey", "0xabc"),
        Map.of("billing.chainId", "mainnet"),
        Map.of("billing.contractAddress", "0x1234"),
        Map.of("nodes.lostGracePeriod", "a minute"),
        Map.of("planner.holdAfter", "two minutes"),
        Map.of("metrics.service.type", "ExternalName"),
        Map.of("dashboards.label", "not a label!"),
        // trust settings the operator could not read, or out of their bounds
        Map.of("trust.minStakePerGpu", "-1"),
        Map.of("trust.minStakePerGpu", "lots"),
        Map.of("trust.whistleblowerAddress", "0x1234"),
        Map.of("trust.disputeDeadline", "a week"),
        Map.of("trust.challenge.meanInterval", "1h30m"),
        Map.of("trust.challenge.budget", "1.5"),
        Map.of("trust.challenge.maxConcurrent", 0),
        Map.of("trust.challenge.size", 4096),
        Map.of("trust.challenge.samples", 241),
        Map.of("trust.challenge.maxRounds", 0),
        Map.of("trust.challenge.maxRounds", 67108865),
        Map.of("trust.challenge.efficiency", "0"),
        Map.of("trust.challenge.tolerance", "0.9"),
        Map.of("trust.challenge.speedCorrectionFloor", "0"),
        Map.of("trust.challenge.speedCorrectionFloor", "1.2"),
        Map.of("trust.challenge.namespace", "Not_A_NS"),
        Map.of("trust.challenge.unknownSetting", true),
        Map.of("trust.challenge.openings", "yes"),
        Map.of("trust.challenge.openingWindow", "ten seconds"),
        Map.of("trust.challenge.openingPort", 80),
        Map.of("trust.challenge.openingPort", 65536),
        // measured challenge rates that time nothing, or could not be a measurement
        rate("NVIDIA-H100-80GB-HBM3", 512, 0),
        rate("NVIDIA-H100-80GB-HBM3", 512, -1480),
        rate("NVIDIA-H100-80GB-HBM3", 512, "0.0"),
        rate("NVIDIA-H100-80GB-HBM3", 512, "fast"),
        rate("NVIDIA-H100-80GB-HBM3", 4096, 1480),
        rate("NVIDIA-H100-80GB-HBM3", 4, 1480),
        rate("NVIDIA H100", 512, 1480),
        Map.of(
            "trust.challenge.rates[0].product",
            "NVIDIA-H100-80GB-HBM3",
            "trust.challenge.rates[0].roundsPerSecond",
            1480),
        Map.of(
            "trust.challenge.rates[0].product",
            "NVIDIA-H100-80GB-HBM3",
            "trust.challenge.rates[0].size",
            512,
            "trust.challenge.rates[0].roundsPerSecond",
            1480,
            "trust.challenge.rates[0].measuredOn",
            "node-1"),
        // the reporter key only ever comes from the Secret
        Map.of("extraEnv[0].name", "GPUPOOL_BILLING_REPORTER_KEY", "extraEnv[0].value", "0xabc"),
        // billing on without what it needs
        Map.of("billing.enabled", true),
        Map.of(
            "billing.enabled",
            true,
            "billing.rpcUrl",
            "https://rpc.example.org",
            "billing.contractAddress",
            "0x5FbDB2315678afecb367f032d93F642f64180aa3"));
  }

  /** One measured challenge rate, as {@code trust.challenge.rates[0]}. */
  static Map<String, Object> rate(String product, int size, Object roundsPerSecond) {
    return Map.of(
        "trust.challenge.rates[0].product", product,
        "trust.challenge.rates[0].size", size,
        "trust.challenge.rates[0].roundsPerSecond", roundsPerSecond);
  }

  @ParameterizedTest
  @MethodSource("invalidValues")
  void schemaRejectsBadValues(Map<String, Object> set) {
    assertThatThrownBy(() -> Chart.template(NS, set))
        .hasMessageContaining("values don't meet the specifications of the schema");
  }

  @Nested
  class MetricsAuth {
    @Test
    void onByDefaultWithAReaderClusterRoleAndTheReviewsItNeeds() {
      Chart.Rendered rendered = Chart.render(NS, Map.of());
      assertThat(env(operator(rendered.one(Deployment.class))))
          .containsEntry("GPUPOOL_METRICS_AUTH", "true");
      assertThat(RbacContract.flatten(operatorClusterRole(rendered).getRules()))
          .containsEntry("authentication.k8s.io/tokenreviews", java.util.Set.of("create"))
          .containsEntry("authorization.k8s.io/subjectaccessreviews", java.util.Set.of("create"));
      ClusterRole reader =
          rendered.all(ClusterRole.class).stream()
              .filter(r -> r.getMetadata().getName().equals(Chart.RELEASE + "-metrics-reader"))
              .findFirst()
              .orElseThrow();
      assertThat(reader.getRules())
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r.getNonResourceURLs()).containsExactly("/q/metrics");
                assertThat(r.getVerbs()).containsExactly("get");
              });
      assertThat(rendered.all(ClusterRoleBinding.class))
          .as("no reader binding until readers are named")
          .hasSize(1);
    }

    @Test
    void readersAreBoundAndTheServiceMonitorPresentsPrometheusToken() {
      Map<String, Object> set = new HashMap<>();
      set.put("metrics.auth.readers[0].namespace", "monitoring");
      set.put("metrics.auth.readers[0].name", "kube-prometheus-stack-prometheus");
      set.put("metrics.serviceMonitor.enabled", true);
      Chart.Rendered rendered = Chart.render(NS, set);
      ClusterRoleBinding binding =
          rendered.all(ClusterRoleBinding.class).stream()
              .filter(b -> b.getMetadata().getName().endsWith("-metrics-reader"))
              .findFirst()
              .orElseThrow();
      assertThat(binding.getRoleRef().getName()).isEqualTo(Chart.RELEASE + "-metrics-reader");
      assertThat(binding.getSubjects())
          .singleElement()
          .satisfies(
              s -> {
                assertThat(s.getKind()).isEqualTo("ServiceAccount");
                assertThat(s.getNamespace()).isEqualTo("monitoring");
                assertThat(s.getName()).isEqualTo("kube-prometheus-stack-prometheus");
              });
      GenericKubernetesResource monitor =
          (GenericKubernetesResource) rendered.ofKind("ServiceMonitor").get(0);
      assertThat(monitor.toString()).contains("bearerTokenFile");
    }

    @Test
    void offMeansNoReviewsNoReaderAndAnOpenEndpoint() {
      Chart.Rendered rendered = Chart.render(NS, Map.of("metrics.auth.enabled", false));
      assertThat(env(operator(rendered.one(Deployment.class))))
          .containsEntry("GPUPOOL_METRICS_AUTH", "false");
      // the operator's own and the tenants' aggregated edit/view roles, no metrics-reader
      assertThat(rendered.all(ClusterRole.class)).hasSize(3);
      assertThat(RbacContract.flatten(operatorClusterRole(rendered).getRules()))
          .doesNotContainKeys(
              "authentication.k8s.io/tokenreviews", "authorization.k8s.io/subjectaccessreviews");
    }

    @Test
    void theMetricsServiceCannotLeaveTheCluster() {
      for (String type : List.of("NodePort", "LoadBalancer")) {
        assertThatThrownBy(() -> Chart.template(NS, Map.of("metrics.service.type", type)))
            .hasMessageContaining("values don't meet the specifications of the schema");
      }
    }
  }

  @Nested
  class ScopedToListedNamespaces {
    private final Chart.Rendered rendered =
        Chart.render(NS, Map.of("scope.namespaces[0]", "ml-a", "scope.namespaces[1]", "ml-b"));

    @Test
    void aRoleInEachListedNamespaceAndTheClusterRoleOnlyWhatMustStayClusterWide() {
      ClusterRole clusterRole = operatorClusterRole(rendered);
      Map<String, java.util.Set<String>> cluster = RbacContract.flatten(clusterRole.getRules());
      assertThat(cluster)
          .containsOnlyKeys(
              "gpupool.io/gpuproviders",
              "gpupool.io/gpuproviders/status",
              "/pods",
              "/nodes",
              "apiextensions.k8s.io/customresourcedefinitions",
              "gpupool.io/gpuqueues",
              "gpupool.io/gpuqueues/status",
              "/namespaces",
              "scheduling.k8s.io/priorityclasses",
              "authentication.k8s.io/tokenreviews",
              "authorization.k8s.io/subjectaccessreviews",
              // who may charge whom: accounts and namespaces are cluster-scoped
              "gpupool.io/billingaccounts",
              "gpupool.io/billingaccounts/status",
              "/namespaces");
      assertThat(cluster.get("/pods")).containsExactlyInAnyOrder("get", "list", "watch");
      List<Role> jobRoles =
          rendered.all(Role.class).stream()
              .filter(r -> r.getMetadata().getName().endsWith("-jobs"))
              .toList();
      assertThat(jobRoles)
          .extracting(r -> r.getMetadata().getNamespace())
          .containsExactly("ml-a", "ml-b");
      // Cluster-wide and per-namespace together grant exactly what the unscoped ClusterRole does.
      Map<String, java.util.Set<String>> union = new java.util.TreeMap<>();
      cluster.forEach((k, v) -> union.put(k, new java.util.TreeSet<>(v)));
      RbacContract.flatten(jobRoles.get(0).getRules())
          .forEach((k, v) -> union.computeIfAbsent(k, x -> new java.util.TreeSet<>()).addAll(v));
      assertThat(union).isEqualTo(RbacContract.CLUSTER);
      List<RoleBinding> jobBindings =
          rendered.all(RoleBinding.class).stream()
              .filter(b -> b.getMetadata().getName().endsWith("-jobs"))
              .toList();
      assertThat(jobBindings)
          .allSatisfy(
              b -> {
                assertThat(b.getRoleRef().getName()).endsWith("-jobs");
                assertThat(b.getSubjects().get(0).getNamespace()).isEqualTo(NS);
                assertThat(b.getSubjects().get(0).getName()).isEqualTo(serviceAccount(rendered));
              });
      assertThat(rendered.all(Role.class))
          .as("the release namespace keeps its usage-record and lease Role")
          .anySatisfy(r -> assertThat(r.getMetadata().getNamespace()).isEqualTo(NS));
    }

    @Test
    void theOperatorWatchesOnlyTheListedNamespacesAndClaimsThem() {
      Map<String, String> env = env(operator(rendered.one(Deployment.class)));
      assertThat(env)
          .containsEntry("GPUPOOL_SCOPE_INSTALL", NS + "/" + Chart.RELEASE)
          .containsEntry("GPUPOOL_SCOPE_NAMESPACES", "ml-a,ml-b")
          .containsEntry("QUARKUS_OPERATOR_SDK_CONTROLLERS__TRAININGJOB__NAMESPACES", "ml-a,ml-b")
          .containsEntry("QUARKUS_OPERATOR_SDK_CONTROLLERS__INFERENCEJOB__NAMESPACES", "ml-a,ml-b");
      Map<String, String> unscoped =
          env(operator(Chart.render(NS, Map.of()).one(Deployment.class)));
      assertThat(unscoped)
          .containsEntry("GPUPOOL_SCOPE_INSTALL", NS + "/" + Chart.RELEASE)
          .doesNotContainKeys(
              "GPUPOOL_SCOPE_NAMESPACES",
              "QUARKUS_OPERATOR_SDK_CONTROLLERS__TRAININGJOB__NAMESPACES");
    }

    @Test
    void namespaceNamesAreValidated() {
      assertThatThrownBy(() -> Chart.template(NS, Map.of("scope.namespaces[0]", "Not_A_NS")))
          .hasMessageContaining("values don't meet the specifications of the schema");
    }
  }

  @Nested
  class LogLevels {
    @Test
    void logLevelReachesTheOperatorsOwnLoggersAndCategoriesGetTheirs() {
      Map<String, String> env =
          env(
              operator(
                  Chart.render(
                          NS,
                          Map.of(
                              "logLevel", "DEBUG",
                              "logLevels.io\\.javaoperatorsdk", "WARN",
                              "logLevels.io\\.gpupool\\.operator\\.billing", "TRACE"))
                      .one(Deployment.class)));
      assertThat(env)
          .containsEntry("QUARKUS_LOG_LEVEL", "DEBUG")
          .containsEntry("QUARKUS_LOG_CATEGORY__IO_GPUPOOL__LEVEL", "DEBUG")
          .containsEntry("QUARKUS_LOG_CATEGORY__IO_JAVAOPERATORSDK__LEVEL", "WARN")
          .containsEntry("QUARKUS_LOG_CATEGORY__IO_GPUPOOL_OPERATOR_BILLING__LEVEL", "TRACE");
    }

    @Test
    void logFormatJsonTurnsOnTheJsonConsoleAndTextIsTheDefault() {
      assertThat(env(operator(Chart.render(NS, Map.of()).one(Deployment.class))))
          .containsEntry("QUARKUS_LOG_CONSOLE_JSON_ENABLED", "false");
      assertThat(env(operator(Chart.render(NS, Map.of("logFormat", "json")).one(Deployment.class))))
          .containsEntry("QUARKUS_LOG_CONSOLE_JSON_ENABLED", "true");
      assertThatThrownBy(() -> Chart.template(NS, Map.of("logFormat", "logfmt")))
          .hasMessageContaining("values don't meet the specifications of the schema");
    }

    @Test
    void categoriesThatWouldNotMapBackAreRefused() {
      assertThatThrownBy(() -> Chart.template(NS, Map.of("logLevels.Io\\.Gpupool", "DEBUG")))
          .hasMessageContaining("values don't meet the specifications of the schema");
      assertThatThrownBy(() -> Chart.template(NS, Map.of("logLevels.io\\.gpupool", "LOUD")))
          .hasMessageContaining("values don't meet the specifications of the schema");
    }
  }

  @Nested
  class TrustSettings {
    @Test
    void defaultsAreTheOperatorsDefaultsWithChallengesOff() {
      Map<String, String> env = env(operator(Chart.render(NS, Map.of()).one(Deployment.class)));
      assertThat(env)
          .containsEntry("GPUPOOL_TRUST_MIN_STAKE_PER_GPU", "0")
          .containsEntry("GPUPOOL_TRUST_STAKE_REFRESH", "60s")
          .containsEntry("GPUPOOL_TRUST_DISPUTE_TIMEOUT", "2m")
          .containsEntry("GPUPOOL_TRUST_DISPUTE_DEADLINE", "7d")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_ENABLED", "false")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_MEAN_INTERVAL", "6h")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_BUDGET", "0.02")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_MAX_CONCURRENT", "4")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_SIZE", "512")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_TARGET", "45s")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_MAX_ROUNDS", "240")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_SAMPLES", "4")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_EFFICIENCY", "0.4")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_TOLERANCE", "1.6")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_SPEED_CORRECTION_FLOOR", "0.25")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_STARTUP_ALLOWANCE", "60s")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_IMAGE", "ghcr.io/gpupool/workloads:0.1")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_TICK", "1s")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_OPENINGS", "true")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_OPENING_WINDOW", "10s")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_OPENING_PORT", "8471")
          // unset: the operator's own address, challenge pods in the release namespace, and no
          // measured rate (none ship: every product timed by the catalog)
          .doesNotContainKeys(
              "GPUPOOL_TRUST_WHISTLEBLOWER_ADDRESS",
              "GPUPOOL_TRUST_CHALLENGE_NAMESPACE",
              "GPUPOOL_TRUST_CHALLENGE_RATES");
    }

    @Test
    void valuesReachTheOperatorsEnvironment() {
      Map<String, Object> set = new java.util.LinkedHashMap<>(Chart.productionValues());
      set.put("trust.minStakePerGpu", "1.5");
      set.put("trust.whistleblowerAddress", "0x90F79bf6EB2c4f870365E785982E1f101E93b906");
      set.put("trust.disputeDeadline", "0s");
      set.put("trust.challenge.enabled", true);
      set.put("trust.challenge.budget", "0.05");
      set.put("trust.challenge.speedCorrectionFloor", "1");
      set.put("trust.challenge.tolerance", "1.3");
      set.put("trust.challenge.namespace", "gpu-challenges");
      set.put("trust.challenge.maxConcurrent", 8);
      set.put("trust.challenge.openings", false);
      set.put("trust.challenge.openingWindow", "4s");
      set.put("trust.challenge.openingPort", 9100);
      set.putAll(rate("NVIDIA-H100-80GB-HBM3", 512, 1480));
      set.put("trust.challenge.rates[1].product", "NVIDIA-A100-SXM4-80GB");
      set.put("trust.challenge.rates[1].size", 512);
      set.put("trust.challenge.rates[1].roundsPerSecond", "490.5");
      Map<String, String> env = env(operator(Chart.render(NS, set).one(Deployment.class)));
      assertThat(env)
          .containsEntry("GPUPOOL_TRUST_MIN_STAKE_PER_GPU", "1.5")
          .containsEntry(
              "GPUPOOL_TRUST_WHISTLEBLOWER_ADDRESS", "0x90F79bf6EB2c4f870365E785982E1f101E93b906")
          .containsEntry("GPUPOOL_TRUST_DISPUTE_DEADLINE", "0s")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_ENABLED", "true")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_BUDGET", "0.05")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_SPEED_CORRECTION_FLOOR", "1")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_TOLERANCE", "1.3")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_NAMESPACE", "gpu-challenges")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_MAX_CONCURRENT", "8")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_OPENINGS", "false")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_OPENING_WINDOW", "4s")
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_OPENING_PORT", "9100")
          // as the operator reads them, and as challenge.py --bench prints them
          .containsEntry(
              "GPUPOOL_TRUST_CHALLENGE_RATES",
              "NVIDIA-H100-80GB-HBM3@512=1480,NVIDIA-A100-SXM4-80GB@512=490.5");
    }

    @Test
    void aRateMeasuredAtAnotherSizeThanTheChallengesIsRefused() {
      Map<String, Object> set = new HashMap<>(rate("NVIDIA-H100-80GB-HBM3", 1024, 400));
      assertThatThrownBy(() -> Chart.template(NS, set))
          .hasMessageContaining(
              "trust.challenge.rates[0] (NVIDIA-H100-80GB-HBM3) was measured at size 1024, but"
                  + " trust.challenge.size is 512: measure it again with challenge.py --bench 512");
      set.put("trust.challenge.size", 1024);
      assertThat(env(operator(Chart.render(NS, set).one(Deployment.class))))
          .containsEntry("GPUPOOL_TRUST_CHALLENGE_RATES", "NVIDIA-H100-80GB-HBM3@1024=400");
    }

    @Test
    void aStakeMinimumWithoutBillingIsRefused() {
      assertThatThrownBy(() -> Chart.template(NS, Map.of("trust.minStakePerGpu", "1")))
          .hasMessageContaining("trust.minStakePerGpu needs billing.enabled");
    }
  }

  @Nested
  class RpcUrlFromASecret {
    private Map<String, Object> values() {
      Map<String, Object> set = new java.util.LinkedHashMap<>(Chart.productionValues());
      set.remove("billing.rpcUrl");
      set.put("billing.rpcUrlSecret.secretName", "chain-rpc");
      return set;
    }

    @Test
    void theUrlReachesTheOperatorBySecretKeyRefAndAppearsNowhereInTheManifests() {
      Chart.Rendered rendered = Chart.render(NS, values());
      EnvVar url = envVar(operator(rendered.one(Deployment.class)), "GPUPOOL_BILLING_RPC_URL");
      assertThat(url.getValue()).isNull();
      assertThat(url.getValueFrom().getSecretKeyRef().getName()).isEqualTo("chain-rpc");
      assertThat(url.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("rpc-url");
    }

    @Test
    void aUrlInValuesAndASecretTogetherOrNeitherAreRefused() {
      Map<String, Object> both = values();
      both.put("billing.rpcUrl", "https://rpc.example.org/v2/key");
      assertThatThrownBy(() -> Chart.template(NS, both))
          .hasMessageContaining("billing.rpcUrl and billing.rpcUrlSecret.secretName are exclusive");
      Map<String, Object> neither = values();
      neither.remove("billing.rpcUrlSecret.secretName");
      assertThatThrownBy(() -> Chart.template(NS, neither))
          .hasMessageContaining("billing.rpcUrl (or billing.rpcUrlSecret.secretName");
    }
  }

  @Nested
  class MetricsTls {
    private Chart.Rendered withTls(Map<String, Object> extra) {
      Map<String, Object> set = new java.util.LinkedHashMap<>(Chart.productionValues());
      set.put("metrics.tls.enabled", true);
      set.putAll(extra);
      return Chart.render(NS, set);
    }

    @Test
    void theOperatorServesHttpsOnlyFromTheSecretAndProbesFollow() {
      Chart.Rendered rendered = withTls(Map.of("metrics.tls.secretName", "ops-metrics-cert"));
      var container = operator(rendered.one(Deployment.class));
      assertThat(env(container))
          .containsEntry("QUARKUS_HTTP_SSL_PORT", "8443")
          .containsEntry("QUARKUS_HTTP_INSECURE_REQUESTS", "disabled")
          .containsEntry("QUARKUS_HTTP_SSL_CERTIFICATE_FILES", "/etc/gpupool/metrics-tls/tls.crt")
          .containsEntry(
              "QUARKUS_HTTP_SSL_CERTIFICATE_KEY_FILES", "/etc/gpupool/metrics-tls/tls.key")
          .containsEntry("QUARKUS_HTTP_SSL_CERTIFICATE_RELOAD_PERIOD", "1h");
      assertThat(container.getPorts())
          .singleElement()
          .satisfies(
              p -> {
                assertThat(p.getName()).isEqualTo("https");
                assertThat(p.getContainerPort()).isEqualTo(8443);
              });
      for (var probe :
          List.of(
              container.getStartupProbe(),
              container.getLivenessProbe(),
              container.getReadinessProbe())) {
        assertThat(probe.getHttpGet().getScheme()).isEqualTo("HTTPS");
        assertThat(probe.getHttpGet().getPort().getStrVal()).isEqualTo("https");
      }
      var volume =
          rendered.one(Deployment.class).getSpec().getTemplate().getSpec().getVolumes().stream()
              .filter(v -> v.getName().equals("metrics-tls"))
              .findFirst()
              .orElseThrow();
      assertThat(volume.getSecret().getSecretName()).isEqualTo("ops-metrics-cert");
      assertThat(container.getVolumeMounts())
          .anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/etc/gpupool/metrics-tls"));
      assertThat(rendered.one(Service.class).getSpec().getPorts())
          .singleElement()
          .satisfies(
              p -> {
                assertThat(p.getName()).isEqualTo("https-metrics");
                assertThat(p.getTargetPort().getStrVal()).isEqualTo("https");
              });
      GenericKubernetesResource monitor =
          (GenericKubernetesResource) rendered.ofKind("ServiceMonitor").get(0);
      List<Map<String, Object>> endpoints = monitor.get("spec", "endpoints");
      assertThat(endpoints.get(0))
          .containsEntry("port", "https-metrics")
          .containsEntry("scheme", "https")
          .containsEntry(
              "tlsConfig",
              Map.of(
                  "serverName",
                  Chart.RELEASE + "-metrics." + NS + ".svc",
                  "ca",
                  Map.of("secret", Map.of("name", "ops-metrics-cert", "key", "ca.crt"))));
      assertThat(rendered.ofKind("Certificate")).isEmpty();
    }

    @Test
    void certManagerIssuesTheCertificateForTheServiceNames() {
      Chart.Rendered rendered =
          withTls(
              Map.of(
                  "metrics.tls.certManager.enabled", true,
                  "metrics.tls.certManager.issuerRef.kind", "ClusterIssuer",
                  "metrics.tls.certManager.issuerRef.name", "internal-ca"));
      GenericKubernetesResource certificate =
          (GenericKubernetesResource) rendered.ofKind("Certificate").get(0);
      assertThat(certificate.getApiVersion()).isEqualTo("cert-manager.io/v1");
      String secret = certificate.get("spec", "secretName");
      assertThat(secret).isEqualTo(Chart.RELEASE + "-metrics-tls");
      assertThat((List<String>) certificate.get("spec", "dnsNames"))
          .contains(rendered.one(Service.class).getMetadata().getName() + "." + NS + ".svc");
      assertThat((Map<String, Object>) certificate.get("spec", "issuerRef"))
          .containsEntry("kind", "ClusterIssuer")
          .containsEntry("name", "internal-ca");
      assertThat(
              rendered.one(Deployment.class).getSpec().getTemplate().getSpec().getVolumes().stream()
                  .filter(v -> v.getSecret() != null)
                  .map(v -> v.getSecret().getSecretName()))
          .containsExactly(secret);
    }

    @Test
    void byDefaultTheChartSignsTheServiceNamesWithACaOfItsOwn() throws Exception {
      Chart.Rendered rendered = Chart.render(NS, Chart.productionValues());
      String name = Chart.RELEASE + "-metrics-tls";
      io.fabric8.kubernetes.api.model.Secret secret =
          rendered.all(io.fabric8.kubernetes.api.model.Secret.class).stream()
              .filter(x -> x.getMetadata().getName().equals(name))
              .findFirst()
              .orElseThrow();
      assertThat(secret.getType()).isEqualTo("kubernetes.io/tls");
      var certificates = java.security.cert.CertificateFactory.getInstance("X.509");
      var ca = certificate(certificates, secret.getData().get("ca.crt"));
      var served = certificate(certificates, secret.getData().get("tls.crt"));
      served.verify(ca.getPublicKey()); // throws unless the CA signed it
      served.checkValidity();
      assertThat(served.getSubjectAlternativeNames())
          .extracting(san -> (Object) san.get(1))
          .contains(
              Chart.RELEASE + "-metrics",
              Chart.RELEASE + "-metrics." + NS + ".svc",
              Chart.RELEASE + "-metrics." + NS + ".svc.cluster.local");
      assertThat(new String(java.util.Base64.getDecoder().decode(secret.getData().get("tls.key"))))
          .contains("PRIVATE KEY");
      var container = operator(rendered.one(Deployment.class));
      assertThat(env(container)).containsEntry("QUARKUS_HTTP_INSECURE_REQUESTS", "disabled");
      assertThat(
              rendered.one(Deployment.class).getSpec().getTemplate().getSpec().getVolumes().stream()
                  .filter(v -> v.getSecret() != null)
                  .map(v -> v.getSecret().getSecretName()))
          .containsExactly(name);
      GenericKubernetesResource monitor =
          (GenericKubernetesResource) rendered.ofKind("ServiceMonitor").get(0);
      List<Map<String, Object>> endpoints = monitor.get("spec", "endpoints");
      assertThat(endpoints.get(0))
          .containsEntry("scheme", "https")
          .containsEntry(
              "tlsConfig",
              Map.of(
                  "serverName",
                  Chart.RELEASE + "-metrics." + NS + ".svc",
                  "ca",
                  Map.of("secret", Map.of("name", name, "key", "ca.crt"))));
      // a Secret of the user's or cert-manager's replaces it
      assertThat(
              withTls(Map.of("metrics.tls.secretName", "ops-metrics-cert"))
                  .all(io.fabric8.kubernetes.api.model.Secret.class))
          .noneMatch(x -> x.getMetadata().getName().equals(name));
    }

    private java.security.cert.X509Certificate certificate(
        java.security.cert.CertificateFactory factory, String base64) throws Exception {
      return (java.security.cert.X509Certificate)
          factory.generateCertificate(
              new java.io.ByteArrayInputStream(java.util.Base64.getDecoder().decode(base64)));
    }

    @Test
    void certManagerWithoutAnIssuerIsRefused() {
      assertThatThrownBy(
              () ->
                  Chart.template(
                      NS,
                      Map.of("metrics.tls.enabled", true, "metrics.tls.certManager.enabled", true)))
          .hasMessageContaining("issuerRef needs kind and name");
    }

    @Test
    void withoutTlsTheOperatorKeepsPlainHttp() {
      var container =
          operator(Chart.render(NS, Map.of("metrics.tls.enabled", false)).one(Deployment.class));
      assertThat(env(container)).doesNotContainKeys("QUARKUS_HTTP_SSL_PORT");
      assertThat(container.getPorts()).extracting(p -> p.getName()).containsExactly("http");
    }
  }

  @Nested
  class NetworkPolicies {
    @Test
    void metricsInFromTheListedNamespacesAndOnlyDnsApiServerRpcAndReplicasOut() {
      Map<String, Object> set = new java.util.LinkedHashMap<>(Chart.productionValues());
      set.put("networkPolicy.enabled", true);
      set.put("networkPolicy.apiServer.cidrs[0]", "10.0.0.1/32");
      set.put("networkPolicy.rpc.cidrs[0]", "203.0.113.7/32");
      set.put("metrics.tls.enabled", true);
      set.put("metrics.tls.secretName", "ops-metrics-cert");
      Chart.Rendered rendered = Chart.render(NS, set);
      var policy = rendered.one(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class);
      var spec = policy.getSpec();
      assertThat(spec.getPodSelector().getMatchLabels())
          .isEqualTo(rendered.one(Deployment.class).getSpec().getSelector().getMatchLabels());
      assertThat(spec.getPolicyTypes()).containsExactly("Ingress", "Egress");
      assertThat(spec.getIngress())
          .singleElement()
          .satisfies(
              rule -> {
                assertThat(rule.getFrom())
                    .singleElement()
                    .satisfies(
                        peer ->
                            assertThat(peer.getNamespaceSelector().getMatchLabels())
                                .isEqualTo(Map.of("kubernetes.io/metadata.name", "monitoring")));
                assertThat(rule.getPorts())
                    .singleElement()
                    .satisfies(p -> assertThat(p.getPort().getStrVal()).isEqualTo("https"));
              });
      var egress = spec.getEgress();
      assertThat(egress).hasSize(4);
      assertThat(egress.get(0).getPorts())
          .extracting(p -> p.getPort().getIntVal())
          .containsOnly(53);
      assertThat(egress.get(1).getTo().get(0).getIpBlock().getCidr()).isEqualTo("10.0.0.1/32");
      assertThat(egress.get(1).getPorts())
          .extracting(p -> p.getPort().getIntVal())
          .containsExactly(443, 6443);
      assertThat(egress.get(2).getTo().get(0).getIpBlock().getCidr()).isEqualTo("203.0.113.7/32");
      assertThat(egress.get(3).getTo().get(0).getPodSelector().getMatchLabels())
          .isEqualTo(Map.of("gpupool.io/job-kind", "InferenceJob"));
      assertThat(egress.get(3).getPorts())
          .as("replicas serve on the job's own port")
          .isNullOrEmpty();
    }

    /**
     * Commit-then-open challenges (on by default once challenges are): the operator asks challenge
     * pods for their commitment and openings on the opening port, in the challenge namespace; the
     * policy lets exactly that out, and nothing when openings or challenges are off.
     */
    @Test
    void challengePodsAreReachedOnTheOpeningPortOnlyWhenOpeningsAreOn() {
      Map<String, Object> set = new java.util.LinkedHashMap<>(Chart.productionValues());
      set.put("networkPolicy.enabled", true);
      set.put("networkPolicy.apiServer.cidrs[0]", "10.0.0.1/32");
      set.put("trust.challenge.enabled", true);
      set.put("trust.challenge.openingPort", 9100);
      var egress = egress(set);
      var toChallenges =
          egress.stream()
              .filter(
                  rule ->
                      rule.getTo() != null
                          && rule.getTo().stream()
                              .anyMatch(
                                  peer ->
                                      peer.getPodSelector() != null
                                          && peer.getPodSelector().getMatchExpressions() != null
                                          && !peer.getPodSelector()
                                              .getMatchExpressions()
                                              .isEmpty()))
              .toList();
      assertThat(toChallenges)
          .singleElement()
          .satisfies(
              rule -> {
                var peer = rule.getTo().get(0);
                assertThat(peer.getNamespaceSelector().getMatchLabels())
                    .isEqualTo(Map.of("kubernetes.io/metadata.name", NS));
                assertThat(peer.getPodSelector().getMatchExpressions())
                    .singleElement()
                    .satisfies(
                        e -> {
                          assertThat(e.getKey()).isEqualTo("gpupool.io/challenge-node");
                          assertThat(e.getOperator()).isEqualTo("Exists");
                        });
                assertThat(rule.getPorts())
                    .singleElement()
                    .satisfies(
                        p -> {
                          assertThat(p.getPort().getIntVal()).isEqualTo(9100);
                          assertThat(p.getProtocol()).isEqualTo("TCP");
                        });
              });

      set.put("trust.challenge.namespace", "gpu-challenges");
      assertThat(egress(set))
          .flatExtracting(rule -> rule.getTo() == null ? List.of() : rule.getTo())
          .filteredOn(peer -> peer.getNamespaceSelector() != null)
          .extracting(peer -> peer.getNamespaceSelector().getMatchLabels())
          .contains(Map.of("kubernetes.io/metadata.name", "gpu-challenges"));

      set.put("trust.challenge.openings", false);
      assertThat(egress(set)).hasSize(egress.size() - 1);
      set.put("trust.challenge.openings", true);
      set.put("trust.challenge.enabled", false);
      assertThat(egress(set)).hasSize(egress.size() - 1);
    }

    private List<io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule> egress(
        Map<String, Object> set) {
      return Chart.render(NS, set)
          .one(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class)
          .getSpec()
          .getEgress();
    }

    @Test
    void noPolicyByDefaultAndNoneThatWouldCutTheOperatorOffTheApiServer() {
      assertThat(Chart.render(NS, Map.of()).ofKind("NetworkPolicy")).isEmpty();
      assertThatThrownBy(() -> Chart.template(NS, Map.of("networkPolicy.enabled", true)))
          .hasMessageContaining("networkPolicy.enabled needs networkPolicy.apiServer.cidrs");
    }
  }

  @Nested
  class ScopedByLabelSelector {
    private final Chart.Rendered rendered =
        Chart.render(NS, Map.of("scope.namespaceSelector", "gpupool.io/pool=team-a"));

    @Test
    void theOperatorGetsTheSelectorAndJosdkNoNamespaceList() {
      Map<String, String> env = env(operator(rendered.one(Deployment.class)));
      assertThat(env)
          .containsEntry("GPUPOOL_SCOPE_INSTALL", NS + "/" + Chart.RELEASE)
          .containsEntry("GPUPOOL_SCOPE_NAMESPACE_SELECTOR", "gpupool.io/pool=team-a")
          .doesNotContainKeys(
              "GPUPOOL_SCOPE_NAMESPACES",
              "QUARKUS_OPERATOR_SDK_CONTROLLERS__TRAININGJOB__NAMESPACES",
              "QUARKUS_OPERATOR_SDK_CONTROLLERS__INFERENCEJOB__NAMESPACES");
    }

    @Test
    void theRbacIsTheUnscopedOneBecauseTheNamespacesAreNotKnownWhenRendering() {
      assertThat(RbacContract.flatten(operatorClusterRole(rendered).getRules()))
          .isEqualTo(
              RbacContract.flatten(operatorClusterRole(Chart.render(NS, Map.of())).getRules()));
      assertThat(rendered.all(Role.class))
          .noneSatisfy(r -> assertThat(r.getMetadata().getName()).endsWith("-jobs"));
    }

    @Test
    void aListAndASelectorTogetherAreRefused() {
      assertThatThrownBy(
              () ->
                  Chart.template(
                      NS,
                      Map.of(
                          "scope.namespaces[0]", "ml-a",
                          "scope.namespaceSelector", "gpupool.io/pool=team-a")))
          .hasMessageContaining("scope.namespaces and scope.namespaceSelector are exclusive");
    }
  }

  @Test
  void severalReplicasNeedLeaderElection() {
    assertThatThrownBy(() -> Chart.template(NS, Map.of("leaderElection.enabled", false)))
        .hasMessageContaining("leaderElection.enabled must be true when replicaCount > 1");
    Chart.Rendered single =
        Chart.render(NS, Map.of("leaderElection.enabled", false, "replicaCount", 1));
    assertThat(env(operator(single.one(Deployment.class))))
        .containsEntry("GPUPOOL_LEADER_ELECTION_ENABLED", "false");
    assertThat(single.all(Role.class))
        .as("no lease permission without leader election: only the usage records")
        .singleElement()
        .satisfies(
            role ->
                assertThat(RbacContract.flatten(role.getRules()))
                    .isEqualTo(RbacContract.USAGE_RECORDS));
  }

  private static Container operator(Deployment deployment) {
    List<Container> containers = deployment.getSpec().getTemplate().getSpec().getContainers();
    assertThat(containers).hasSize(1);
    return containers.get(0);
  }

  private static Map<String, String> env(Container container) {
    return container.getEnv().stream()
        .filter(e -> e.getValue() != null)
        .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
  }

  private static EnvVar envVar(Container container, String name) {
    return container.getEnv().stream()
        .filter(e -> e.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no env var " + name));
  }

  private static void assertProbe(HTTPGetAction get, String path) {
    assertThat(get.getPath()).isEqualTo(path);
    assertThat(get.getPort()).isEqualTo(new IntOrString("https"));
    assertThat(get.getScheme()).isEqualTo("HTTPS");
  }

  /** The operator's own ClusterRole (the others: metrics-reader, tenants' edit/view). */
  private static ClusterRole operatorClusterRole(Chart.Rendered rendered) {
    return rendered.all(ClusterRole.class).stream()
        .filter(r -> r.getMetadata().getName().equals(Chart.RELEASE))
        .findFirst()
        .orElseThrow();
  }

  private static ClusterRoleBinding operatorClusterRoleBinding(Chart.Rendered rendered) {
    return rendered.all(ClusterRoleBinding.class).stream()
        .filter(r -> r.getMetadata().getName().equals(Chart.RELEASE))
        .findFirst()
        .orElseThrow();
  }

  private static String serviceAccount(Chart.Rendered rendered) {
    return rendered.one(ServiceAccount.class).getMetadata().getName();
  }
}
