package dev.trainyard.api.protocol;

import dev.trainyard.spec.JobSpec;

/**
 * Which of the job's data-parallel replicas a runner trains: the scheduler cuts a gang only between whole
 * replicas, so the runner's GPUs, and those of the ranks before it, count whole replicas.
 */
record ReplicaShare(int first, int count) {
    static ReplicaShare of(JobSpec spec, int attemptGpus, int gpusBefore, int gpus) {
        int replicas = spec.parallelism() == null || spec.parallelism().dataParallel() == null
                ? 1
                : Math.max(1, spec.parallelism().dataParallel());
        int perReplica = Math.max(1, attemptGpus / replicas);
        return new ReplicaShare(gpusBefore / perReplica, Math.max(1, gpus / perReplica));
    }
}
