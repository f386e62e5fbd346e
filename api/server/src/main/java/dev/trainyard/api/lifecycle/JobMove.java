package dev.trainyard.api.lifecycle;

/**
 * One move of a job: from the state the writer saw to the next, with the event that records it.
 *
 * @param version the version the writer saw, when the move must also fail on any other change of the row
 * @param countsRestart whether the move uses one of the job's restarts (a lost runner)
 * @param divergence where the loss diverged, for a move that ends the job for it; null otherwise
 */
public record JobMove(
        long jobId,
        JobState from,
        JobState to,
        EventReason reason,
        String message,
        Long attemptId,
        Long version,
        boolean countsRestart,
        Divergence divergence) {

    public static JobMove of(long jobId, JobState from, JobState to, EventReason reason, String message) {
        return new JobMove(jobId, from, to, reason, message, null, null, false, null);
    }

    public JobMove forAttempt(long attempt) {
        return new JobMove(jobId, from, to, reason, message, attempt, version, countsRestart, divergence);
    }

    public JobMove atVersion(long seen) {
        return new JobMove(jobId, from, to, reason, message, attemptId, seen, countsRestart, divergence);
    }

    public JobMove countingRestart(boolean counts) {
        return new JobMove(jobId, from, to, reason, message, attemptId, version, counts, divergence);
    }

    public JobMove withDivergence(Divergence where) {
        return new JobMove(jobId, from, to, reason, message, attemptId, version, countsRestart, where);
    }
}
