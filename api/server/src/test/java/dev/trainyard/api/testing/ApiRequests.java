package dev.trainyard.api.testing;

import static io.restassured.RestAssured.given;

import io.restassured.config.RestAssuredConfig;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import io.restassured.specification.RequestSpecification;
import java.math.BigDecimal;
import org.hamcrest.Description;
import org.hamcrest.Matcher;
import org.hamcrest.Matchers;
import org.hamcrest.TypeSafeMatcher;

/** Requests as a given caller, and the checks every error answer must pass. */
public final class ApiRequests {
    /** The admin token of the %test profile. */
    public static final String ADMIN = "ty_test_admin_token_0123456789";

    public static final String PROBLEM_JSON = "application/problem+json";

    /**
     * Paths are sent as written: the API's custom methods ({@code /jobs/1:cancel}) must reach the server with a
     * literal ':' (the server does not match {@code %3A}). Query values with reserved characters are encoded by
     * the caller.
     */
    private static final RestAssuredConfig CONFIG = RestAssuredConfig.config();

    private ApiRequests() {}

    public static RequestSpecification as(String secret) {
        return anonymous().header("Authorization", "Bearer " + secret);
    }

    public static RequestSpecification asAdmin() {
        return as(ADMIN);
    }

    public static RequestSpecification anonymous() {
        return given().config(CONFIG)
                .urlEncodingEnabled(false)
                .contentType(ContentType.JSON)
                .filter(ContractValidation.FILTER);
    }

    /** Asserts an RFC 9457 answer with this status and a problem type. */
    public static ValidatableResponse problem(ValidatableResponse response, int status) {
        return response.statusCode(status)
                .contentType(Matchers.startsWith(PROBLEM_JSON))
                .body("type", Matchers.startsWith("/problems/"))
                .body("status", Matchers.equalTo(status));
    }

    /** Matches a JSON number equal in value to this decimal, whatever its scale (100 = 100.000000). */
    public static Matcher<Object> amount(String value) {
        BigDecimal expected = new BigDecimal(value);
        return new TypeSafeMatcher<>() {
            @Override
            protected boolean matchesSafely(Object item) {
                return item instanceof Number n && new BigDecimal(n.toString()).compareTo(expected) == 0;
            }

            @Override
            public void describeTo(Description description) {
                description.appendText("a number equal to " + expected.toPlainString());
            }
        };
    }

    /** Matches a JSON integer (read as Integer or Long) equal to this id. */
    public static Matcher<Object> id(long value) {
        return amount(Long.toString(value));
    }
}
