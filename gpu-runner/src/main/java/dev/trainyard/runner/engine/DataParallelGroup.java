package dev.trainyard.runner.engine;

/**
 * This process's place among data-parallel replicas: its rank, the replica count, and the TCP store (hosted
 * by rank 0) through which the replicas find each other. Every replica runs the full pipeline on its share
 * of each batch; gradients are averaged across replicas before clipping.
 */
public record DataParallelGroup(int rank, int replicas, String storeHost, int storePort) {

  public DataParallelGroup {
    if (replicas < 1 || rank < 0 || rank >= replicas) {
      throw new IllegalArgumentException("rank " + rank + " of " + replicas + " replicas");
    }
  }

  /** A single replica: no other processes, no collectives. */
  public static DataParallelGroup single() {
    return new DataParallelGroup(0, 1, "127.0.0.1", 0);
  }

  public boolean isDistributed() {
    return replicas > 1;
  }

  /** Rank 0 writes checkpoints and the exported model; the others hold identical state. */
  public boolean writesOutputs() {
    return rank == 0;
  }
}
