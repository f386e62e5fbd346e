package dev.trainyard.runner.engine.torch;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.bytedeco.pytorch.Tensor;

/**
 * The ends of a link to another process for the tensor-parallel ranks of one stage. What crosses a stage boundary
 * (the activation after the last block's row-parallel all-reduce, or the input gradient after the column-parallel
 * region's all-reduce) is the same, bitwise, on every rank of a stage: so only rank 0 sends its copy over the one
 * link, the other ranks' sends are dropped, and on the receiving side rank 0 receives it and hands it to its
 * stage's other ranks through queues in this process. One copy crosses, over the link the pipeline has already;
 * lanes per rank would send the same bytes t times.
 */
final class TensorParallelBoundary {

    private TensorParallelBoundary() {}

    /** One link per rank of the sending stage: rank 0's is {@code remote}, the others' drop what they are given. */
    static List<StageLink> sending(StageLink remote, int ranks) {
        List<StageLink> links = new ArrayList<>(ranks);
        links.add(remote);
        for (int r = 1; r < ranks; r++) {
            links.add(new Dropped());
        }
        return links;
    }

    /**
     * One link per rank of the receiving stage: rank 0's receives from {@code remote} and passes each tensor on to
     * the other ranks' links, which wait for it.
     */
    static List<StageLink> receiving(StageLink remote, int ranks, BooleanSupplier aborted) {
        if (ranks == 1) {
            return List.of(remote);
        }
        List<QueueLink> others = new ArrayList<>(ranks - 1);
        for (int r = 1; r < ranks; r++) {
            others.add(new QueueLink(aborted));
        }
        List<StageLink> links = new ArrayList<>(ranks);
        links.add(new Fanning(remote, others));
        links.addAll(others);
        return links;
    }

    /** A rank whose copy another rank sends: nothing to do. */
    private static final class Dropped implements StageLink {

        @Override
        public void send(int microBatch, Tensor tensor) {}

        @Override
        public Tensor receive(int microBatch) {
            throw new IllegalStateException("a sending rank's link receives nothing");
        }
    }

    /**
     * Rank 0's end: the received tensor goes to the other ranks as it is (each detaches it or copies it to its own
     * device, as from a neighbour stage in this process); it lives in rank 0's step scope, which closes only after
     * every rank of the process finished its pipeline work.
     */
    private record Fanning(StageLink remote, List<QueueLink> others) implements StageLink {

        @Override
        public void send(int microBatch, Tensor tensor) {
            remote.send(microBatch, tensor);
        }

        @Override
        public void beginStep(int microBatches) {
            remote.beginStep(microBatches);
        }

        @Override
        public Tensor receive(int microBatch) throws InterruptedException {
            Tensor tensor = remote.receive(microBatch);
            others.forEach(other -> other.send(microBatch, tensor));
            return tensor;
        }

        @Override
        public void finishStep() {
            remote.finishStep();
        }
    }
}
