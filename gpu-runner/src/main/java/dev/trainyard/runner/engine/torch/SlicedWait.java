package dev.trainyard.runner.engine.torch;

import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.Work;

/**
 * Waits for a Gloo collective or point-to-point work in blocking slices of {@link StoreRendezvous#WAIT_SLICE_MS},
 * asking between slices whether to give up. A slice returns the moment the work completes; libtorch ends a slice
 * that ran out with an error but leaves the work running in Gloo's thread, so {@code isCompleted} tells a slice
 * that ran out from the work's own failure.
 */
final class SlicedWait {
    private SlicedWait() {}

    /**
     * True once {@code work} completed; false when {@code giveUp} said so while it still ran (the caller must then
     * keep its group and store alive until it ends). The work's own failure is thrown as {@code failure} makes it.
     */
    static boolean completed(
            Work work, BooleanSupplier giveUp, Function<RuntimeException, ? extends RuntimeException> failure) {
        Milliseconds slice = new Milliseconds(StoreRendezvous.WAIT_SLICE_MS);
        while (true) {
            try {
                work._wait(slice);
                return true;
            } catch (RuntimeException e) {
                // a slice that ran out, or the work's own failure
            }
            if (work.isCompleted()) {
                // it completed (possibly just after the slice ran out): an unbounded wait returns at once, or throws
                // the work's own error
                try {
                    work._wait();
                    return true;
                } catch (RuntimeException e) {
                    throw failure.apply(e);
                }
            }
            if (giveUp.getAsBoolean()) {
                return false;
            }
        }
    }
}
