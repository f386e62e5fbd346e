package dev.trainyard.api.protocol;

import dev.trainyard.api.auth.CurrentCaller;
import dev.trainyard.api.checkpoints.CheckpointFiles;
import dev.trainyard.api.checkpoints.CheckpointShards;
import dev.trainyard.api.checkpoints.CheckpointView;
import dev.trainyard.api.checkpoints.ExportFileView;
import dev.trainyard.api.checkpoints.ExportIndex;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.io.InputStream;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestResponse;

/** HTTP face of the runner protocol; only runner tokens reach it, and each acts only as its own runner. */
@Path("/api/v1/runner")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "runner-protocol")
@SecurityRequirement(name = "bearer")
public class RunnerProtocolResource {
    private final Heartbeats heartbeats;
    private final AttemptCalls attempts;
    private final MetricsIngestion metrics;
    private final LogIngestion logs;
    private final CheckpointUploads checkpoints;
    private final ExportUploads exports;
    private final CheckpointFiles files;
    private final CurrentCaller caller;

    public RunnerProtocolResource(
            Heartbeats heartbeats,
            AttemptCalls attempts,
            MetricsIngestion metrics,
            LogIngestion logs,
            CheckpointUploads checkpoints,
            ExportUploads exports,
            CheckpointFiles files,
            CurrentCaller caller) {
        this.heartbeats = heartbeats;
        this.attempts = attempts;
        this.metrics = metrics;
        this.logs = logs;
        this.checkpoints = checkpoints;
        this.exports = exports;
        this.files = files;
        this.caller = caller;
    }

    @POST
    @Path("/register")
    @Operation(operationId = "registerRunner", summary = "Register (or re-register) a runner and its devices")
    public RestResponse<RunnerMessages.Registration> registerRunner(RunnerMessages.Register request) {
        return RestResponse.ok(heartbeats.register(caller.get().tokenId(), request));
    }

    @POST
    @Path("/heartbeat")
    @Operation(
            operationId = "heartbeat",
            summary = "Heartbeat; answers with the runner's live assignments",
            description = "With waitMs and no assignments, the answer waits until work arrives or the time is up.")
    public RestResponse<RunnerMessages.HeartbeatAnswer> heartbeat(RunnerMessages.Heartbeat request) {
        long token = caller.get().tokenId();
        if (request == null) {
            throw dev.trainyard.api.error.ApiException.InvalidInput.of("$", "a body is required");
        }
        return RestResponse.ok(heartbeats.heartbeat(token, request));
    }

    @POST
    @Path("/attempts/{id: [0-9]+}:start")
    @Operation(operationId = "startAttempt", summary = "The runner began training this attempt")
    public RestResponse<RunnerMessages.AttemptAck> startAttempt(
            @PathParam("id") long id, RunnerMessages.AttemptCall call) {
        return RestResponse.ok(attempts.start(caller.get().tokenId(), id, call));
    }

    @POST
    @Path("/attempts/{id: [0-9]+}:rendezvous")
    @Operation(
            operationId = "publishRendezvous",
            summary = "Rank 0 of an attempt over several runners publishes where its TCP stores listen")
    public RestResponse<RunnerMessages.AttemptAck> publishRendezvous(
            @PathParam("id") long id, RunnerMessages.Rendezvous rendezvous) {
        return RestResponse.ok(attempts.rendezvous(caller.get().tokenId(), id, rendezvous));
    }

    @POST
    @Path("/attempts/{id: [0-9]+}/metrics")
    @Operation(operationId = "reportMetrics", summary = "A batch of metric points; the answer says whether to stop")
    public RestResponse<RunnerMessages.AttemptAck> reportMetrics(
            @PathParam("id") long id, RunnerMessages.MetricsBatch batch) {
        return RestResponse.ok(metrics.metrics(caller.get().tokenId(), id, batch));
    }

    @POST
    @Path("/attempts/{id: [0-9]+}/logs")
    @Operation(operationId = "reportLogs", summary = "A batch of log lines")
    public RestResponse<RunnerMessages.AttemptAck> reportLogs(@PathParam("id") long id, RunnerMessages.LogBatch batch) {
        return RestResponse.ok(logs.logs(caller.get().tokenId(), id, batch));
    }

    @PUT
    @Path("/attempts/{id: [0-9]+}/checkpoints/{step: [0-9]+}")
    @Consumes(MediaType.APPLICATION_OCTET_STREAM)
    @Operation(
            operationId = "uploadCheckpoint",
            summary = "Upload a checkpoint file, streamed, with its SHA-256",
            description = "The checkpoint counts only when the body's SHA-256 equals X-Checksum-Sha256. A sharded"
                    + " checkpoint comes as one upload per data-parallel rank (shard and shards), each from the"
                    + " runner holding that rank; it is complete, listed and resumable once every shard is stored.")
    @RequestBody(
            required = true,
            content =
                    @Content(
                            mediaType = MediaType.APPLICATION_OCTET_STREAM,
                            schema = @Schema(type = SchemaType.STRING, format = "binary")))
    @APIResponse(
            responseCode = "200",
            description = "Stored and verified",
            content =
                    @Content(
                            mediaType = MediaType.APPLICATION_JSON,
                            schema = @Schema(implementation = CheckpointView.class)))
    public RestResponse<CheckpointView> uploadCheckpoint(
            @PathParam("id") long id,
            @PathParam("step") long step,
            @HeaderParam("X-Lease-Token") String leaseToken,
            @HeaderParam("X-Checksum-Sha256") String sha256,
            @QueryParam("evalLoss") Double evalLoss,
            @Parameter(description = "Of a sharded checkpoint: which shard this is (the sender's data-parallel rank)")
                    @QueryParam("shard")
                    Integer shard,
            @Parameter(description = "Of a sharded checkpoint: how many shards make it whole (the attempt's ranks)")
                    @QueryParam("shards")
                    Integer shards,
            InputStream body) {
        return RestResponse.ok(checkpoints.checkpoint(
                caller.get().tokenId(),
                id,
                leaseToken,
                step,
                CheckpointUploads.ShardOf.of(shard, shards),
                sha256,
                evalLoss,
                body));
    }

    @GET
    @Path("/attempts/{id: [0-9]+}/checkpoints/{step: [0-9]+}")
    @Operation(
            operationId = "getAttemptCheckpoint",
            summary = "The attempt's checkpoint of a step, complete or still missing shards",
            description = "For rank 0 of a data-parallel attempt, before it ends a stopped attempt: whether every"
                    + " rank's shard of the last checkpoint has arrived.")
    public RestResponse<CheckpointView> getAttemptCheckpoint(
            @PathParam("id") long id,
            @PathParam("step") long step,
            @Parameter(required = true, description = "The attempt's lease token") @HeaderParam("X-Lease-Token")
                    String leaseToken) {
        return RestResponse.ok(checkpoints.checkpointOfStep(caller.get().tokenId(), id, leaseToken, step));
    }

    @PUT
    @Path("/attempts/{id: [0-9]+}/export/{name}")
    @Consumes(MediaType.APPLICATION_OCTET_STREAM)
    @Operation(
            operationId = "uploadExportFile",
            summary = "Upload one file of the final export, streamed, with its SHA-256",
            description = "name is model.safetensors, config.json or model.pt. The file counts only when the body's"
                    + " SHA-256 equals X-Checksum-Sha256; it replaces the job's file of that name. An attempt may end"
                    + " SUCCEEDED only after model.safetensors and config.json are stored.")
    @RequestBody(
            required = true,
            content =
                    @Content(
                            mediaType = MediaType.APPLICATION_OCTET_STREAM,
                            schema = @Schema(type = SchemaType.STRING, format = "binary")))
    @APIResponse(
            responseCode = "200",
            description = "Stored and verified",
            content =
                    @Content(
                            mediaType = MediaType.APPLICATION_JSON,
                            schema = @Schema(implementation = ExportFileView.class)))
    public RestResponse<ExportFileView> uploadExportFile(
            @PathParam("id") long id,
            @Parameter(
                            description = "The export file",
                            schema =
                                    @Schema(
                                            type = SchemaType.STRING,
                                            enumeration = {ExportIndex.WEIGHTS, ExportIndex.CONFIG, ExportIndex.SCRIPT
                                            }))
                    @PathParam("name")
                    String name,
            @HeaderParam("X-Lease-Token") String leaseToken,
            @HeaderParam("X-Checksum-Sha256") String sha256,
            InputStream body) {
        return RestResponse.ok(exports.upload(caller.get().tokenId(), id, leaseToken, name, sha256, body));
    }

    @POST
    @Path("/attempts/{id: [0-9]+}:end")
    @Operation(operationId = "endAttempt", summary = "The attempt ended on the runner: succeeded, failed or stopped")
    public RestResponse<RunnerMessages.AttemptAck> endAttempt(@PathParam("id") long id, RunnerMessages.AttemptEnd end) {
        return RestResponse.ok(attempts.end(caller.get().tokenId(), id, end));
    }

    @GET
    @Path("/checkpoints/{id: [0-9]+}/content")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    @Operation(
            operationId = "downloadCheckpointForResume",
            summary = "A complete checkpoint's bytes, to resume from",
            description = "Only a checkpoint of the job of a current attempt assigned to the calling runner, whose"
                    + " lease token the runner sends in X-Lease-Token.")
    @APIResponse(
            responseCode = "200",
            description = "The file",
            content =
                    @Content(
                            mediaType = MediaType.APPLICATION_OCTET_STREAM,
                            schema = @Schema(type = SchemaType.STRING, format = "binary")))
    public RestResponse<java.io.File> downloadCheckpointForResume(
            @PathParam("id") long id,
            @Parameter(required = true, description = "The lease token of the attempt that resumes")
                    @HeaderParam("X-Lease-Token")
                    String leaseToken,
            @Parameter(description = "Of a sharded checkpoint: the shard to download (required for one)")
                    @QueryParam("shard")
                    Integer shard) {
        CheckpointShards.StoredFile file =
                checkpoints.fileForResume(caller.get().tokenId(), id, leaseToken, shard);
        return RestResponse.ResponseBuilder.ok(files.resolve(file.path()).toFile())
                .header("X-Checksum-Sha256", file.sha256())
                .build();
    }
}
