package dev.trainyard.runner.engine;

import java.time.Duration;

/**
 * This process's place in a pipeline whose stages are spread over several processes ("pipeline ranks"). Process
 * {@code rank} holds the contiguous stages {@code [firstStage, endStage)} of the job's {@code stages}; rank r's
 * stages come right before rank r + 1's, so a process exchanges activations and gradients with its neighbours
 * only. The processes find each other through TCP stores hosted by rank 0 at {@code storeHost}: the control
 * store at {@code storePort}, which announces the ports of the stores of the boundaries between neighbours.
 *
 * <p>Every rank writes its own checkpoint shard (its stages' tensors); pipeline rank 0 writes the export, the others
 * send it their stages' parameters. With data-parallel replicas each replica has a pipeline of its own (see
 * {@link ProcessGrid} for how the processes are numbered).
 *
 * @param timeout how long a process waits for a neighbour (to join, or for an activation, a gradient or a
 *     collective) before it fails with a {@link PeerLostException}
 */
public record PipelineGroup(
        int rank,
        int processes,
        int firstStage,
        int endStage,
        int stages,
        String storeHost,
        int storePort,
        Duration timeout) {

    public PipelineGroup {
        if (processes < 1 || rank < 0 || rank >= processes) {
            throw new IllegalArgumentException("pipeline rank " + rank + " of " + processes + " processes");
        }
        if (firstStage < 0 || endStage <= firstStage || endStage > stages) {
            throw new IllegalArgumentException(
                    "stages " + firstStage + ".." + (endStage - 1) + " are not among the pipeline's " + stages);
        }
        if ((rank == 0) != (firstStage == 0) || (rank == processes - 1) != (endStage == stages)) {
            throw new IllegalArgumentException("pipeline rank " + rank + " of " + processes + " cannot hold stages "
                    + firstStage + ".." + (endStage - 1) + " of " + stages + ": ranks hold the stages in order");
        }
        timeout = timeout == null ? DataParallelGroup.DEFAULT_TIMEOUT : timeout;
    }

    /** The whole pipeline in this process: no neighbours, no collectives. */
    public static PipelineGroup single() {
        return new PipelineGroup(0, 1, 0, 1, 1, "127.0.0.1", 0, null);
    }

    public PipelineGroup withTimeout(Duration other) {
        return new PipelineGroup(rank, processes, firstStage, endStage, stages, storeHost, storePort, other);
    }

    public boolean isDistributed() {
        return processes > 1;
    }

    /** Stages this process runs. */
    public int localStages() {
        return endStage - firstStage;
    }

    /** Rank 0 writes the exported model, gathered from the other ranks (each rank writes its checkpoint shard). */
    public boolean writesOutputs() {
        return rank == 0;
    }
}
