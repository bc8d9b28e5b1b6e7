package io.gpupool.operator.trust;

import io.fabric8.kubernetes.api.model.Pod;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the operator asks a commit-then-open challenge pod for its commitment and openings: the
 * pod's IP on the opening port, once the pod runs. The pod's status is written by the node's
 * kubelet, which the provider under test controls, so only an IP literal is used: no host name to
 * resolve, and nothing that could move the request to another host, port or path (a "pod IP" of
 * {@code 10.0.0.1:80/admin?} would otherwise make the URL of another service's page).
 */
final class OpeningEndpoint {
  private static final Pattern IPV4 =
      Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
  // Hex digits, colons and (for an embedded IPv4 tail) dots; no zone (%eth0), no brackets. The
  // first character keeps InetAddress from taking it for a host name to look up.
  private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:][0-9a-fA-F:.]*");

  private OpeningEndpoint() {}

  /**
   * {@code http://<pod IP>:<port>}; empty until the pod runs with a usable IP, or for a bad port.
   */
  static Optional<URI> of(Pod pod, int port) {
    if (port < 1
        || port > 65_535
        || pod.getStatus() == null
        || !"Running".equals(pod.getStatus().getPhase())) {
      return Optional.empty();
    }
    return host(pod.getStatus().getPodIP()).map(h -> URI.create("http://" + h + ":" + port));
  }

  /** {@code ip} as a URL's host: a dotted IPv4 address, or a bracketed IPv6 one; else empty. */
  static Optional<String> host(String ip) {
    if (ip == null) {
      return Optional.empty();
    }
    Matcher v4 = IPV4.matcher(ip);
    if (v4.matches()) {
      for (int i = 1; i <= 4; i++) {
        if (Integer.parseInt(v4.group(i)) > 255) {
          return Optional.empty();
        }
      }
      return Optional.of(ip);
    }
    if (!ip.contains(":") || !IPV6.matcher(ip).matches()) {
      return Optional.empty();
    }
    try {
      InetAddress.getByName(ip); // a literal with a colon is parsed, never looked up
      return Optional.of("[" + ip + "]");
    } catch (UnknownHostException e) {
      return Optional.empty();
    }
  }
}
