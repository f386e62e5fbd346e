package dev.trainyard.api.streams;

import dev.trainyard.api.auth.Caller;
import io.smallrye.mutiny.subscription.MultiEmitter;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;

/** One client following one job: emits only what is new since its last refresh. */
final class JobStream implements LiveStreams.Subscriber {
    private final Caller caller;
    private final long jobId;
    private final StreamQueries queries;
    private final Sse sse;
    private final MultiEmitter<? super OutboundSseEvent> emitter;
    private long jobVersion = -1;
    private long lastEventId;
    private final java.util.Map<String, Long> lastSteps = new java.util.HashMap<>();
    private long lastLogId;

    JobStream(
            Caller caller, long jobId, StreamQueries queries, Sse sse, MultiEmitter<? super OutboundSseEvent> emitter) {
        this.caller = caller;
        this.jobId = jobId;
        this.queries = queries;
        this.sse = sse;
        this.emitter = emitter;
    }

    @Override
    public boolean refresh(boolean keepAlive) {
        if (emitter.isCancelled()) {
            return false;
        }
        StreamQueries.JobUpdate update =
                queries.jobUpdate(caller, jobId, jobVersion, lastEventId, lastSteps, lastLogId);
        if (update == null) {
            emitter.complete();
            return false;
        }
        if (update.job() != null) {
            jobVersion = update.version();
            emit("job", update.job());
        }
        update.events().forEach(e -> emit("event", e));
        if (!update.events().isEmpty()) {
            lastEventId = update.events().get(update.events().size() - 1).id();
        }
        if (!update.metrics().isEmpty()) {
            update.metrics()
                    .forEach((name, points) ->
                            lastSteps.put(name, points.get(points.size() - 1).step()));
            emit("metrics", update.metrics());
        }
        if (!update.logs().isEmpty()) {
            lastLogId = update.logs().get(update.logs().size() - 1).id();
            emit("log", update.logs());
        }
        if (keepAlive) {
            emitter.emit(sse.newEventBuilder().comment("keep-alive").build());
        }
        return true;
    }

    @Override
    public long tokenId() {
        return caller.tokenId();
    }

    @Override
    public void close() {
        emitter.complete();
    }

    private void emit(String name, Object data) {
        emitter.emit(sse.newEventBuilder()
                .name(name)
                .mediaType(MediaType.APPLICATION_JSON_TYPE)
                .data(data)
                .build());
    }
}
