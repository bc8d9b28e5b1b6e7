package io.gpupool.e2e.chaos;

/** One broken invariant, with what shows it. */
public record Violation(Kind kind, String detail) {

  /** The invariants. */
  public enum Kind {
    /** Two live pods for one rank of one job. */
    DUPLICATE_RANK,
    /** A node's live pods ask for more GPUs than it has. */
    GPU_OVERCOMMIT,
    /** A pod or Service whose job is gone, or a live pod of a finished job. */
    ORPHAN,
    /** A job that did not end in a phase its spec allows, or ended without a reason. */
    NOT_FINAL,
    /**
     * A provider's on-chain balance, settled and metered figures differ once settlement is quiet.
     */
    LEDGER_MISMATCH,
    /** More on chain for a provider than was ever metered for it. */
    PAID_TWICE,
    /** A pod that ran has no usage record. */
    RECORD_LOST
  }

  @Override
  public String toString() {
    return kind + ": " + detail;
  }
}
