package io.gpupool.operator.leader;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.gpupool.operator.config.GpupoolConfig;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import io.quarkus.arc.Unremovable;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Produces;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Hands JOSDK the leader election settings (quarkus-operator-sdk looks the bean up at start-up; no
 * bean, or null, means no election). The Lease lives in the operator's namespace; the identity is
 * the pod name so {@code kubectl get lease} shows which replica leads.
 */
@ApplicationScoped
public class LeaderElectionProducer {
  private static final Logger LOG = Logger.getLogger(LeaderElectionProducer.class);

  private final GpupoolConfig config;
  private final Leadership leadership;
  private final KubernetesClient client;

  public LeaderElectionProducer(
      GpupoolConfig config, Leadership leadership, KubernetesClient client) {
    this.config = config;
    this.leadership = leadership;
    this.client = client;
  }

  @Produces
  @Dependent
  @Unremovable
  LeaderElectionConfiguration leaderElection() {
    GpupoolConfig.LeaderElection settings = config.leaderElection();
    if (!settings.enabled()) {
      return null;
    }
    String namespace = leaseNamespace(settings, client);
    String identity = identity();
    LOG.infof(
        "leader election on: Lease %s/%s as %s (lease %s, renew deadline %s)",
        namespace,
        settings.leaseName(),
        identity,
        settings.leaseDuration(),
        settings.renewDeadline());
    return LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(settings.leaseName())
        .withLeaseNamespace(namespace)
        .withIdentity(identity)
        .withLeaseDuration(settings.leaseDuration())
        .withRenewDeadline(settings.renewDeadline())
        .withRetryPeriod(settings.retryPeriod())
        .withExitOnStopLeading(true)
        .withLeaderCallbacks(
            new LeaderCallbacks(
                leadership::acquired,
                leadership::lost,
                leader -> LOG.infof("leader is now %s", leader)))
        .build();
  }

  /** Where the Lease lives: as configured, else the operator's own namespace. */
  static String leaseNamespace(GpupoolConfig.LeaderElection settings, KubernetesClient client) {
    return settings
        .namespace()
        .filter(s -> !s.isBlank())
        .or(() -> env("POD_NAMESPACE"))
        .or(() -> Optional.ofNullable(client.getNamespace()).filter(s -> !s.isBlank()))
        .orElse("default");
  }

  /**
   * The pod name (POD_NAME from the downward API) when in a pod; otherwise host and process id, so
   * two replicas on one machine (the sandbox) never share an identity.
   */
  static String identity() {
    return env("POD_NAME")
        .orElseGet(
            () -> {
              String host;
              try {
                host = InetAddress.getLocalHost().getHostName();
              } catch (UnknownHostException e) {
                host = "localhost";
              }
              return host + "-" + ProcessHandle.current().pid();
            });
  }

  private static Optional<String> env(String name) {
    return Optional.ofNullable(System.getenv(name)).filter(s -> !s.isBlank());
  }
}
