package dev.trainyard.runner.engine;

import java.util.List;

/** A model's trainable state in Java memory by global name: parameters, buffers and the AdamW moments. */
public record ModelState(
        List<HostTensor> parameters,
        List<HostTensor> buffers,
        List<HostTensor> firstMoments,
        List<HostTensor> secondMoments) {}
