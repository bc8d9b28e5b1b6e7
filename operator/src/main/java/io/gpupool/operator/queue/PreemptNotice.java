package io.gpupool.operator.queue;

import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;

/**
 * How an evicted job is told (docs/queues.md): the operator sets the pod annotation {@link
 * #ANNOTATION} to the time its pods will be removed, and a downward-API volume shows it as the file
 * {@link #PATH}, which {@code GPUPOOL_PREEMPT_NOTICE} names. Empty until then.
 */
public final class PreemptNotice {
  public static final String ANNOTATION = "gpupool.io/preempt-notice";
  public static final String ENV = "GPUPOOL_PREEMPT_NOTICE";
  public static final String DIRECTORY = "/etc/gpupool/preempt";
  static final String FILE = "notice";
  public static final String PATH = DIRECTORY + "/" + FILE;
  public static final String VOLUME = "gpupool-preempt-notice";

  private PreemptNotice() {}

  public static Volume volume() {
    return new VolumeBuilder()
        .withName(VOLUME)
        .withNewDownwardAPI()
        .addNewItem()
        .withPath(FILE)
        .withNewFieldRef()
        .withFieldPath("metadata.annotations['" + ANNOTATION + "']")
        .endFieldRef()
        .endItem()
        .endDownwardAPI()
        .build();
  }

  public static VolumeMount mount() {
    return new VolumeMountBuilder()
        .withName(VOLUME)
        .withMountPath(DIRECTORY)
        .withReadOnly(true)
        .build();
  }
}
