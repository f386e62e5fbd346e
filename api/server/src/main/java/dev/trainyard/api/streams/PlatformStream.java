package dev.trainyard.api.streams;

import dev.trainyard.api.auth.Caller;
import dev.trainyard.api.jobs.JobView;
import io.smallrye.mutiny.subscription.MultiEmitter;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One client following every job it may see (the dashboard's job table). Every event carries the cursor just
 * after it as its id: a client that reconnects with it hears of every job that changed meanwhile.
 */
final class PlatformStream implements LiveStreams.Subscriber {
    private final Caller caller;
    private final StreamQueries queries;
    private final Sse sse;
    private final MultiEmitter<? super OutboundSseEvent> emitter;
    private final EventCursor cursor;
    private String lastProgress = "";
    private String lastId = "";
    private String reloadReason;

    /**
     * {@code cursor} is taken before the headers go out: whatever changes after the client saw them, it hears.
     * A non-null {@code reloadReason} is sent first, as a {@code reload} event: the client could not be resumed.
     */
    PlatformStream(
            Caller caller,
            EventCursor cursor,
            String reloadReason,
            StreamQueries queries,
            Sse sse,
            MultiEmitter<? super OutboundSseEvent> emitter) {
        this.caller = caller;
        this.cursor = cursor;
        this.reloadReason = reloadReason;
        this.queries = queries;
        this.sse = sse;
        this.emitter = emitter;
    }

    @Override
    public boolean refresh(boolean keepAlive) {
        if (emitter.isCancelled()) {
            return false;
        }
        if (reloadReason != null) {
            emit("reload", new StreamEvents.Reload(reloadReason));
            reloadReason = null;
        }
        StreamQueries.PlatformUpdate update;
        do {
            update = queries.platformUpdate(caller, cursor);
            announce(update.events(), update.jobs());
        } while (update.more());
        String progress = update.progress().toString();
        if (!update.progress().isEmpty() && !progress.equals(lastProgress)) {
            lastProgress = progress;
            emit("progress", update.progress());
        }
        if (keepAlive) {
            // the cursor may have moved past changes of jobs this caller may not see: hand it over, so that a
            // resume does not read them again (nor fall out of the window because of them)
            if (!cursor.id().equals(lastId)) {
                emit("position", StreamEvents.NO_DATA);
            }
            emitter.emit(sse.newEventBuilder().comment("keep-alive").build());
        }
        return true;
    }

    /**
     * Moves the cursor over {@code events} in id order and emits each visible one as a {@code transition}, then
     * each visible job once, at its newest event: every id covers the events up to its own, so a client cut off
     * after it misses no transition before it and hears each later one once.
     */
    private void announce(List<StreamQueries.NewEvent> events, Map<Long, JobView> jobs) {
        Map<Long, Long> newest = new HashMap<>();
        events.forEach(e -> newest.put(e.jobId(), e.id()));
        for (StreamQueries.NewEvent e : events) {
            cursor.take(e.id());
            JobView job = jobs.get(e.jobId());
            if (job != null) {
                emit("transition", e.event());
                if (newest.get(e.jobId()) == e.id()) {
                    emit("job", job);
                }
            }
        }
        cursor.trim();
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
        lastId = cursor.id();
        emitter.emit(sse.newEventBuilder()
                .name(name)
                .id(lastId)
                .mediaType(MediaType.APPLICATION_JSON_TYPE)
                .data(data)
                .build());
    }
}
