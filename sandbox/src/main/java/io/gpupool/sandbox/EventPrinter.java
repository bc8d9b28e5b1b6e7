package io.gpupool.sandbox;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Prints what happens in the sandbox as events arrive: nodes becoming (not) ready, pods changing
 * phase, and gpupool custom resources changing {@code status.phase}.
 */
final class EventPrinter implements AutoCloseable {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");
  private final KubernetesClient client;
  private final Consumer<String> out;
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private final Set<String> watchedKinds = ConcurrentHashMap.newKeySet();

  EventPrinter(KubernetesClient client, Consumer<String> out) {
    this.client = client;
    this.out = out;
  }

  void start() {
    informers.add(
        client
            .nodes()
            .inform(
                changes(
                    n -> "node/" + n.getMetadata().getName(), EventPrinter::nodeState, n -> true)));
    informers.add(
        client
            .pods()
            .inAnyNamespace()
            .inform(
                changes(
                    p -> "pod/" + p.getMetadata().getNamespace() + "/" + p.getMetadata().getName(),
                    p ->
                        p.getStatus() == null
                            ? "Pending"
                            : p.getStatus().getPhase()
                                + (p.getSpec().getNodeName() == null
                                    ? ""
                                    : " on " + p.getSpec().getNodeName()),
                    p -> true)));
    informers.add(
        client
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(CustomResourceDefinition crd) {
                    watchCustomResources(crd);
                  }

                  @Override
                  public void onUpdate(CustomResourceDefinition o, CustomResourceDefinition n) {}

                  @Override
                  public void onDelete(CustomResourceDefinition crd, boolean unknown) {}
                }));
  }

  private void watchCustomResources(CustomResourceDefinition crd) {
    if (!"gpupool.io".equals(crd.getSpec().getGroup())
        || !watchedKinds.add(crd.getSpec().getNames().getKind())) {
      return;
    }
    String kind = crd.getSpec().getNames().getKind();
    String version = crd.getSpec().getVersions().get(0).getName();
    var op = client.genericKubernetesResources("gpupool.io/" + version, kind);
    ResourceEventHandler<GenericKubernetesResource> handler =
        changes(
            r ->
                kind
                    + " "
                    + (r.getMetadata().getNamespace() == null
                        ? ""
                        : r.getMetadata().getNamespace() + "/")
                    + r.getMetadata().getName(),
            EventPrinter::phase,
            r -> true);
    if ("Namespaced".equals(crd.getSpec().getScope())) {
      informers.add(op.inAnyNamespace().inform(handler));
    } else {
      informers.add(op.inform(handler));
    }
  }

  private static String phase(GenericKubernetesResource r) {
    Object status = r.getAdditionalProperties().get("status");
    if (status instanceof Map<?, ?> m && m.get("phase") != null) {
      return String.valueOf(m.get("phase"));
    }
    return "(no phase)";
  }

  private static String nodeState(Node n) {
    if (n.getStatus() == null || n.getStatus().getConditions() == null) {
      return "Unknown";
    }
    return n.getStatus().getConditions().stream()
            .filter(c -> "Ready".equals(c.getType()))
            .map(c -> "True".equals(c.getStatus()) ? "Ready" : "NotReady")
            .findFirst()
            .orElse("Unknown")
        + " ("
        + n.getMetadata().getLabels().getOrDefault("nvidia.com/gpu.count", "0")
        + "x "
        + n.getMetadata().getLabels().getOrDefault("nvidia.com/gpu.product", "no GPU")
        + ")";
  }

  private <T extends io.fabric8.kubernetes.api.model.HasMetadata> ResourceEventHandler<T> changes(
      Function<T, String> name, Function<T, String> state, java.util.function.Predicate<T> filter) {
    Map<String, String> last = new ConcurrentHashMap<>();
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        String s = state.apply(obj);
        last.put(obj.getMetadata().getUid(), s);
        print(name.apply(obj) + " added: " + s);
      }

      @Override
      public void onUpdate(T oldObj, T obj) {
        String s = state.apply(obj);
        String before = last.put(obj.getMetadata().getUid(), s);
        if (!Objects.equals(before, s)) {
          print(name.apply(obj) + ": " + before + " -> " + s);
        }
      }

      @Override
      public void onDelete(T obj, boolean unknown) {
        last.remove(obj.getMetadata().getUid());
        print(name.apply(obj) + " deleted");
      }
    };
  }

  private void print(String line) {
    out.accept("[" + LocalTime.now().format(TIME) + "] " + line);
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
  }
}
