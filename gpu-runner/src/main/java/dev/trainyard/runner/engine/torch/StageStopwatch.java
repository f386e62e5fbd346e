package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.StageTime;

/**
 * Splits one stage thread's step into compute, bubble and communication with {@code System.nanoTime}: the thread
 * ends each part of its step by saying what it was, and the part ran from the end of the previous one (or from
 * the stopwatch's start). So the parts cover the whole step with no gaps: the few instructions between two timed
 * operations (the loop, queue hand-offs, reading the thread's CPU time), and any time the OS took the core away
 * there, are charged to the part that follows. On a loaded machine such preemptions cost milliseconds, so leaving
 * them out would misstate the split. A compute part that ran collectives inside (a tensor-parallel all-reduce in
 * a block, ZeRO's all-gather in the optimizer) hands their time, read from {@link CommunicationClock}, to
 * communication.
 */
final class StageStopwatch {

    private final long started = System.nanoTime();
    private long mark = started;
    private long communicationAtMark = CommunicationClock.nanos();
    private long compute;
    private long bubble;
    private long communication;

    /** The part since the last mark computed, apart from any collective it waited in. */
    void endCompute() {
        long inside = CommunicationClock.nanos() - communicationAtMark;
        long now = advance();
        compute += now - inside;
        communication += inside;
    }

    /** The part since the last mark waited for a neighbouring stage (or for all stages at a barrier). */
    void endBubble() {
        bubble += advance();
    }

    /** The part since the last mark exchanged data with other ranks (collectives and the packing around them). */
    void endCommunication() {
        communication += advance();
    }

    /** Nanoseconds of bubble so far. */
    long bubbleNanos() {
        return bubble;
    }

    /** The split of the thread's time since this stopwatch was made, up to the last part ended. */
    StageTime stop() {
        return new StageTime(compute / 1e9, bubble / 1e9, communication / 1e9, (mark - started) / 1e9);
    }

    /** Moves the mark to now; returns the nanoseconds since the previous mark. */
    private long advance() {
        long now = System.nanoTime();
        long elapsed = now - mark;
        mark = now;
        communicationAtMark = CommunicationClock.nanos();
        return elapsed;
    }
}
