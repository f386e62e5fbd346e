package dev.trainyard.api.testing;

import static io.restassured.RestAssured.given;

import io.restassured.config.JsonConfig;
import io.restassured.config.RestAssuredConfig;
import io.restassured.http.ContentType;
import io.restassured.path.json.config.JsonPathConfig;
import java.math.BigDecimal;
import io.restassured.response.ValidatableResponse;
import io.restassured.specification.RequestSpecification;
import org.hamcrest.Matcher;
import org.hamcrest.Matchers;

/** Requests as a given caller, and the checks every error answer must pass. */
public final class Api {
    /** The admin token of the %test profile. */
    public static final String ADMIN = "ty_test_admin_token_0123456789";
    public static final String PROBLEM_JSON = "application/problem+json";

    /** Numbers in answers read as BigDecimal, so that 100 and 100.000000 compare equal as amounts. */
    private static final RestAssuredConfig CONFIG = RestAssuredConfig.config()
            .jsonConfig(JsonConfig.jsonConfig().numberReturnType(JsonPathConfig.NumberReturnType.BIG_DECIMAL));

    private Api() {
    }

    /** Matches a JSON number equal in value to this decimal, whatever its scale. */
    public static Matcher<BigDecimal> amount(String value) {
        return Matchers.comparesEqualTo(new BigDecimal(value));
    }

    public static RequestSpecification as(String secret) {
        return given().config(CONFIG).header("Authorization", "Bearer " + secret).contentType(ContentType.JSON);
    }

    public static RequestSpecification asAdmin() {
        return as(ADMIN);
    }

    public static RequestSpecification anonymous() {
        return given().config(CONFIG).contentType(ContentType.JSON);
    }

    /** Asserts an RFC 9457 answer with this status and a problem type. */
    public static ValidatableResponse problem(ValidatableResponse response, int status) {
        return response.statusCode(status)
                .contentType(Matchers.startsWith(PROBLEM_JSON))
                .body("type", Matchers.startsWith("/problems/"))
                .body("status", Matchers.equalTo(status));
    }
}
