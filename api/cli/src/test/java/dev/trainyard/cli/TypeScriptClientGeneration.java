package dev.trainyard.cli;

import java.io.File;
import java.util.List;
import org.openapitools.codegen.ClientOptInput;
import org.openapitools.codegen.DefaultGenerator;
import org.openapitools.codegen.config.CodegenConfigurator;

/**
 * Generates a TypeScript (fetch) client from the committed contract with strict spec validation; run by the
 * build (exec-maven-plugin, log kept in target/generated-ts.log) for the system test TypeScriptClientTest.
 * A main of its own rather than the Maven plugin so that the generator's whole log lands in one file to check.
 */
public final class TypeScriptClientGeneration {
    private TypeScriptClientGeneration() {}

    public static void main(String[] args) {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: TypeScriptClientGeneration SPEC OUTPUT_DIR");
        }
        CodegenConfigurator config = new CodegenConfigurator()
                .setGeneratorName("typescript-fetch")
                .setInputSpec(args[0])
                .setOutputDir(args[1])
                .setValidateSpec(true)
                .setStrictSpecBehavior(true)
                .addAdditionalProperty("supportsES6", true)
                .addAdditionalProperty("hideGenerationTimestamp", true);
        ClientOptInput input = config.toClientOptInput();
        List<File> files = new DefaultGenerator().opts(input).generate();
        System.out.println("generated " + files.size() + " files in " + args[1]);
    }
}
