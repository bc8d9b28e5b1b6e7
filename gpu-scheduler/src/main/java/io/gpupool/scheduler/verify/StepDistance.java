package io.gpupool.scheduler.verify;

/**
 * The verifier's relative distance at one committed step of an interval.
 *
 * @param step the training step a commitment was made at
 * @param distance relative L2 distance between the replay and the committed parameters
 */
public record StepDistance(long step, double distance) {}
