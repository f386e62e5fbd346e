package dev.trainyard.api.openapi;

import jakarta.ws.rs.core.Application;
import org.eclipse.microprofile.openapi.annotations.OpenAPIDefinition;
import org.eclipse.microprofile.openapi.annotations.enums.SecuritySchemeType;
import org.eclipse.microprofile.openapi.annotations.info.Contact;
import org.eclipse.microprofile.openapi.annotations.info.Info;
import org.eclipse.microprofile.openapi.annotations.security.SecurityScheme;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The API's identity in its OpenAPI document, and its one security scheme: bearer tokens. */
@OpenAPIDefinition(
        info =
                @Info(
                        title = "Trainyard API",
                        version = "1",
                        description =
                                "Submit, watch and steer training jobs; set up projects, pools, runners and tokens.",
                        contact = @Contact(name = "The operators of this Trainyard")),
        // one place for the tags' descriptions; the resources name their tag
        tags = {
            @Tag(name = "jobs", description = "Submit, plan, read, cancel and download training jobs"),
            @Tag(name = "streams", description = "Server-sent events: one job's progress, or every job's changes"),
            @Tag(name = "pools", description = "Groups of runners with one device type and price (admin)"),
            @Tag(name = "projects", description = "Budgets and fair shares of teams (admin)"),
            @Tag(name = "tokens", description = "Bearer tokens: admin, project member or runner"),
            @Tag(name = "runners", description = "The machines that train: list and drain them"),
            @Tag(name = "runner-protocol", description = "What runners call: register, heartbeat, report, upload")
        })
@SecurityScheme(
        securitySchemeName = "bearer",
        type = SecuritySchemeType.HTTP,
        scheme = "bearer",
        description = "An API token: admin, project member, or runner")
public class TrainyardApi extends Application {}
