package dev.trainyard.scheduler;

import java.util.Objects;

/** The scheduling policy: a pure function from a cluster snapshot to a decision. */
public final class Scheduler {

    /**
     * Decides one cycle. Reads nothing but its arguments (time is {@code snapshot.now()}), so the same snapshot
     * and policy always give the same decision, whatever the order of the snapshot's lists.
     */
    public Decision decide(ClusterSnapshot snapshot, SchedulerPolicy policy) {
        Objects.requireNonNull(snapshot, "snapshot");
        Objects.requireNonNull(policy, "policy");
        return new SchedulingCycle(snapshot, policy).run();
    }
}
