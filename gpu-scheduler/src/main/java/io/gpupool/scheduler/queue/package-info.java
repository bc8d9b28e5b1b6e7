/**
 * Admission for shared pools: queues with nominal GPU quotas per product group, cohorts that lend
 * and borrow, ordered admission with a reservation for a blocked head, priority preemption and
 * cohort reclaim, and dominant-resource fair share among the queues of a cohort. Pure Java: the
 * operator feeds it workloads and carries out its decisions.
 */
package io.gpupool.scheduler.queue;
