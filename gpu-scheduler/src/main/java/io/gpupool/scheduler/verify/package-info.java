/**
 * Verification of training work done by untrusted providers (issue #15): which checkpoint intervals
 * are spot-checked, how replayed parameters are compared with committed ones, how a mismatch is
 * narrowed to one step and how a referee's recomputation of that step decides who was wrong. Pure:
 * no Kubernetes, no chain.
 */
package io.gpupool.scheduler.verify;
