package dev.trainyard.cli;

import java.time.Duration;
import java.time.Instant;

/**
 * The one-line view of a job being followed: state, a progress bar, steps, the last loss and the time left,
 * estimated from the steps made since following began.
 */
public final class ProgressLine {
    static final int BAR_WIDTH = 24;
    private Instant firstAt;
    private long firstStep = -1;

    /** Remembers the first observation; the rate is measured from it. */
    public void observe(long step, Instant now) {
        if (firstStep < 0 || step < firstStep) {
            firstStep = step;
            firstAt = now;
        }
    }

    /** Time left at the observed rate, or null while no progress has been seen. */
    public Duration eta(long step, long total, Instant now) {
        if (firstStep < 0 || step <= firstStep || total <= step) {
            return total > 0 && step >= total ? Duration.ZERO : null;
        }
        double secondsPerStep = Duration.between(firstAt, now).toMillis() / 1000.0 / (step - firstStep);
        return Duration.ofMillis(Math.round(secondsPerStep * (total - step) * 1000));
    }

    public String render(String state, long step, long total, Double loss, Instant now) {
        Duration eta = eta(step, total, now);
        return String.format(
                "%-9s %s %s%s%s",
                state,
                bar(step, total),
                Formats.steps(step, total),
                loss == null ? "" : "  loss " + Formats.number(loss),
                eta == null || JobStates.isTerminal(state) ? "" : "  eta " + Formats.duration(eta));
    }

    /** "[#######.................]  29%". */
    static String bar(long step, long total) {
        double fraction = total <= 0 ? 0 : Math.min(1.0, (double) step / total);
        int filled = (int) Math.round(fraction * BAR_WIDTH);
        return "[" + "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled) + "] "
                + String.format("%3d%%", Math.round(fraction * 100));
    }
}
