package dev.trainyard.runner.engine.torch;

import dev.trainyard.runner.engine.HostTensor;
import dev.trainyard.runner.engine.TensorSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * AdamW (decoupled weight decay) over one stage's parameters. Written here rather than using libtorch's
 * optimizer so that its state is plain tensors by global parameter name: a checkpoint written by P stages
 * loads into any other stage count. Matrices are decayed; biases, norms and other vectors are not.
 */
final class AdamW {

    static final double BETA1 = 0.9;
    static final double BETA2 = 0.95;
    static final double EPS = 1e-8;

    private final List<String> names = new ArrayList<>();
    private final List<Tensor> parameters = new ArrayList<>();
    private final List<Tensor> firstMoments = new ArrayList<>();
    private final List<Tensor> secondMoments = new ArrayList<>();

    AdamW(Map<String, Tensor> namedParameters) {
        namedParameters.forEach((name, p) -> {
            names.add(name);
            parameters.add(p);
            firstMoments.add(p.detach().clone().zero_());
            secondMoments.add(p.detach().clone().zero_());
        });
    }

    /** Applies update number {@code t} (1-based, for bias correction) and zeroes the gradients. */
    void step(long t, double learningRate, double weightDecay) {
        Tensors.withoutGrad(() -> {
            for (int i = 0; i < parameters.size(); i++) {
                Tensor p = parameters.get(i);
                Tensor g = p.grad();
                if (!g.defined()) {
                    continue;
                }
                update(p, g, firstMoments.get(i), secondMoments.get(i), t, learningRate, decays(p) ? weightDecay : 0);
                g.zero_();
            }
        });
    }

    /** Matrices are decayed; biases, norms and other vectors are not. */
    static boolean decays(Tensor parameter) {
        return parameter.dim() >= 2;
    }

    /**
     * One AdamW update of {@code p} in place, element by element, with its gradient and moments (any same-shaped
     * views: the sharded optimizer updates slices of parameters with the same arithmetic). Call without autograd.
     */
    static void update(
            Tensor p, Tensor g, Tensor first, Tensor second, long t, double learningRate, double weightDecay) {
        double stepSize = learningRate / (1 - Math.pow(BETA1, t));
        double secondCorrection = Math.sqrt(1 - Math.pow(BETA2, t));
        // The denominator is a temporary the size of p: in a scope of its own it is freed before the next
        // parameter's, so the step holds one parameter's temporary at a time instead of a whole copy of the model.
        try (PointerScope scope = new PointerScope()) {
            if (weightDecay > 0) {
                p.mul_(new Scalar(1 - learningRate * weightDecay));
            }
            first.mul_(new Scalar(BETA1)).add_(g, new Scalar(1 - BETA1));
            second.mul_(new Scalar(BETA2)).addcmul_(g, g, new Scalar(1 - BETA2));
            Tensor denominator =
                    second.sqrt().div_(new Scalar(secondCorrection)).add_(new Scalar(EPS));
            p.addcdiv_(first, denominator, new Scalar(-stepSize));
        }
    }

    /** Bytes of the moment tensors this optimizer holds. */
    long stateBytes() {
        long bytes = 0;
        for (int i = 0; i < firstMoments.size(); i++) {
            bytes += firstMoments.get(i).nbytes() + secondMoments.get(i).nbytes();
        }
        return bytes;
    }

    /** The first moments (or the second) by parameter name, in parameter order: the tensors themselves. */
    Map<String, Tensor> moments(boolean first) {
        Map<String, Tensor> byName = new java.util.LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            byName.put(names.get(i), (first ? firstMoments : secondMoments).get(i));
        }
        return byName;
    }

    List<HostTensor> firstMomentsToHost() {
        return toHost(firstMoments);
    }

    List<HostTensor> secondMomentsToHost() {
        return toHost(secondMoments);
    }

    /** Restores both moments from a checkpoint's tensors (looked up by parameter name). */
    void load(TensorSource first, TensorSource second) {
        for (int i = 0; i < names.size(); i++) {
            Tensors.copyInto(firstMoments.get(i), first.require(names.get(i)));
            Tensors.copyInto(secondMoments.get(i), second.require(names.get(i)));
        }
    }

    private List<HostTensor> toHost(List<Tensor> moments) {
        List<HostTensor> host = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            host.add(Tensors.toHost(names.get(i), moments.get(i)));
        }
        return host;
    }

    static HostTensor require(Map<String, HostTensor> tensors, String name) {
        HostTensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("checkpoint has no tensor for parameter " + name);
        }
        return t;
    }
}
