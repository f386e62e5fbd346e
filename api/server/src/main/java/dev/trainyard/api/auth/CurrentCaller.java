package dev.trainyard.api.auth;

import dev.trainyard.api.error.ApiException;
import jakarta.enterprise.context.RequestScoped;

/** Holds the caller of the current request, set by {@link AuthFilter}. */
@RequestScoped
public class CurrentCaller {
    private Caller caller;

    void set(Caller caller) {
        this.caller = caller;
    }

    public Caller get() {
        if (caller == null) {
            throw new ApiException.Unauthenticated("A bearer token is required");
        }
        return caller;
    }
}
