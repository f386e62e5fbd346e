package dev.trainyard.api.jobs;

import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** One page of jobs, newest first; pass {@code nextCursor} as {@code cursor} for the next page. */
@Schema(name = "JobPage")
public record JobPage(
        @Schema(required = true) List<JobView> items,
        @Schema(description = "Absent on the last page") String nextCursor) {}
