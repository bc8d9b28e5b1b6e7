package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** Where the workload writes checkpoints; after a restart it is told to resume from there. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class Checkpoint {
  @Required
  @Size(min = 1, max = 1024)
  @Pattern(ApiPatterns.NO_WHITESPACE)
  @JsonPropertyDescription("Checkpoint location the workload understands, e.g. s3://bucket/run-1.")
  public String uri;

  @Min(30)
  @Max(7 * 24 * 3600)
  @Default("600")
  @JsonPropertyDescription("Seconds between checkpoints the workload is asked to write.")
  public Integer intervalSeconds;
}
