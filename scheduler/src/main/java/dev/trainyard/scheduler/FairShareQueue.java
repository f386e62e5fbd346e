package dev.trainyard.scheduler;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * The queue in scheduling order: priority classes from highest rank down; within a class the project with the
 * least usage relative to its share goes next (usage grows as its jobs are placed), then age, then job id.
 */
final class FairShareQueue {
    private static final Comparator<QueuedJob> BY_AGE =
            Comparator.comparing(QueuedJob::submittedAt).thenComparingLong(QueuedJob::id);

    private final ProjectAccounts accounts;
    /** Jobs per priority rank, highest rank first, then per project in age order. */
    private final TreeMap<Integer, Map<Long, List<QueuedJob>>> classes = new TreeMap<>(Comparator.reverseOrder());

    private PriorityQueue<ProjectLine> current;
    private ProjectLine taken;

    FairShareQueue(List<QueuedJob> jobs, ProjectAccounts accounts) {
        this.accounts = accounts;
        for (QueuedJob job : jobs) {
            classes.computeIfAbsent(job.priority().rank(), rank -> new HashMap<>())
                    .computeIfAbsent(job.projectId(), project -> new ArrayList<>())
                    .add(job);
        }
    }

    /** The next job in order, or null when the queue is exhausted; call after charging the previous job. */
    QueuedJob next() {
        if (taken != null && taken.hasNext()) {
            current.add(taken.rekeyed(accounts.relativeUsage(taken.projectId)));
        }
        taken = null;
        while (current == null || current.isEmpty()) {
            if (classes.isEmpty()) {
                return null;
            }
            current = openClass(classes.pollFirstEntry().getValue());
        }
        taken = current.poll();
        return taken.advance();
    }

    private PriorityQueue<ProjectLine> openClass(Map<Long, List<QueuedJob>> byProject) {
        PriorityQueue<ProjectLine> lines = new PriorityQueue<>(ProjectLine.ORDER);
        for (Map.Entry<Long, List<QueuedJob>> entry : byProject.entrySet()) {
            List<QueuedJob> jobs = entry.getValue();
            jobs.sort(BY_AGE);
            lines.add(new ProjectLine(entry.getKey(), jobs, 0, accounts.relativeUsage(entry.getKey())));
        }
        return lines;
    }

    /** One project's jobs of a class, keyed by the project's relative usage when it was (re)inserted. */
    private static final class ProjectLine {
        static final Comparator<ProjectLine> ORDER =
                Comparator.comparingDouble((ProjectLine l) -> l.usage).thenComparing(ProjectLine::head, BY_AGE);

        final long projectId;
        final List<QueuedJob> jobs;
        int next;
        final double usage;

        ProjectLine(long projectId, List<QueuedJob> jobs, int next, double usage) {
            this.projectId = projectId;
            this.jobs = jobs;
            this.next = next;
            this.usage = usage;
        }

        QueuedJob head() {
            return jobs.get(next);
        }

        QueuedJob advance() {
            return jobs.get(next++);
        }

        boolean hasNext() {
            return next < jobs.size();
        }

        ProjectLine rekeyed(double newUsage) {
            return new ProjectLine(projectId, jobs, next, newUsage);
        }
    }
}
