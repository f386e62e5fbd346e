package dev.trainyard.runner.engine;

/** What the engine should do after the step it just finished. */
public enum StopRequest {
    CONTINUE,
    /** Return now without writing a checkpoint. */
    STOP,
    /** Write a checkpoint of the finished step, then return (preemption, budget, operator request). */
    CHECKPOINT_AND_STOP
}
