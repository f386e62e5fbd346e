package dev.trainyard.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DataAccessPolicyTest {
    static final DataAccessPolicy POOL = new DataAccessPolicy(
            List.of("/srv/data", "/mnt/shared/"), List.of("data.example.org", "*.cdn.example"), false, null);

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "file:///srv/data/corpus.txt,                  ",
        "file:/srv/data/sub/table.csv,                 ",
        "/srv/data/plain-path.csv,                     ",
        "file:///mnt/shared/model.pt,                  ",
        "file:///etc/passwd,                           outside-data-roots",
        "file:///proc/self/environ,                    outside-data-roots",
        "file:///srv/data/../../etc/passwd,            outside-data-roots",
        "file:///srv/data/%2e%2e/secret,               outside-data-roots",
        "file:///srv/database/x,                       outside-data-roots",
        "file://otherhost/srv/data/x,                  scheme-not-allowed",
        "file:relative.csv,                            scheme-not-allowed",
        "ftp://data.example.org/x,                     scheme-not-allowed",
        "jar:file:///srv/data/a.jar!/x,                scheme-not-allowed",
        "https://data.example.org/corpus.txt,          ",
        "http://DATA.example.org./corpus.txt,          ",
        "https://eu.cdn.example/m.pt,                  ",
        "https://cdn.example.evil/m.pt,                host-not-allowed",
        "https://evil.example/corpus.txt,              host-not-allowed",
        "http://127.0.0.1:8080/q/metrics,              host-not-allowed",
        "http://169.254.169.254/latest/meta-data,      host-not-allowed",
        "http://data.example.org@evil.example/x,       host-not-allowed",
    })
    void theUrisTextDecidesWhatTheApiCanTell(String uri, String rule) {
        assertThat(POOL.check(uri).map(r -> r.rule().word())).isEqualTo(Optional.ofNullable(rule));
    }

    @ParameterizedTest(name = "{0} allowed by name, private networks {1} -> {2}")
    @CsvSource({
        "http://127.0.0.1/x,        false, private-address",
        "http://127.0.0.1/x,        true,  ",
        "http://10.1.2.3/x,         false, private-address",
        "http://169.254.169.254/x,  false, private-address",
        "http://[::1]/x,            false, private-address",
        "http://[fd00::1]/x,        false, private-address",
        "http://100.64.0.1/x,       false, private-address",
        "http://0.0.0.0/x,          false, private-address",
        "http://93.184.215.14/x,    false, ",
    })
    void anAllowedHostThatIsANonPublicLiteralNeedsPrivateNetworks(String uri, boolean privateNetworks, String rule) {
        String host = java.net.URI.create(uri).getHost();
        DataAccessPolicy policy = new DataAccessPolicy(List.of(), List.of(host), privateNetworks, null);
        assertThat(policy.check(uri).map(r -> r.rule().word())).isEqualTo(Optional.ofNullable(rule));
    }

    @Test
    void aPoolWithoutAPolicyReadsNothing() {
        DataAccessPolicy none = DataAccessPolicy.none();
        assertThat(none.check("file:///srv/data/x").orElseThrow().rule()).isEqualTo(DataAccessRule.OUTSIDE_DATA_ROOTS);
        assertThat(none.check("https://example.org/x").orElseThrow().rule()).isEqualTo(DataAccessRule.HOST_NOT_ALLOWED);
        assertThat(new DataAccessPolicy(null, null, null, null)).isEqualTo(none);
    }

    @Test
    void anAdminsPolicyIsValidatedFieldByField() {
        Violations v = new Violations();
        new DataAccessPolicy(
                        List.of("/srv/data", "relative", "/srv/../etc", "/with\0nul"),
                        List.of("ok.example", "not a host", "*.fine.example"),
                        null,
                        0L)
                .validate("dataAccess", v);
        assertThat(fields(v))
                .containsExactly(
                        "dataAccess.dataRoots[1]",
                        "dataAccess.dataRoots[2]",
                        "dataAccess.dataRoots[3]",
                        "dataAccess.allowedHosts[1]",
                        "dataAccess.maxDownloadBytes");
    }

    @Test
    void aRefusalNamesTheFieldTheUriAndTheRule() {
        DataAccessRefusal refusal = POOL.check("file:///etc/passwd").orElseThrow();
        assertThat(refusal.describe("data.uri", "file:///etc/passwd"))
                .startsWith("data.uri file:///etc/passwd is refused")
                .contains("rule outside-data-roots")
                .contains("/srv/data");
    }

    private static List<String> fields(Violations v) {
        try {
            v.throwIfAny();
            return List.of();
        } catch (InvalidFieldsException e) {
            return e.violations().stream().map(FieldViolation::field).toList();
        }
    }
}
