package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/** Where one rank of a training gang runs, and which part of the work it has. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class RankPlacement {
  public Integer rank;
  public String node;
  public String provider;
  public String region;
  public String gpuModel;
  public Integer gpus;

  /** Device-plugin resource the rank requests ({@code nvidia.com/gpu} or its shared variant). */
  public String gpuResource;

  /** Pipeline stage index (0-based); absent for data parallel. */
  public Integer stage;

  /** First layer (inclusive) of this rank's stage. */
  public Integer firstLayer;

  /** Last layer (inclusive) of this rank's stage. */
  public Integer lastLayer;

  /** Fraction of each global batch this rank processes, as a decimal string. */
  public String batchShare;

  /** Pod running this rank. */
  public String pod;
}
