package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The pod network and cluster DNS of process-mode pods: each pod gets its own loopback address
 * (127.78.x.y, which Linux routes to this host), a pod's DNS name under its headless Service
 * ({@code hostname.subdomain.namespace.svc}) resolves to that address, and ports are mapped so that
 * two pods listening on the same port (two torchrun gangs on 29500) do not collide.
 *
 * <p>An address is given to a pod the first time it is asked for, which may be before the pod
 * starts: rank 1 can resolve rank 0's name while rank 0 is still being started.
 */
final class PodNetwork implements ProcessEnv.Network {
  private static final String CLUSTER_DOMAIN = ".cluster.local";

  private final Supplier<Collection<Pod>> pods;
  private final Map<String, String> addressByUid = new HashMap<>();
  private final Map<String, Integer> ports = new HashMap<>();

  /** Pods' addresses are 127.78.x.y (a challenge pod's too). */
  static final int POD_RANGE = 78;

  private final int block = processBlock();
  private int allocated = 0;
  private java.util.function.BiFunction<String, String, Optional<String>> services =
      (namespace, name) -> Optional.empty();

  /** {@code pods}: the pods the kubelet sees (an informer's store). */
  PodNetwork(Supplier<Collection<Pod>> pods) {
    this.pods = pods;
  }

  /** Where Service names ({@code name.namespace.svc}) resolve: namespace, name to address. */
  synchronized void services(java.util.function.BiFunction<String, String, Optional<String>> s) {
    this.services = s;
  }

  /** The pod's loopback address, allocated on first use and kept for the pod's life. */
  synchronized String address(Pod pod) {
    return addressByUid.computeIfAbsent(
        pod.getMetadata().getUid(),
        uid -> {
          int n = ++allocated;
          return loopback(POD_RANGE, block, n);
        });
  }

  /**
   * The {@code n}th loopback address of a range (127.{@code range}.x.y), counted from {@code
   * block}'s first address. Several sandboxes may run on one host (the E2E classes run two at a
   * time), each in its own JVM: starting each at a block of its own keeps their pods' addresses
   * (and so their mapped ports) apart.
   */
  static String loopback(int range, int block, int n) {
    int third = (block + n / 250) % 256;
    return "127." + range + "." + third + "." + (n % 250 + 1);
  }

  /** This JVM's first block of addresses: one of 200, by process id. */
  static int processBlock() {
    return (int) (ProcessHandle.current().pid() % 200);
  }

  /** The address, if the uid has one. */
  synchronized Optional<String> addressOf(String uid) {
    return Optional.ofNullable(addressByUid.get(uid));
  }

  @Override
  public synchronized Optional<String> resolve(String dnsName) {
    String name = dnsName.toLowerCase(Locale.ROOT);
    if (name.endsWith(CLUSTER_DOMAIN)) {
      name = name.substring(0, name.length() - CLUSTER_DOMAIN.length());
    }
    if (!name.endsWith(".svc")) {
      return Optional.empty();
    }
    String[] parts = name.substring(0, name.length() - ".svc".length()).split("\\.");
    if (parts.length == 2) {
      return services.apply(parts[1], parts[0]);
    }
    if (parts.length != 3) {
      return Optional.empty();
    }
    String hostname = parts[0];
    String subdomain = parts[1];
    String namespace = parts[2];
    // The newest running pod with that name wins, as the headless Service's endpoints would have
    // it; one that already ended still answers (its peers may start after it finished).
    return pods.get().stream()
        .filter(p -> namespace.equals(p.getMetadata().getNamespace()))
        .filter(p -> hostname.equals(p.getSpec().getHostname()))
        .filter(p -> subdomain.equals(p.getSpec().getSubdomain()))
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .max(
            Comparator.comparing((Pod p) -> !terminated(p))
                .thenComparing(
                    p -> p.getMetadata().getCreationTimestamp(),
                    Comparator.nullsFirst(Comparator.naturalOrder())))
        .map(this::address);
  }

  @Override
  public synchronized int port(String address, int port) {
    return ports.computeIfAbsent(address + ":" + port, key -> freePort());
  }

  /**
   * A port free on every address, not only on the one it stands for: torch's rendezvous store binds
   * the wildcard ({@code [::]} and {@code 0.0.0.0}), so a port another local process holds on some
   * other loopback address (another sandbox's proxy, another job's store) fails its bind with
   * "Address already in use" although the port is free on the pod's own address.
   */
  private static int freePort() {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(0));
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free local port", e);
    }
  }

  private static boolean terminated(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return "Succeeded".equals(phase) || "Failed".equals(phase);
  }
}
