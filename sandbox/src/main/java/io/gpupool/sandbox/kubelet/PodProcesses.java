package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.sandbox.api.PodLogSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs process-mode containers ({@link ProcessMode}) as local processes: each in its own working
 * directory ({@code data/pods/NS/NAME}), with the environment of {@link ProcessEnv}, its stdout and
 * stderr appended to {@code CONTAINER.log} there (what {@code kubectl logs} shows), and its whole
 * process tree stopped when the pod is deleted or its node fails.
 */
final class PodProcesses implements PodLogSource, AutoCloseable {
  private static final Pattern VAR_REF = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

  /** One container run (a restart is a new run in the same directory, appending to its log). */
  private static final class Run {
    final String uid;
    final Path log;
    final Process process;
    volatile boolean ended;

    Run(String uid, Path log, Process process) {
      this.uid = uid;
      this.log = log;
      this.process = process;
    }
  }

  private final ProcessMode mode;
  private final PodNetwork network;
  private final Consumer<String> out;
  private final Map<String, Run> byUid = new HashMap<>();
  private final Map<String, Run> byName = new HashMap<>();

  PodProcesses(ProcessMode mode, PodNetwork network, Consumer<String> out) {
    this.mode = mode;
    this.network = network;
    this.out = out;
  }

  ProcessMode mode() {
    return mode;
  }

  /**
   * Starts the pod's container. {@code onExit} receives its exit code once it ends by itself or is
   * stopped (128 + signal then).
   *
   * @throws IllegalArgumentException when the container cannot be run (no command, program missing)
   */
  synchronized void start(
      Pod pod, String podIp, int gpus, Map<String, String> nodeEnv, IntConsumer onExit) {
    String namespace = pod.getMetadata().getNamespace();
    String name = pod.getMetadata().getName();
    Container container = pod.getSpec().getContainers().get(0);
    Path workdir = mode.data().resolve("pods").resolve(namespace).resolve(name).toAbsolutePath();
    Path log = workdir.resolve(container.getName() + ".log");
    Map<String, String> declared = declaredEnv(pod, container, podIp);
    String hostname = pod.getSpec().getHostname() == null ? name : pod.getSpec().getHostname();
    Map<String, String> env =
        ProcessEnv.build(
            declared,
            podIp,
            hostname,
            gpus,
            mode.data().resolve("objects").toAbsolutePath(),
            network);
    env.putAll(nodeEnv); // what the node does behind the pod's back (SubstituteModel)
    List<String> line =
        mode.commandLine(expand(container.getCommand(), env), expand(container.getArgs(), env));
    try {
      Files.createDirectories(workdir);
      freshForPod(workdir, pod.getMetadata().getUid(), log);
      ProcessBuilder pb =
          new ProcessBuilder(line)
              .directory(workdir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      Map<String, String> environment = pb.environment();
      String path = environment.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
      environment.clear(); // a container sees its image's and its pod's env, not the host's
      environment.put("PATH", path);
      environment.put("HOME", workdir.toString());
      environment.put("LANG", "C.UTF-8");
      environment.putAll(env);
      Process process = pb.start();
      Run run = new Run(pod.getMetadata().getUid(), log, process);
      byUid.put(run.uid, run);
      byName.put(namespace + "/" + name, run);
      out.accept(
          "pod/"
              + namespace
              + "/"
              + name
              + " process "
              + process.pid()
              + " on "
              + podIp
              + ": "
              + String.join(" ", line));
      process
          .onExit()
          .thenAccept(
              p -> {
                run.ended = true;
                onExit.accept(p.exitValue());
              });
    } catch (IOException e) {
      String why = "cannot start " + String.join(" ", line) + ": " + e.getMessage();
      try {
        Files.createDirectories(workdir);
        Files.writeString(
            log,
            why + "\n",
            StandardCharsets.UTF_8,
            java.nio.file.StandardOpenOption.CREATE,
            java.nio.file.StandardOpenOption.APPEND);
      } catch (IOException ignored) {
        // the message still reaches the sandbox log through the exception
      }
      throw new IllegalArgumentException(why, e);
    }
  }

  /**
   * Stops the pod's process tree: at once ({@code forcibly}, a node that failed) or SIGTERM first
   * with {@code graceSeconds} before SIGKILL (a deleted pod).
   */
  synchronized void stop(String uid, boolean forcibly, long graceSeconds) {
    Run run = byUid.remove(uid);
    if (run == null || run.ended) {
      return;
    }
    List<ProcessHandle> tree = new ArrayList<>(run.process.descendants().toList());
    tree.add(run.process.toHandle());
    if (forcibly) {
      tree.forEach(ProcessHandle::destroyForcibly);
      return;
    }
    tree.forEach(ProcessHandle::destroy);
    run.process
        .onExit()
        .completeOnTimeout(null, graceSeconds, TimeUnit.SECONDS)
        .thenRun(
            () ->
                tree.stream()
                    .filter(ProcessHandle::isAlive)
                    .forEach(ProcessHandle::destroyForcibly));
  }

  /** True while the pod's container process runs. */
  synchronized boolean running(String uid) {
    Run run = byUid.get(uid);
    return run != null && !run.ended;
  }

  /** True when the pod's container runs (or ran) as a process. */
  synchronized boolean has(String uid) {
    return byUid.containsKey(uid);
  }

  @Override
  public synchronized Optional<ContainerLog> find(String namespace, String pod, String container) {
    Run run = byName.get(namespace + "/" + pod);
    if (run == null) {
      return Optional.empty();
    }
    if (container != null && !run.log.getFileName().toString().equals(container + ".log")) {
      return Optional.empty();
    }
    return Optional.of(new ContainerLog(run.log, () -> !run.ended));
  }

  /**
   * A new pod that reuses a name (and so a directory) starts with an empty log, as a new pod does;
   * a restarted container of the same pod appends to it.
   */
  private static void freshForPod(Path workdir, String uid, Path log) throws IOException {
    Path marker = workdir.resolve(".pod-uid");
    String previous = Files.exists(marker) ? Files.readString(marker).trim() : null;
    if (!uid.equals(previous)) {
      Files.deleteIfExists(log);
      Files.writeString(marker, uid + "\n");
    }
  }

  /** Cluster DNS names of pods in the container's env that do not resolve (yet). */
  List<String> unresolvedNames(Pod pod) {
    Container container = pod.getSpec().getContainers().get(0);
    List<String> missing = new ArrayList<>();
    for (String value : declaredEnv(pod, container, "").values()) {
      for (String name : ProcessEnv.podDnsNames(value)) {
        if (network.resolve(name).isEmpty() && !missing.contains(name)) {
          missing.add(name);
        }
      }
    }
    return missing;
  }

  /** The container's env in order, with the downward-API fields the sandbox knows. */
  private static Map<String, String> declaredEnv(Pod pod, Container container, String podIp) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar e : container.getEnv()) {
      if (e.getValue() != null) {
        env.put(e.getName(), expand(e.getValue(), env));
      } else if (e.getValueFrom() != null && e.getValueFrom().getFieldRef() != null) {
        String field = e.getValueFrom().getFieldRef().getFieldPath();
        String value =
            switch (field) {
              case "metadata.name" -> pod.getMetadata().getName();
              case "metadata.namespace" -> pod.getMetadata().getNamespace();
              case "metadata.uid" -> pod.getMetadata().getUid();
              case "spec.nodeName" -> pod.getSpec().getNodeName();
              case "status.podIP" -> podIp;
              default -> null;
            };
        if (value != null) {
          env.put(e.getName(), value);
        }
      }
    }
    return env;
  }

  /** Kubernetes' {@code $(VAR)} references in command, args and env values. */
  static List<String> expand(List<String> words, Map<String, String> env) {
    if (words == null) {
      return List.of();
    }
    return words.stream().map(w -> expand(w, env)).toList();
  }

  static String expand(String word, Map<String, String> env) {
    Matcher m = VAR_REF.matcher(word);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = env.get(m.group(1));
      m.appendReplacement(out, Matcher.quoteReplacement(value == null ? m.group() : value));
    }
    m.appendTail(out);
    return out.toString();
  }

  @Override
  public synchronized void close() {
    for (Run run : byUid.values()) {
      run.process.descendants().forEach(ProcessHandle::destroyForcibly);
      run.process.destroyForcibly();
    }
    byUid.clear();
  }
}
