package dev.trainyard.runner.engine.torch;

import org.bytedeco.pytorch.Tensor;

/**
 * One direction between two neighbouring pipeline stages: activations forward or gradients backward. The
 * schedules use it the same way whether the neighbour runs in this process ({@link QueueLink}) or in another
 * ({@link PipelineLinks}): every schedule sends and receives in increasing micro-batch order.
 */
interface StageLink {

    /**
     * Called by the receiving stage before its step's first {@link #receive}: the step receives micro-batches 0 to
     * {@code microBatches - 1}. A link that can start receiving before the stage asks does so from here.
     */
    default void beginStep(int microBatches) {}

    /** Hands micro-batch {@code microBatch}'s tensor to the neighbour; may return before it arrived. */
    void send(int microBatch, Tensor tensor);

    /** The neighbour's tensor for {@code microBatch}, waiting for it. */
    Tensor receive(int microBatch) throws InterruptedException;

    /**
     * Waits until every tensor sent this step has left: the sender's step scope frees them afterwards. A
     * link whose sends complete at once does nothing.
     */
    default void finishStep() {}
}
