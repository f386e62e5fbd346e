package dev.trainyard.api.streams;

import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How far a client following one job has read, in each of the stream's sources: the job version it last got,
 * its last state-transition event, its last log line, and per metric name its last step (metrics have no
 * sequence of their own, and an eval point may arrive after later loss points). Encoded as the SSE event id,
 * {@code J<job>-<version>-<event>-<log>-<name>:<step>,...}, so a client that reconnects with it as
 * {@code Last-Event-ID} gets exactly what follows.
 */
record JobPosition(long jobId, long version, long eventId, long logId, SortedMap<String, Long> steps) {
    private static final Pattern ID = Pattern.compile("J(\\d{1,18})-(\\d{1,18})-(\\d{1,18})-(\\d{1,18})-(.*)");
    private static final Pattern STEP = Pattern.compile("([a-z0-9_./]{1,64}):(\\d{1,18})");
    /** More names than any job reports: bounds the work a crafted id can cause. */
    private static final int MAX_NAMES = 1_000;

    JobPosition {
        steps = Collections.unmodifiableSortedMap(new TreeMap<>(steps));
    }

    /** Nothing read yet: the stream starts with the job and everything it has. */
    static JobPosition start(long jobId) {
        return new JobPosition(jobId, -1, 0, 0, new TreeMap<>());
    }

    /** Reads a {@code Last-Event-ID}; a malformed one, or one of another stream, is a 400. */
    static JobPosition parse(String id, long jobId) {
        Matcher m = ID.matcher(id);
        if (!m.matches()) {
            throw invalid("is not an event id of a job stream");
        }
        if (Long.parseLong(m.group(1)) != jobId) {
            throw invalid("is an event id of another job's stream");
        }
        SortedMap<String, Long> steps = new TreeMap<>();
        String list = m.group(5);
        if (!list.isEmpty()) {
            String[] parts = list.split(",", -1);
            if (parts.length > MAX_NAMES) {
                throw invalid("names too many metrics");
            }
            for (String part : parts) {
                Matcher s = STEP.matcher(part);
                if (!s.matches() || steps.put(s.group(1), Long.parseLong(s.group(2))) != null) {
                    throw invalid("is not an event id of a job stream");
                }
            }
        }
        return new JobPosition(
                jobId, Long.parseLong(m.group(2)), Long.parseLong(m.group(3)), Long.parseLong(m.group(4)), steps);
    }

    /** The SSE id of this position. */
    String id() {
        StringBuilder b = new StringBuilder()
                .append('J')
                .append(jobId)
                .append('-')
                .append(Math.max(version, 0))
                .append('-')
                .append(eventId)
                .append('-')
                .append(logId)
                .append('-');
        String separator = "";
        for (Map.Entry<String, Long> e : steps.entrySet()) {
            b.append(separator).append(e.getKey()).append(':').append(e.getValue());
            separator = ",";
        }
        return b.toString();
    }

    JobPosition withVersion(long v) {
        return new JobPosition(jobId, v, eventId, logId, steps);
    }

    JobPosition withEvent(long id) {
        return new JobPosition(jobId, version, id, logId, steps);
    }

    JobPosition withLog(long id) {
        return new JobPosition(jobId, version, eventId, id, steps);
    }

    /** This position with the last step of each metric in {@code last} moved forward. */
    JobPosition withSteps(Map<String, Long> last) {
        SortedMap<String, Long> moved = new TreeMap<>(steps);
        last.forEach((name, step) -> moved.merge(name, step, Math::max));
        return new JobPosition(jobId, version, eventId, logId, moved);
    }

    static ApiException.InvalidInput invalid(String why) {
        return new ApiException.InvalidInput(ProblemType.BAD_PARAMETER, "Last-Event-ID " + why);
    }
}
