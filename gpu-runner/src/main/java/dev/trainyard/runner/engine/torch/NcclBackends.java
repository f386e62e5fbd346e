package dev.trainyard.runner.engine.torch;

import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.nccl.ProcessGroupNCCL;

/**
 * NCCL process groups for stages on CUDA devices. Kept apart from {@link ReplicaGroup} because loading the
 * NCCL classes loads NCCL's native library, which only the CUDA build of libtorch has: this class must stay
 * unreferenced on CPU-only hosts.
 */
final class NcclBackends {

    private NcclBackends() {}

    static Backend create(Store store, int rank, int size, long timeoutMillis) {
        ProcessGroupNCCL.Options options = ProcessGroupNCCL.Options.create();
        options.timeout(new Milliseconds(timeoutMillis));
        return new ProcessGroupNCCL(store, rank, size, options);
    }
}
