package dev.trainyard.api.protocol;

import dev.trainyard.api.runners.RunnerView;
import dev.trainyard.spec.Violations;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a runner's report must hold to be believed, checked like a user's body before anything is stored: devices
 * that exist, steps the job has, times near now. The rules every string and number meet (no NUL, declared lengths,
 * finite numbers) are {@code input.BodyRules}'; these are the protocol's own.
 */
final class ProtocolBodies {
    /** A log line stamped further ahead than this is a clock gone wrong, not a time. */
    static final Duration MAX_CLOCK_AHEAD = Duration.ofMinutes(5);

    /** Runners send their lines within seconds; a day covers a long outage of the API. */
    static final Duration MAX_LINE_AGE = Duration.ofDays(1);

    static final List<String> DEVICE_KINDS = List.of("cuda", "cpu");

    private ProtocolBodies() {}

    static void checkDevices(Violations v, List<RunnerView.Device> devices) {
        Set<Integer> indexes = new HashSet<>();
        for (int i = 0; i < devices.size(); i++) {
            RunnerView.Device d = devices.get(i);
            String at = "devices[" + i + "]";
            if (d == null) {
                v.add(at, "must be a device");
                continue;
            }
            if (d.index() < 0 || !indexes.add(d.index())) {
                v.add(at + ".index", "must be a non-negative index, each device's own");
            }
            if (v.require(at + ".kind", d.kind())) {
                v.checkOneOf(at + ".kind", d.kind(), DEVICE_KINDS);
            }
            if (v.require(at + ".name", d.name()) && d.name().isBlank()) {
                v.add(at + ".name", "must not be blank");
            }
            if (d.memoryBytes() != null && d.memoryBytes() < 0) {
                v.add(at + ".memoryBytes", "must not be negative");
            }
        }
    }

    /** Each line has a text and a time near now. */
    static void checkLines(List<RunnerMessages.LogLine> lines, Instant now) {
        Violations v = new Violations();
        for (int i = 0; i < lines.size(); i++) {
            RunnerMessages.LogLine l = lines.get(i);
            String at = "lines[" + i + "]";
            if (l == null) {
                v.add(at, "must be a log line");
                continue;
            }
            v.require(at + ".line", l.line());
            if (v.require(at + ".at", l.at())
                    && (l.at().isAfter(now.plus(MAX_CLOCK_AHEAD)) || l.at().isBefore(now.minus(MAX_LINE_AGE)))) {
                v.add(
                        at + ".at",
                        "must be within a day before now and " + MAX_CLOCK_AHEAD.toMinutes() + " minutes after");
            }
        }
        v.throwIfAny();
    }

    /** A step the runner reports must be one the job has: 0 to its total steps. */
    static void checkStep(String field, long step, long totalSteps) {
        Violations v = new Violations();
        if (step < 0 || step > totalSteps) {
            v.add(field, "must be between 0 and the job's " + totalSteps + " steps, was " + step);
        }
        v.throwIfAny();
    }
}
