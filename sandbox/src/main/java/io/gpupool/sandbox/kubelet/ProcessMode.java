package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Pod;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Which pods the kubelet runs as real local processes, and how a container's image paths and
 * programs map onto this machine.
 *
 * @param workloads the local folder that stands for {@value #IMAGE_ROOT} in the reference workload
 *     image (the repository's {@code examples/workloads})
 * @param data where pods get their working directories ({@code pods/NS/NAME}) and where {@code
 *     s3://} buckets live ({@code objects/BUCKET})
 * @param python the Python that has torch (Debian's python3-torch lives in /usr/bin/python3)
 * @param torchrun the torchrun of that Python
 */
public record ProcessMode(Path workloads, Path data, String python, String torchrun) {

  /** Images whose containers run as processes: the project's reference workloads. */
  public static final String IMAGE_PREFIX = "ghcr.io/gpupool/workloads";

  /** Pod annotation: {@code "true"} runs any image's command as a process. */
  public static final String ANNOTATION = "sandbox.gpupool.io/process";

  /** Where the reference workload image keeps its scripts (examples/workloads/Dockerfile). */
  public static final String IMAGE_ROOT = "/workloads/";

  /** Debian's python3-torch: the Python and torchrun that have torch. */
  public static ProcessMode debian(Path workloads, Path data) {
    return new ProcessMode(workloads, data, "/usr/bin/python3", "/usr/bin/torchrun");
  }

  /** True for pods of the reference images or carrying the opt-in annotation. */
  public static boolean applies(Pod pod) {
    if (pod.getSpec().getContainers().size() != 1) {
      return false; // one process per pod: sidecars are not run
    }
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    if (annotations != null && "true".equals(annotations.get(ANNOTATION))) {
      return true;
    }
    String image = pod.getSpec().getContainers().get(0).getImage();
    return image != null
        && (image.equals(IMAGE_PREFIX)
            || image.startsWith(IMAGE_PREFIX + ":")
            || image.startsWith(IMAGE_PREFIX + "@"));
  }

  /**
   * The container's command and args as a local command line: {@code torchrun} and {@code
   * python}/{@code python3} are this machine's, paths under {@value #IMAGE_ROOT} are under {@link
   * #workloads}.
   *
   * @throws IllegalArgumentException when the container has no command (the image's entrypoint is
   *     not known here)
   */
  public List<String> commandLine(List<String> command, List<String> args) {
    if (command == null || command.isEmpty()) {
      throw new IllegalArgumentException(
          "process mode runs the container's command, and this container has none (set"
              + " spec.command, e.g. [\"torchrun\"] or [\"python3\"])");
    }
    List<String> line = new ArrayList<>();
    for (String c : command) {
      line.add(local(c));
    }
    for (String a : args == null ? List.<String>of() : args) {
      line.add(local(a));
    }
    String program = line.get(0);
    line.set(
        0,
        switch (program) {
          case "torchrun" -> torchrun;
          case "python", "python3" -> python;
          default -> program;
        });
    return line;
  }

  private String local(String word) {
    if (word.startsWith(IMAGE_ROOT)) {
      return workloads.resolve(word.substring(IMAGE_ROOT.length())).toString();
    }
    return word;
  }
}
