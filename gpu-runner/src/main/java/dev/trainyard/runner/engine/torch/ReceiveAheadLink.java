package dev.trainyard.runner.engine.torch;

import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * The receiving end of a link from another process that receives ahead of the stage: at each step's start a thread
 * of its own begins receiving the step's micro-batches in order, each as soon as the neighbour sends it, so a tensor
 * crosses while the stage still computes, and the stage thread only takes it from a queue.
 *
 * <p>Why: Gloo moves a tensor's bytes only once its receive is posted. Receiving on the stage thread posted each
 * receive when the stage needed the tensor, so every micro-batch, in both directions, the stage waited for the
 * header's round trip, then the data's, then the copy out of the socket, with the sender's and the receiver's I/O
 * threads woken in turn on cores the stages were using. Received ahead, that happens while the stage computes the
 * previous micro-batch, and the stage waits only where the neighbour has not sent yet (the pipeline's own bubble).
 *
 * <p>The bytes received are the same, only earlier: results stay bitwise equal. Where the link's waits only order a
 * device stream (NCCL) this is not used: those receives never block the host.
 */
final class ReceiveAheadLink implements StageLink {

    /** Receives one micro-batch's tensor, blocking until it arrived (called on the receiving thread only). */
    interface Receiver {
        Tensor receive(int microBatch);
    }

    /** One micro-batch's tensor, or why receiving it failed (the receiving thread then stops for the step). */
    private record Arrival(int microBatch, Tensor tensor, RuntimeException failure) {}

    private static final long POLL_MS = 100;

    private final Receiver receiver;
    private final Supplier<Optional<RuntimeException>> stopped;
    private final ExecutorService thread;
    private final BlockingQueue<Arrival> arrived = new LinkedBlockingQueue<>();
    /** Micro-batches the receiving thread was asked for and the stage has not taken yet (stage thread only). */
    private int announced;

    /**
     * @param name the receiving thread's name
     * @param stopped polled while the stage waits: why to stop waiting (the run was abandoned, another stage
     *     failed), if so; the links' watcher aborts the receiving thread's transfer then
     */
    ReceiveAheadLink(Receiver receiver, String name, Supplier<Optional<RuntimeException>> stopped) {
        this.receiver = receiver;
        this.stopped = stopped;
        this.thread = Executors.newSingleThreadExecutor(task -> {
            Thread t = new Thread(task, name);
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void send(int microBatch, Tensor tensor) {
        throw new IllegalStateException("a receiving end sends nothing");
    }

    @Override
    public void beginStep(int microBatches) {
        announced += microBatches;
        thread.execute(() -> receiveAll(microBatches));
    }

    private void receiveAll(int microBatches) {
        for (int mb = 0; mb < microBatches; mb++) {
            try (PointerScope scope = new PointerScope()) {
                Tensor tensor = receiver.receive(mb);
                // Handed over to the stage's step scope (see receive): a reference of its own keeps it alive when it
                // leaves this scope (detaching releases the scope's reference, which would free it).
                tensor.retainReference();
                scope.detach(tensor);
                arrived.add(new Arrival(mb, tensor, null));
            } catch (RuntimeException e) {
                arrived.add(new Arrival(mb, null, e));
                return;
            }
        }
    }

    /** A micro-batch announced by {@link #beginStep}, from the receiving thread; else received on this thread. */
    @Override
    public Tensor receive(int microBatch) throws InterruptedException {
        if (announced == 0) {
            return receiver.receive(microBatch);
        }
        announced--;
        while (true) {
            Arrival arrival = arrived.poll(POLL_MS, TimeUnit.MILLISECONDS);
            if (arrival != null) {
                if (arrival.failure() != null) {
                    throw arrival.failure();
                }
                if (arrival.microBatch() != microBatch) {
                    throw new IllegalStateException(
                            "expected micro-batch " + microBatch + ", received " + arrival.microBatch());
                }
                // the step's scope takes over the receiving thread's reference: it frees the tensor when it closes
                Tensor tensor = arrival.tensor();
                PointerScope step = PointerScope.getInnerScope();
                if (step != null) {
                    step.attach(tensor);
                    tensor.releaseReference();
                }
                return tensor;
            }
            Optional<RuntimeException> reason = stopped.get();
            if (reason.isPresent()) {
                throw reason.get();
            }
        }
    }

    /**
     * Stops the receiving thread, waiting a bounded time for a receive in progress (the caller aborted it first): the
     * link's group must not be deleted under it.
     */
    void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
