package dev.trainyard.api.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The meaning of a change survives merging and the trip through a NOTIFY payload. */
class JobsChangedTest {

    @Test
    void aMergedChangeWakesWhateverEitherWould() {
        JobsChanged merged =
                JobsChanged.queue().merge(JobsChanged.runners(List.of(3L))).merge(JobsChanged.runners(List.of(7L)));

        assertThat(merged.schedule()).isTrue();
        assertThat(merged.allRunners()).isFalse();
        assertThat(merged.runners()).containsExactlyInAnyOrder(3L, 7L);
        assertThat(merged.wakes(3)).isTrue();
        assertThat(merged.wakes(4)).isFalse();
        assertThat(JobsChanged.runners(List.of(1L))
                        .merge(JobsChanged.everything())
                        .wakes(99))
                .isTrue();
    }

    @Test
    void tooManyRunnersToNameBecomeAll() {
        JobsChanged many = JobsChanged.runners(
                LongStream.range(0, JobsChanged.MAX_NAMED_RUNNERS).boxed().toList());
        JobsChanged more = many.merge(JobsChanged.runners(List.of(-1L)));

        assertThat(more.allRunners()).isTrue();
        assertThat(more.wakes(123_456)).isTrue();
        assertThat(more.encode("api-x").length()).isLessThan(100);
        assertThat(many.encode("api-x").length()).isLessThan(8000);
    }

    @Test
    void aPayloadDecodesToTheChangeAndItsOrigin() {
        for (JobsChanged change : List.of(
                JobsChanged.queue(),
                JobsChanged.everything(),
                JobsChanged.runners(List.of(5L, 1L, 42L)),
                new JobsChanged(true, false, Set.of(9L)),
                new JobsChanged(false, true, Set.of()))) {
            JobsChanged.Decoded decoded = JobsChanged.decode(change.encode("api-1234"));

            assertThat(decoded.origin()).isEqualTo("api-1234");
            assertThat(decoded.change()).isEqualTo(change);
        }
    }

    @Test
    void aPayloadItCannotReadWakesEverything() {
        for (String payload : new String[] {null, "", "changed", "scheduled", "runner", "api-1 s 1,x", "api-1 q *"}) {
            assertThat(JobsChanged.decode(payload).change()).as(payload).isEqualTo(JobsChanged.everything());
        }
    }
}
