package io.gpupool.api.v1alpha1;

/** Regular expressions shared by the schema annotations, so every field spells a value alike. */
public final class ApiPatterns {
  /** An EVM address: 0x followed by 40 hex digits. */
  public static final String EVM_ADDRESS = "^0x[0-9a-fA-F]{40}$";

  /** A non-negative decimal amount, e.g. {@code 1.25}; strings keep money exact in JSON. */
  public static final String DECIMAL = "^[0-9]+(\\.[0-9]{1,18})?$";

  /** A Kubernetes quantity such as {@code 8}, {@code 500m}, {@code 32Gi}. */
  public static final String QUANTITY = "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$";

  /** A parameter count: digits with an optional K/M/B/T suffix, e.g. {@code 13B}, {@code 350M}. */
  public static final String PARAMETER_COUNT = "^[0-9]+(\\.[0-9]+)?[KMBT]?$";

  /** A GPU Feature Discovery product name, e.g. {@code NVIDIA-GeForce-RTX-4090}. */
  public static final String GPU_PRODUCT = "^[A-Za-z0-9][A-Za-z0-9_.-]*$";

  private ApiPatterns() {}
}
