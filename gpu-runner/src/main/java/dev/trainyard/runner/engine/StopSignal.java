package dev.trainyard.runner.engine;

/** Asked between steps whether training should go on; the runner agent backs it with the API's answer. */
@FunctionalInterface
public interface StopSignal {

    /** Called after each finished step; must return quickly (cache remote answers). */
    StopRequest check(long completedSteps);

    /**
     * Whether the run's results are no longer wanted at all (the platform ended its attempt). Polled while a
     * data-parallel collective waits for peers, so a process whose peer hangs gives up at once instead of
     * waiting out the collective timeout. Must return quickly.
     */
    default boolean abandoned() {
        return false;
    }

    /** A signal that never stops training. */
    static StopSignal never() {
        return completedSteps -> StopRequest.CONTINUE;
    }
}
