package dev.trainyard.runner.engine.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.runner.engine.HostTensor;
import dev.trainyard.runner.engine.PeerLostException;
import dev.trainyard.runner.engine.PipelineGroup;
import dev.trainyard.runner.engine.StorePorts;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** Two pipeline ranks in one JVM (Gloo over TCP stores), rank 0 holding stage 0 and rank 1 stage 1. */
class PipelineLinksTest {

    @Test
    void aTensorCrossesExactlyWithItsShapeAndStateGathersToRankZero() throws Exception {
        PipelineLinks[] ranks = join(Duration.ofSeconds(60), () -> false);
        try (PipelineLinks zero = ranks[0];
                PipelineLinks one = ranks[1];
                PointerScope scope = new PointerScope()) {
            float[] values = new float[24];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) Math.sin(i) * 1e-3f;
            }
            StageLink out = zero.activationsOut();
            out.send(3, Tensors.floats(values, 2, 3, 4));
            Tensor received = one.activationsIn().receive(3);
            out.finishStep();
            assertThat(Tensors.shape(received)).containsExactly(2, 3, 4);
            assertThat(Tensors.toHost("x", received).data()).containsExactly(values);

            HostTensor a = new HostTensor("stage0.w", new long[] {2}, new float[] {1.5f, -2f});
            HostTensor b = new HostTensor("stage1.w", new long[] {1, 3}, new float[] {3f, Float.MIN_VALUE, -0f});
            CompletableFuture<List<List<HostTensor>>> sent =
                    CompletableFuture.supplyAsync(() -> one.gatherToRankZero(List.of(List.of(b), List.of())));
            List<List<HostTensor>> gathered = zero.gatherToRankZero(List.of(List.of(a), List.of()));
            sent.get(60, TimeUnit.SECONDS);
            assertThat(gathered.get(0)).extracting(HostTensor::name).containsExactly("stage0.w", "stage1.w");
            assertThat(gathered.get(0).get(1).shape()).containsExactly(1, 3);
            assertThat(gathered.get(0).get(1).data()).containsExactly(b.data());
            assertThat(gathered.get(1)).isEmpty();
        }
    }

    /**
     * A stage that began its step receives ahead: its neighbour's sends complete while it is still busy (here: has
     * not asked yet), so the bytes cross during its compute instead of when it asks. Receiving only on demand, Gloo
     * holds a send until the receive is posted: the sender's wait then ran into the group's timeout.
     */
    @Test
    void sendsToAStageThatBeganItsStepCompleteBeforeItAsksAndArriveInOrder() throws Exception {
        PipelineLinks[] ranks = join(Duration.ofSeconds(5), () -> false);
        try (PipelineLinks zero = ranks[0];
                PipelineLinks one = ranks[1];
                PointerScope scope = new PointerScope()) {
            StageLink in = one.activationsIn();
            in.beginStep(3);
            StageLink out = zero.activationsOut();
            for (int mb = 0; mb < 3; mb++) {
                out.send(mb, Tensors.floats(new float[] {mb, -mb, 0.5f * mb}, 1, 3));
            }
            long start = System.nanoTime();
            out.finishStep();
            assertThat((System.nanoTime() - start) / 1e9)
                    .as("seconds until the sends left")
                    .isLessThan(4.0);
            for (int mb = 0; mb < 3; mb++) {
                Tensor received = in.receive(mb);
                assertThat(Tensors.shape(received)).containsExactly(1, 3);
                assertThat(Tensors.toHost("x", received).data()).containsExactly(mb, -mb, 0.5f * mb);
            }
        }
    }

    @Test
    void aNeighbourThatNeverSendsEndsTheWaitWithAPeerLostExceptionAfterTheTimeout() throws Exception {
        PipelineLinks[] ranks = join(Duration.ofSeconds(2), () -> false);
        try (PipelineLinks zero = ranks[0];
                PipelineLinks one = ranks[1];
                PointerScope scope = new PointerScope()) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> one.activationsIn().receive(0)).isInstanceOf(PeerLostException.class);
            double seconds = (System.nanoTime() - start) / 1e9;
            assertThat(seconds).isBetween(1.5, 30.0);
        }
    }

    @Test
    void anAbandonedRunStopsWaitingForItsNeighbourAtOnce() throws Exception {
        AtomicBoolean abandoned = new AtomicBoolean();
        PipelineLinks[] ranks = join(Duration.ofSeconds(120), abandoned::get);
        try (PipelineLinks zero = ranks[0];
                PipelineLinks one = ranks[1];
                PointerScope scope = new PointerScope()) {
            CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS).execute(() -> abandoned.set(true));
            long start = System.nanoTime();
            assertThatThrownBy(() -> zero.gradientsIn().receive(1)).isInstanceOf(PeerLostException.class);
            assertThat((System.nanoTime() - start) / 1e9).isLessThan(10.0);
        }
    }

    private static PipelineLinks[] join(Duration timeout, BooleanSupplier abandoned) throws Exception {
        NativeRuntime.load();
        int port = StorePorts.free();
        PipelineLinks[] ranks = new PipelineLinks[2];
        CompletableFuture<PipelineLinks> one = CompletableFuture.supplyAsync(() -> open(1, port, timeout, abandoned));
        ranks[0] = open(0, port, timeout, abandoned);
        ranks[1] = one.get(60, TimeUnit.SECONDS);
        return ranks;
    }

    private static PipelineLinks open(int rank, int port, Duration timeout, BooleanSupplier abandoned) {
        PipelineGroup group = new PipelineGroup(rank, 2, rank, rank + 1, 2, "127.0.0.1", port, timeout);
        return new PipelineLinks(
                group,
                new int[] {1, 1},
                NativeRuntime.device("cpu"),
                NativeRuntime.device("cpu"),
                abandoned,
                () -> false);
    }
}
