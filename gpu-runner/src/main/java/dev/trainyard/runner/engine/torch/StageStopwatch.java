package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.StageTime;

/**
 * Splits one stage thread's step into compute, bubble and communication with {@code System.nanoTime}: the thread
 * opens a section before each part and closes it as what it was. A compute section that ran collectives inside (a
 * tensor-parallel all-reduce in a block, ZeRO's all-gather in the optimizer) hands their time, read from
 * {@link CommunicationClock}, to communication. Sections do not nest; what runs outside any section (the loop
 * itself, queue hand-offs) is left unaccounted, so the parts' sum falls short of the wall time only by that.
 */
final class StageStopwatch {

    private final long started = System.nanoTime();
    private long sectionStart;
    private long communicationAtStart;
    private long compute;
    private long bubble;
    private long communication;

    /** Opens a section; the next {@code end...} call says what it was. */
    void start() {
        sectionStart = System.nanoTime();
        communicationAtStart = CommunicationClock.nanos();
    }

    /** The section computed, apart from any collective it waited in. */
    void endCompute() {
        long inside = CommunicationClock.nanos() - communicationAtStart;
        compute += System.nanoTime() - sectionStart - inside;
        communication += inside;
    }

    /** The section waited for a neighbouring stage (or for all stages at a barrier). */
    void endBubble() {
        bubble += System.nanoTime() - sectionStart;
    }

    /** The section exchanged data with other ranks (collectives and the packing around them). */
    void endCommunication() {
        communication += System.nanoTime() - sectionStart;
    }

    /** Nanoseconds of bubble so far. */
    long bubbleNanos() {
        return bubble;
    }

    /** The split of the thread's time since this stopwatch was made. */
    StageTime stop() {
        long wall = System.nanoTime() - started;
        return new StageTime(compute / 1e9, bubble / 1e9, communication / 1e9, wall / 1e9);
    }
}
