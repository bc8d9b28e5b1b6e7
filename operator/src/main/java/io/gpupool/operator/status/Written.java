package io.gpupool.operator.status;

import java.util.List;

/**
 * A status write's outcome: the resource as the server stored it, and the versions it was computed
 * from (older than it, by the write's resourceVersion precondition).
 *
 * @param <R> the resource
 */
public record Written<R>(R stored, List<String> supersedes) {}
