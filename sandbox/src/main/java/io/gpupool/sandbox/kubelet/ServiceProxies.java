package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * kube-proxy for process-mode pods: a ClusterIP Service gets a loopback address (127.79.x.y) that
 * its DNS name ({@code name.namespace.svc}) resolves to, and each of its ports forwards TCP
 * connections round-robin to the Ready process-mode pods its selector matches, on the target port.
 * A connection with no ready endpoint is refused, as kube-proxy rejects it.
 *
 * <p>A Service whose ports cannot all be bound at its address (another sandbox on this host holds
 * them) moves to the next address.
 */
final class ServiceProxies implements AutoCloseable {

  private final class Proxy {
    final String address;
    final List<ServerSocket> sockets = new ArrayList<>();
    volatile Service service;
    final AtomicInteger next = new AtomicInteger();

    Proxy(String address, Service service) {
      this.address = address;
      this.service = service;
    }
  }

  private final PodNetwork network;
  private final Supplier<Collection<Pod>> pods;
  private final Consumer<String> log;
  private final Map<String, Proxy> byKey = new HashMap<>();
  private final ExecutorService threads =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "sandbox-service-proxy");
            t.setDaemon(true);
            return t;
          });
  private static final int SERVICE_RANGE = 79;
  private static final int ADDRESS_ATTEMPTS = 64;
  private final int block = PodNetwork.processBlock();
  private int allocated = 0;

  ServiceProxies(PodNetwork network, Supplier<Collection<Pod>> pods, Consumer<String> log) {
    this.network = network;
    this.pods = pods;
    this.log = log;
  }

  /** A Service was added or changed: serve it if it has a virtual IP and a selector. */
  synchronized void onService(Service service) {
    String key = key(service.getMetadata().getNamespace(), service.getMetadata().getName());
    Proxy proxy = byKey.get(key);
    if (proxy != null) {
      proxy.service = service; // selector changes apply to the next connection
      return;
    }
    if (service.getSpec() == null
        || "None".equals(service.getSpec().getClusterIP())
        || service.getSpec().getSelector() == null
        || service.getSpec().getSelector().isEmpty()) {
      return;
    }
    proxy = listen(key, service);
    if (proxy == null) {
      return;
    }
    byKey.put(key, proxy);
    log.accept(
        "service/"
            + key
            + " reachable at "
            + proxy.address
            + " (ports "
            + service.getSpec().getPorts().stream().map(ServicePort::getPort).toList()
            + ")");
  }

  /**
   * A proxy listening on every port of the Service at an address of its own. Another sandbox on
   * this host (the E2E classes run two at a time) allocates from the same range, so an address
   * whose port is taken is skipped for the next one: a bind that lost would leave this Service
   * unreachable, or worse, its clients talking to the other sandbox's proxy.
   */
  private Proxy listen(String key, Service service) {
    IOException last = null;
    for (int attempt = 0; attempt < ADDRESS_ATTEMPTS; attempt++) {
      int n = ++allocated;
      Proxy proxy = new Proxy(PodNetwork.loopback(SERVICE_RANGE, block, n), service);
      try {
        for (ServicePort port : service.getSpec().getPorts()) {
          ServerSocket socket = new ServerSocket();
          proxy.sockets.add(socket);
          socket.bind(new InetSocketAddress(InetAddress.getByName(proxy.address), port.getPort()));
        }
      } catch (IOException e) {
        last = e;
        proxy.sockets.forEach(ServiceProxies::closeQuietly);
        continue;
      }
      for (int i = 0; i < proxy.sockets.size(); i++) {
        ServicePort port = service.getSpec().getPorts().get(i);
        ServerSocket socket = proxy.sockets.get(i);
        Proxy p = proxy;
        threads.execute(() -> accept(p, port, socket));
      }
      return proxy;
    }
    log.accept(
        "service/"
            + key
            + " cannot listen on any of "
            + ADDRESS_ATTEMPTS
            + " addresses: "
            + (last == null ? "no port" : last.getMessage()));
    return null;
  }

  synchronized void onServiceDeleted(Service service) {
    Proxy proxy =
        byKey.remove(key(service.getMetadata().getNamespace(), service.getMetadata().getName()));
    if (proxy != null) {
      proxy.sockets.forEach(ServiceProxies::closeQuietly);
    }
  }

  /** The address of a Service this proxies. */
  synchronized Optional<String> address(String namespace, String name) {
    Proxy proxy = byKey.get(key(namespace, name));
    return proxy == null ? Optional.empty() : Optional.of(proxy.address);
  }

  private void accept(Proxy proxy, ServicePort port, ServerSocket socket) {
    while (!socket.isClosed()) {
      Socket client;
      try {
        client = socket.accept();
      } catch (IOException e) {
        return; // closed
      }
      threads.execute(() -> forward(proxy, port, client));
    }
  }

  private void forward(Proxy proxy, ServicePort port, Socket client) {
    List<InetSocketAddress> endpoints = endpoints(proxy.service, port);
    if (endpoints.isEmpty()) {
      closeQuietly(client);
      return;
    }
    InetSocketAddress target =
        endpoints.get(Math.floorMod(proxy.next.getAndIncrement(), endpoints.size()));
    Socket upstream = new Socket();
    try {
      upstream.connect(target, 2000);
    } catch (IOException e) {
      closeQuietly(client);
      closeQuietly(upstream);
      return;
    }
    AtomicInteger open = new AtomicInteger(2);
    threads.execute(() -> pipe(client, upstream, open));
    pipe(upstream, client, open);
  }

  /** Ready process-mode pods matching the selector, at the port's target. */
  private List<InetSocketAddress> endpoints(Service service, ServicePort port) {
    Map<String, String> selector = service.getSpec().getSelector();
    List<InetSocketAddress> found = new ArrayList<>();
    for (Pod pod : pods.get()) {
      if (!service.getMetadata().getNamespace().equals(pod.getMetadata().getNamespace())
          || pod.getMetadata().getDeletionTimestamp() != null
          || pod.getMetadata().getLabels() == null
          || !pod.getMetadata().getLabels().entrySet().containsAll(selector.entrySet())
          || !ready(pod)) {
        continue;
      }
      Optional<String> address = network.addressOf(pod.getMetadata().getUid());
      Integer target = targetPort(pod, port);
      if (address.isPresent() && target != null) {
        found.add(new InetSocketAddress(address.get(), target));
      }
    }
    return found;
  }

  private static Integer targetPort(Pod pod, ServicePort port) {
    var target = port.getTargetPort();
    if (target == null) {
      return port.getPort();
    }
    if (target.getIntVal() != null) {
      return target.getIntVal();
    }
    for (var c : pod.getSpec().getContainers()) {
      for (ContainerPort cp : c.getPorts()) {
        if (target.getStrVal().equals(cp.getName())) {
          return cp.getContainerPort();
        }
      }
    }
    return null;
  }

  private static boolean ready(Pod pod) {
    return pod.getStatus() != null
        && "Running".equals(pod.getStatus().getPhase())
        && pod.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /**
   * Copies one direction; an end of stream is passed on as a half-close, and the second direction
   * to finish closes both sockets. An error closes both at once.
   */
  private static void pipe(Socket from, Socket to, AtomicInteger open) {
    byte[] buffer = new byte[16 * 1024];
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      int n;
      while ((n = in.read(buffer)) >= 0) {
        out.write(buffer, 0, n);
        out.flush();
      }
      to.shutdownOutput();
      if (open.decrementAndGet() > 0) {
        return;
      }
    } catch (IOException e) {
      // a side went away: close both below
    }
    closeQuietly(from);
    closeQuietly(to);
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      // nothing left to do
    }
  }

  private static String key(String namespace, String name) {
    return namespace + "/" + name;
  }

  @Override
  public synchronized void close() {
    byKey.values().forEach(p -> p.sockets.forEach(ServiceProxies::closeQuietly));
    byKey.clear();
    threads.shutdownNow();
  }
}
