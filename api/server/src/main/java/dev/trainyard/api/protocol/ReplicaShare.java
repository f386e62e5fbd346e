package dev.trainyard.api.protocol;

import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.ProcessLayout;

/**
 * Which of the job's data-parallel replicas a runner trains. The scheduler cuts a gang only between whole replica
 * slots (one replica's devices each), so the runner's GPUs, and those of the ranks before it, count whole slots.
 * An attempt with as many slots as replicas gives each slot one replica; an elastic attempt running short deals
 * the replicas out to its slots as evenly as possible, so a runner holds more replicas than it has slots.
 */
record ReplicaShare(int first, int count) {
    static ReplicaShare of(JobSpec spec, int attemptGpus, int gpusBefore, int gpus) {
        int replicas = spec.parallelism() == null || spec.parallelism().dataParallel() == null
                ? 1
                : Math.max(1, spec.parallelism().dataParallel());
        int perReplica = spec.resources() == null || spec.resources().gpus() == null
                ? Math.max(1, attemptGpus / replicas)
                : ProcessLayout.replicaDevices(spec);
        int slots = Math.max(1, attemptGpus / perReplica);
        int first = ProcessLayout.firstReplica(Math.min(slots, gpusBefore / perReplica), slots, replicas);
        int end = ProcessLayout.firstReplica(Math.min(slots, (gpusBefore + gpus) / perReplica), slots, replicas);
        return new ReplicaShare(first, Math.max(1, end - first));
    }
}
