package dev.trainyard.runner.engine;

import dev.trainyard.spec.JobSpec;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything one call of {@link Trainer#train} needs: the spec, how many devices it may use, where outputs
 * go, an optional checkpoint to resume from, and the listener and stop signal it reports to.
 *
 * @param devices devices granted (pipeline stages = devices, unless the spec fixes fewer stages)
 * @param threadsPerStage intra-op threads of each stage; 0 = available processors / stages
 * @param memoryLimitBytes memory the plan must fit into; 0 = what the host reports available
 * @param dataParallel this process's replicas and peers; by default it holds all of them alone
 * @param dataFetcher how data and model files are read: under the pool's policy on a runner, freely offline
 * @param peakFlopsPerDevice the peak FLOP/s of one device as its pool declares it; 0 = not declared (no MFU)
 * @param pipeline this process's stages when the pipeline spans processes; by default it holds all of them
 */
public record TrainingRun(
        JobSpec spec,
        int devices,
        Path outputDir,
        Optional<Path> resumeFrom,
        TrainingListener listener,
        StopSignal stopSignal,
        int threadsPerStage,
        long memoryLimitBytes,
        DataParallelGroup dataParallel,
        DataFetcher dataFetcher,
        double peakFlopsPerDevice,
        PipelineGroup pipeline) {

    public TrainingRun {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(outputDir, "outputDir");
        resumeFrom = resumeFrom == null ? Optional.empty() : resumeFrom;
        listener = listener == null ? TrainingListener.none() : listener;
        stopSignal = stopSignal == null ? StopSignal.never() : stopSignal;
        dataParallel = dataParallel == null
                ? DataParallelGroup.whole(spec.parallelism().dataParallel())
                : dataParallel;
        dataFetcher = dataFetcher == null ? DataFetcher.unrestricted() : dataFetcher;
        pipeline = pipeline == null ? PipelineGroup.single() : pipeline;
        if (devices < 1) {
            throw new IllegalArgumentException("devices must be at least 1");
        }
    }

    /** A run on {@code devices} devices writing to {@code outputDir}, with no listener and no stop signal. */
    public static TrainingRun of(JobSpec spec, int devices, Path outputDir) {
        return new TrainingRun(spec, devices, outputDir, Optional.empty(), null, null, 0, 0, null, null, 0, null);
    }

    public TrainingRun resumingFrom(Path checkpoint) {
        return new TrainingRun(
                spec,
                devices,
                outputDir,
                Optional.of(checkpoint),
                listener,
                stopSignal,
                threadsPerStage,
                memoryLimitBytes,
                dataParallel,
                dataFetcher,
                peakFlopsPerDevice,
                pipeline);
    }

    public TrainingRun reportingTo(TrainingListener other) {
        return new TrainingRun(
                spec,
                devices,
                outputDir,
                resumeFrom,
                other,
                stopSignal,
                threadsPerStage,
                memoryLimitBytes,
                dataParallel,
                dataFetcher,
                peakFlopsPerDevice,
                pipeline);
    }

    public TrainingRun stoppingOn(StopSignal other) {
        return new TrainingRun(
                spec,
                devices,
                outputDir,
                resumeFrom,
                listener,
                other,
                threadsPerStage,
                memoryLimitBytes,
                dataParallel,
                dataFetcher,
                peakFlopsPerDevice,
                pipeline);
    }

    public TrainingRun withThreadsPerStage(int threads) {
        return new TrainingRun(
                spec,
                devices,
                outputDir,
                resumeFrom,
                listener,
                stopSignal,
                threads,
                memoryLimitBytes,
                dataParallel,
                dataFetcher,
                peakFlopsPerDevice,
                pipeline);
    }

    public TrainingRun withMemoryLimit(long bytes) {
        return new TrainingRun(
                spec,
                devices,
                outputDir,
                resumeFrom,
                listener,
                stopSignal,
                threadsPerStage,
                bytes,
                dataParallel,
                dataFetcher,
                peakFlopsPerDevice,
                pipeline);
    }

    /** The run reading its data and model through {@code fetcher} (a runner passes its pool's policy). */
    public TrainingRun readingThrough(DataFetcher fetcher) {
        return new TrainingRun(
                spec,
                devices,
                outputDir,
                resumeFrom,
                listener,
                stopSignal,
                threadsPerStage,
                memoryLimitBytes,
                dataParallel,
                fetcher,
                peakFlopsPerDevice,
                pipeline);
    }

    /** The run knowing its devices' declared peak FLOP/s, so it reports MFU (0: not declared, no MFU). */
    public TrainingRun withPeakFlopsPerDevice(double flops) {
        return new TrainingRun(
                spec,
                devices,
                outputDir,
                resumeFrom,
                listener,
                stopSignal,
                threadsPerStage,
                memoryLimitBytes,
                dataParallel,
                dataFetcher,
                flops,
                pipeline);
    }

    /** This process as one replica of a data-parallel group (the spec's dataParallel must match). */
    public TrainingRun asReplica(DataParallelGroup group) {
        return new TrainingRun(
                spec,
                devices,
                outputDir,
                resumeFrom,
                listener,
                stopSignal,
                threadsPerStage,
                memoryLimitBytes,
                group,
                dataFetcher,
                peakFlopsPerDevice,
                pipeline);
    }

    /** This process as one pipeline rank, holding some of the spec's stages (see {@link PipelineGroup}). */
    public TrainingRun asPipelineRank(PipelineGroup group) {
        return new TrainingRun(
                spec,
                devices,
                outputDir,
                resumeFrom,
                listener,
                stopSignal,
                threadsPerStage,
                memoryLimitBytes,
                dataParallel,
                dataFetcher,
                peakFlopsPerDevice,
                group);
    }

    /**
     * This process among all of the job's: {@code replicaProcess · pipelineRanks + pipelineRank}, the data-parallel
     * rank outermost (see {@link ProcessGrid}). It numbers the process's checkpoint shard.
     */
    public int process() {
        return dataParallel.rank() * pipeline.processes() + pipeline.rank();
    }

    /** The job's processes: data-parallel processes x pipeline ranks. */
    public int processes() {
        return dataParallel.processes() * pipeline.processes();
    }

    /** Whether this process writes checkpoints and the export: data-parallel rank 0 and pipeline rank 0. */
    public boolean writesOutputs() {
        return dataParallel.writesOutputs() && pipeline.writesOutputs();
    }

    /**
     * Pipeline stages for this process: the spec's count if it fits the devices, else one per device. A process
     * holding several replicas divides its devices by their number (it trains their rows as one pipeline), and
     * each stage takes {@code parallelism.tensorParallel} devices. A process of an elastic job running short holds
     * more replicas than its devices' worth: it still runs one replica's pipeline, on one replica's devices.
     */
    public int stageCount() {
        if (pipeline.isDistributed()) {
            return pipeline.localStages();
        }
        int tensorParallel = spec.parallelism().tensorParallelOrDefault();
        int perReplica = Math.max(devices / dataParallel.localReplicas(), Math.min(devices, replicaDevices()));
        int fromDevices = Math.max(1, perReplica / tensorParallel);
        Integer asked = spec.parallelism().stages();
        return asked != null && asked > 0 ? Math.min(asked, fromDevices) : fromDevices;
    }

    /** One replica's devices as the job asked for them, or 0 when the spec names no resources (offline). */
    private int replicaDevices() {
        if (spec.resources() == null || spec.resources().gpus() == null) {
            return 0;
        }
        return spec.resources().gpus() / Math.max(1, dataParallel.replicas());
    }
}
