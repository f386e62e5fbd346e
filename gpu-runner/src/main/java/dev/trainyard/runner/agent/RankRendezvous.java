package dev.trainyard.runner.agent;

import dev.trainyard.client.model.Assignment;
import dev.trainyard.client.model.PipelineShare;
import dev.trainyard.client.model.Rendezvous;
import dev.trainyard.runner.engine.DataParallelGroup;
import dev.trainyard.runner.engine.PipelineGroup;
import dev.trainyard.runner.engine.StorePorts;
import dev.trainyard.runner.engine.TrainingRun;
import dev.trainyard.runner.engine.torch.StoreDirectory;
import dev.trainyard.spec.JobSpec;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * How this runner's rank of an attempt over several runners meets the others: rank 0 reserves a port for its
 * control TCP store and publishes it through the API; the other ranks wait until a heartbeat carries that address.
 * The assignment says whether the ranks hold whole replicas (a data-parallel group) or consecutive stages of one
 * replica's pipeline (a pipeline group); both meet the same way. Replicas each cut between runners form one
 * pipeline group per replica and one data-parallel group per pipeline rank ({@link
 * dev.trainyard.runner.engine.ProcessGrid}); each group's rank 0 serves its stores on its own host, as one group's
 * rank 0 does, and announces where in a {@link StoreDirectory} that process 0 serves at the published address. A
 * share of stages of tensorParallel t comes with (end - first) x t of the runner's GPUs: the engine runs each stage's
 * t-way group within this process, so only the stage boundaries cross runners.
 */
final class RankRendezvous {
    private final ApiSession session;
    private final Assignment assignment;
    private final RunnerAgent.Settings settings;
    private final AttemptControl control;
    private final CompletableFuture<String> address = new CompletableFuture<>();

    RankRendezvous(ApiSession session, Assignment assignment, RunnerAgent.Settings settings, AttemptControl control) {
        this.session = session;
        this.assignment = assignment;
        this.settings = settings;
        this.control = control;
    }

    /** Rank 0's address as a heartbeat lists it (null until published). */
    void offer(String published) {
        if (published != null) {
            address.complete(published);
        }
    }

    /** The run as this runner's rank: its stages of a pipeline cut between runners, or its replicas. */
    TrainingRun join(TrainingRun run) throws IOException, InterruptedException {
        PipelineShare share = assignment.getPipeline();
        if (share == null) {
            return run.asReplica(replicaGroup(run.spec()));
        }
        return replicasOf(share) > 1 ? asGridProcess(run, share) : run.asPipelineRank(pipelineRank(share));
    }

    private static int replicasOf(PipelineShare share) {
        return share.getReplicas() == null ? 1 : share.getReplicas();
    }

    /**
     * This runner as pipeline rank {@code share.rank} of replica {@code share.replica}: its pipeline group meets at
     * the store of that replica's pipeline rank 0, its data-parallel group (the same stages in every replica) at
     * the store of replica 0's process holding them.
     */
    private TrainingRun asGridProcess(TrainingRun run, PipelineShare share) throws IOException, InterruptedException {
        int replica = share.getReplica();
        int replicas = share.getReplicas();
        int rank = share.getRank();
        String pipelineKey = "pipeline/" + replica;
        String replicasKey = "replicas/" + rank;
        boolean processZero = assignment.getRank() == 0;
        String directory = controlStore();
        try (StoreDirectory stores = processZero
                ? StoreDirectory.serve(hostOf(directory), portOf(directory), timeout(), control::abandoned)
                : StoreDirectory.join(hostOf(directory), portOf(directory), timeout(), control::abandoned)) {
            if (rank == 0) {
                stores.announce(pipelineKey, settings.host() + ":" + StorePorts.free());
            }
            if (replica == 0) {
                stores.announce(replicasKey, settings.host() + ":" + StorePorts.free());
            }
            String pipelineStore = stores.lookUp(pipelineKey);
            String replicasStore = stores.lookUp(replicasKey);
            stores.finishLookUps(share.getProcesses() * replicas, processZero);
            // an elastic job running short has fewer replicas than its spec: each process trains several's rows
            return run.asReplica(DataParallelGroup.ofGrid(
                            replica,
                            replicas,
                            run.spec().parallelism().dataParallel(),
                            hostOf(replicasStore),
                            portOf(replicasStore),
                            timeout()))
                    .asPipelineRank(new PipelineGroup(
                            rank,
                            share.getProcesses(),
                            share.getFirstStage(),
                            share.getEndStage(),
                            share.getStages(),
                            hostOf(pipelineStore),
                            portOf(pipelineStore),
                            timeout()));
        }
    }

    private Duration timeout() {
        return settings.dataParallelTimeout();
    }

    /** This runner's place among the data-parallel ranks, which meet at rank 0's control store. */
    private DataParallelGroup replicaGroup(JobSpec spec) throws IOException, InterruptedException {
        String address = controlStore();
        return new DataParallelGroup(
                assignment.getRank(),
                assignment.getWorldSize(),
                assignment.getFirstReplica(),
                assignment.getLocalReplicas(),
                spec.parallelism().dataParallel(),
                hostOf(address),
                portOf(address),
                settings.dataParallelTimeout());
    }

    /**
     * This runner's stages of a pipeline cut between runners: its neighbours are the ranks before and after it, and
     * all meet at rank 0's control store, as data-parallel ranks do.
     */
    private PipelineGroup pipelineRank(PipelineShare share) throws IOException, InterruptedException {
        String address = controlStore();
        return new PipelineGroup(
                share.getRank(),
                share.getProcesses(),
                share.getFirstStage(),
                share.getEndStage(),
                share.getStages(),
                hostOf(address),
                portOf(address),
                settings.dataParallelTimeout());
    }

    /**
     * host:port of rank 0's control store (which announces the other stores' ports): rank 0 reserves a port and
     * publishes it; the others wait until their heartbeat carries the address.
     */
    private String controlStore() throws IOException, InterruptedException {
        if (assignment.getRank() == 0) {
            int port = StorePorts.free();
            ApiSession.withRetries(
                    () -> session.api()
                            .publishRendezvous(
                                    assignment.getAttemptId(),
                                    new Rendezvous()
                                            .leaseToken(assignment.getLeaseToken())
                                            .host(settings.host())
                                            .port(port)),
                    Duration.ofMinutes(2));
            return settings.host() + ":" + port;
        }
        return awaitRendezvous();
    }

    private static String hostOf(String address) {
        return address.substring(0, address.lastIndexOf(':'));
    }

    private static int portOf(String address) {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }

    /** Rank 0's store address from a heartbeat; gives up when the attempt is dropped or the wait times out. */
    private String awaitRendezvous() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + settings.dataParallelTimeout().toNanos();
        while (!control.abandoned() && System.nanoTime() < deadline) {
            try {
                return address.get(250, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                // look again
            } catch (ExecutionException e) {
                throw new IOException("no rendezvous address", e);
            }
        }
        throw new IOException(
                control.abandoned()
                        ? "dropped while waiting for rank 0's address"
                        : "rank 0 did not publish its address within " + settings.dataParallelTimeout());
    }
}
