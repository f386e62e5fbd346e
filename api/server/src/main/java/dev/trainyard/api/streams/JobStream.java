package dev.trainyard.api.streams;

import dev.trainyard.api.auth.Caller;
import io.smallrye.mutiny.subscription.MultiEmitter;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One client following one job: emits only what is new since its last refresh. Every event carries, as its id,
 * the stream's position just after it, so a client that reconnects with it resumes exactly there.
 */
final class JobStream implements LiveStreams.Subscriber {
    private final Caller caller;
    private final StreamQueries queries;
    private final Sse sse;
    private final MultiEmitter<? super OutboundSseEvent> emitter;
    private JobPosition position;

    /** {@code position}: where the client stands ({@link JobPosition#start} for a new client). */
    JobStream(
            Caller caller,
            JobPosition position,
            StreamQueries queries,
            Sse sse,
            MultiEmitter<? super OutboundSseEvent> emitter) {
        this.caller = caller;
        this.position = position;
        this.queries = queries;
        this.sse = sse;
        this.emitter = emitter;
    }

    @Override
    public boolean refresh(boolean keepAlive) {
        if (emitter.isCancelled()) {
            return false;
        }
        StreamQueries.JobUpdate update = queries.jobUpdate(caller, position);
        if (update == null) {
            emitter.complete();
            return false;
        }
        if (update.job() != null) {
            position = position.withVersion(update.version());
            emit("job", update.job());
        }
        update.events().forEach(e -> {
            position = position.withEvent(e.id());
            emit("event", e);
        });
        if (!update.metrics().isEmpty()) {
            Map<String, Long> last = new HashMap<>();
            update.metrics()
                    .forEach((name, points) -> last.put(name, lastOf(points).step()));
            position = position.withSteps(last);
            emit("metrics", update.metrics());
        }
        if (!update.logs().isEmpty()) {
            position = position.withLog(lastOf(update.logs()).id());
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

    private static <T> T lastOf(List<T> list) {
        return list.get(list.size() - 1);
    }

    private void emit(String name, Object data) {
        emitter.emit(sse.newEventBuilder()
                .name(name)
                .id(position.id())
                .mediaType(MediaType.APPLICATION_JSON_TYPE)
                .data(data)
                .build());
    }
}
