package dev.trainyard.runner.engine.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainyard.runner.engine.CollectiveGroup.Reduction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** The collectives between the device threads of one process (Gloo on CPU), each rank on its own thread. */
class DeviceGroupTest {

    private interface RankWork {
        float[] run(DeviceGroup group);
    }

    @Test
    void allReduceAllGatherReduceScatterAndBroadcastAgreeAcrossThreeThreads() throws Exception {
        int size = 3;
        List<float[]> sums = onEveryRank(size, g -> {
            Tensor t = Tensor.create(new float[] {g.rank(), 10 * g.rank()}, 2);
            g.allReduce(t, Reduction.SUM);
            return values(t);
        });
        List<float[]> maxima = onEveryRank(size, g -> {
            Tensor t = Tensor.create(new float[] {g.rank(), -g.rank()}, 2);
            g.allReduce(t, Reduction.MAX);
            return values(t);
        });
        List<float[]> gathered = onEveryRank(size, g -> {
            Tensor out = Tensor.create(new float[2 * size], 2 * size);
            g.allGather(out, Tensor.create(new float[] {g.rank(), g.rank() + 0.5f}, 2));
            return values(out);
        });
        List<float[]> scattered = onEveryRank(size, g -> {
            Tensor out = Tensor.create(new float[1], 1);
            g.reduceScatter(out, Tensor.create(new float[] {1, 2, 3}, 3));
            return values(out);
        });
        List<float[]> broadcast = onEveryRank(size, g -> {
            Tensor t = Tensor.create(new float[] {g.rank() + 7}, 1);
            g.broadcast(t, 2);
            return values(t);
        });

        for (int r = 0; r < size; r++) {
            assertThat(sums.get(r)).containsExactly(3, 30);
            assertThat(maxima.get(r)).containsExactly(2, 0);
            assertThat(gathered.get(r)).containsExactly(0, 0.5f, 1, 1.5f, 2, 2.5f);
            assertThat(scattered.get(r)).containsExactly(3 * (r + 1));
            assertThat(broadcast.get(r)).containsExactly(9);
        }
    }

    private static List<float[]> onEveryRank(int size, RankWork work) throws Exception {
        List<Device> devices = new ArrayList<>();
        for (int r = 0; r < size; r++) {
            devices.add(new Device("cpu"));
        }
        List<DeviceGroup> groups = DeviceGroup.open(devices, Duration.ofSeconds(30), () -> false);
        ExecutorService threads = Executors.newFixedThreadPool(size);
        try {
            List<Future<float[]>> results = new ArrayList<>();
            for (DeviceGroup g : groups) {
                results.add(threads.submit(() -> {
                    try (PointerScope scope = new PointerScope()) {
                        return work.run(g);
                    }
                }));
            }
            List<float[]> values = new ArrayList<>();
            for (Future<float[]> f : results) {
                values.add(f.get());
            }
            return values;
        } finally {
            threads.shutdown();
            DeviceGroup.closeAll(groups);
        }
    }

    private static float[] values(Tensor t) {
        float[] v = new float[(int) t.numel()];
        t.data_ptr_float().get(v);
        return v;
    }
}
