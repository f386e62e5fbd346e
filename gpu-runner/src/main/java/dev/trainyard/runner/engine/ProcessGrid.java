package dev.trainyard.runner.engine;

import java.time.Duration;

/**
 * How the processes of a job of {@code replicas} data-parallel replicas, each a pipeline spread over
 * {@code pipelineRanks} processes, are numbered, and which two groups each process belongs to (tensor
 * parallelism stays inside a process).
 *
 * <p>Process {@code q = replica · pipelineRanks + pipelineRank}: the replica is outermost, so one replica's
 * pipeline ranks are consecutive processes. Process q is pipeline rank {@code q mod pipelineRanks} of replica
 * {@code q div pipelineRanks}'s pipeline (its {@link PipelineGroup}: neighbours exchange activations and
 * gradients), and data-parallel rank {@code q div pipelineRanks} among the processes holding the same stages in
 * the other replicas (its {@link DataParallelGroup}: they average those stages' gradients, or shard their
 * optimizer state at ZeRO 1/2). Process 0 writes the exported model; every process writes its checkpoint shard
 * number q of {@code replicas · pipelineRanks}.
 *
 * <p>Each group meets at its own TCP store, served by its rank 0: replica r's pipeline at process r ·
 * pipelineRanks, on {@code pipelinePorts[r]}; the replicas of pipeline rank k at process k, on
 * {@code replicaPorts[k]}. All stores are at {@code storeHost} (the processes of one host; a job across hosts
 * gives each group the host of its rank 0).
 *
 * @param firstStages the first stage of each pipeline rank, plus the pipeline's stage count at the end
 */
public record ProcessGrid(
        int pipelineRanks,
        int replicas,
        int[] firstStages,
        String storeHost,
        int[] pipelinePorts,
        int[] replicaPorts,
        Duration timeout) {

    public ProcessGrid {
        if (pipelineRanks < 1 || replicas < 1 || firstStages.length != pipelineRanks + 1) {
            throw new IllegalArgumentException(pipelineRanks + " pipeline ranks x " + replicas + " replicas with "
                    + (firstStages.length - 1) + " stage ranges");
        }
        if (pipelinePorts.length != replicas || replicaPorts.length != pipelineRanks) {
            throw new IllegalArgumentException("one store port per replica's pipeline and per pipeline rank");
        }
        firstStages = firstStages.clone();
        pipelinePorts = pipelinePorts.clone();
        replicaPorts = replicaPorts.clone();
    }

    /** The job's process count. */
    public int processes() {
        return pipelineRanks * replicas;
    }

    /** The process holding pipeline rank {@code pipelineRank} of replica {@code replica}. */
    public int process(int replica, int pipelineRank) {
        return replica * pipelineRanks + pipelineRank;
    }

    public int replicaOf(int process) {
        return process / pipelineRanks;
    }

    public int pipelineRankOf(int process) {
        return process % pipelineRanks;
    }

    /** Process {@code process}'s place in its replica's pipeline. */
    public PipelineGroup pipelineOf(int process) {
        int rank = pipelineRankOf(process);
        return new PipelineGroup(
                rank,
                pipelineRanks,
                firstStages[rank],
                firstStages[rank + 1],
                firstStages[pipelineRanks],
                storeHost,
                pipelinePorts[replicaOf(process)],
                timeout);
    }

    /** Process {@code process}'s place among the replicas of its stages. */
    public DataParallelGroup replicasOf(int process) {
        return replicasOf(process, replicas);
    }

    /**
     * Process {@code process}'s place among the replicas of its stages when the job asked for {@code jobReplicas}
     * replicas and runs on this grid's fewer (elastic): each replica's processes train several replicas' rows.
     */
    public DataParallelGroup replicasOf(int process, int jobReplicas) {
        return DataParallelGroup.ofGrid(
                replicaOf(process), replicas, jobReplicas, storeHost, replicaPorts[pipelineRankOf(process)], timeout);
    }
}
