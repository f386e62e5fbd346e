package dev.trainyard.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainyard.client.ApiException;
import dev.trainyard.client.api.JobsApi;
import dev.trainyard.client.api.TokensApi;
import dev.trainyard.client.model.CreateToken;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.JobPage;
import dev.trainyard.client.model.Plan;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Specs;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A program using the Java client generated from the committed contract can drive the running server. */
class GeneratedClientTest {
    static Platform platform;
    static JobsApi member;

    @BeforeAll
    static void start() {
        platform = Platform.start("client");
        String secret = new TokensApi(platform.client(Platform.ADMIN_TOKEN))
                .createToken(new CreateToken()
                        .name("alice")
                        .role(CreateToken.RoleEnum.fromValue("MEMBER"))
                        .project(Platform.PROJECT))
                .getSecret();
        member = new JobsApi(platform.client(secret));
    }

    @AfterAll
    static void stop() {
        platform.close();
    }

    @Test
    void submitsReadsListsAndCancelsAJob() {
        Job submitted = member.submitJob(Specs.tinyGpt("client-job", 2, 50, 10), "client-key-1");
        assertThat(submitted.getId()).isPositive();
        assertThat(submitted.getState()).isEqualTo("QUEUED");
        assertThat(submitted.getProject()).isEqualTo(Platform.PROJECT);
        assertThat(submitted.getSpec().getTraining().getSteps()).isEqualTo(50L);

        Job again = member.submitJob(Specs.tinyGpt("client-job", 2, 50, 10), "client-key-1");
        assertThat(again.getId()).as("same idempotency key, same job").isEqualTo(submitted.getId());

        Job read = member.getJob(submitted.getId());
        assertThat(read.getName()).isEqualTo("client-job");
        Job waiting = platform.awaitJob(
                submitted.getId(),
                j -> j.getPending() != null
                        && "NO_POOL_FITS".equals(j.getPending().getReason()),
                Duration.ofSeconds(20));
        assertThat(waiting.getPending().getMessage()).isNotBlank();

        JobPage page = member.listJobs(null, 10, null, null, Platform.PROJECT, "QUEUED");
        assertThat(page.getItems()).extracting(Job::getId).contains(submitted.getId());

        Job cancelled = member.cancelJob(submitted.getId());
        assertThat(cancelled.getState()).isEqualTo("CANCELLED");
        assertThat(cancelled.getFinishedAt()).isNotNull();
        assertThat(member.listJobEvents(submitted.getId()))
                .extracting(e -> e.getToState())
                .containsExactly("QUEUED", "CANCELLED");
    }

    @Test
    void plansWithoutStoringAndReportsProblemsAsExceptions() {
        long before =
                member.listJobs(null, 200, null, null, null, null).getItems().size();
        Plan plan = member.planJob(Specs.tinyGpt("plan-only", 2, 50, 10));
        assertThat(plan.getParameterCount()).isPositive();
        assertThat(plan.getStages()).isEqualTo(2);
        assertThat(plan.getMemoryPerStageBytes()).hasSize(2);
        assertThat(member.listJobs(null, 200, null, null, null, null).getItems())
                .hasSize((int) before);

        assertThatThrownBy(() -> member.submitJob(Specs.tinyGpt("bad name!", 2, 50, 10), null))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(400);
                    assertThat(e.getResponseBody())
                            .contains("validation-failed")
                            .contains("\"field\":\"name\"");
                });
    }
}
