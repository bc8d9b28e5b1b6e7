package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/** What a queue holds of one flavor. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class FlavorUsage {
  public String name;
  public Integer nominal;

  /** GPUs held by admitted jobs. */
  public Integer inUse;

  /** GPUs held beyond the nominal quota, lent by other queues of the cohort. */
  public Integer borrowed;
}
