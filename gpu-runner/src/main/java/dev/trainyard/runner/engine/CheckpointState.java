package dev.trainyard.runner.engine;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

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

    /**
     * The state a checkpoint's metadata and tensors describe, the tensors named by kind prefix ({@link #PARAM},
     * ...): the one reading of a whole checkpoint file and of the tensors put together from a sharded one.
     */
    static CheckpointState of(Map<String, String> meta, Collection<HostTensor> tensors) {
        List<HostTensor> params = new ArrayList<>();
        List<HostTensor> buffers = new ArrayList<>();
        List<HostTensor> first = new ArrayList<>();
        List<HostTensor> second = new ArrayList<>();
        for (HostTensor t : tensors) {
            unprefixed(t, PARAM, params);
            unprefixed(t, BUFFER, buffers);
            unprefixed(t, FIRST_MOMENT, first);
            unprefixed(t, SECOND_MOMENT, second);
        }
        return new CheckpointState(
                Long.parseLong(meta.get("step")),
                Long.parseLong(meta.get("dataPosition")),
                Long.parseLong(meta.get("optimizerStep")),
                Long.parseLong(meta.get("seed")),
                Integer.parseInt(meta.get("stages")),
                meta.get("spec"),
                params,
                buffers,
                first,
                second);
    }

    private static void unprefixed(HostTensor t, String prefix, List<HostTensor> into) {
        if (t.name().startsWith(prefix)) {
            into.add(new HostTensor(t.name().substring(prefix.length()), t.shape(), t.data()));
        }
    }
}
