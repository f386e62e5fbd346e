package dev.trainyard.api.jobs;

import static dev.trainyard.api.testing.ApiRequests.asAdmin;
import static dev.trainyard.api.testing.ApiRequests.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import dev.trainyard.api.testing.Db;
import dev.trainyard.api.testing.Fixtures;
import dev.trainyard.api.testing.Names;
import dev.trainyard.api.testing.Spec;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A pool's data access policy at submission: a data.uri or model.uri the URI's text shows to be forbidden is
 * refused with a 403 problem naming the field and the rule, and nothing is stored; what the policy allows is
 * accepted (the runner checks the rest).
 */
@QuarkusTest
class DataAccessSubmissionTest {
    static final String ROOT = "/srv/trainyard-data";
    static String project;
    static String pool;
    static String loopbackPool;

    /** Made once, when the first test runs (Quarkus answers only from then on). */
    @BeforeEach
    void fixtures() {
        if (project != null) {
            return;
        }
        project = Fixtures.project();
        pool = pool("cpu", Map.of("dataRoots", List.of(ROOT), "allowedHosts", List.of("data.example.org")));
        loopbackPool = pool("cpu", Map.of("allowedHosts", List.of("127.0.0.1", "localhost")));
    }

    @ParameterizedTest(name = "{0} {1} in pool {2} -> {3}")
    @CsvSource({
        "data.uri,  file:///etc/passwd,                         policy,   outside-data-roots",
        "data.uri,  file:///proc/self/environ,                  policy,   outside-data-roots",
        "data.uri,  file:///srv/trainyard-data/../../etc/passwd, policy,  outside-data-roots",
        "data.uri,  file:///srv/trainyard-data-not/x.txt,       policy,   outside-data-roots",
        "model.uri, file:///root/.ssh/id_rsa,                   policy,   outside-data-roots",
        "data.uri,  file://runner-2/srv/trainyard-data/x.txt,   policy,   scheme-not-allowed",
        "data.uri,  http://127.0.0.1:8080/q/metrics,            policy,   host-not-allowed",
        "data.uri,  http://169.254.169.254/latest/meta-data/,   policy,   host-not-allowed",
        "model.uri, https://evil.example/m.pt,                  policy,   host-not-allowed",
        "data.uri,  http://127.0.0.1:8080/q/metrics,            loopback, private-address",
        "model.uri, http://[::1]/m.pt,                          loopback, host-not-allowed",
        "data.uri,  file:///srv/trainyard-data/corpus.txt,      none,     outside-data-roots",
        "data.uri,  https://data.example.org/corpus.txt,        none,     host-not-allowed",
    })
    void aForbiddenUriIsRefusedNamingTheFieldAndTheRuleAndNothingIsStored(
            String field, String uri, String whichPool, String rule) {
        long before = Db.jobCount();

        problem(submit(spec(field, uri, poolNamed(whichPool))), 403)
                .body("type", equalTo("/problems/data-access-denied"))
                .body("errors.field", contains(field))
                .body("errors[0].message", containsString("rule " + rule))
                .body("detail", containsString(uri));

        assertThat(Db.jobCount()).isEqualTo(before);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "data.uri,  file:///srv/trainyard-data/corpus.txt",
        "data.uri,  file:/srv/trainyard-data/sub/../corpus.txt",
        "model.uri, file:///srv/trainyard-data/models/lm.pt",
        "data.uri,  https://data.example.org/corpus.txt",
        "model.uri, http://DATA.example.org./lm.pt",
    })
    void whatThePolicyAllowsIsAccepted(String field, String uri) {
        submit(spec(field, uri, pool)).statusCode(201);
    }

    @Test
    void theDryRunRefusesLikeTheSubmission() {
        problem(
                        asAdmin()
                                .body(spec("data.uri", "file:///etc/passwd", pool)
                                        .json())
                                .post("/api/v1/jobs:plan")
                                .then(),
                        403)
                .body("type", equalTo("/problems/data-access-denied"));
    }

    @Test
    void aJobAskingOnlyForAGpuTypeMustBeReadableInEveryPoolOfThatType() {
        String type = Names.unique("t");
        String open = pool(type, Map.of("dataRoots", List.of(ROOT)));
        String closed = pool(type, Map.of());
        Spec spec = spec("data.uri", "file:///srv/trainyard-data/corpus.txt", open)
                .remove("resources.pool")
                .set("resources.gpuType", type);

        problem(submit(spec), 403).body("errors[0].message", containsString("pool '" + closed + "'"));

        asAdmin()
                .body(Map.of("dataAccess", Map.of("dataRoots", List.of(ROOT))))
                .patch("/api/v1/pools/" + closed)
                .then()
                .statusCode(200);
        submit(spec).statusCode(201);
    }

    @Test
    void anAdminSetsAndReplacesAPoolsPolicyAndEveryoneSeesIt() {
        String name = pool("cpu", Map.of("dataRoots", List.of("/data/a"), "maxDownloadBytes", 1000));
        asAdmin()
                .get("/api/v1/pools/" + name)
                .then()
                .statusCode(200)
                .body("dataAccess.dataRoots", contains("/data/a"))
                .body("dataAccess.allowedHosts", equalTo(List.of()))
                .body("dataAccess.allowPrivateNetworks", equalTo(false))
                .body("dataAccess.maxDownloadBytes", equalTo(1000));

        asAdmin()
                .body(Map.of("dataAccess", Map.of("allowedHosts", List.of("hf.example"))))
                .patch("/api/v1/pools/" + name)
                .then()
                .statusCode(200)
                .body("pricePerGpuHour", equalTo(1.5f))
                .body("dataAccess.dataRoots", equalTo(List.of()))
                .body("dataAccess.allowedHosts", contains("hf.example"))
                .body("dataAccess.maxDownloadBytes", equalTo(1073741824));
        assertThat(Db.queryString("select allowed_hosts::text from pools where name = ?", name))
                .isEqualTo("[\"hf.example\"]");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"dataRoots\": [\"relative/dir\"]}             | dataAccess.dataRoots[0]",
                "{\"dataRoots\": [\"/srv/../etc\"]}              | dataAccess.dataRoots[0]",
                "{\"dataRoots\": [\"\"]}                         | dataAccess.dataRoots[0]",
                "{\"allowedHosts\": [\"http://x.example/\"]}     | dataAccess.allowedHosts[0]",
                "{\"maxDownloadBytes\": 0}                       | dataAccess.maxDownloadBytes",
            })
    void aBadPolicyIsRefusedNamingItsFieldAndChangesNothing(String policy, String field) {
        String name = pool("cpu", Map.of("dataRoots", List.of(ROOT)));

        problem(
                        asAdmin()
                                .body("{\"dataAccess\": " + policy + "}")
                                .patch("/api/v1/pools/" + name)
                                .then(),
                        400)
                .body("errors.field", hasItem(field));

        asAdmin().get("/api/v1/pools/" + name).then().body("dataAccess.dataRoots", contains(ROOT));
    }

    private static String poolNamed(String which) {
        return switch (which) {
            case "policy" -> pool;
            case "loopback" -> loopbackPool;
            default -> Fixtures.pool();
        };
    }

    private static Spec spec(String field, String uri, String poolName) {
        Spec spec = Spec.gpt(project, poolName).set("name", Names.unique("reader"));
        if (field.equals("model.uri")) {
            return spec.replace("model", Map.of("type", "torchscript", "uri", uri, "seqLen", 8));
        }
        return spec.replace("data", Map.of("type", "text", "uri", uri));
    }

    private static io.restassured.response.ValidatableResponse submit(Spec spec) {
        return asAdmin().body(spec.json()).post("/api/v1/jobs").then();
    }

    private static String pool(String gpuType, Map<String, Object> dataAccess) {
        String name = Names.unique("pool");
        asAdmin()
                .body(Map.of("name", name, "gpuType", gpuType, "pricePerGpuHour", 1.5, "dataAccess", dataAccess))
                .post("/api/v1/pools")
                .then()
                .statusCode(201);
        return name;
    }
}
