package io.gpupool.api.v1alpha1;

/** Regular expressions shared by the schema annotations, so every field spells a value alike. */
public final class ApiPatterns {
  /** An EVM address: 0x followed by 40 hex digits. */
  public static final String EVM_ADDRESS = "^0x[0-9a-fA-F]{40}$";

  /** A non-negative decimal amount, e.g. {@code 1.25}; strings keep money exact in JSON. */
  public static final String DECIMAL = "^[0-9]+(\\.[0-9]{1,18})?$";

  /** A spending period: 1 to 9999 minutes, hours or days (BillingAccount spec.limits.period). */
  public static final String PERIOD = "^[1-9][0-9]{0,3}[mhd]$";

  /**
   * A positive Kubernetes quantity such as {@code 8}, {@code 0.5}, {@code 500m}, {@code 32Gi}, at
   * most nine integer digits.
   */
  public static final String QUANTITY =
      "^([1-9][0-9]{0,8}(\\.[0-9]{1,9})?|0\\.[0-9]{0,8}[1-9])(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$";

  /**
   * A positive parameter count that fits a long: digits, or a decimal with a K/M/B/T suffix, e.g.
   * {@code 7000000000}, {@code 13B}, {@code 1.5B}, {@code 350M}.
   */
  public static final String PARAMETER_COUNT =
      "^([1-9][0-9]{0,17}|([1-9][0-9]{0,5}(\\.[0-9]{1,3})?|0\\.[0-9]{0,2}[1-9])[KMBT])$";

  /** A GPU Feature Discovery product name, e.g. {@code NVIDIA-GeForce-RTX-4090}. */
  public static final String GPU_PRODUCT = "^[A-Za-z0-9][A-Za-z0-9_.-]*$";

  /**
   * A price per GPU-hour: below one million with at most 18 decimals, so every price converts to
   * wei and multiplies by GPUs and hours without leaving the contract's range.
   */
  public static final String PRICE = "^[0-9]{1,6}(\\.[0-9]{1,18})?$";

  /** A namespace name (DNS-1123 label). */
  public static final String NAMESPACE = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

  /** A container name: a DNS-1123 label, as a namespace name. */
  public static final String CONTAINER_NAME = NAMESPACE;

  /** A cluster-scoped object's name (DNS-1123 subdomain). */
  public static final String OBJECT_NAME =
      "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

  /** A container image reference or a URI: no whitespace. */
  public static final String NO_WHITESPACE = "^\\S+$";

  /** An HTTP path on the replica's port: no spaces, query or fragment, e.g. {@code /metrics}. */
  public static final String HTTP_PATH = "^/[A-Za-z0-9._~/-]*$";

  /**
   * A job name: a DNS-1035 label (Services are named after it) short enough that the operator's
   * host names ({@code <name>-worker-1023}, {@code <name>-r255-63}) stay within 63 characters.
   */
  public static final String JOB_NAME = "^[a-z]([-a-z0-9]*[a-z0-9])?$";

  /** Longest job name: leaves room for the suffixes of the pods' host names and Services. */
  public static final int JOB_NAME_MAX_LENGTH = 50;

  /** Longest run a TrainingJob may ask for (366 days), so start + deadline never overflows. */
  public static final long ACTIVE_DEADLINE_MAX_SECONDS = 366L * 24 * 3600;

  private ApiPatterns() {}
}
