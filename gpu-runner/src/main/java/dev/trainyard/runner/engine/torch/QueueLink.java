package dev.trainyard.runner.engine.torch;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.bytedeco.pytorch.Tensor;

/**
 * A link between two stage threads of this process: a FIFO queue of the sender's tensors. The receiver polls,
 * so it gives up as soon as another stage failed.
 */
final class QueueLink implements StageLink {

    private record Message(int microBatch, Tensor tensor) {}

    private final BlockingQueue<Message> queue = new LinkedBlockingQueue<>();
    private final BooleanSupplier aborted;

    QueueLink(BooleanSupplier aborted) {
        this.aborted = aborted;
    }

    @Override
    public void send(int microBatch, Tensor tensor) {
        queue.add(new Message(microBatch, tensor));
    }

    @Override
    public Tensor receive(int microBatch) throws InterruptedException {
        while (true) {
            Message message = queue.poll(100, TimeUnit.MILLISECONDS);
            if (message != null) {
                if (message.microBatch() != microBatch) {
                    throw new IllegalStateException(
                            "expected micro-batch " + microBatch + ", got " + message.microBatch());
                }
                return message.tensor();
            }
            if (aborted.getAsBoolean()) {
                throw new StageAbortedException("aborted: another stage failed", null);
            }
        }
    }
}
