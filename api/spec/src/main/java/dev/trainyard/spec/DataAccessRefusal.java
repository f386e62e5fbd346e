package dev.trainyard.spec;

/** Why a URI may not be read under a pool's {@link DataAccessPolicy}: the rule and the particulars. */
public record DataAccessRefusal(DataAccessRule rule, String reason) {

    /** The text a user reads: the field, the URI, the rule's name and why. */
    public String describe(String field, String uri) {
        return field + " " + uri + " is refused by the pool's data access policy (rule " + rule.word() + "): " + reason;
    }

    /** The text of a refusal where the field and URI are said elsewhere (a field violation). */
    public String ruleAndReason() {
        return "refused by the pool's data access policy (rule " + rule.word() + "): " + reason;
    }
}
