package dev.trainyard.api.openapi;

import jakarta.ws.rs.core.Application;
import org.eclipse.microprofile.openapi.annotations.OpenAPIDefinition;
import org.eclipse.microprofile.openapi.annotations.enums.SecuritySchemeType;
import org.eclipse.microprofile.openapi.annotations.info.Info;
import org.eclipse.microprofile.openapi.annotations.security.SecurityScheme;

/** The API's identity in its OpenAPI document, and its one security scheme: bearer tokens. */
@OpenAPIDefinition(
        info =
                @Info(
                        title = "Trainyard API",
                        version = "1",
                        description =
                                "Submit, watch and steer training jobs; set up projects, pools, runners and tokens."))
@SecurityScheme(
        securitySchemeName = "bearer",
        type = SecuritySchemeType.HTTP,
        scheme = "bearer",
        description = "An API token: admin, project member, or runner")
public class TrainyardApi extends Application {}
