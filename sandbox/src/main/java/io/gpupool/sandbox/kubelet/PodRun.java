package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.concurrent.ScheduledFuture;

/** A pod a simulated kubelet admitted and that has not terminated yet. */
final class PodRun {
  /** The pod's UID: a pod created again under the same name is another pod. */
  final String uid;

  final String namespace;
  final String name;
  final String node;
  final int gpus;
  ScheduledFuture<?> completion;
  ScheduledFuture<?> eviction;
  ScheduledFuture<?> readiness;

  /** Set when its process ended while the node was down and nobody reported it yet. */
  Integer unreportedExit;

  /** Times its process start waited for a peer's DNS name to exist. */
  int dnsWaits;

  /** What its container leaves in its termination message (a challenge's answer). */
  String terminationMessage;

  PodRun(Pod pod, String node, int gpus) {
    this.uid = pod.getMetadata().getUid();
    this.namespace = pod.getMetadata().getNamespace();
    this.name = pod.getMetadata().getName();
    this.node = node;
    this.gpus = gpus;
  }
}
