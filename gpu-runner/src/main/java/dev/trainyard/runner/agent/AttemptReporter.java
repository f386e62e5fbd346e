package dev.trainyard.runner.agent;

import dev.trainyard.client.ApiException;
import dev.trainyard.client.model.AttemptAck;
import dev.trainyard.client.model.LogBatch;
import dev.trainyard.client.model.LogLine;
import dev.trainyard.client.model.MetricPoint;
import dev.trainyard.client.model.MetricsBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.logging.Logger;

/**
 * Ships one attempt's reports to the API from its own thread: metric points and log lines in batches (at most
 * every second), checkpoints in order. Training never waits for the API: while it is unreachable, reports are
 * buffered (bounded: the oldest metric points are dropped first) and sent once it answers again.
 */
final class AttemptReporter implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(AttemptReporter.class.getName());
    static final int MAX_BUFFERED_POINTS = 200_000;
    static final int MAX_BUFFERED_LINES = 20_000;
    private static final int BATCH_POINTS = 5_000;
    private static final int BATCH_LINES = 1_000;
    /** The longest log line the API stores; longer ones are cut here rather than refused there. */
    static final int MAX_LINE_CHARS = 65_536;

    /**
     * A checkpoint (or this process's shard of one: shard of shards) waiting to be uploaded; its file is a hard link
     * the engine's pruning cannot remove.
     */
    record PendingCheckpoint(Path file, long step, String sha256, Double evalLoss, int shard, int shards) {}

    private final ApiSession session;
    private final long attemptId;
    private final String leaseToken;
    private final Deque<MetricPoint> points = new ArrayDeque<>();
    private final Deque<LogLine> lines = new ArrayDeque<>();
    private final Deque<PendingCheckpoint> checkpoints = new ArrayDeque<>();
    private final AttemptControl control;
    private volatile boolean closing;
    private long droppedPoints;
    /** How many points and lines from the head of each queue the batch under way holds. */
    private int pointsInFlight;

    private int linesInFlight;
    private final Thread thread;

    /** Stops the API asks for in its answers, and its fencing of the attempt, are noted in {@code control}. */
    AttemptReporter(ApiSession session, long attemptId, String leaseToken, AttemptControl control) {
        this.session = session;
        this.control = control;
        this.attemptId = attemptId;
        this.leaseToken = leaseToken;
        this.thread = new Thread(this::loop, "reporter-" + attemptId);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    synchronized void metric(long step, String name, double value) {
        if (!Double.isFinite(value)) {
            return;
        }
        if (points.size() >= MAX_BUFFERED_POINTS) {
            points.pollFirst();
            droppedPoints++;
        }
        points.addLast(new MetricPoint().step(step).name(name).value(value));
    }

    synchronized void log(String line) {
        if (lines.size() >= MAX_BUFFERED_LINES) {
            lines.pollFirst();
        }
        lines.addLast(new LogLine().at(OffsetDateTime.now(ZoneOffset.UTC)).line(storable(line)));
    }

    synchronized void checkpoint(PendingCheckpoint c) {
        checkpoints.addLast(c);
    }

    private void loop() {
        while (!control.fenced()) {
            boolean idle = !flushOnce();
            if (closing && idle) {
                return;
            }
            ApiSession.sleep(idle ? 1_000 : 50);
        }
    }

    /** Sends what is buffered; returns true when something was sent. */
    private boolean flushOnce() {
        boolean sent = attempt(this::sendCheckpoint, this::dropCheckpoint);
        sent |= attempt(this::sendMetrics, this::dropMetricBatch);
        sent |= attempt(this::sendLogs, this::dropLogBatch);
        return sent;
    }

    /** One kind of report: a transient failure keeps it buffered, a refusal drops it, fencing ends everything. */
    private boolean attempt(ApiSession.Call<Boolean> send, Runnable onRefused) {
        if (control.fenced()) {
            return false;
        }
        try {
            return send.run();
        } catch (ApiException e) {
            if (ApiSession.fenced(e)) {
                LOG.warning("attempt " + attemptId + " was fenced by the API: " + e.getResponseBody());
                control.fence();
            } else if (!ApiSession.transientFailure(e)) {
                LOG.warning(
                        "report of attempt " + attemptId + " refused (" + e.getCode() + "): " + e.getResponseBody());
                onRefused.run();
            }
            return false;
        }
    }

    private synchronized void dropCheckpoint() {
        checkpoints.pollFirst();
    }

    /** A refused batch is dropped: sent again it would be refused again, and hold back every later report. */
    private synchronized void dropMetricBatch() {
        for (int i = 0; i < pointsInFlight && !points.isEmpty(); i++) {
            points.pollFirst();
            droppedPoints++;
        }
    }

    private synchronized void dropLogBatch() {
        for (int i = 0; i < linesInFlight && !lines.isEmpty(); i++) {
            lines.pollFirst();
        }
    }

    /** A line the API will store: no NUL or other control characters but tab, no lone surrogates, bounded. */
    static String storable(String line) {
        String text = line == null ? "" : line;
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_LINE_CHARS));
        for (int i = 0; i < text.length() && out.length() < MAX_LINE_CHARS; i++) {
            char ch = text.charAt(i);
            boolean pairedHigh = Character.isHighSurrogate(ch)
                    && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1))
                    && out.length() + 2 <= MAX_LINE_CHARS;
            if (pairedHigh) {
                out.append(ch).append(text.charAt(++i));
            } else if (Character.isSurrogate(ch) || (Character.isISOControl(ch) && ch != '\t')) {
                out.append('\uFFFD');
            } else {
                out.append(ch);
            }
        }
        return out.toString();
    }

    private boolean sendMetrics() {
        List<MetricPoint> batch;
        synchronized (this) {
            if (points.isEmpty()) {
                return false;
            }
            batch = new ArrayList<>(points).subList(0, Math.min(points.size(), BATCH_POINTS));
            pointsInFlight = batch.size();
        }
        AttemptAck ack = session.api()
                .reportMetrics(
                        attemptId, new MetricsBatch().leaseToken(leaseToken).points(batch));
        control.requestStop(ack.getStop());
        synchronized (this) {
            for (int i = 0; i < batch.size(); i++) {
                points.pollFirst();
            }
        }
        return true;
    }

    private boolean sendLogs() {
        List<LogLine> batch;
        synchronized (this) {
            if (lines.isEmpty()) {
                return false;
            }
            batch = new ArrayList<>(lines).subList(0, Math.min(lines.size(), BATCH_LINES));
            linesInFlight = batch.size();
        }
        AttemptAck ack = session.api()
                .reportLogs(attemptId, new LogBatch().leaseToken(leaseToken).lines(batch));
        control.requestStop(ack.getStop());
        synchronized (this) {
            for (int i = 0; i < batch.size(); i++) {
                lines.pollFirst();
            }
        }
        return true;
    }

    private boolean sendCheckpoint() {
        PendingCheckpoint next;
        synchronized (this) {
            next = checkpoints.peekFirst();
        }
        if (next == null) {
            return false;
        }
        session.uploadCheckpoint(attemptId, next, leaseToken);
        synchronized (this) {
            checkpoints.pollFirst();
        }
        try {
            Files.deleteIfExists(next.file());
        } catch (IOException e) {
            LOG.fine("could not remove uploaded checkpoint link " + next.file());
        }
        return true;
    }

    /** Waits (bounded) until everything buffered was sent; returns true when nothing is left. */
    boolean drain(Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        while (System.nanoTime() < deadline && !control.fenced()) {
            synchronized (this) {
                if (points.isEmpty() && lines.isEmpty() && checkpoints.isEmpty()) {
                    return true;
                }
            }
            ApiSession.sleep(100);
        }
        return false;
    }

    long droppedPoints() {
        return droppedPoints;
    }

    @Override
    public void close() {
        closing = true;
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
