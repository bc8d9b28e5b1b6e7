package io.gpupool.e2e;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.sandbox.Sandbox;
import io.gpupool.sandbox.api.SandboxApiServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The chart's Helm hooks (the pre-delete uninstall Job, the pre-upgrade CRD Job) rendered and run
 * for real: their ServiceAccount, ClusterRole and binding installed in the sandbox, and their Job's
 * container command run here as a process with kubectl, authenticated as the hook's ServiceAccount,
 * its ConfigMap volumes written out and its other volumes as empty directories.
 *
 * <p>helm-java's {@code template} leaves hooks out of its output, so the chart is rendered from a
 * copy whose templates carry the hook annotation under another name.
 */
final class ChartHooks {

  private static final String DISGUISE = "hooks.e2e.gpupool.io/hook";

  private ChartHooks() {}

  /** The chart's hook objects of {@code phase} (e.g. pre-delete), rendered with {@code values}. */
  static List<HasMetadata> render(String phase, Map<String, Object> values) {
    Path chart = disguisedCopy();
    TemplateCommand command =
        new Helm(chart)
            .template()
            .withName(ChartRelease.NAME)
            .withNamespace(ChartRelease.NAMESPACE)
            .withKubeVersion("1." + SandboxApiServer.KUBE_MINOR + ".0");
    for (Map.Entry<String, Object> value : values.entrySet()) {
      command = command.set(value.getKey(), value.getValue());
    }
    KubernetesSerialization serialization = new KubernetesSerialization();
    List<HasMetadata> hooks = new ArrayList<>();
    for (String doc : Pattern.compile("(?m)^---\\s*$").split(command.call())) {
      if (doc.lines().anyMatch(l -> !l.isBlank() && !l.strip().startsWith("#"))) {
        HasMetadata object = serialization.unmarshal(doc, HasMetadata.class);
        Map<String, String> annotations = object.getMetadata().getAnnotations();
        if (annotations != null && phase.equals(annotations.get(DISGUISE))) {
          hooks.add(object);
        }
      }
    }
    if (hooks.stream().noneMatch(Job.class::isInstance)) {
      throw new AssertionError("the chart renders no " + phase + " hook Job");
    }
    return hooks;
  }

  /** The hook's Job among {@code hooks}. */
  static Job job(List<HasMetadata> hooks) {
    return hooks.stream()
        .filter(Job.class::isInstance)
        .map(Job.class::cast)
        .findFirst()
        .orElseThrow();
  }

  /** A hook's identity installed in the sandbox: its account, a kubeconfig with its token. */
  record Installed(String account, Path kubeconfig, Path workDir) {}

  /**
   * Creates (or updates) the hook's ServiceAccount, ClusterRole and binding through {@code admin}
   * and writes a kubeconfig with the account's token into e2e-logs/chart-hooks/{@code name}.
   */
  static Installed install(
      List<HasMetadata> hooks, KubernetesClient admin, Sandbox sandbox, String name)
      throws IOException {
    String account = null;
    for (HasMetadata o : hooks) {
      if (o instanceof ServiceAccount
          || o instanceof ClusterRole
          || o instanceof ClusterRoleBinding) {
        admin.resource(o).createOr(NonDeletingOperation::update);
      }
      if (o instanceof ServiceAccount) {
        account = o.getMetadata().getName();
      }
    }
    if (account == null) {
      throw new AssertionError("the hook renders no ServiceAccount");
    }
    Path dir = SandboxCluster.REPO.resolve("e2e-tests/target/e2e-logs/chart-hooks/" + name);
    Files.createDirectories(dir);
    Path kubeconfig =
        sandbox.writeServiceAccountKubeconfig(
            dir.resolve("kubeconfig"), ChartRelease.NAMESPACE, account);
    return new Installed(account, kubeconfig, dir);
  }

  /** What a hook's run printed and how it ended. */
  record Run(int exit, String output, Duration took) {}

  /**
   * Runs the hook Job's container command as a local process authenticated as the hook's
   * ServiceAccount, in its work directory; the process is killed after {@code timeout}.
   */
  static Run run(List<HasMetadata> hooks, Installed hook, Duration timeout)
      throws IOException, InterruptedException {
    Path kubeconfig = hook.kubeconfig();
    Path workDir = hook.workDir();
    Job job = job(hooks);
    Container container = job.getSpec().getTemplate().getSpec().getContainers().get(0);
    Map<String, Path> mounts = new LinkedHashMap<>();
    for (VolumeMount mount : container.getVolumeMounts()) {
      Path local = workDir.resolve("volume-" + mount.getName());
      Files.createDirectories(local);
      Volume volume =
          job.getSpec().getTemplate().getSpec().getVolumes().stream()
              .filter(v -> v.getName().equals(mount.getName()))
              .findFirst()
              .orElseThrow();
      if (volume.getConfigMap() != null) {
        ConfigMap data = configMap(hooks, volume.getConfigMap().getName());
        for (Map.Entry<String, String> file : data.getData().entrySet()) {
          Files.writeString(local.resolve(file.getKey()), file.getValue());
        }
      }
      mounts.put(mount.getMountPath(), local);
    }
    List<String> command = new ArrayList<>();
    Stream.concat(container.getCommand().stream(), container.getArgs().stream())
        .forEach(arg -> command.add(local(arg, mounts)));
    ProcessBuilder process = new ProcessBuilder(command).redirectErrorStream(true);
    Map<String, String> env = process.environment();
    env.keySet().removeIf(k -> k.startsWith("KUBE"));
    for (EnvVar var : container.getEnv()) {
      if (var.getValue() != null) {
        env.put(var.getName(), local(var.getValue(), mounts));
      }
    }
    env.put("KUBECONFIG", kubeconfig.toString());
    Path output = workDir.resolve("hook.log");
    process.redirectOutput(output.toFile());
    long started = System.nanoTime();
    Process p = process.start();
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      return new Run(-1, Files.readString(output), timeout);
    }
    return new Run(
        p.exitValue(), Files.readString(output), Duration.ofNanos(System.nanoTime() - started));
  }

  private static ConfigMap configMap(List<HasMetadata> hooks, String name) {
    return hooks.stream()
        .filter(ConfigMap.class::isInstance)
        .map(ConfigMap.class::cast)
        .filter(c -> c.getMetadata().getName().equals(name))
        .findFirst()
        .orElseThrow(
            () -> new AssertionError("the hook mounts ConfigMap " + name + ", not rendered"));
  }

  /** {@code text} with each mount path that starts it, or follows a '=', made local. */
  private static String local(String text, Map<String, Path> mounts) {
    for (Map.Entry<String, Path> mount : mounts.entrySet()) {
      String path = mount.getKey();
      if (text.equals(path) || text.startsWith(path + "/")) {
        return mount.getValue() + text.substring(path.length());
      }
      int eq = text.indexOf('=');
      if (eq > 0 && text.startsWith(path, eq + 1)) {
        return text.substring(0, eq + 1)
            + mount.getValue()
            + text.substring(eq + 1 + path.length());
      }
    }
    return text;
  }

  private static Path disguisedCopy() {
    Path source = SandboxCluster.REPO.resolve("helm/gpupool");
    try {
      Path copy = Files.createTempDirectory("gpupool-e2e-hooks").resolve("gpupool");
      try (Stream<Path> files = Files.walk(source)) {
        for (Path file : files.toList()) {
          Path target = copy.resolve(source.relativize(file).toString());
          if (Files.isDirectory(file)) {
            Files.createDirectories(target);
          } else if (file.startsWith(source.resolve("templates"))) {
            Files.writeString(target, Files.readString(file).replace("helm.sh/hook", DISGUISE));
          } else {
            Files.copy(file, target);
          }
        }
      }
      return copy;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
