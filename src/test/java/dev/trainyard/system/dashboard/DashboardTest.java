package dev.trainyard.system.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Download;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Mouse;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.options.BoundingBox;
import com.microsoft.playwright.options.ColorScheme;
import com.microsoft.playwright.options.WaitForSelectorState;
import dev.trainyard.client.api.PoolsApi;
import dev.trainyard.client.api.ProjectsApi;
import dev.trainyard.client.model.Checkpoint;
import dev.trainyard.client.model.ExportFile;
import dev.trainyard.client.model.Job;
import dev.trainyard.client.model.UpdatePool;
import dev.trainyard.system.support.Platform;
import dev.trainyard.system.support.Repository;
import dev.trainyard.system.support.Specs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The dashboard in a real headless Chromium against a real platform: sign in, submit from a template and watch
 * the job train live, cancel, download a checkpoint, see validation errors by their fields, and every page
 * without console errors in light, dark and phone widths. One platform and one runner serve the whole class.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardTest {
    static final Path SHOTS = Repository.output("screenshots");
    static final Duration JOB_TIMEOUT = Duration.ofSeconds(150);
    /** Enough steps (a few seconds on two cores) to watch the loss chart grow while the job runs. */
    static final int STEPS = 200;
    /** Installs a recorder of every change of the shown job state and of the loss chart's point count. */
    static final String RECORD_STATE_AND_POINTS = """
            () => {
              window.seen = [];
              const record = () => {
                const s = (document.querySelector('#job-state') || {}).textContent || '';
                const chart = document.querySelector("[data-chart='loss']");
                const p = Number((chart && chart.dataset.points) || 0);
                const last = window.seen[window.seen.length - 1];
                if (!last || last.s !== s || last.p !== p) window.seen.push({s, p});
              };
              new MutationObserver(record).observe(document.body,
                  {subtree: true, childList: true, attributes: true, characterData: true});
              record();
            }""";

    /**
     * Installed before the dashboard loads: its stream requests are recorded (the Last-Event-ID they send, the
     * text they received), {@code window.cutStreams()} breaks the open ones as a lost connection would, and while
     * {@code window.sse.blocked} new ones fail as if the network were down.
     */
    static final String CUTTABLE_STREAMS = """
            (() => {
              const realFetch = window.fetch.bind(window);
              const cuts = [];
              window.sse = {requests: [], blocked: false};
              window.cutStreams = () => cuts.splice(0).forEach((cut) => cut());
              window.fetch = async (input, init) => {
                const url = String((input && input.url) || input);
                if (!url.includes('/stream')) return realFetch(input, init);
                const headers = (init && init.headers) || {};
                const request = {url, lastEventId: headers['Last-Event-ID'] || null, status: null, body: ''};
                window.sse.requests.push(request);
                if (window.sse.blocked) throw new TypeError('network down (test)');
                const res = await realFetch(input, init);
                request.status = res.status;
                if (!res.ok || !res.body) return res;
                const reader = res.body.getReader();
                const decoder = new TextDecoder();
                let controller;
                const body = new ReadableStream({
                  start(c) {
                    controller = c;
                    cuts.push(() => {
                      try { c.error(new TypeError('connection lost (test)')); } catch (e) { /* closed */ }
                      reader.cancel().catch(() => {});
                    });
                  },
                  async pull(c) {
                    try {
                      const {value, done} = await reader.read();
                      if (done) { c.close(); return; }
                      request.body += decoder.decode(value, {stream: true});
                      c.enqueue(value);
                    } catch (e) { /* cut */ }
                  },
                  cancel(reason) { return reader.cancel(reason); },
                });
                return new Response(body, {status: res.status, headers: res.headers});
              };
            })()""";

    static Platform platform;
    static Playwright playwright;
    static Browser browser;
    /** A finished job with checkpoints, trained in the background while the first tests run. */
    static long finishedJobId;

    BrowserContext context;
    Page page;
    final List<String> consoleErrors = new CopyOnWriteArrayList<>();
    final List<String> failedRequests = new CopyOnWriteArrayList<>();
    String testName;

    @BeforeAll
    static void start() throws IOException {
        // a runner's work folder left by an earlier run holds checkpoints of attempts with the same numbers
        deleteTree(Repository.output("system-dash"));
        platform = Platform.start("dash");
        platform.startRunner("dash-a", 2);
        // a declared peak (a made-up 100 GFLOP/s per CPU device) makes runners report MFU for the job page's chart
        new PoolsApi(platform.client(Platform.ADMIN_TOKEN))
                .updatePool(Platform.POOL, new UpdatePool().peakFlopsPerDevice(1e11));
        finishedJobId = platform.jobs()
                .submitJob(Specs.tinyGpt("background", 1, 20, 10), null)
                .getId();
        playwright = Playwright.create();
        browser = playwright
                .chromium()
                .launch(new BrowserType.LaunchOptions()
                        .setExecutablePath(Paths.get("/usr/bin/chromium"))
                        .setHeadless(true)
                        .setArgs(List.of(
                                "--no-sandbox",
                                "--disable-gpu",
                                "--disable-background-networking",
                                "--disable-component-update",
                                "--disable-sync")));
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
        if (playwright != null) {
            playwright.close();
        }
        if (platform != null) {
            platform.close();
        }
    }

    @BeforeEach
    void open(TestInfo info) {
        testName = info.getTestMethod().orElseThrow().getName();
        page = newPage(1280, 800, ColorScheme.LIGHT);
    }

    @AfterEach
    void close() {
        if (context != null) {
            context.close();
        }
    }

    private Page newPage(int width, int height, ColorScheme scheme) {
        if (context != null) {
            context.close();
        }
        context = browser.newContext(new Browser.NewContextOptions()
                .setViewportSize(width, height)
                .setColorScheme(scheme)
                .setAcceptDownloads(true));
        Page p = context.newPage();
        p.setDefaultTimeout(60_000);
        p.onConsoleMessage(m -> {
            if ("error".equals(m.type())) {
                consoleErrors.add(m.text());
            }
        });
        p.onPageError(e -> consoleErrors.add("page error: " + e));
        p.onResponse(r -> {
            if (r.status() >= 400) {
                failedRequests.add(r.status() + " " + r.request().method() + " " + r.url());
            }
        });
        return p;
    }

    @Test
    @Order(1)
    void signsInWithATokenAndOut() {
        page.navigate(platform.baseUrl() + "/#/jobs");
        page.waitForSelector("#token");
        assertThat(page.url()).contains("#/signin");

        page.fill("#token", "ty_not_a_real_token_000000000000");
        page.click("#sign-in");
        assertThat(page.locator(".signin .problem").textContent()).contains("not valid");
        assertThat(consoleErrors).allMatch(e -> e.contains("status of 401"));
        consoleErrors.clear();

        signIn();
        assertThat(page.locator("#who").textContent()).contains("admin");
        assertThat(page.evaluate("sessionStorage.getItem('trainyard.token')")).isEqualTo(Platform.ADMIN_TOKEN);
        screenshot("jobs");

        page.click("#sign-out");
        page.waitForSelector("#token");
        assertThat(page.evaluate("sessionStorage.getItem('trainyard.token')")).isNull();
        assertThat(page.locator("#nav").isHidden()).isTrue();
        assertNoConsoleErrors();
    }

    @Test
    @Order(2)
    void showsAValidationErrorNextToItsField() {
        signIn();
        page.navigate(platform.baseUrl() + "/#/submit");
        page.waitForSelector("#plan-pool");
        page.fill("#f-model-dModel", "32");
        page.fill("#f-model-heads", "5");
        Locator headsError = page.locator("[data-error-for='model.heads']");
        headsError.waitFor(new Locator.WaitForOptions().setState(WaitForSelectorState.VISIBLE));
        assertThat(headsError.textContent()).contains("divide");
        assertThat(page.getAttribute("#f-model-heads", "aria-invalid")).isEqualTo("true");

        // the submission itself is refused the same way, and nothing is created
        page.click("#submit-job");
        page.waitForSelector("#submit-result .problem");
        assertThat(headsError.textContent()).contains("divide");
        assertThat(page.url()).contains("#/submit");
        screenshot("submit-validation");

        // fixing the field clears the error and brings the plan back
        page.fill("#f-model-heads", "4");
        page.waitForSelector("#plan-pool");
        assertThat(headsError.isHidden()).isTrue();
        assertThat(consoleErrors).allMatch(e -> e.contains("status of 400"));
    }

    @Test
    @Order(3)
    void submitsASmallGptFromTheTemplateAndWatchesItTrain() {
        platform.awaitJob(finishedJobId, j -> "SUCCEEDED".equals(j.getState()), JOB_TIMEOUT);
        signIn();
        page.navigate(platform.baseUrl() + "/#/submit");
        page.selectOption("#template", "gpt");
        page.fill("#f-name", "dash-gpt");
        page.fill("#f-training-steps", Integer.toString(STEPS));
        page.fill("#f-resources-gpus", "2");
        page.fill("#f-model-layers", "2");
        page.fill("#f-model-dModel", "32");
        page.fill("#f-model-heads", "4");
        page.fill("#f-model-seqLen", "16");
        page.fill("#f-training-evalEvery", "20");
        page.fill("#f-checkpoint-everySteps", "50");
        waitForText("#plan-pool", "cpu");
        assertThat(page.locator("#plan-cost").textContent()).contains("USD");
        assertThat(page.locator("#plan-params").textContent()).contains("parameters");
        screenshot("submit-plan");

        page.click("#submit-job");
        page.waitForURL("**/#/jobs/*");
        long jobId = Long.parseLong(page.url().replaceAll(".*#/jobs/", ""));
        page.waitForSelector("#job-state");

        // 1. watch it live: record every change of the shown state and of the loss chart's point count
        page.evaluate(RECORD_STATE_AND_POINTS);
        waitForText("#job-state", "Succeeded");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> seen = (List<Map<String, Object>>) page.evaluate("window.seen");
        List<Integer> pointsWhileRunning = seen.stream()
                .filter(x -> ((String) x.get("s")).startsWith("Running"))
                .map(x -> ((Number) x.get("p")).intValue())
                .filter(n -> n > 0)
                .distinct()
                .toList();
        assertThat(pointsWhileRunning)
                .as("loss points shown while running, in %s", seen)
                .hasSizeGreaterThanOrEqualTo(2);
        assertThat(lossPoints()).isGreaterThan(pointsWhileRunning.get(0)).isGreaterThanOrEqualTo(STEPS);

        // 2. the timeline shows the whole way: queued, scheduled, running, succeeded
        waitForText("#events", "SUCCEEDED");
        String events = page.locator("#events").textContent();
        assertThat(events).contains("QUEUED", "SCHEDULED", "RUNNING", "SUCCEEDED");
        page.waitForSelector("#checkpoints [data-checkpoint-id]");

        // 3. efficiency: MFU over the steps against the pool's peak, and the time split of each of the 2 stages
        page.waitForCondition(() -> chartPoints("mfu") >= STEPS);
        Locator split = page.locator("[data-chart='stage-split']");
        page.waitForCondition(() -> "2".equals(split.getAttribute("data-stages")));
        assertThat(Double.parseDouble(split.getAttribute("data-seconds")))
                .as("mean seconds per step, summed over the stages' compute, bubble and communication")
                .isPositive();
        assertThat(split.locator("canvas").isVisible()).isTrue();
        screenshot("job-detail");

        // 4. drag across the loss chart: that step range is fetched again, in more detail; reset brings all back
        int all = lossPoints();
        BoundingBox box = page.locator("[data-chart='loss'] canvas").boundingBox();
        double y = box.y + box.height / 2;
        page.mouse().move(box.x + box.width * 0.45, y);
        page.mouse().down();
        page.mouse().move(box.x + box.width * 0.75, y, new Mouse.MoveOptions().setSteps(6));
        page.mouse().up();
        waitForText("#zoom-info", "Showing steps");
        page.waitForCondition(() -> lossPoints() > 0 && lossPoints() < all);
        screenshot("zoomed");
        int zoomed = lossPoints();
        page.click("#zoom-reset");
        page.waitForCondition(() -> lossPoints() > zoomed);
        assertThat(page.locator("#zoom-reset").isHidden()).isTrue();

        // 5. the job table shows it finished, with its cost in USD, and finds it by state and name
        page.navigate(platform.baseUrl() + "/#/jobs");
        Locator row = page.locator("#jobs-table tr[data-job-id='" + jobId + "']");
        row.waitFor();
        assertThat(row.getAttribute("data-state")).isEqualTo("SUCCEEDED");
        assertThat(row.locator("td.cost").textContent()).contains("USD");
        assertThat(row.textContent()).contains(STEPS + " / " + STEPS + " steps");
        page.selectOption("#filter-state", "SUCCEEDED");
        page.fill("#filter-name", "dash-g");
        page.waitForCondition(() -> page.locator("#jobs-table tbody tr").count() == 1);
        assertThat(page.locator("#jobs-table tbody tr").getAttribute("data-job-id"))
                .isEqualTo(Long.toString(jobId));
        assertThat(page.url()).contains("state=SUCCEEDED").contains("name=dash-g");
        assertNoConsoleErrors();
    }

    @Test
    @Order(4)
    void downloadsACheckpointAndTheExportedWeightsWithTheirChecksums() throws Exception {
        Job job = platform.awaitJob(finishedJobId, j -> "SUCCEEDED".equals(j.getState()), JOB_TIMEOUT);
        List<Checkpoint> checkpoints = platform.jobs().listJobCheckpoints(job.getId());
        assertThat(checkpoints).isNotEmpty();
        Checkpoint newest = checkpoints.get(0);

        signIn();
        page.navigate(platform.baseUrl() + "/#/jobs/" + job.getId());
        Locator button = page.locator("#checkpoints button.download[data-checkpoint-id='" + newest.getId() + "']");
        button.waitFor();
        Download download = page.waitForDownload(button::click);
        byte[] bytes = Files.readAllBytes(download.path());

        assertThat(bytes).hasSize(newest.getSizeBytes().intValue());
        String sha =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        assertThat(sha).isEqualTo(newest.getSha256());
        assertThat(download.suggestedFilename()).endsWith(".safetensors");
        screenshot("checkpoints");

        ExportFile weights = platform.jobs().getJobExport(job.getId()).getFiles().stream()
                .filter(f -> f.getName().equals("model.safetensors"))
                .findFirst()
                .orElseThrow();
        Locator exportButton = page.locator("#export button.download[data-export-file='model.safetensors']");
        exportButton.waitFor();
        Download exported = page.waitForDownload(exportButton::click);
        byte[] model = Files.readAllBytes(exported.path());
        assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(model)))
                .as("the exported weights, as the API verified them")
                .isEqualTo(weights.getSha256());
        assertThat(exported.suggestedFilename()).endsWith("model.safetensors");
        assertThat(page.locator("#export button.download[data-export-file='config.json']")
                        .count())
                .isEqualTo(1);
        assertNoConsoleErrors();
    }

    @Test
    @Order(5)
    void cancelsAJobThatAppearsLiveInTheTable() {
        signIn();
        Locator table = page.locator("#jobs-table");
        table.waitFor();
        page.waitForSelector(".live-dot.live");
        long jobId = platform.jobs()
                .submitJob(Specs.tinyGpt("to-cancel", 1, 100_000, 1_000), null)
                .getId();

        // the new job appears without a reload (server-sent events), then we open and cancel it
        Locator row = page.locator("#jobs-table tr[data-job-id='" + jobId + "']");
        row.waitFor();
        row.locator("td.name a").click();
        page.waitForSelector("#cancel-job");
        platform.awaitJob(jobId, j -> "RUNNING".equals(j.getState()), JOB_TIMEOUT);
        page.click("#cancel-job");
        page.click("#confirm-cancel");
        page.waitForCondition(
                () -> page.locator("#job-state").textContent().contains("Cancelled")
                        || page.locator(".problem").count() > 0,
                new Page.WaitForConditionOptions().setTimeout(JOB_TIMEOUT.toMillis()));
        assertThat(page.locator(".problem").allTextContents())
                .as("the cancel was refused")
                .isEmpty();
        assertThat(page.locator("#cancel-job").count()).isZero();
        assertThat(platform.jobs().getJob(jobId).getState()).isEqualTo("CANCELLED");
        screenshot("cancelled");
        assertNoConsoleErrors();
    }

    @Test
    @Order(6)
    void everyPageRendersWithoutConsoleErrorsInLightDarkAndPhoneWidths() {
        String[] pages = {"jobs", "submit", "cluster", "projects", "jobs/" + finishedJobId};
        // light and dark at 1280 x 800, and a phone at 390 x 844
        String[] looks = {"wide", "dark", "narrow"};
        for (String look : looks) {
            int width = look.equals("narrow") ? 390 : 1280;
            int height = look.equals("narrow") ? 844 : 800;
            page = newPage(width, height, look.equals("dark") ? ColorScheme.DARK : ColorScheme.LIGHT);
            signIn();
            for (String route : pages) {
                page.navigate(platform.baseUrl() + "/#/" + route);
                page.waitForSelector("main h1");
                page.waitForLoadState();
                page.waitForTimeout(1200);
                assertThat(page.locator(".problem").count())
                        .as(route + " shows no problem")
                        .isZero();
                screenshot(route.replace('/', '-') + "-" + look);
                int overflow =
                        ((Number) page.evaluate("document.documentElement.scrollWidth - window.innerWidth")).intValue();
                assertThat(overflow)
                        .as("sideways scrolling of %s at %d px", route, width)
                        .isLessThanOrEqualTo(0);
            }
        }

        // the theme toggle switches to dark explicitly
        page = newPage(1280, 800, ColorScheme.LIGHT);
        signIn();
        page.click("#theme-toggle");
        page.click("#theme-toggle");
        assertThat(page.getAttribute("html", "data-theme")).isEqualTo("dark");
        String background = (String) page.evaluate("getComputedStyle(document.body).backgroundColor");
        assertThat(background).isNotEqualTo("rgb(245, 247, 251)");

        // an admin gives the project a budget; spend and what is left show in USD
        page.navigate(platform.baseUrl() + "/#/projects");
        Locator project = page.locator("#projects tr[data-project='" + Platform.PROJECT + "']");
        project.locator("input[name=budgetUsd]").fill("25");
        project.locator("button[type=submit]").click();
        waitForText("#projects tr[data-project='" + Platform.PROJECT + "']", "$25.00 USD");
        assertThat(new ProjectsApi(platform.client(Platform.ADMIN_TOKEN))
                        .getProject(Platform.PROJECT)
                        .getBudgetUsd())
                .isEqualByComparingTo("25");

        // an admin creates a token and sees its secret once
        page.fill("#token-form input[name=name]", "alice");
        page.selectOption("#token-form select[name=role]", "MEMBER");
        page.selectOption("#token-form select[name=project]", Platform.PROJECT);
        page.click("#token-form button[type=submit]");
        assertThat(page.locator("#token-secret").textContent()).startsWith("ty_");
        waitForText("#tokens", "alice");
        screenshot("projects-token-dark");
        assertNoConsoleErrors();
    }

    // --- helpers

    @Test
    @Order(7)
    void aCutStreamResumesWhereItStoppedAndShowsWhatItMissedOnce() {
        page.addInitScript(CUTTABLE_STREAMS);
        signIn();
        long jobId = platform.jobs()
                .submitJob(Specs.tinyGpt("resume", 1, 400, 1_000), null)
                .getId();
        page.navigate(platform.baseUrl() + "/#/jobs/" + jobId);
        page.waitForCondition(
                () -> lossPoints() > 0, new Page.WaitForConditionOptions().setTimeout(JOB_TIMEOUT.toMillis()));

        // 1. cut the job page's stream mid-job and keep it away until the job has finished
        String stateAtCut = page.locator("#job-state").textContent();
        page.evaluate("() => { window.sse.blocked = true; window.cutStreams(); }");
        platform.awaitJob(jobId, j -> "SUCCEEDED".equals(j.getState()), JOB_TIMEOUT);
        page.evaluate("() => { window.sse.blocked = false; }");

        // 2. the reopened stream brings the transition it missed
        waitForText("#job-state", "Succeeded");
        waitForText("#events", "SUCCEEDED");
        assertThat(stateAtCut).as("shown when the stream was cut").startsWith("Running");

        // 3. resumed with the last id: over both connections, each event, point and line came once
        List<Long> eventIds = platform.jobs().listJobEvents(jobId).stream()
                .map(e -> e.getId())
                .toList();
        List<Long> lossSteps =
                platform.jobs().getJobMetrics(jobId, null, "loss", 10_000, null).getSeries().get(0).getPoints().stream()
                        .map(p -> p.getStep())
                        .toList();
        // the state shows as soon as the job event is handled; the metrics of the same refresh come just after
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (jobStreamRecord(jobId).steps("loss").size() < lossSteps.size() && System.nanoTime() < until) {
            page.waitForTimeout(200);
        }
        List<Map<String, Object>> opened = jobStreamConnections(jobId);
        assertThat(opened).as("job stream connections").hasSizeGreaterThanOrEqualTo(2);
        StreamRecord record = jobStreamRecord(jobId);
        assertThat(opened.get(1).get("lastEventId"))
                .as("the id the reopened stream resumed from")
                .isEqualTo(record.lastIdOf(0));
        assertThat(record.duplicates())
                .as("events, points and lines delivered twice")
                .isEmpty();
        assertThat(record.eventIds()).as("events streamed").containsExactlyInAnyOrderElementsOf(eventIds);
        assertThat(record.steps("loss")).as("loss points streamed").containsExactlyInAnyOrderElementsOf(lossSteps);
        assertThat(page.locator("#events li").count()).as("timeline rows").isEqualTo(eventIds.size());
        int evalPoints = platform.jobs().getJobMetrics(jobId, null, "eval_loss", 10_000, null).getSeries().stream()
                .mapToInt(x -> x.getPoints().size())
                .sum();
        assertThat(lossPoints())
                .as("points of the loss chart (loss and eval_loss)")
                .isEqualTo(lossSteps.size() + evalPoints);
        screenshot("resumed");
        assertNoConsoleErrors();
    }

    /** The job stream connections the page opened (recorded by {@link #CUTTABLE_STREAMS}), oldest first. */
    private List<Map<String, Object>> jobStreamConnections(long jobId) {
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> requests = (List<Map<String, Object>>) page.evaluate("window.sse.requests");
        String path = "/jobs/" + jobId + "/stream";
        return requests.stream()
                .filter(r -> ((String) r.get("url")).contains(path) && r.get("status") != null)
                .toList();
    }

    private StreamRecord jobStreamRecord(long jobId) {
        return StreamRecord.parse(jobStreamConnections(jobId).stream()
                .map(r -> (String) r.get("body"))
                .toList());
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir)) {
                    Files.delete(p);
                }
            }
        }
    }

    private void assertNoConsoleErrors() {
        assertThat(consoleErrors)
                .as("console errors (failed requests: %s)", failedRequests)
                .isEmpty();
    }

    private void signIn() {
        page.navigate(platform.baseUrl() + "/#/signin");
        page.fill("#token", Platform.ADMIN_TOKEN);
        page.click("#sign-in");
        page.waitForSelector("#jobs-table");
    }

    private int lossPoints() {
        String n = page.getAttribute("[data-chart='loss']", "data-points");
        return n == null ? 0 : Integer.parseInt(n);
    }

    private int chartPoints(String chart) {
        String n = page.getAttribute("[data-chart='" + chart + "']", "data-points");
        return n == null ? 0 : Integer.parseInt(n);
    }

    private void waitForText(String selector, String text) {
        page.waitForCondition(
                () -> page.locator(selector).textContent().contains(text),
                new Page.WaitForConditionOptions().setTimeout(JOB_TIMEOUT.toMillis()));
    }

    private void screenshot(String name) {
        page.screenshot(new Page.ScreenshotOptions()
                .setPath(SHOTS.resolve(testName + "-" + name + ".png"))
                .setFullPage(true));
    }
}
