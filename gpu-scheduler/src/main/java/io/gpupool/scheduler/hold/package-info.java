/**
 * The head reservation for jobs outside GpuQueues: the gang that has waited longest (past a
 * threshold) gets the capacity it could use held for it, and other jobs are placed only where they
 * do not delay it ({@link io.gpupool.scheduler.hold.GangHold}). Pure, like the rest of the module.
 */
package io.gpupool.scheduler.hold;
