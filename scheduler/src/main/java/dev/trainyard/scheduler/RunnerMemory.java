package dev.trainyard.scheduler;

/**
 * The device memory a runner reported: {@code deviceBytes} on its smallest device (null when it did not say), and
 * whether its devices are slices of one host sharing that memory (CPU devices) rather than each holding its own.
 */
public record RunnerMemory(Long deviceBytes, boolean shared) {

    private static final RunnerMemory UNKNOWN = new RunnerMemory(null, false);

    /** A runner whose memory is unknown is never judged too small. */
    public static RunnerMemory unknown() {
        return UNKNOWN;
    }

    /**
     * How many of {@code stages} from {@code first} on, at most {@code slots} of them (whole stages its GPUs hold,
     * {@link PipelineStages#stagesOn}), these devices hold: shared memory must hold the stages together, each stage
     * as many times as it has GPUs; separate devices hold a stage where one device holds one GPU's share of it.
     */
    int stagesHeld(PipelineStages stages, int first, int slots) {
        long together = 0;
        int held = 0;
        while (held < slots && first + held < stages.count()) {
            long need = stages.bytes(first + held);
            long stageTogether = need * stages.tensorParallel();
            if (deviceBytes != null && (shared ? together + stageTogether : need) > deviceBytes) {
                break;
            }
            together += stageTogether;
            held++;
        }
        return held;
    }

    /**
     * How many whole replicas of {@code stages}, at most {@code gpus} / a replica's GPUs, these devices hold: separate
     * devices hold every replica whose stages each fit a device per GPU, shared memory only as many as it holds
     * together.
     */
    int replicasHeld(PipelineStages stages, int gpus) {
        int byGpus = gpus / stages.replicaGpus();
        if (byGpus == 0 || stagesHeld(stages, 0, stages.count()) < stages.count()) {
            return 0;
        }
        if (deviceBytes == null || !shared) {
            return byGpus;
        }
        long replica = stages.stageBytes().stream().mapToLong(Long::longValue).sum() * stages.tensorParallel();
        return replica == 0 ? byGpus : (int) Math.min(byGpus, deviceBytes / replica);
    }
}
