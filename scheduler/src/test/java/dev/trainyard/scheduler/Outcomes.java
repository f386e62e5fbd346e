package dev.trainyard.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;

/** Lookups and assertions over a decision, by job id. */
final class Outcomes {
    private Outcomes() {}

    static Optional<Placement> placement(Decision decision, long jobId) {
        return decision.placements().stream().filter(p -> p.jobId() == jobId).findFirst();
    }

    static Optional<WaitingJob> waiting(Decision decision, long jobId) {
        return decision.waiting().stream().filter(w -> w.jobId() == jobId).findFirst();
    }

    static List<Long> placedJobIds(Decision decision) {
        return decision.placements().stream().map(Placement::jobId).toList();
    }

    static List<Long> preemptedAttemptIds(Decision decision) {
        return decision.preemptions().stream()
                .map(Preemption::attemptId)
                .sorted()
                .toList();
    }

    static Placement assertPlaced(Decision decision, long jobId) {
        Optional<Placement> placement = placement(decision, jobId);
        assertThat(placement)
                .as("placement of job %d; waiting: %s", jobId, waiting(decision, jobId))
                .isPresent();
        return placement.get();
    }

    static WaitingJob assertWaits(Decision decision, long jobId, PendingReason reason) {
        Optional<WaitingJob> entry = waiting(decision, jobId);
        assertThat(entry)
                .as("job %d should wait; placements: %s", jobId, decision.placements())
                .isPresent();
        assertThat(entry.get().reason())
                .as("reason for job %d: %s", jobId, entry.get().message())
                .isEqualTo(reason);
        return entry.get();
    }

    /** Either "placed in pool X" or "waits with reason R", so table rows can state either. */
    record Expected(String pool, PendingReason reason) {
        static Expected placedIn(String pool) {
            return new Expected(pool, null);
        }

        static Expected waits(PendingReason reason) {
            return new Expected(null, reason);
        }

        void check(Scenario scenario, Decision decision, long jobId) {
            if (pool != null) {
                assertThat(assertPlaced(decision, jobId).poolId()).isEqualTo(scenario.poolId(pool));
            } else {
                assertWaits(decision, jobId, reason);
            }
        }

        @Override
        public String toString() {
            return pool != null ? "placed in " + pool : "waits " + reason;
        }
    }
}
