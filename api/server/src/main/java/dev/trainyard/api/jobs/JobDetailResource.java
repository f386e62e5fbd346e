package dev.trainyard.api.jobs;

import dev.trainyard.api.auth.CurrentCaller;
import dev.trainyard.api.checkpoints.CheckpointView;
import dev.trainyard.api.checkpoints.ExportIndex;
import dev.trainyard.api.checkpoints.ExportView;
import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.io.File;
import java.util.Arrays;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.FilePart;
import org.jboss.resteasy.reactive.RestResponse;

/** HTTP face of a job's details: attempts, metrics, logs, checkpoints. */
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "jobs")
@SecurityRequirement(name = "bearer")
public class JobDetailResource {
    private final JobDetails details;
    private final CurrentCaller caller;

    public JobDetailResource(JobDetails details, CurrentCaller caller) {
        this.details = details;
        this.caller = caller;
    }

    @GET
    @Path("/jobs/{id: [0-9]+}/attempts")
    @Operation(operationId = "listJobAttempts", summary = "Every placement of a job, oldest first")
    public RestResponse<List<JobDetailViews.Attempt>> listJobAttempts(@PathParam("id") long id) {
        return RestResponse.ok(details.attempts(caller.get(), id));
    }

    @GET
    @Path("/jobs/{id: [0-9]+}/metrics")
    @Operation(
            operationId = "getJobMetrics",
            summary = "Metric series over a range of steps, downsampled",
            description = "Each series keeps the lowest and highest value of every step bucket, so extremes survive.")
    public RestResponse<JobDetailViews.Metrics> getJobMetrics(
            @PathParam("id") long id,
            @QueryParam("names") String names,
            @QueryParam("fromStep") Long fromStep,
            @QueryParam("toStep") Long toStep,
            @QueryParam("points") Integer points) {
        List<String> wanted = names == null || names.isBlank()
                ? List.of()
                : Arrays.stream(names.split(","))
                        .map(String::trim)
                        .filter(s -> !s.isEmpty())
                        .toList();
        return RestResponse.ok(details.metrics(caller.get(), id, wanted, fromStep, toStep, points));
    }

    @GET
    @Path("/jobs/{id: [0-9]+}/logs")
    @Operation(operationId = "getJobLogs", summary = "The newest log lines, or those after afterId when following")
    public RestResponse<List<JobDetailViews.LogLine>> getJobLogs(
            @PathParam("id") long id, @QueryParam("afterId") Long afterId, @QueryParam("limit") Integer limit) {
        return RestResponse.ok(details.logs(caller.get(), id, afterId, limit));
    }

    @GET
    @Path("/jobs/{id: [0-9]+}/checkpoints")
    @Operation(operationId = "listJobCheckpoints", summary = "Complete, verified checkpoints, newest first")
    public RestResponse<List<CheckpointView>> listJobCheckpoints(@PathParam("id") long id) {
        return RestResponse.ok(details.checkpoints(caller.get(), id));
    }

    @DELETE
    @Path("/jobs/{id: [0-9]+}/checkpoints")
    @Operation(operationId = "deleteJobCheckpoints", summary = "Delete every checkpoint of a finished job")
    public RestResponse<Void> deleteJobCheckpoints(@PathParam("id") long id) {
        details.deleteCheckpoints(caller.get(), id);
        return RestResponse.noContent();
    }

    @GET
    @Path("/jobs/{id: [0-9]+}/checkpoints/{checkpointId: [0-9]+}/content")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    @Operation(operationId = "downloadCheckpoint", summary = "Download a checkpoint (safetensors); supports Range")
    @APIResponse(
            responseCode = "200",
            description = "The whole file",
            content =
                    @Content(
                            mediaType = MediaType.APPLICATION_OCTET_STREAM,
                            schema = @Schema(type = SchemaType.STRING, format = "binary")))
    @APIResponse(
            responseCode = "206",
            description = "The requested byte range",
            content =
                    @Content(
                            mediaType = MediaType.APPLICATION_OCTET_STREAM,
                            schema = @Schema(type = SchemaType.STRING, format = "binary")))
    public RestResponse<Object> downloadCheckpoint(
            @PathParam("id") long id,
            @PathParam("checkpointId") long checkpointId,
            @Parameter(
                            description = "Of a sharded checkpoint (shardCount > 1): the shard to download, required;"
                                    + " the answer's X-Checksum-Sha256 is that shard's")
                    @QueryParam("shard")
                    Integer shard,
            @HeaderParam("Range") String range) {
        JobDetails.Download d = details.checkpointFile(caller.get(), id, checkpointId, shard);
        File file = d.file().toFile();
        long size = file.length();
        String name = d.checkpoint().sharded()
                ? "job-" + id + "-" + d.file().getFileName()
                : "job-" + id + "-step-" + d.checkpoint().step() + ".safetensors";
        if (range == null) {
            return RestResponse.ResponseBuilder.<Object>ok(file)
                    .header("Accept-Ranges", "bytes")
                    .header("X-Checksum-Sha256", d.sha256())
                    .header("Content-Disposition", "attachment; filename=\"" + name + "\"")
                    .build();
        }
        long[] span = ByteRange.parse(range, size);
        if (span == null) {
            return RestResponse.ResponseBuilder.<Object>create(416)
                    .header("Content-Range", "bytes */" + size)
                    .build();
        }
        long count = span[1] - span[0] + 1;
        return RestResponse.ResponseBuilder.<Object>create(206)
                .entity(new FilePart(file, span[0], count))
                .header("Accept-Ranges", "bytes")
                .header("Content-Range", "bytes " + span[0] + "-" + span[1] + "/" + size)
                .build();
    }

    @GET
    @Path("/jobs/{id: [0-9]+}/export")
    @Operation(
            operationId = "getJobExport",
            summary = "The job's final export: weights and model config, verified",
            description = "Empty until the job's last attempt trained every step; a SUCCEEDED job always lists"
                    + " model.safetensors and config.json (see docs/exported-weights.md).")
    public RestResponse<ExportView> getJobExport(@PathParam("id") long id) {
        return RestResponse.ok(details.export(caller.get(), id));
    }

    @GET
    @Path("/jobs/{id: [0-9]+}/export/{name}")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    @Operation(
            operationId = "downloadExportFile",
            summary = "Download one file of the job's final export",
            description = "The answer's X-Checksum-Sha256 is the digest the runner declared and the API verified.")
    @APIResponse(
            responseCode = "200",
            description = "The file",
            content =
                    @Content(
                            mediaType = MediaType.APPLICATION_OCTET_STREAM,
                            schema = @Schema(type = SchemaType.STRING, format = "binary")))
    public RestResponse<File> downloadExportFile(
            @PathParam("id") long id,
            @Parameter(
                            description = "The export file",
                            schema =
                                    @Schema(
                                            type = SchemaType.STRING,
                                            enumeration = {ExportIndex.WEIGHTS, ExportIndex.CONFIG, ExportIndex.SCRIPT
                                            }))
                    @PathParam("name")
                    String name) {
        JobDetails.ExportDownload d = details.exportFile(caller.get(), id, name);
        return RestResponse.ResponseBuilder.ok(d.file().toFile())
                .header("X-Checksum-Sha256", d.export().sha256())
                .header(
                        "Content-Disposition",
                        "attachment; filename=\"job-" + id + "-" + d.export().name() + "\"")
                .build();
    }

    /** Parses a single HTTP byte range. */
    static final class ByteRange {
        private ByteRange() {}

        /** [first, last] inclusive, or null when the range cannot be satisfied. */
        static long[] parse(String header, long size) {
            if (!header.startsWith("bytes=") || header.contains(",")) {
                throw new ApiException.InvalidInput(ProblemType.BAD_PARAMETER, "only one 'bytes=' range is supported");
            }
            String spec = header.substring(6).trim();
            int dash = spec.indexOf('-');
            try {
                if (dash < 0) {
                    throw new NumberFormatException(spec);
                }
                String a = spec.substring(0, dash).trim();
                String b = spec.substring(dash + 1).trim();
                long first;
                long last;
                if (a.isEmpty()) {
                    long suffix = Long.parseLong(b);
                    first = Math.max(0, size - suffix);
                    last = size - 1;
                } else {
                    first = Long.parseLong(a);
                    last = b.isEmpty() ? size - 1 : Math.min(Long.parseLong(b), size - 1);
                }
                return first > last || first >= size ? null : new long[] {first, last};
            } catch (NumberFormatException e) {
                throw new ApiException.InvalidInput(ProblemType.BAD_PARAMETER, "Range is not valid: " + header);
            }
        }
    }
}
