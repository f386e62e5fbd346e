package dev.trainyard.scheduler;

/** Why an attempt is preempted. */
public enum PreemptionReason {
    /** A strictly higher-priority job could not be placed otherwise. */
    HIGHER_PRIORITY_JOB
}
