package io.gpupool.scheduler.replay;

import io.gpupool.scheduler.frag.TaskClass;

/** A trace pod compiled for the replay: its task class and a small id for score caches. */
record ReplayPod(TracePod source, TaskClass cls, long memoryMib, int classId) {}
