package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;

/** The heartbeat Lease a kubelet keeps in {@code kube-node-lease}, owned by its Node. */
public final class NodeLeases {
  public static final String NAMESPACE = "kube-node-lease";

  private NodeLeases() {}

  static void ensureNamespace(KubernetesClient client) {
    if (client.namespaces().withName(NAMESPACE).get() == null) {
      client
          .namespaces()
          .resource(
              new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
          .create();
    }
  }

  /** Creates or renews the node's lease. */
  static void renew(KubernetesClient client, Node node, Instant now) {
    String name = node.getMetadata().getName();
    Lease existing = client.leases().inNamespace(NAMESPACE).withName(name).get();
    if (existing == null) {
      client.leases().inNamespace(NAMESPACE).resource(of(node, now)).create();
    } else {
      ZonedDateTime renew = renewTime(now);
      client
          .leases()
          .inNamespace(NAMESPACE)
          .withName(name)
          .edit(
              l -> {
                l.getSpec().setRenewTime(renew);
                return l;
              });
    }
  }

  /** Whether a kubelet leases {@code node} when it first sees it (the node is Ready). */
  public static boolean isReady(Node node) {
    return PodFacts.isReady(node);
  }

  /**
   * The lease a kubelet creates for a stored {@code node} (its uid set) first seen at {@code now};
   * the sandbox seeds these together with a large pool's nodes.
   */
  public static Lease of(Node node, Instant now) {
    String name = node.getMetadata().getName();
    return new LeaseBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(NAMESPACE)
        .addNewOwnerReference()
        .withApiVersion("v1")
        .withKind("Node")
        .withName(name)
        .withUid(node.getMetadata().getUid())
        .endOwnerReference()
        .endMetadata()
        .withNewSpec()
        .withHolderIdentity(name)
        .withLeaseDurationSeconds(40)
        .withRenewTime(renewTime(now))
        .endSpec()
        .build();
  }

  private static ZonedDateTime renewTime(Instant now) {
    return now.truncatedTo(ChronoUnit.MICROS).atZone(ZoneOffset.UTC);
  }
}
