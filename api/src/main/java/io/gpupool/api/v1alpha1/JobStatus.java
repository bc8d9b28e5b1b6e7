package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/**
 * What the status of every job kind holds besides its own fields: the phase, the conditions, the
 * generation last acted on and the usage. The operator's shared job loop reads and writes a job
 * through these alone.
 *
 * @param <P> the kind's phase
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public abstract class JobStatus<P extends Enum<P>> {
  public P phase;
  public List<Condition> conditions = new ArrayList<>();
  public Long observedGeneration;
  public Usage usage;
}
