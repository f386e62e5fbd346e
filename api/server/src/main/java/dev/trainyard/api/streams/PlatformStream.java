package dev.trainyard.api.streams;

import dev.trainyard.api.auth.Caller;
import io.smallrye.mutiny.subscription.MultiEmitter;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;

/** One client following every job it may see (the dashboard's job table). */
final class PlatformStream implements LiveStreams.Subscriber {
    private final Caller caller;
    private final StreamQueries queries;
    private final Sse sse;
    private final MultiEmitter<? super OutboundSseEvent> emitter;
    private final EventCursor cursor;
    private String lastProgress = "";

    /** {@code cursor} is taken before the headers go out: whatever changes after the client saw them, it hears. */
    PlatformStream(
            Caller caller,
            EventCursor cursor,
            StreamQueries queries,
            Sse sse,
            MultiEmitter<? super OutboundSseEvent> emitter) {
        this.caller = caller;
        this.cursor = cursor;
        this.queries = queries;
        this.sse = sse;
        this.emitter = emitter;
    }

    @Override
    public boolean refresh(boolean keepAlive) {
        if (emitter.isCancelled()) {
            return false;
        }
        StreamQueries.PlatformUpdate update = queries.platformUpdate(caller, cursor);
        update.jobs().forEach(j -> emit("job", j));
        String progress = update.progress().toString();
        if (!update.progress().isEmpty() && !progress.equals(lastProgress)) {
            lastProgress = progress;
            emit("progress", update.progress());
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
