package io.gpupool.sandbox.kubelet;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The environment a process-mode container starts with: its env exactly as the pod spec has it,
 * with what a pod network, cluster DNS and the NVIDIA container runtime would provide on a cluster
 * replaced by what works for local processes. Pure, so each rewrite is unit-tested.
 *
 * <ul>
 *   <li>Cluster DNS names ({@code host.subdomain.ns.svc[.cluster.local]}, {@code svc.ns.svc}) in
 *       values become the loopback address the sandbox gave that pod or Service.
 *   <li>A rank-0 port ({@code MASTER_PORT} next to {@code MASTER_ADDR}, {@code host:port}) becomes
 *       the free port the sandbox chose for that address and port: every local process shares one
 *       port space, where each pod has its own on a cluster.
 *   <li>{@code s3://bucket/key} becomes {@code file://} of {@code objects/bucket/key}: the job's
 *       pods share it as they would share a bucket.
 *   <li>{@code POD_IP} (what the downward API's {@code status.podIP} gives), {@code HOSTNAME}, and
 *       for a torchrun c10d rendezvous {@code PET_RDZV_CONF=is_host=1|0}: on loopback every address
 *       is "this machine", so torchrun cannot tell on its own which agent hosts the store.
 *   <li>{@code NVIDIA_VISIBLE_DEVICES} lists the simulated GPUs; {@code CUDA_VISIBLE_DEVICES} is
 *       empty so that frameworks run on the CPU underneath.
 * </ul>
 */
final class ProcessEnv {

  /** What the sandbox knows of addresses: cluster DNS and the port map. */
  interface Network {
    /**
     * The loopback address a DNS name stands for, if it names a pod or Service the sandbox runs.
     */
    Optional<String> resolve(String dnsName);

    /** The local port that stands for {@code port} on {@code address}. */
    int port(String address, int port);
  }

  /** Pairs whose port follows the address: torchrun's and PyTorchJob's rank-0 variables. */
  private static final Map<String, String> PORT_OF_ADDRESS =
      Map.of("MASTER_PORT", "MASTER_ADDR", "PET_MASTER_PORT", "PET_MASTER_ADDR");

  private static final Pattern DNS_NAME =
      Pattern.compile(
          "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\.svc"
              + "(\\.cluster\\.local)?");
  private static final Pattern HOST_PORT =
      Pattern.compile("^(\\d{1,3}(?:\\.\\d{1,3}){3}):(\\d{1,5})$");
  private static final Pattern OBJECT_URI = Pattern.compile("s3://([^\\s/]+)(/[^\\s]*)?");

  private ProcessEnv() {}

  /**
   * @param declared the container's env in order (name to value; values already resolved)
   * @param podIp the loopback address of this pod
   * @param hostname the pod's host name
   * @param gpus simulated {@code nvidia.com/gpu} devices of the pod
   * @param objects the folder that stands for the object store
   */
  static Map<String, String> build(
      Map<String, String> declared,
      String podIp,
      String hostname,
      int gpus,
      Path objects,
      Network network) {
    Map<String, String> env = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : declared.entrySet()) {
      env.put(e.getKey(), objectUris(dnsNames(e.getValue(), network), objects));
    }
    for (Map.Entry<String, String> pair : PORT_OF_ADDRESS.entrySet()) {
      String port = env.get(pair.getKey());
      String address = env.get(pair.getValue());
      if (port != null && address != null && isLoopback(address) && isPort(port)) {
        env.put(pair.getKey(), Integer.toString(network.port(address, Integer.parseInt(port))));
      }
    }
    for (Map.Entry<String, String> e : env.entrySet()) {
      Matcher m = HOST_PORT.matcher(e.getValue());
      if (m.matches() && isLoopback(m.group(1)) && isPort(m.group(2))) {
        e.setValue(m.group(1) + ":" + network.port(m.group(1), Integer.parseInt(m.group(2))));
      }
    }
    String rendezvous = env.get("PET_RDZV_ENDPOINT");
    if (rendezvous != null && "c10d".equals(env.get("PET_RDZV_BACKEND"))) {
      String host =
          rendezvous.contains(":")
              ? rendezvous.substring(0, rendezvous.lastIndexOf(':'))
              : rendezvous;
      String isHost = "is_host=" + (host.equals(podIp) ? "1" : "0");
      String conf = env.get("PET_RDZV_CONF");
      env.put("PET_RDZV_CONF", conf == null || conf.isBlank() ? isHost : conf + "," + isHost);
    }
    env.put("POD_IP", podIp);
    env.putIfAbsent("HOSTNAME", hostname);
    env.put("NVIDIA_VISIBLE_DEVICES", gpus == 0 ? "void" : simulatedDevices(gpus));
    env.put("CUDA_VISIBLE_DEVICES", "");
    return env;
  }

  /** Replaces every cluster DNS name the network knows by its address. */
  static String dnsNames(String value, Network network) {
    Matcher m = DNS_NAME.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String replacement = network.resolve(m.group()).orElse(m.group());
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** The pod DNS names ({@code host.subdomain.ns.svc}, four labels or more) in a value. */
  static List<String> podDnsNames(String value) {
    List<String> names = new java.util.ArrayList<>();
    Matcher m = DNS_NAME.matcher(value);
    while (m.find()) {
      String name = m.group().replaceFirst("\\.cluster\\.local$", "");
      if (name.split("\\.").length == 4) {
        names.add(name);
      }
    }
    return names;
  }

  /** {@code s3://bucket/key} to {@code file://objects/bucket/key}. */
  static String objectUris(String value, Path objects) {
    Matcher m = OBJECT_URI.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      Path local = objects.resolve(m.group(1));
      String key = m.group(2) == null ? "" : m.group(2).replaceAll("^/+", "");
      if (!key.isEmpty()) {
        local = local.resolve(key).normalize();
      }
      if (!local.startsWith(objects)) {
        // a key like ../../etc stays an s3:// URI: the workload then fails to use it, loudly
        continue;
      }
      m.appendReplacement(out, Matcher.quoteReplacement(local.toUri().toString()));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String simulatedDevices(int gpus) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < gpus; i++) {
      b.append(i == 0 ? "" : ",").append("sandbox-gpu-").append(i);
    }
    return b.toString();
  }

  static boolean isLoopback(String address) {
    List<String> parts = List.of(address.split("\\."));
    return parts.size() == 4 && parts.get(0).equals("127");
  }

  private static boolean isPort(String value) {
    try {
      int p = Integer.parseInt(value.trim());
      return p > 0 && p < 65536;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
