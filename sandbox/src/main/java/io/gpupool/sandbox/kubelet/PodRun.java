package io.gpupool.sandbox.kubelet;

import java.util.concurrent.ScheduledFuture;

/** A pod a simulated kubelet admitted and that has not terminated yet. */
final class PodRun {
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

  PodRun(String namespace, String name, String node, int gpus) {
    this.namespace = namespace;
    this.name = name;
    this.node = node;
    this.gpus = gpus;
  }
}
