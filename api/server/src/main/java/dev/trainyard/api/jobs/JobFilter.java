package dev.trainyard.api.jobs;

/** Which jobs a listing shows; null fields do not filter. */
public record JobFilter(JobState state, Long projectId, Long poolId, String nameContains) {
}
