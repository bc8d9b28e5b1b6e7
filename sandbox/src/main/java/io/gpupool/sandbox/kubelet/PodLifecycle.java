package io.gpupool.sandbox.kubelet;

import static io.gpupool.sandbox.kubelet.KubeletSimulator.EXIT_CODE_ENV;
import static io.gpupool.sandbox.kubelet.KubeletSimulator.RUN_SECONDS_ENV;

import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The kubelet side of the simulation: admits a pod bound to a Ready node if the node still has the
 * GPUs it asks for, runs it (simulated, or as a local process in process mode), probes its
 * readiness, restarts it as its restart policy says and terminates it with its exit code.
 */
final class PodLifecycle {

  /** How long a process-mode pod waits for the DNS names in its env to exist: 40 x 250 ms. */
  private static final int DNS_WAITS = 40;

  private static final long DNS_WAIT_MILLIS = 250;

  private final KubeletState state;
  private final PodStatusWriter statuses;

  /** Addresses of process-mode pods; null when all pods are simulated. */
  private final PodNetwork network;

  private int podIps = 0;

  PodLifecycle(KubeletState state, PodStatusWriter statuses, PodNetwork network) {
    this.state = state;
    this.statuses = statuses;
    this.network = network;
  }

  /** A pod added or changed: admitted (or rejected) once it is bound to a Ready node. */
  void onPod(Pod pod) {
    String uid = pod.getMetadata().getUid();
    String nodeName = pod.getSpec().getNodeName();
    if (nodeName == null
        || state.decided.contains(uid)
        || pod.getMetadata().getDeletionTimestamp() != null) {
      return;
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
      state.decided.add(uid);
      return;
    }
    Node node = state.nodes.get(nodeName);
    if (node == null) {
      node = state.client.nodes().withName(nodeName).get();
      if (node == null) {
        onNodeDeletedForPod(pod, nodeName);
        return;
      }
      state.nodes.put(nodeName, node);
    }
    if (!PodFacts.isReady(node)) {
      return; // waits, like a pod bound to a node whose kubelet is down
    }
    if ("Running".equals(phase)) {
      adopt(pod, nodeName);
      return;
    }
    int gpus = PodFacts.requestedGpus(pod);
    int allocatable = PodFacts.allocatableGpus(node);
    int used = state.usedGpus(nodeName);
    if (used + gpus > allocatable) {
      // A relisting informer delivers its adds before its deletes, and a pod created again under
      // its name as an update with no delete at all: the pods counted may be gone already. A real
      // kubelet's pod sources hand it removals before additions; the API server decides here.
      state.forgetGone(nodeName);
      used = state.usedGpus(nodeName);
    }
    state.decided.add(uid);
    if (used + gpus > allocatable) {
      String message =
          "Pod was rejected: Allocate failed due to requested number of devices unavailable for"
              + " nvidia.com/gpu. Requested: "
              + gpus
              + ", Available: "
              + Math.max(0, allocatable - used)
              + ", which is unexpected";
      state.log.accept(
          "pod/"
              + pod.getMetadata().getNamespace()
              + "/"
              + pod.getMetadata().getName()
              + " rejected on "
              + nodeName
              + ": "
              + gpus
              + " GPU(s) requested, "
              + Math.max(0, allocatable - used)
              + " free, held by "
              + state.holdersOf(nodeName));
      state.events.pod(pod, nodeName, "Warning", "UnexpectedAdmissionError", message);
      statuses.write(
          pod,
          s -> {
            s.setPhase("Failed");
            s.setReason("UnexpectedAdmissionError");
            s.setMessage(message);
            s.setStartTime(state.now());
          });
      return;
    }
    PodRun run = new PodRun(pod, nodeName, gpus);
    state.runs.put(uid, run);
    start(pod, run, 0);
  }

  private void onNodeDeletedForPod(Pod pod, String nodeName) {
    state.log.accept(
        "pod/"
            + pod.getMetadata().getNamespace()
            + "/"
            + pod.getMetadata().getName()
            + " deleted: node "
            + nodeName
            + " does not exist");
    state.decided.add(pod.getMetadata().getUid());
    state
        .client
        .pods()
        .inNamespace(pod.getMetadata().getNamespace())
        .withName(pod.getMetadata().getName())
        .delete();
  }

  /** A pod found Running (e.g. after a simulator restart): account for it and finish it later. */
  private void adopt(Pod pod, String nodeName) {
    String uid = pod.getMetadata().getUid();
    state.decided.add(uid);
    PodRun run = new PodRun(pod, nodeName, PodFacts.requestedGpus(pod));
    state.runs.put(uid, run);
    Long runSeconds = PodFacts.envLong(pod, RUN_SECONDS_ENV);
    if (runSeconds != null) {
      Instant started =
          pod.getStatus().getStartTime() == null
              ? state.clock.instant()
              : Instant.parse(pod.getStatus().getStartTime());
      Duration elapsed = Duration.between(started, state.clock.instant());
      long remaining =
          Math.max(0, state.wallMillis(Duration.ofSeconds(runSeconds)) - elapsed.toMillis());
      scheduleCompletion(pod, run, remaining);
    }
  }

  private void start(Pod pod, PodRun run, int restartCount) {
    String uid = pod.getMetadata().getUid();
    if (restartCount == 0
        && state.weightsPulls.holdsStart(
            pod,
            state.nodes.get(run.node),
            statuses::write,
            () -> state.runs.get(uid) == run,
            () -> start(pod, run, 0))) {
      return; // Pending while its fetch-weights init container pulls the model
    }
    String now = state.now();
    Node node = state.nodes.get(run.node);
    String hostIp = node == null ? null : PodFacts.internalIp(node);
    boolean asProcess =
        state.processes != null && ProcessMode.applies(pod) && !ChallengeAnswers.applies(pod);
    if (asProcess && restartCount == 0 && run.dnsWaits < DNS_WAITS) {
      List<String> unresolved = state.processes.unresolvedNames(pod);
      if (!unresolved.isEmpty()) {
        // A gang's pods are created together; a peer not yet seen gets its name in a moment,
        // as cluster DNS answers once the pod exists.
        run.dnsWaits++;
        if (run.dnsWaits == 1 || run.dnsWaits == DNS_WAITS) {
          state.log.accept(
              "pod/" + run.namespace + "/" + run.name + " waits for DNS names " + unresolved);
        }
        state.executor.schedule(
            state.safely(
                () -> {
                  if (state.runs.get(pod.getMetadata().getUid()) == run) {
                    start(pod, run, restartCount);
                  }
                }),
            DNS_WAIT_MILLIS,
            TimeUnit.MILLISECONDS);
        return;
      }
    }
    String podIp =
        asProcess
            ? network.address(pod)
            : state
                .metricsEndpoints
                .serve(pod)
                .or(
                    () ->
                        state.challengeEndpoints.serve(
                            pod, node, opened -> opened(pod, run, opened)))
                .orElseGet(
                    () -> {
                      int ip = ++podIps;
                      return "10.244." + (ip / 250) + "." + (ip % 250 + 1);
                    });
    if (asProcess && !startProcess(pod, run, podIp, nodeEnv(node))) {
      return;
    }
    boolean probed = asProcess && PodFacts.tcpReadinessPort(pod) != null;
    state.log.accept(
        "pod/"
            + run.namespace
            + "/"
            + run.name
            + " Running on "
            + run.node
            + (run.gpus > 0 ? " (" + run.gpus + " GPU)" : ""));
    statuses.write(
        pod,
        s -> {
          s.setPhase("Running");
          s.setReason(null);
          s.setMessage(null);
          if (s.getStartTime() == null) {
            s.setStartTime(now);
          }
          s.setHostIP(hostIp);
          if (s.getPodIP() == null) {
            s.setPodIP(podIp);
          }
          s.setQosClass(s.getQosClass() == null ? "BestEffort" : s.getQosClass());
          List<ContainerStatus> statuses = new ArrayList<>();
          for (var c : pod.getSpec().getContainers()) {
            statuses.add(
                new ContainerStatusBuilder()
                    .withName(c.getName())
                    .withImage(c.getImage())
                    .withImageID("sandbox://" + c.getImage())
                    .withContainerID(
                        "containerd://"
                            + Integer.toHexString(Objects.hash(run.name, c.getName(), now)))
                    .withReady(!probed)
                    .withStarted(true)
                    .withRestartCount(restartCount)
                    .withState(
                        new ContainerStateBuilder()
                            .withNewRunning()
                            .withStartedAt(now)
                            .endRunning()
                            .build())
                    .build());
          }
          s.setContainerStatuses(statuses);
          for (String type : List.of("PodScheduled", "Initialized", "ContainersReady", "Ready")) {
            boolean waits = probed && (type.equals("ContainersReady") || type.equals("Ready"));
            PodStatusWriter.upsertCondition(
                s, PodStatusWriter.condition(type, waits ? "False" : "True", null, now));
          }
        });
    if (probed) {
      probeReadiness(run, podIp, PodFacts.tcpReadinessPort(pod));
    }
    for (var c : pod.getSpec().getContainers()) {
      if (restartCount == 0) {
        state.events.pod(
            pod,
            run.node,
            "Normal",
            "Pulled",
            "Container image \"" + c.getImage() + "\" already present on machine");
        state.events.pod(pod, run.node, "Normal", "Created", "Created container " + c.getName());
      }
      state.events.pod(pod, run.node, "Normal", "Started", "Started container " + c.getName());
    }
    Long runSeconds = PodFacts.envLong(pod, RUN_SECONDS_ENV);
    if (runSeconds != null && !asProcess) {
      scheduleCompletion(pod, run, state.wallMillis(Duration.ofSeconds(runSeconds)));
    }
    ChallengeAnswers.answer(pod, node)
        .ifPresent(
            a -> {
              run.terminationMessage = a.message();
              scheduleCompletion(pod, run, a.wallMillis());
            });
  }

  /** A commit-then-open challenge served its openings: the program exits with this message. */
  private void opened(Pod pod, PodRun run, String message) {
    state.executor.execute(
        state.safely(
            () -> {
              if (state.runs.get(pod.getMetadata().getUid()) == run) {
                run.terminationMessage = message;
                complete(pod, run, 0);
              }
            }));
  }

  /**
   * Starts the pod's container as a process; its exit completes the pod. A container that cannot
   * start fails the pod, as a kubelet reports StartError.
   */
  /** What the node does behind its pods' backs: the sandbox's dishonest provider's tricks. */
  private static Map<String, String> nodeEnv(Node node) {
    Map<String, String> env = new HashMap<>(SubstituteModel.env(node));
    env.putAll(DishonestTraining.env(node));
    return env;
  }

  private boolean startProcess(Pod pod, PodRun run, String podIp, Map<String, String> nodeEnv) {
    String uid = pod.getMetadata().getUid();
    try {
      state.processes.start(
          pod,
          podIp,
          run.gpus,
          nodeEnv,
          exitCode ->
              state.executor.execute(
                  state.safely(
                      () -> {
                        if (state.runs.get(uid) == run) {
                          run.unreportedExit = exitCode;
                          complete(pod, run, exitCode);
                        }
                      })));
      return true;
    } catch (IllegalArgumentException | UncheckedIOException e) {
      state.log.accept(
          "pod/" + run.namespace + "/" + run.name + " cannot start: " + e.getMessage());
      state.events.pod(pod, run.node, "Warning", "Failed", "Error: " + e.getMessage());
      finish(pod, run, 128, "StartError", e.getMessage());
      return false;
    }
  }

  /** Marks a process pod Ready once its port accepts connections, as a tcpSocket probe does. */
  private void probeReadiness(PodRun run, String podIp, int port) {
    run.readiness =
        state.executor.scheduleWithFixedDelay(
            state.safely(
                () -> {
                  try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(podIp, port), 200);
                  } catch (IOException e) {
                    return; // not listening yet
                  }
                  run.readiness.cancel(false);
                  Node node = state.nodes.get(run.node);
                  if (node != null && PodFacts.isReady(node)) {
                    statuses.setReady(run, true);
                  }
                }),
            300,
            500,
            TimeUnit.MILLISECONDS);
  }

  private void scheduleCompletion(Pod pod, PodRun run, long delayMillis) {
    Long exit = PodFacts.envLong(pod, EXIT_CODE_ENV);
    int exitCode = exit == null ? 0 : exit.intValue();
    run.completion =
        state.executor.schedule(
            () -> complete(pod, run, exitCode), delayMillis, TimeUnit.MILLISECONDS);
  }

  /** Its container exited: restarted as the restart policy says, or the pod terminates. */
  void complete(Pod pod, PodRun run, int exitCode) {
    if (!state.runs.containsKey(pod.getMetadata().getUid())) {
      return;
    }
    Node node = state.nodes.get(run.node);
    if (node == null || !PodFacts.isReady(node)) {
      return; // a kubelet that is down reports nothing
    }
    run.unreportedExit = null;
    String policy =
        pod.getSpec().getRestartPolicy() == null ? "Always" : pod.getSpec().getRestartPolicy();
    boolean restart = "Always".equals(policy) || ("OnFailure".equals(policy) && exitCode != 0);
    if (restart) {
      Pod current = state.current(run);
      if (current == null) {
        state.forget(pod.getMetadata().getUid());
        return;
      }
      int restarts =
          current.getStatus().getContainerStatuses().isEmpty()
              ? 0
              : current.getStatus().getContainerStatuses().get(0).getRestartCount();
      state.log.accept(
          "pod/"
              + run.namespace
              + "/"
              + run.name
              + " container exited "
              + exitCode
              + ", restarting (restartPolicy "
              + policy
              + ")");
      start(current, run, restarts + 1);
      return;
    }
    finish(pod, run, exitCode, null, null);
  }

  /** Terminates a pod: Succeeded on exit 0 (and no reason), Failed otherwise. */
  void finish(Pod pod, PodRun run, int exitCode, String reason, String message) {
    state.forget(pod.getMetadata().getUid());
    String now = state.now();
    boolean succeeded = exitCode == 0 && reason == null;
    state.log.accept(
        "pod/"
            + run.namespace
            + "/"
            + run.name
            + " "
            + (succeeded ? "Succeeded" : "Failed")
            + " (exit code "
            + exitCode
            + (reason != null ? ", " + reason : "")
            + ")");
    statuses.write(
        pod,
        s -> {
          s.setPhase(succeeded ? "Succeeded" : "Failed");
          s.setReason(reason);
          s.setMessage(message);
          List<ContainerStatus> statuses = new ArrayList<>();
          for (ContainerStatus cs : s.getContainerStatuses()) {
            String startedAt =
                cs.getState() != null && cs.getState().getRunning() != null
                    ? cs.getState().getRunning().getStartedAt()
                    : s.getStartTime();
            statuses.add(
                new ContainerStatusBuilder(cs)
                    .withReady(false)
                    .withStarted(false)
                    .withState(
                        new ContainerStateBuilder()
                            .withNewTerminated()
                            .withExitCode(exitCode)
                            .withReason(exitCode == 0 ? "Completed" : "Error")
                            .withStartedAt(startedAt)
                            .withFinishedAt(now)
                            .withMessage(run.terminationMessage)
                            .withContainerID(cs.getContainerID())
                            .endTerminated()
                            .build())
                    .build());
          }
          s.setContainerStatuses(statuses);
          String why = succeeded ? "PodCompleted" : "PodFailed";
          PodStatusWriter.upsertCondition(s, PodStatusWriter.condition("Ready", "False", why, now));
          PodStatusWriter.upsertCondition(
              s, PodStatusWriter.condition("ContainersReady", "False", why, now));
        });
  }

  void onPodDeleted(Pod pod) {
    state.forget(pod.getMetadata().getUid());
  }
}
