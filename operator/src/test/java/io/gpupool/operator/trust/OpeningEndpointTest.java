package io.gpupool.operator.trust;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.net.URI;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Where the operator asks a challenge pod for its commitment and openings. The pod IP comes from a
 * status the provider's kubelet writes: anything but an IP literal is refused, so a node cannot
 * make the operator resolve a name or send its request to another host, port or path.
 */
class OpeningEndpointTest {
  private static Pod pod(String phase, String ip) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("gpupool-challenge-n1-0123abcd")
        .endMetadata()
        .withNewStatus()
        .withPhase(phase)
        .withPodIP(ip)
        .endStatus()
        .build();
  }

  @Test
  void aRunningPodIsAskedAtItsIpOnTheOpeningPort() {
    assertThat(OpeningEndpoint.of(pod("Running", "10.244.3.17"), 8471))
        .contains(URI.create("http://10.244.3.17:8471"));
    assertThat(OpeningEndpoint.of(pod("Running", "fd00:10:244::3"), 8471))
        .contains(URI.create("http://[fd00:10:244::3]:8471"));
    assertThat(OpeningEndpoint.of(pod("Running", "::ffff:10.0.0.1"), 65_535))
        .contains(URI.create("http://[::ffff:10.0.0.1]:65535"));
  }

  @Test
  void thePathsAskedForStayOnThePodsHostAndPort() {
    URI base = OpeningEndpoint.of(pod("Running", "10.0.0.1"), 8471).orElseThrow();
    URI openings = base.resolve("/openings?leaves=3,17");
    assertThat(openings.getHost()).isEqualTo("10.0.0.1");
    assertThat(openings.getPort()).isEqualTo(8471);
    assertThat(openings.getPath()).isEqualTo("/openings");
    assertThat(openings.getQuery()).isEqualTo("leaves=3,17");
  }

  @Test
  void aPodNotRunningOrWithoutAnIpIsNotAskedYet() {
    assertThat(OpeningEndpoint.of(pod("Pending", "10.0.0.1"), 8471)).isEmpty();
    assertThat(OpeningEndpoint.of(pod("Succeeded", "10.0.0.1"), 8471)).isEmpty();
    assertThat(OpeningEndpoint.of(pod("Running", null), 8471)).isEmpty();
    assertThat(OpeningEndpoint.of(pod("Running", ""), 8471)).isEmpty();
    assertThat(OpeningEndpoint.of(new PodBuilder().withNewMetadata().endMetadata().build(), 8471))
        .as("no status at all")
        .isEmpty();
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1, 65_536, Integer.MAX_VALUE})
  void aPortOutsideOneTo65535IsNotUsed(int port) {
    assertThat(OpeningEndpoint.of(pod("Running", "10.0.0.1"), port)).isEmpty();
  }

  /** What a provider's kubelet could write as the pod's IP to steer the operator's request. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "10.0.0.1:80/admin?", // another port and path
        "10.0.0.1/computeMetadata/v1#",
        "user@10.0.0.1",
        "metadata.google.internal", // a name to resolve
        "localhost",
        "256.0.0.1",
        "10.0.0",
        "10.0.0.1.5",
        " 10.0.0.1",
        "10.0.0.1\n",
        "[fd00::1]", // brackets are the operator's to add
        "fe80::1%eth0", // a zone names an interface of the operator's host
        ":::::",
        "fd00::1::2",
        "g::1",
        ".::1"
      })
  void anythingButAnIpLiteralIsRefused(String ip) {
    assertThat(OpeningEndpoint.of(pod("Running", ip), 8471)).as(ip).isEmpty();
  }
}
