package dev.trainyard.runner.engine;

import java.util.List;

/**
 * Everything needed to continue a run exactly: parameters, buffers and AdamW moments by global name
 * (unsharded, so any stage count can load them), completed steps, data position, optimizer step count,
 * the seed every random stream derives from, and the spec.
 */
public record CheckpointState(
        long step,
        long dataPosition,
        long optimizerStep,
        long seed,
        int stagesWrittenWith,
        String specJson,
        List<HostTensor> parameters,
        List<HostTensor> buffers,
        List<HostTensor> firstMoments,
        List<HostTensor> secondMoments) {

    public static final String FORMAT = "trainyard-checkpoint-1";
    static final String PARAM = "param/";
    static final String BUFFER = "buffer/";
    static final String FIRST_MOMENT = "adamw.exp_avg/";
    static final String SECOND_MOMENT = "adamw.exp_avg_sq/";
}
