package dev.trainyard.api.jobs;

import dev.trainyard.api.lifecycle.JobState;

/** Which jobs a listing shows; null fields do not filter. */
public record JobFilter(JobState state, Long projectId, Long poolId, String nameContains) {}
