package dev.trainyard.runner.engine.torch;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** The float32 matmul rate libtorch reaches on this thread with its current intra-op thread count. */
final class MatmulProbe {

    private MatmulProbe() {}

    /** Best GFLOP/s over {@code repeats} multiplications of two n x n matrices. */
    static double gflops(int n, int repeats) {
        try (PointerScope scope = new PointerScope()) {
            Tensor a = torch.randn(n, n);
            Tensor b = torch.randn(n, n);
            torch.matmul(a, b);
            double best = 0;
            for (int r = 0; r < repeats; r++) {
                long start = System.nanoTime();
                try (PointerScope step = new PointerScope()) {
                    torch.matmul(a, b).sum().item_double();
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                best = Math.max(best, 2.0 * n * n * n / seconds / 1e9);
            }
            return best;
        }
    }
}
