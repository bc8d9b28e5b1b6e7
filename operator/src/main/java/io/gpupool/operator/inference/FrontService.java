package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Service;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResourceConfigBuilder;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;

/**
 * The ClusterIP Service in front of an InferenceJob's ready leaders, as a JOSDK dependent resource:
 * what it should be follows from the spec alone ({@link InferenceGroup#service}), so JOSDK compares
 * it with the copy in the controller's Service informer and creates or updates it (a spec.port
 * change moves it with the rolled-out pods). Standalone: the controller reconciles it once the job
 * has replicas to front. It reads the informer the controller already has, so the Services stay
 * watched once. Matched without server-side apply: the operator's other writes are plain creates
 * and updates, and the API servers it runs against need not track managed fields.
 */
final class FrontService extends CRUDKubernetesDependentResource<Service, InferenceJob> {

  FrontService(InformerEventSource<Service, InferenceJob> services) {
    super(Service.class);
    configureWith(
        new KubernetesDependentResourceConfigBuilder<Service>().withUseSSA(false).build());
    setEventSource(services);
  }

  @Override
  protected Service desired(InferenceJob job, Context<InferenceJob> context) {
    return InferenceGroup.service(job);
  }

  /** True once the job has had replicas to front (its status shows the endpoint). */
  static boolean wanted(InferenceJob job) {
    return job.getStatus() != null && job.getStatus().endpoint != null;
  }
}
