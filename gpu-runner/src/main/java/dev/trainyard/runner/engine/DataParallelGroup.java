package dev.trainyard.runner.engine;

import java.time.Duration;

/**
 * This process's place among the data-parallel replicas of a job. Every replica runs the whole pipeline on
 * its share of each batch; gradients are averaged across replicas before clipping.
 *
 * <p>A process may hold several replicas ({@code localReplicas}, starting at {@code firstReplica}): it then
 * trains their rows together as one pipeline, which gives the same mean gradient. This lets the platform put
 * two replicas on a runner with room for both and one on another. The processes find each other through TCP
 * stores hosted by rank 0 at {@code storeHost}: the control store at {@code storePort}, which announces the
 * ports of the stages' stores.
 *
 * @param rank this process among {@code processes} (rank 0 writes checkpoints and the export)
 * @param replicas replicas of the whole job, the spec's {@code parallelism.dataParallel}
 * @param timeout how long a process waits for its peers (to join, or in a collective) before it fails: a peer
 *     that died must not hold the others forever
 */
public record DataParallelGroup(
        int rank,
        int processes,
        int firstReplica,
        int localReplicas,
        int replicas,
        String storeHost,
        int storePort,
        Duration timeout) {

    /** libtorch's own default is 30 minutes; a dead peer should cost less. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

    public DataParallelGroup {
        if (processes < 1 || rank < 0 || rank >= processes || processes > replicas) {
            throw new IllegalArgumentException(
                    "rank " + rank + " of " + processes + " processes for " + replicas + " replicas");
        }
        timeout = timeout == null ? DEFAULT_TIMEOUT : timeout;
        if (localReplicas < 1 || firstReplica < 0 || firstReplica + localReplicas > replicas) {
            throw new IllegalArgumentException("replicas " + firstReplica + ".." + (firstReplica + localReplicas - 1)
                    + " are not among the job's " + replicas);
        }
    }

    /** One process holding every replica: no other processes, no collectives. */
    public static DataParallelGroup whole(int replicas) {
        return new DataParallelGroup(0, 1, 0, replicas, replicas, "127.0.0.1", 0, null);
    }

    /** One replica per process, process {@code rank} holding replica {@code rank}. */
    public static DataParallelGroup evenly(int rank, int replicas, String storeHost, int storePort) {
        return new DataParallelGroup(rank, replicas, rank, 1, replicas, storeHost, storePort, null);
    }

    /**
     * Process {@code rank} of {@code processes} holding the same pipeline stages in a grid of cut replicas (see
     * {@link ProcessGrid}), for a job of {@code replicas} replicas: one each when every replica runs, and when an
     * elastic job runs on fewer, the replicas dealt out as evenly as integers allow (rank r holds
     * [r·replicas/processes, (r+1)·replicas/processes)), so that the processes together still train the whole global
     * batch and the gradient is the same mean.
     */
    public static DataParallelGroup ofGrid(
            int rank, int processes, int replicas, String storeHost, int storePort, Duration timeout) {
        int first = (int) ((long) rank * replicas / processes);
        int end = (int) ((long) (rank + 1) * replicas / processes);
        return new DataParallelGroup(rank, processes, first, end - first, replicas, storeHost, storePort, timeout);
    }

    public DataParallelGroup withTimeout(Duration other) {
        return new DataParallelGroup(
                rank, processes, firstReplica, localReplicas, replicas, storeHost, storePort, other);
    }

    public boolean isDistributed() {
        return processes > 1;
    }

    /** Rank 0 writes checkpoints and the exported model; the others hold identical state. */
    public boolean writesOutputs() {
        return rank == 0;
    }
}
