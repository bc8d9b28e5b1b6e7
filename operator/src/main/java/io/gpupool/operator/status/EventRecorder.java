package io.gpupool.operator.status;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.operator.config.DaemonThreads;
import io.gpupool.operator.config.GpupoolConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;

/**
 * Records Kubernetes Events for the operator's decisions, so {@code kubectl describe} tells the
 * story of a job. Recording is best effort: a lost event must never fail a reconcile.
 */
@ApplicationScoped
public class EventRecorder {
  private static final Logger LOG = Logger.getLogger(EventRecorder.class);

  /** Event type for normal decisions. */
  public static final String NORMAL = "Normal";

  /** Event type for problems the user should look at. */
  public static final String WARNING = "Warning";

  private final KubernetesClient client;
  private final GpupoolConfig config;
  private final Clock clock;
  private final ExecutorService sender =
      Executors.newSingleThreadExecutor(DaemonThreads.named("gpupool-events"));

  @Inject
  public EventRecorder(KubernetesClient client, GpupoolConfig config) {
    this(client, config, Clock.systemUTC());
  }

  EventRecorder(KubernetesClient client, GpupoolConfig config, Clock clock) {
    this.client = client;
    this.config = config;
    this.clock = clock;
  }

  /** Records an event about {@code subject}. */
  public void record(HasMetadata subject, String type, String reason, String message) {
    if (!config.events().enabled()) {
      return;
    }
    Instant now = clock.instant();
    String namespace =
        subject.getMetadata().getNamespace() == null
            ? "default"
            : subject.getMetadata().getNamespace();
    String name =
        subject.getMetadata().getName()
            + "."
            + Long.toHexString(now.toEpochMilli()).toLowerCase(Locale.ROOT)
            + Integer.toHexString(System.identityHashCode(message) & 0xfff);
    var event =
        new EventBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion(subject.getApiVersion())
                    .withKind(subject.getKind())
                    .withName(subject.getMetadata().getName())
                    .withNamespace(subject.getMetadata().getNamespace())
                    .withUid(subject.getMetadata().getUid())
                    .withResourceVersion(subject.getMetadata().getResourceVersion())
                    .build())
            .withType(type)
            .withReason(reason)
            .withMessage(truncate(message))
            .withNewSource()
            .withComponent(config.events().component())
            .endSource()
            .withReportingComponent(config.events().component())
            .withFirstTimestamp(Conditions.timestamp(now))
            .withLastTimestamp(Conditions.timestamp(now))
            .withCount(1)
            .build();
    // Sent off the reconcile thread: an event is a report, and waiting for the API server to
    // store it would add a round trip to every decision.
    sender.execute(
        () -> {
          try {
            client.v1().events().inNamespace(namespace).resource(event).create();
          } catch (KubernetesClientException e) {
            LOG.debugf(e, "%s(%s): could not record event %s", subject.getKind(), name, reason);
          }
        });
  }

  /** The API server refuses event messages over 1 KiB. */
  private static String truncate(String message) {
    return message.length() <= 1024 ? message : message.substring(0, 1021) + "...";
  }
}
