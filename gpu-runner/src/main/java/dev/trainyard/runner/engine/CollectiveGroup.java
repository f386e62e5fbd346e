package dev.trainyard.runner.engine;

/**
 * Collectives over a fixed group of ranks, each rank calling from its own thread or process with the same
 * sequence of calls. {@code T} is the engine's tensor type; the group decides how the bytes travel (Gloo between
 * CPU devices, NCCL between CUDA devices), so code written against this interface runs unchanged on either.
 * Every call blocks until this rank's part is done. Tensors are split and gathered along their first dimension.
 */
public interface CollectiveGroup<T> {

    /** How an all-reduce combines the ranks' values, element by element. */
    enum Reduction {
        SUM,
        MAX
    }

    /** This caller's rank, 0 to {@code size() - 1}. */
    int rank();

    int size();

    /** Replaces {@code tensor}, in place, by the element-wise reduction over all ranks (the same on every rank). */
    void allReduce(T tensor, Reduction reduction);

    /** Fills {@code output} (size() times {@code input}'s first dimension) with every rank's input, by rank. */
    void allGather(T output, T input);

    /** Fills {@code output} with this rank's slice (first dimension / size()) of the ranks' summed {@code input}. */
    void reduceScatter(T output, T input);

    /** Overwrites {@code tensor}, in place, with rank {@code root}'s. */
    void broadcast(T tensor, int root);
}
