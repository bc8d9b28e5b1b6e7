package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/** One pod of an inference replica: the leader (index 0) or a worker. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class ShardPlacement {
  public Integer index;
  public String pod;
  public String node;
  public String provider;
  public String gpuModel;
  public Integer gpus;

  /** Share of one GPU in thousandths when the replica shares a GPU. */
  public Integer gpuMilli;

  public Integer firstLayer;
  public Integer lastLayer;

  /** Pulling while the weights are fetched; then Hit (already on the node) or Miss (pulled). */
  public String cache;

  /** How long the weights fetch took, when it has finished. */
  public Double weightsFetchSeconds;
}
