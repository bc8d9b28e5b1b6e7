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
final class NodeLeases {
  static final String NAMESPACE = "kube-node-lease";

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
    ZonedDateTime renew = now.truncatedTo(ChronoUnit.MICROS).atZone(ZoneOffset.UTC);
    Lease existing = client.leases().inNamespace(NAMESPACE).withName(name).get();
    if (existing == null) {
      client
          .leases()
          .inNamespace(NAMESPACE)
          .resource(
              new LeaseBuilder()
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
                  .withRenewTime(renew)
                  .endSpec()
                  .build())
          .create();
    } else {
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
}
