package dev.trainyard.api.tokens;

import dev.trainyard.api.auth.Role;
import dev.trainyard.api.auth.TokenSecrets;
import dev.trainyard.api.config.TrainyardConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/**
 * Makes sure a fresh platform can be administered: installs the configured admin token, or, when none is
 * configured and no admin exists, creates one and logs its secret once.
 */
public class AdminBootstrap {
    private static final Logger LOG = Logger.getLogger(AdminBootstrap.class);

    void onStart(@Observes StartupEvent event, TokenService tokens, TrainyardConfig config) {
        if (config.adminToken().isPresent()) {
            String secret = config.adminToken().get().trim();
            if (!secret.isEmpty() && !tokens.exists(secret)) {
                tokens.insert("admin (configured)", Role.ADMIN, null, secret);
                LOG.info("Installed the configured admin token");
            }
            return;
        }
        if (!tokens.anyActiveAdmin()) {
            String secret = TokenSecrets.newSecret();
            tokens.insert("admin (generated)", Role.ADMIN, null, secret);
            LOG.infof("Created the first admin token (shown once): %s", secret);
        }
    }
}
