package dev.trainyard.runner.agent;

import dev.trainyard.runner.engine.StopRequest;
import dev.trainyard.runner.engine.StopSignal;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What the platform decided about one attempt while it trains: a stop it asked for, whether it fenced the
 * attempt (refused it as not current), whether it dropped it (no longer lists it). Heartbeats, report answers
 * and refusals write it from their threads; the engine reads it as its {@link StopSignal}.
 */
final class AttemptControl implements StopSignal {

    private final AtomicReference<String> stop = new AtomicReference<>();
    private volatile boolean fenced;
    private volatile boolean dropped;

    /** Notes a stop the API asked for ({@code CANCEL}, {@code PREEMPT}, {@code BUDGET}, {@code RUNTIME_LIMIT}); null means none. */
    void requestStop(String reason) {
        if (reason != null) {
            stop.set(reason);
        }
    }

    /** The stop the API asked for, learned from any answer; null while none. */
    String stopRequested() {
        return stop.get();
    }

    /** The API refused the attempt as not current: its work must be dropped, nothing more reported. */
    void fence() {
        fenced = true;
    }

    boolean fenced() {
        return fenced;
    }

    /** The API no longer lists the attempt: stop training without reporting anything more. */
    void drop() {
        dropped = true;
    }

    boolean dropped() {
        return dropped;
    }

    /**
     * Stop now when the API no longer wants this attempt (dropped or fenced), after a checkpoint when it asked
     * for a stop.
     */
    @Override
    public StopRequest check(long completedSteps) {
        if (abandoned()) {
            return StopRequest.STOP;
        }
        return stop.get() != null ? StopRequest.CHECKPOINT_AND_STOP : StopRequest.CONTINUE;
    }

    /**
     * An unwanted attempt is abandoned: a rank waiting on a hung peer gives up at once and frees this runner's
     * devices for the work the scheduler gives them next.
     */
    @Override
    public boolean abandoned() {
        return dropped || fenced;
    }
}
