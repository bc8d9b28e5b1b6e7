package io.gpupool.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The chart's Helm hooks: the pre-delete hook that leaves no job hanging on the operator's
 * finalizer, and the pre-upgrade hook that applies the CRDs Helm never upgrades.
 */
class ChartHooksTest {
  private static final String NS = "gpupool-system";

  private static List<HasMetadata> hooks(Map<String, ?> values, String phase) {
    return Chart.hooks(NS, values).stream()
        .filter(h -> phase.equals(h.getMetadata().getAnnotations().get("helm.sh/hook")))
        .toList();
  }

  private static <T> T one(List<HasMetadata> objects, Class<T> type) {
    List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
    assertThat(found).as("one %s", type.getSimpleName()).hasSize(1);
    return found.get(0);
  }

  private static Container container(Job job) {
    PodSpec pod = job.getSpec().getTemplate().getSpec();
    assertThat(pod.getContainers()).hasSize(1);
    return pod.getContainers().get(0);
  }

  private static Map<String, String> env(Container container) {
    return container.getEnv().stream()
        .filter(e -> e.getValue() != null)
        .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
  }

  /** "group/resource verb" for every rule, resource names included as "[name]". */
  private static Set<String> grants(ClusterRole role) {
    Set<String> grants = new TreeSet<>();
    for (var rule : role.getRules()) {
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          for (String verb : rule.getVerbs()) {
            String names =
                rule.getResourceNames() == null || rule.getResourceNames().isEmpty()
                    ? ""
                    : rule.getResourceNames().stream().sorted().toList().toString();
            grants.add(group + "/" + resource + names + " " + verb);
          }
        }
      }
    }
    return grants;
  }

  private static void assertHookHygiene(List<HasMetadata> hooks) {
    for (HasMetadata hook : hooks) {
      assertThat(hook.getMetadata().getAnnotations())
          .as("%s/%s", hook.getKind(), hook.getMetadata().getName())
          .containsEntry("helm.sh/hook-delete-policy", "before-hook-creation,hook-succeeded")
          .containsKey("helm.sh/hook-weight");
    }
    Job job = one(hooks, Job.class);
    int jobWeight = Integer.parseInt(job.getMetadata().getAnnotations().get("helm.sh/hook-weight"));
    assertThat(hooks)
        .filteredOn(h -> !(h instanceof Job))
        .allSatisfy(
            h ->
                assertThat(
                        Integer.parseInt(
                            h.getMetadata().getAnnotations().get("helm.sh/hook-weight")))
                    .as("%s exists before the Job runs", h.getKind())
                    .isLessThan(jobWeight));
    PodSpec pod = job.getSpec().getTemplate().getSpec();
    assertThat(pod.getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(container(job).getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(container(job).getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(pod.getServiceAccountName())
        .isEqualTo(one(hooks, ServiceAccount.class).getMetadata().getName());
    ClusterRoleBinding binding = one(hooks, ClusterRoleBinding.class);
    assertThat(binding.getRoleRef().getName())
        .isEqualTo(one(hooks, ClusterRole.class).getMetadata().getName());
    assertThat(binding.getSubjects())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.getName()).isEqualTo(pod.getServiceAccountName());
              assertThat(s.getNamespace()).isEqualTo(NS);
            });
  }

  @Test
  void hooksAreNotPartOfTheReleasesObjects() {
    assertThat(Chart.render(NS, Map.of()).resources()).noneMatch(Chart::isHook);
    assertThat(Chart.hooks(NS, Map.of())).isNotEmpty().allMatch(Chart::isHook);
  }

  @Nested
  class Uninstall {
    @Test
    void deletesTheManagedJobsWhileTheOperatorRunsThenDropsTheClaim() {
      List<HasMetadata> hooks = hooks(Map.of(), "pre-delete");
      assertThat(hooks)
          .extracting(HasMetadata::getKind)
          .containsExactlyInAnyOrder("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Job");
      assertHookHygiene(hooks);
      Job job = one(hooks, Job.class);
      Map<String, String> env = env(container(job));
      assertThat(env)
          .containsEntry("TIMEOUT", "10m")
          .containsEntry("SCOPE_NAMESPACES", "")
          .containsEntry("SCOPE_SELECTOR", "")
          .containsEntry("CLAIM", "claims.gpupool.io/gpupool-system.gpupool");
      String script = String.join("\n", container(job).getArgs());
      assertThat(script)
          .contains("set -eu")
          .contains(
              "kubectl delete trainingjobs,inferencejobs --namespace \"$ns\" --all --wait=true"
                  + " --timeout=\"$TIMEOUT\"")
          .contains("kubectl annotate crd trainingjobs.gpupool.io \"$CLAIM-\"");
      assertThat(grants(one(hooks, ClusterRole.class)))
          .containsExactlyInAnyOrder(
              "gpupool.io/trainingjobs get",
              "gpupool.io/trainingjobs list",
              "gpupool.io/trainingjobs watch",
              "gpupool.io/trainingjobs delete",
              "gpupool.io/inferencejobs get",
              "gpupool.io/inferencejobs list",
              "gpupool.io/inferencejobs watch",
              "gpupool.io/inferencejobs delete",
              "apiextensions.k8s.io/customresourcedefinitions[trainingjobs.gpupool.io] get",
              "apiextensions.k8s.io/customresourcedefinitions[trainingjobs.gpupool.io] patch");
    }

    @Test
    void thereIsNoModeThatLeavesJobsUnmanaged() {
      // A running operator adds its finalizer back to a job whose finalizer a hook lifted
      // (docs/operations.md#uninstall): the chart offers no such mode.
      assertThatThrownBy(() -> Chart.template(NS, Map.of("uninstall.jobs", "keep")))
          .hasMessageContaining("values don't meet the specifications of the schema");
      assertThat(
              String.join("\n", container(one(hooks(Map.of(), "pre-delete"), Job.class)).getArgs()))
          .doesNotContain("finalizers");
    }

    @Test
    void aScopedReleaseTouchesOnlyItsNamespaces() {
      Job listed =
          one(
              hooks(
                  Map.of("scope.namespaces[0]", "ml-a", "scope.namespaces[1]", "ml-b"),
                  "pre-delete"),
              Job.class);
      assertThat(env(container(listed))).containsEntry("SCOPE_NAMESPACES", "ml-a ml-b");
      List<HasMetadata> selected =
          hooks(Map.of("scope.namespaceSelector", "gpupool.io/pool=team-a"), "pre-delete");
      assertThat(env(container(one(selected, Job.class))))
          .containsEntry("SCOPE_SELECTOR", "gpupool.io/pool=team-a");
      assertThat(grants(one(selected, ClusterRole.class))).contains("/namespaces list");
    }

    @Test
    void offRendersNoHookAndBadValuesAreRefused() {
      assertThat(hooks(Map.of("uninstall.hook", false), "pre-delete")).isEmpty();
      assertThatThrownBy(() -> Chart.template(NS, Map.of("uninstall.timeout", "ten minutes")))
          .hasMessageContaining("values don't meet the specifications of the schema");
    }
  }

  @Nested
  class CrdUpgrade {
    @Test
    void appliesExactlyTheChartsCrdsServerSideBeforeTheUpgrade() throws IOException {
      List<HasMetadata> hooks = hooks(Map.of(), "pre-upgrade");
      assertThat(hooks)
          .extracting(HasMetadata::getKind)
          .containsExactlyInAnyOrder(
              "ConfigMap", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Job");
      assertHookHygiene(hooks);
      ConfigMap crds = one(hooks, ConfigMap.class);
      List<Path> files;
      try (Stream<Path> list = Files.list(Chart.CRDS)) {
        files = list.sorted().toList();
      }
      assertThat(crds.getData().keySet())
          .containsExactlyInAnyOrderElementsOf(
              files.stream().map(p -> p.getFileName().toString()).toList());
      Set<String> names = new TreeSet<>();
      for (Path file : files) {
        String carried = crds.getData().get(file.getFileName().toString());
        assertThat(carried.strip())
            .as("%s carried unchanged", file.getFileName())
            .isEqualTo(Files.readString(file).strip());
        names.add(
            Chart.SERIALIZATION
                .unmarshal(carried, CustomResourceDefinition.class)
                .getMetadata()
                .getName());
      }
      Job job = one(hooks, Job.class);
      assertThat(container(job).getCommand())
          .containsExactly(
              "kubectl",
              "apply",
              "--server-side",
              "--field-manager=gpupool-chart",
              "--force-conflicts",
              "--filename=/crds/");
      assertThat(job.getSpec().getTemplate().getSpec().getVolumes())
          .anySatisfy(
              v -> assertThat(v.getConfigMap().getName()).isEqualTo(crds.getMetadata().getName()));
      Set<String> expected = new TreeSet<>();
      expected.add("apiextensions.k8s.io/customresourcedefinitions create");
      for (String verb : List.of("get", "patch")) {
        expected.add(
            "apiextensions.k8s.io/customresourcedefinitions"
                + names.stream().toList()
                + " "
                + verb);
      }
      assertThat(grants(one(hooks, ClusterRole.class))).isEqualTo(expected);
    }

    @Test
    void offRendersNoHookAndTheHookImageCanBePinnedByDigest() {
      assertThat(hooks(Map.of("crds.upgradeHook", false), "pre-upgrade")).isEmpty();
      String digest = "sha256:" + "ab".repeat(32);
      Job job = one(hooks(Map.of("hooks.image.digest", digest), "pre-upgrade"), Job.class);
      assertThat(container(job).getImage()).isEqualTo("docker.io/alpine/k8s@" + digest);
      assertThatThrownBy(() -> Chart.template(NS, Map.of("hooks.image.digest", "latest")))
          .hasMessageContaining("values don't meet the specifications of the schema");
    }
  }
}
