package dev.trainyard.api.runners;

import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A runner node as people see it. */
@Schema(name = "Runner")
public record RunnerView(
        @Schema(required = true) long id,
        @Schema(required = true) String name,
        @Schema(required = true) String host,
        @Schema(required = true) String pool,

        @Schema(required = true, description = "REGISTERED, ACTIVE, DRAINING, OFFLINE or LOST")
        String state,

        @Schema(required = true) int totalGpus,
        @Schema(required = true) int usedGpus,
        @Schema(required = true) List<Device> devices,
        @Schema(required = true) Instant registeredAt,
        Instant lastHeartbeatAt,

        @Schema(required = true, description = "Jobs with a live attempt on this runner")
        List<Long> runningJobs) {

    /** One device of a runner. */
    @Schema(name = "Device")
    public record Device(
            @Schema(required = true) int index,

            @Schema(required = true, description = "cuda or cpu", maxLength = 16)
            String kind,

            @Schema(required = true, maxLength = 128, pattern = "^[A-Za-z0-9 ._:/()+-]{1,128}$")
            String name,

            @Schema(
                    description = "The device's memory in bytes (CPU devices: the host memory they share), checked"
                            + " against a job's memory plan at submission; not negative; absent when unknown")
            Long memoryBytes) {}
}
