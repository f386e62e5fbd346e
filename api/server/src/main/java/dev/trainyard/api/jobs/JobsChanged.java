package dev.trainyard.api.jobs;

import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a committed change means to the rest of the platform: whether the scheduler should look again (the queue
 * or the free capacity changed), and whose long-polling heartbeats should read their assignments again (every
 * runner, or only the listed ones). Changes merge: a merged change wakes whatever either one would.
 */
public record JobsChanged(boolean schedule, boolean allRunners, Set<Long> runners) {
    /** Beyond this many runners one NOTIFY names none of them and wakes all: the payload stays far below 8,000 bytes. */
    static final int MAX_NAMED_RUNNERS = 500;

    public JobsChanged {
        runners = allRunners ? Set.of() : Set.copyOf(runners);
    }

    /** Work to schedule, and no runner's assignments changed (a submission). */
    public static JobsChanged queue() {
        return new JobsChanged(true, false, Set.of());
    }

    /** Assignments of these runners changed; the scheduler need not look. */
    public static JobsChanged runners(Collection<Long> runnerIds) {
        return new JobsChanged(false, false, Set.copyOf(runnerIds));
    }

    /** Anything may have changed: the scheduler looks and every waiting runner reads again. */
    public static JobsChanged everything() {
        return new JobsChanged(true, true, Set.of());
    }

    public JobsChanged withSchedule() {
        return new JobsChanged(true, allRunners, runners);
    }

    public boolean wakes(long runnerId) {
        return allRunners || runners.contains(runnerId);
    }

    public boolean isEmpty() {
        return !schedule && !allRunners && runners.isEmpty();
    }

    public JobsChanged merge(JobsChanged other) {
        if (other == null) {
            return this;
        }
        boolean all = allRunners || other.allRunners || runners.size() + other.runners.size() > MAX_NAMED_RUNNERS;
        Set<Long> union = Set.of();
        if (!all) {
            union = new TreeSet<>(runners);
            union.addAll(other.runners);
            all = union.size() > MAX_NAMED_RUNNERS;
        }
        return new JobsChanged(schedule || other.schedule, all, all ? Set.of() : union);
    }

    /** The NOTIFY payload: {@code origin s|- *|id,id,...}, for example {@code api-1f2e s 4,7}. */
    public String encode(String origin) {
        StringBuilder b = new StringBuilder(origin).append(schedule ? " s " : " - ");
        if (allRunners) {
            return b.append('*').toString();
        }
        new TreeSet<>(runners).forEach(id -> b.append(id).append(','));
        if (!runners.isEmpty()) {
            b.setLength(b.length() - 1);
        }
        return b.toString();
    }

    /** A payload from {@link #encode}; what it cannot read (an older replica's, say) counts as {@link #everything()}. */
    public static Decoded decode(String payload) {
        String[] parts = payload == null ? new String[0] : payload.split(" ", -1);
        if (parts.length != 3 || !(parts[1].equals("s") || parts[1].equals("-"))) {
            return new Decoded(null, everything());
        }
        boolean schedule = parts[1].equals("s");
        if (parts[2].equals("*")) {
            return new Decoded(parts[0], new JobsChanged(schedule, true, Set.of()));
        }
        Set<Long> ids = new TreeSet<>();
        try {
            for (String id : parts[2].isEmpty() ? new String[0] : parts[2].split(",")) {
                ids.add(Long.parseLong(id));
            }
        } catch (NumberFormatException e) {
            return new Decoded(parts[0], everything());
        }
        return new Decoded(parts[0], new JobsChanged(schedule, false, ids));
    }

    /** A decoded payload and the replica that sent it (null when unknown). */
    public record Decoded(String origin, JobsChanged change) {}
}
