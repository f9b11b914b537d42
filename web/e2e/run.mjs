// End-to-end suite: drives Debian's Chromium (no browser download) against a running `metahog serve` and a real
// Postgres holding pagila, the way a person would, and saves a screenshot of each step in e2e/screenshots/.
//
// Environment: METAHOG_URL (default http://127.0.0.1:8000), METAHOG_EMAIL, METAHOG_PASSWORD, METAHOG_PG_URL
// (a postgresql:// URL of a database holding pagila, reachable from the server), optional CHROMIUM
// (default /usr/bin/chromium) and HEADED=1 to watch it.
import { chromium } from "playwright-core";
import { mkdir, readFile, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, "screenshots");
const base = (process.env.METAHOG_URL ?? "http://127.0.0.1:8000").replace(/\/$/, "");
const email = process.env.METAHOG_EMAIL;
const password = process.env.METAHOG_PASSWORD;
const pg_url = process.env.METAHOG_PG_URL;
const executable = process.env.CHROMIUM ?? "/usr/bin/chromium";
const mod = process.platform === "darwin" ? "Meta" : "Control";

function skip(reason) {
    console.log(`e2e: skipped — ${reason}`);
    console.log("0 passed, 0 failed, 1 skipped");
    process.exit(0);
}

if (!email || !password || !pg_url) {
    skip("set METAHOG_EMAIL, METAHOG_PASSWORD and METAHOG_PG_URL (see web/README.md)");
}
if (!existsSync(executable)) {
    skip(`${executable} is missing (apt-get install -y chromium)`);
}
// A server named explicitly must answer; only the default address may be absent (nothing started one).
function unreachable(reason) {
    if (process.env.METAHOG_URL) {
        console.log(`FAIL 0 server: ${reason}`);
        console.log("0 passed, 1 failed");
        process.exit(1);
    }
    skip(reason);
}
try {
    const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(3000) });
    if (!health.ok) {
        unreachable(`${base}/healthz answered ${health.status}`);
    }
} catch (error) {
    unreachable(`no MetaHog server at ${base} (${error.message})`);
}

await rm(shots, { recursive: true, force: true });
await mkdir(shots, { recursive: true });

const browser = await chromium.launch({
    executablePath: executable,
    headless: process.env.HEADED !== "1",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
});
const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true, colorScheme: "light" });
await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
// `page` is the window the current step drives; the keyboard walkthrough swaps in a window of its own.
let page = await context.newPage();
const main_page = page;
page.setDefaultTimeout(15_000);

// Chromium reports every 4xx answer as a console error ("Failed to load resource"); those are expected where a
// step provokes one (a syntax error, a wrong password). Everything else the page logs as an error fails the run.
const console_errors = [];
page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
        console_errors.push(message.text());
    }
});
page.on("pageerror", (error) => console_errors.push(`uncaught: ${error.message}`));

let step_number = 0;
let passed = 0;
let failed = 0;
const state = { source_id: null, source_name: `pagila_e2e_${Date.now().toString(36)}` };

async function shot(name) {
    await page.screenshot({ path: join(shots, `${String(step_number).padStart(2, "0")}-${name}.png`) });
}

async function step(name, body) {
    step_number += 1;
    const started = Date.now();
    try {
        await body();
        await shot(name);
        passed += 1;
        console.log(`ok   ${step_number} ${name} (${Date.now() - started} ms)`);
    } catch (error) {
        failed += 1;
        console.log(`FAIL ${step_number} ${name}: ${error.message.split("\n").slice(0, 6).join("\n     ")}`);
        await shot(`${name}-FAILED`).catch(() => undefined);
    }
}

function expect_equal(actual, expected, what) {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    }
}

/** Replaces the editor's text the way a paste does, so autocomplete and bracket closing stay out of the way. */
async function set_sql(sql) {
    const content = page.locator(".cm-content");
    await content.click();
    await page.keyboard.press(`${mod}+a`);
    await content.evaluate((element, text) => {
        const data = new DataTransfer();
        data.setData("text/plain", text);
        element.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    }, sql);
    await page.waitForFunction((text) => document.querySelector(".cm-content")?.innerText.replace(/\u00a0/g, " ").trim() === text.trim(), sql, { timeout: 5000 });
}

/** Runs with the keyboard shortcut and waits until the run has finished (the Run button is back). */
async function run_and_wait() {
    const pane = page.locator(".result-pane");
    const before = await pane.getAttribute("data-run-id");
    await page.keyboard.press(`${mod}+Enter`);
    await page.waitForFunction(
        (previous) => {
            const element = document.querySelector(".result-pane");
            return element && element.getAttribute("data-run-id") !== previous && element.getAttribute("data-run-status") !== "running";
        },
        before,
        { timeout: 30_000 },
    );
}

/** The text of the cells in the grid's first data row. */
async function first_row() {
    await page.locator(".grid-row").first().waitFor();
    return page.evaluate(() => {
        const rows = [...document.querySelectorAll(".grid-row")];
        rows.sort((a, b) => Number(a.querySelector(".grid-gutter").textContent) - Number(b.querySelector(".grid-gutter").textContent));
        return [...rows[0].querySelectorAll(".grid-cell")].map((cell) => cell.textContent);
    });
}

async function headers() {
    return page.locator(".grid-head-cell .col-name").allTextContents();
}

await step("sign-in-page", async () => {
    await page.goto(`${base}/sql`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
});

await step("wrong-password-refused", async () => {
    await page.getByLabel("E-mail").fill(email);
    await page.getByLabel("Password").fill(`${password}-wrong`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "do not match" }).waitFor();
});

await step("signed-in", async () => {
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator(".cm-editor").waitFor();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
});

await step("add-source-form-from-connection-string", async () => {
    await page.getByRole("link", { name: "Databases" }).click();
    await page.getByRole("button", { name: "Add database" }).first().click();
    await page.getByLabel("Paste a connection string").fill(pg_url);
    await page.getByRole("button", { name: "Fill fields" }).click();
    const url = new URL(pg_url);
    expect_equal(await page.locator('input[name="host"]').inputValue(), url.hostname.replace(/^\[|\]$/g, ""), "host filled");
    expect_equal(await page.locator('input[name="database"]').inputValue(), decodeURIComponent(url.pathname.slice(1)), "database filled");
    await page.locator('input[name="prefix"]').fill(state.source_name);
});

await step("test-connection-shows-database-reason", async () => {
    const real = await page.locator('input[name="password"]').inputValue();
    await page.locator('input[name="password"]').fill("certainly-not-the-password");
    await page.getByRole("button", { name: "Test connection" }).click();
    const error = page.locator('[data-testid="source-error"]');
    await error.waitFor({ timeout: 20_000 });
    const text = await error.textContent();
    if (!/password|authentication/i.test(text)) {
        throw new Error(`expected the database's own reason, got: ${text}`);
    }
    if (text.includes("certainly-not-the-password")) {
        throw new Error("the password was echoed in the error");
    }
    await shot("test-connection-error");
    await page.locator('input[name="password"]').fill(real);
});

await step("test-connection-ok", async () => {
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.getByText("Connection works").waitFor({ timeout: 20_000 });
});

await step("source-added-and-selected", async () => {
    await page.getByRole("button", { name: "Add database", exact: true }).last().click();
    // A role that can do more than read (pagila lets PUBLIC create in schema public) is saved with its
    // warnings shown, and the dialog waits for "Done" so that they are read.
    const done = page.getByRole("button", { name: "Done", exact: true });
    const navigated = page.waitForURL(/\/sql/).then(() => true, () => false);
    const asked = done.waitFor().then(() => true, () => false);
    if (!(await Promise.race([navigated, asked]))) {
        throw new Error("saving the source neither opened the editor nor showed its warnings");
    }
    if (await done.isVisible()) {
        await shot("source-saved-with-role-warnings");
        await done.click();
        await page.waitForURL(/\/sql/);
    }
    const selector = page.locator('[data-testid="database-selector"]');
    await page.waitForFunction((name) => document.querySelector('[data-testid="database-selector"]')?.selectedOptions[0]?.textContent?.startsWith(name), state.source_name);
    state.source_id = await selector.inputValue();
    if (!/^[0-9a-f-]{20,}$/i.test(state.source_id)) {
        throw new Error(`selector value is not a source id: ${state.source_id}`);
    }
});

await step("team-switch", async () => {
    const switcher = page.locator('[data-testid="team-switcher"]');
    if ((await switcher.count()) === 0) {
        console.log("     only one team for this user: the switcher is rightly absent");
        return;
    }
    const teams = await switcher.locator("option").evaluateAll((options) => options.map((option) => option.value));
    const home = await switcher.inputValue();
    const other = teams.find((team) => team !== home);
    await switcher.selectOption(other);
    await page.waitForFunction(
        (name) => ![...document.querySelectorAll('[data-testid="database-selector"] option')].some((option) => option.textContent.startsWith(name)),
        state.source_name,
    );
    await shot("other-team");
    await switcher.selectOption(home);
    await page.waitForFunction(
        (name) => document.querySelector('[data-testid="database-selector"]')?.selectedOptions[0]?.textContent?.startsWith(name),
        state.source_name,
    );
});

await step("schema-browser", async () => {
    await page.getByRole("treeitem").filter({ hasText: "film" }).first().waitFor({ timeout: 20_000 });
    await page.getByLabel("Filter tables and columns").fill("film");
    const names = await page.locator(".tree-row .name").allTextContents();
    for (const wanted of ["film", "film_actor", "film_category"]) {
        if (!names.includes(wanted)) {
            throw new Error(`filter "film" did not list ${wanted}: ${names.join(", ")}`);
        }
    }
    // Expanding a table lists its columns with types and keys.
    await page.locator(".tree-row", { has: page.locator(".name", { hasText: /^film$/ }) }).first().locator(".chevron").click();
    await page.locator(".tree-row .name", { hasText: /^release_year$/ }).waitFor();
});

await step("schema-query-action", async () => {
    const row = page.getByRole("treeitem").filter({ has: page.locator(".name", { hasText: /^film$/ }) }).first();
    await row.hover();
    await row.getByRole("button", { name: "Query" }).click();
    await page.locator('[data-testid="result-summary"]').waitFor({ timeout: 30_000 });
    const text = await page.locator(".cm-content").innerText();
    expect_equal(text.trim(), "SELECT * FROM film LIMIT 100", "query text");
    const summary = await page.locator('[data-testid="result-summary"]').textContent();
    if (!summary.includes("100 rows")) {
        throw new Error(`expected 100 rows, got ${summary}`);
    }
    await page.getByLabel("Filter tables and columns").fill("");
});

await step("autocomplete-from-schema", async () => {
    await page.getByRole("button", { name: "New tab" }).click();
    await set_sql("SELECT \nFROM film f");
    await page.keyboard.press(`${mod}+Home`);
    await page.keyboard.press("End");
    await page.keyboard.type("f.ti", { delay: 40 });
    const popup = page.locator(".cm-tooltip-autocomplete");
    await popup.waitFor();
    const options = await popup.locator("li").allTextContents();
    if (!options.some((option) => option.startsWith("title"))) {
        throw new Error(`alias completion offered: ${options.join(", ")}`);
    }
    await shot("autocomplete-popup");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector(".cm-content")?.innerText.includes("f.title"));
});

await step("run-statement-under-cursor-and-selection", async () => {
    await set_sql("SELECT 1 AS one;\nSELECT 2 AS two;");
    await page.keyboard.press(`${mod}+End`);
    await run_and_wait();
    expect_equal(await headers(), ["two"], "statement under the cursor");
    await page.locator(".cm-content").click();
    await page.keyboard.press(`${mod}+Home`);
    await page.keyboard.press("Shift+End");
    await run_and_wait();
    expect_equal(await headers(), ["one"], "selection");
});

await step("explain-plan", async () => {
    await set_sql("SELECT f.title FROM film f JOIN film_actor fa ON fa.film_id = f.film_id WHERE fa.actor_id = 1");
    await page.getByRole("button", { name: "Explain", exact: true }).click();
    await page.locator('[data-testid="plan-view"]').waitFor({ timeout: 20_000 });
    await page.getByRole("button", { name: "Run EXPLAIN ANALYZE" }).click();
    await page.getByText(/Executed in/).waitFor({ timeout: 20_000 });
});

const examples = [
    {
        name: "example-top-rented-films",
        sql: "-- Top 10 most rented films\nSELECT f.title, COUNT(*) as rental_count\nFROM rental r\nJOIN inventory i ON r.inventory_id = i.inventory_id\nJOIN film f ON i.film_id = f.film_id\nGROUP BY f.title\nORDER BY rental_count DESC\nLIMIT 10;",
        headers: ["title", "rental_count"],
        first: ["BUCKET BROTHERHOOD", "34"],
        rows: "10 rows",
    },
    {
        name: "example-revenue-by-month",
        sql: "-- Revenue by month\nSELECT DATE_TRUNC('month', payment_date) as month, SUM(amount) as revenue\nFROM payment\nGROUP BY month\nORDER BY month;",
        headers: ["month", "revenue"],
        // pagila's payments start in January 2022; the bucket's text depends on the session time zone (UTC here).
        first: ["2022-01-01T00:00:00+00:00", "3094.78"],
    },
    {
        name: "example-customer-spending",
        sql: "-- Customer spending\nSELECT c.first_name, c.last_name, SUM(p.amount) as total_spent\nFROM customer c\nJOIN payment p ON c.customer_id = p.customer_id\nGROUP BY c.customer_id, c.first_name, c.last_name\nORDER BY total_spent DESC\nLIMIT 10;",
        headers: ["first_name", "last_name", "total_spent"],
        first: ["KARL", "SEAL", "221.55"],
        rows: "10 rows",
    },
];

for (const example of examples) {
    await step(example.name, async () => {
        await page.getByRole("button", { name: "New tab" }).click();
        await set_sql(example.sql);
        await run_and_wait();
        expect_equal(await headers(), example.headers, "columns");
        const row = await first_row();
        if (example.name === "example-revenue-by-month") {
            if (!row[0].startsWith("2022-01-01")) {
                throw new Error(`first month: ${row[0]}`);
            }
            expect_equal(row[1], example.first[1], "first revenue");
        } else {
            expect_equal(row, example.first, "first row");
        }
        if (example.rows) {
            const summary = await page.locator('[data-testid="result-summary"]').textContent();
            if (!summary.includes(example.rows)) {
                throw new Error(`summary ${summary}`);
            }
        }
    });
}

/** True once Chart.js has painted: enough non-transparent pixels on the chart's canvas. */
async function chart_painted() {
    await page.waitForFunction(() => {
        const canvas = document.querySelector('[data-testid="chart"] canvas');
        if (!canvas || canvas.width === 0 || canvas.height === 0) {
            return false;
        }
        const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let index = 3; index < pixels.length; index += 4 * 7) {
            if (pixels[index] > 0) {
                painted += 1;
            }
        }
        return painted > 400;
    }, undefined, { timeout: 10_000 });
}

const rentals_sql =
    "-- Rentals per month per store\nSELECT date_trunc('month', r.rental_date)::date AS month, 'Store ' || i.store_id AS store, count(*) AS rentals\nFROM rental r\nJOIN inventory i ON i.inventory_id = r.inventory_id\nGROUP BY 1, 2\nORDER BY 1, 2;";

await step("chart-multi-series", async () => {
    await page.getByRole("button", { name: "New tab" }).click();
    state.chart_tab = (await page.locator('.tab [role="tab"][aria-selected="true"]').textContent()).trim();
    await set_sql(rentals_sql);
    await run_and_wait();
    expect_equal(await headers(), ["month", "store", "rentals"], "columns");
    await page.getByRole("tab", { name: "Chart" }).click();
    // The defaults split the rows into one series per store, by month.
    const chart = page.locator('[data-testid="chart"]');
    await chart.waitFor();
    expect_equal(await chart.getAttribute("data-series-count"), "2", "series (one per store)");
    expect_equal(await page.getByLabel("X axis column").inputValue(), "month", "X column");
    expect_equal(await page.getByLabel("Split into series by column").inputValue(), "store", "series column");
    await chart_painted();
    await shot("chart-lines-per-store");
    await page.getByLabel("Chart type").selectOption("bar");
    await page.getByLabel("Stacked").check();
    await page.waitForFunction(() => document.querySelector('[data-testid="chart"]')?.getAttribute("data-chart-kind") === "bar");
    await chart_painted();
    const label = await chart.locator("canvas").getAttribute("aria-label");
    if (!/Store 1, Store 2/.test(label)) {
        throw new Error(`chart description: ${label}`);
    }
});

await step("chart-settings-per-tab-and-empty-state", async () => {
    // Another tab has its own (default) chart; coming back restores this tab's stacked bars.
    await page.getByRole("button", { name: "New tab" }).click();
    await set_sql("SELECT title, rating FROM film ORDER BY film_id LIMIT 3");
    await run_and_wait();
    await page.getByRole("tab", { name: "Chart" }).click();
    await page.locator('[data-testid="chart-empty"]').getByText("Nothing to chart").waitFor();
    await shot("chart-nothing-to-chart");
    await page.getByRole("button", { name: "Close Query", exact: false }).last().click();
    await page.locator(".tab-title", { hasText: new RegExp(`^${state.chart_tab}$`) }).click();
    await page.getByRole("tab", { name: "Chart" }).click();
    await page.locator('[data-testid="chart"][data-chart-kind="bar"]').waitFor();
    if (!(await page.getByLabel("Stacked").isChecked())) {
        throw new Error("the tab's stacked setting was not remembered");
    }
    await chart_painted();
    // The steps after this one write into the active tab: give them their own.
    await shot("chart-stacked-bars-restored");
    await page.getByRole("button", { name: "New tab" }).click();
});

await step("exact-numbers-null-and-empty", async () => {
    await set_sql("SELECT 9007199254740993::bigint AS big, 12345678901234567890.120::numeric AS exact, NULL::text AS nothing, ''::text AS empty, '{\"a\": [1, 2]}'::jsonb AS doc, ARRAY[1,2,3] AS arr");
    await run_and_wait();
    expect_equal(await first_row(), ["9007199254740993", "12345678901234567890.120", "NULL", "", '{"a":[1,2]}', "[1,2,3]"], "exact values");
    const null_class = await page.locator(".grid-row .grid-cell").nth(2).getAttribute("class");
    if (!null_class.includes("null")) {
        throw new Error("NULL is not styled apart from text");
    }
    const types = await page.locator(".grid-head-cell .col-type").allTextContents();
    expect_equal(types.slice(0, 2), ["bigint", "numeric"], "types in headers");
});

await step("hundred-thousand-rows", async () => {
    await page.getByLabel("Maximum rows").selectOption("100000");
    await set_sql("SELECT g AS n, md5(g::text) AS hash, g * 1.5 AS x, now() AS at FROM generate_series(1, 100000) g");
    const started = Date.now();
    await run_and_wait();
    const summary = await page.locator('[data-testid="result-summary"]').textContent();
    if (!summary.includes("100,000 rows")) {
        throw new Error(`summary ${summary}`);
    }
    console.log(`     100,000 rows fetched and shown in ${Date.now() - started} ms`);
    const grid = page.locator('[data-testid="result-grid"]');
    const scroll_started = Date.now();
    for (let step_index = 1; step_index <= 20; step_index += 1) {
        await grid.evaluate((element, fraction) => {
            element.scrollTop = element.scrollHeight * fraction;
        }, step_index / 20);
        await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve(undefined))));
    }
    console.log(`     20 scroll jumps rendered in ${Date.now() - scroll_started} ms`);
    await page.locator(".grid-gutter", { hasText: /^100000$/ }).waitFor();
    await page.getByLabel("Maximum rows").selectOption("1000");
});

await step("syntax-error-position", async () => {
    await set_sql("SELECT title\nFROM film\nWHERE film_id = 1 ORDER BYY title");
    await run_and_wait();
    await page.locator(".error-card").waitFor();
    const card = await page.locator(".error-card").textContent();
    if (!/syntax error/i.test(card)) {
        throw new Error(`error card: ${card}`);
    }
    const marked = await page.locator(".cm-lintRange-error").first().textContent({ timeout: 5000 });
    expect_equal(marked, "BYY", "marked text");
    if (!/Line 3, column/.test(card)) {
        throw new Error(`position missing: ${card}`);
    }
});

await step("cancel-long-query", async () => {
    await set_sql("SELECT pg_sleep(30)");
    const started = Date.now();
    await page.keyboard.press(`${mod}+Enter`);
    const cancel = page.locator('[data-testid="cancel-button"]');
    await cancel.waitFor();
    await page.waitForTimeout(800);
    await shot("cancel-running");
    await cancel.click();
    await page.getByText("Query cancelled").waitFor({ timeout: 10_000 });
    const elapsed = Date.now() - started;
    if (elapsed > 10_000) {
        throw new Error(`cancel took ${elapsed} ms`);
    }
    // The database must be free again at once: a quick query on the same source answers.
    await set_sql("SELECT 1 AS still_alive");
    await run_and_wait();
    expect_equal(await first_row(), ["1"], "query after cancel");
});

await step("shared-url-opens-query", async () => {
    const sql = "SELECT title, rental_rate FROM film ORDER BY film_id LIMIT 5";
    await page.goto(`${base}/sql?open_query=${encodeURIComponent(sql)}&direct_query_source=${state.source_id}`);
    await page.locator(".cm-editor").waitFor();
    await page.waitForFunction((text) => document.querySelector(".cm-content")?.innerText.trim() === text, sql);
    expect_equal(await page.locator('[data-testid="database-selector"]').inputValue(), state.source_id, "source from link");
    if (new URL(page.url()).search !== "") {
        throw new Error(`the address bar kept the link parameters: ${page.url()}`);
    }
    await page.locator(".cm-content").click();
    await run_and_wait();
    expect_equal(await first_row(), ["ACADEMY DINOSAUR", "0.99"], "first film");
});

await step("tabs-survive-reload", async () => {
    const titles_before = await page.locator(".tab .tab-title").allTextContents();
    await page.reload();
    await page.locator(".cm-editor").waitFor();
    const titles_after = await page.locator(".tab .tab-title").allTextContents();
    expect_equal(titles_after, titles_before, "tab titles");
    expect_equal(await first_row(), ["ACADEMY DINOSAUR", "0.99"], "restored result");
});

await step("export-csv", async () => {
    const [download] = await Promise.all([page.waitForEvent("download", { timeout: 15_000 }), page.getByRole("button", { name: "CSV" }).click()]);
    const path = await download.path();
    const text = await readFile(path, "utf8");
    const lines = text.trim().split(/\r?\n/);
    if (!/title/.test(lines[0]) || !lines[1].includes("ACADEMY DINOSAUR")) {
        throw new Error(`unexpected CSV: ${lines.slice(0, 2).join(" | ")}`);
    }
});

await step("export-json", async () => {
    const [download] = await Promise.all([page.waitForEvent("download", { timeout: 15_000 }), page.getByRole("button", { name: "JSON" }).click()]);
    const rows = JSON.parse(await readFile(await download.path(), "utf8"));
    if (!Array.isArray(rows) || rows.length !== 5) {
        throw new Error(`unexpected JSON export: ${JSON.stringify(rows).slice(0, 200)}`);
    }
});

await step("dark-theme", async () => {
    await page.getByRole("button", { name: "Switch to dark theme" }).click();
    await page.locator("html[data-theme=dark]").waitFor({ state: "attached" });
    await page.locator(".grid-row").first().click();
});

await step("chart-dark-theme", async () => {
    await page.locator(".tab-title", { hasText: new RegExp(`^${state.chart_tab}$`) }).click();
    await page.getByRole("tab", { name: "Chart" }).click();
    await page.locator('[data-testid="chart"][data-chart-kind="bar"]').waitFor();
    await chart_painted();
    await page.getByLabel("Chart type").selectOption("area");
    await chart_painted();
});

await step("editor-loads-fast", async () => {
    const started = Date.now();
    await page.goto(`${base}/sql`);
    await page.locator(".cm-content").waitFor();
    const elapsed = Date.now() - started;
    console.log(`     editor ready ${elapsed} ms after navigation`);
    if (elapsed > 1000) {
        throw new Error(`editor took ${elapsed} ms`);
    }
    await page.getByRole("button", { name: "Switch to light theme" }).click();
});

// ---- Keyboard-only walkthrough: a second browser window that is never clicked. Every element that takes focus
// must show a focus indicator; every control must be reachable with Tab; dialogs trap and restore focus.
const kb_context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: "light" });
await kb_context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
const kb = await kb_context.newPage();
kb.setDefaultTimeout(15_000);
kb.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
        console_errors.push(`keyboard window: ${message.text()}`);
    }
});
kb.on("pageerror", (error) => console_errors.push(`keyboard window uncaught: ${error.message}`));
const focus_problems = [];
const reached = new Set();

/** Describes the focused element and whether it shows a focus indicator (outline or ring) right now. */
async function focus_state() {
    return kb.evaluate(() => {
        const element = document.activeElement;
        if (!element || element === document.body || element === document.documentElement) {
            return { name: "(page)", visible: false, body: true };
        }
        const label =
            element.getAttribute("aria-label") ||
            element.getAttribute("data-testid") ||
            (element.labels && element.labels[0]?.textContent?.trim()) ||
            element.textContent?.trim().slice(0, 40) ||
            element.getAttribute("placeholder") ||
            "";
        const name = `${element.tagName.toLowerCase()}${element.getAttribute("role") ? `[role=${element.getAttribute("role")}]` : ""} "${label}"`;
        // CodeMirror focuses its content element; the editor around it carries the ring.
        const editor = element.classList.contains("cm-content") ? element.closest(".cm-editor") : null;
        const target = editor ?? element;
        const style = getComputedStyle(target);
        const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 1 && !/rgba\(0, 0, 0, 0\)|transparent/.test(style.outlineColor);
        const ring = style.boxShadow !== "none" && style.boxShadow !== "";
        const rect = target.getBoundingClientRect();
        const on_screen = rect.width > 0 && rect.height > 0 && rect.bottom > 0 && rect.right > 0 && rect.top < innerHeight && rect.left < innerWidth;
        const matches = editor !== null || element.matches(":focus-visible");
        element.setAttribute("data-kbd-reached", "1");
        return { name, visible: (outline || ring) && on_screen && matches, body: false };
    });
}

async function press(key) {
    await kb.keyboard.press(key);
    const state_now = await focus_state();
    if (!state_now.body) {
        reached.add(state_now.name);
        if (!state_now.visible) {
            focus_problems.push(`${key} → ${state_now.name} has no visible focus indicator`);
        }
    }
    return state_now;
}

/** Presses Tab (or Shift+Tab) until the focused element matches `selector`. */
async function tab_to(selector, { back = false, max = 60 } = {}) {
    for (let count = 0; count < max; count += 1) {
        await press(back ? "Shift+Tab" : "Tab");
        if (await kb.evaluate((wanted) => document.activeElement?.matches(wanted) ?? false, selector)) {
            return;
        }
    }
    throw new Error(`${max} × ${back ? "Shift+Tab" : "Tab"} never reached ${selector}`);
}

function no_focus_problems() {
    if (focus_problems.length > 0) {
        const list = focus_problems.splice(0);
        throw new Error(`focus not visible:\n${[...new Set(list)].join("\n")}`);
    }
}

async function active_cell_text() {
    return kb.evaluate(() => {
        const grid = document.querySelector('[data-testid="result-grid"]');
        const id = grid?.getAttribute("aria-activedescendant");
        return id ? document.getElementById(id)?.textContent ?? null : null;
    });
}

// A keyboard step runs, and is photographed, in the keyboard window.
const kbd = async (name, body) => {
    const previous = page;
    page = kb;
    try {
        await step(`keyboard-${name}`, async () => {
            await body();
            no_focus_problems();
        });
    } finally {
        page = previous;
    }
};

await kbd("sign-in", async () => {
    // A second source, so that picking one in the selector is a real choice.
    await main_page.evaluate(async (pg) => {
        const me = await (await fetch("/api/auth/me")).json();
        await fetch("/api/projects/@current/external_data_sources/", {
            method: "POST",
            headers: { "Content-Type": "application/json", "X-CSRF-Token": me.csrf_token },
            body: JSON.stringify({ source_type: "Postgres", prefix: "kbd_second", job_inputs: { connection_string: pg } }),
        });
    }, pg_url).catch(() => undefined);
    await kb.goto(`${base}/sql`);
    await kb.getByRole("heading", { name: "Sign in" }).waitFor();
    const first = await focus_state();
    if (!first.name.includes("input")) {
        throw new Error(`the sign-in page did not focus the e-mail field: ${first.name}`);
    }
    await kb.keyboard.type(email);
    await press("Tab");
    await kb.keyboard.type(password);
    await kb.keyboard.press("Enter");
    await kb.locator(".cm-editor").waitFor();
    await kb.getByRole("button", { name: "Sign out" }).waitFor();
});

await kbd("skip-link-and-database-selector", async () => {
    const skip = await press("Tab");
    if (!skip.name.includes("Skip to main content")) {
        throw new Error(`first Tab stop is ${skip.name}, not the skip link`);
    }
    await tab_to('[data-testid="database-selector"]');
    const select = kb.locator('[data-testid="database-selector"]');
    await kb.waitForFunction(() => document.querySelectorAll('[data-testid="database-selector"] option').length >= 2);
    const options = await select.locator("option").allTextContents();
    const target = options.findIndex((text) => text.startsWith(state.source_name));
    // Arrow keys move through the options; first away from the source we want if it is already chosen.
    let current = await select.evaluate((element) => element.selectedIndex);
    if (current === target) {
        await press(target === 0 ? "ArrowDown" : "ArrowUp");
        current = await select.evaluate((element) => element.selectedIndex);
        if (current === target) {
            throw new Error("arrow keys did not change the database");
        }
    }
    while (current !== target) {
        await press(current < target ? "ArrowDown" : "ArrowUp");
        current = await select.evaluate((element) => element.selectedIndex);
    }
    await kb.waitForFunction((name) => document.querySelector(".sidebar-head h2")?.textContent === name, state.source_name);
    await kb.getByRole("treeitem").first().waitFor({ timeout: 20_000 });
});

await kbd("type-and-run", async () => {
    await tab_to(".cm-content");
    await kb.keyboard.type("SELECT title, length FROM film ORDER BY film_id LIMIT 5", { delay: 15 });
    await kb.keyboard.press("Escape");
    await kb.waitForFunction(() => document.querySelector(".cm-content")?.innerText.includes("LIMIT 5"));
    const before = await kb.locator(".result-pane").getAttribute("data-run-id");
    await kb.keyboard.press(`${mod}+Enter`);
    await kb.waitForFunction(
        (previous) => {
            const element = document.querySelector(".result-pane");
            return element && element.getAttribute("data-run-id") !== previous && element.getAttribute("data-run-status") === "success";
        },
        before,
        { timeout: 30_000 },
    );
    await kb.locator(".grid-row").first().waitFor();
});

await kbd("grid-cells-and-copy", async () => {
    await tab_to('[data-testid="result-grid"]');
    expect_equal(await active_cell_text(), "ACADEMY DINOSAUR", "first cell on focus");
    await press("ArrowRight");
    expect_equal(await active_cell_text(), "86", "→");
    await press("ArrowDown");
    expect_equal(await active_cell_text(), "48", "↓");
    await press("ArrowLeft");
    expect_equal(await active_cell_text(), "ACE GOLDFINGER", "←");
    await kb.keyboard.press(`${mod}+c`);
    await kb.getByText("Value copied").waitFor();
    expect_equal(await kb.evaluate(() => navigator.clipboard.readText()), "ACE GOLDFINGER", "clipboard");
    await press("Enter");
    await kb.getByRole("complementary", { name: "Value detail" }).waitFor();
    await shot("keyboard-value-detail");
    await press("Escape");
    await kb.getByRole("complementary", { name: "Value detail" }).waitFor({ state: "detached" });
    const still = await focus_state();
    if (!still.name.includes("result-grid") && !still.name.includes("Query results")) {
        throw new Error(`Escape moved focus out of the grid: ${still.name}`);
    }
});

await kbd("schema-filter-and-insert", async () => {
    await tab_to('input[aria-label="Filter tables and columns"]', { back: true });
    await kb.keyboard.type("film_act");
    await press("ArrowDown");
    const tree = await focus_state();
    if (!tree.name.includes("tree")) {
        throw new Error(`↓ from the filter went to ${tree.name}`);
    }
    const active_row = () => kb.evaluate(() => document.getElementById(document.activeElement.getAttribute("aria-activedescendant") ?? "")?.querySelector(".name")?.textContent);
    for (let count = 0; count < 10 && (await active_row()) !== "film_actor"; count += 1) {
        await press("ArrowDown");
    }
    expect_equal(await active_row(), "film_actor", "active table");
    await shot("keyboard-schema-tree");
    await press("Enter");
    await kb.waitForFunction(() => document.activeElement?.classList.contains("cm-content") && document.activeElement.innerText.includes("film_actor"));
});

await kbd("dialogs-trap-and-restore-focus", async () => {
    // The shortcuts dialog, from the toolbar just before the editor.
    await tab_to('button[aria-label="Keyboard shortcuts"]', { back: true });
    await press("Enter");
    const dialog = kb.getByRole("dialog", { name: "Keyboard shortcuts" });
    await dialog.waitFor();
    for (let count = 0; count < 4; count += 1) {
        await press(count % 2 ? "Shift+Tab" : "Tab");
        if (!(await kb.evaluate(() => document.activeElement?.closest("dialog[open]") !== null))) {
            throw new Error("Tab left the open dialog");
        }
    }
    await shot("keyboard-shortcuts-dialog");
    await press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect_equal(await kb.evaluate(() => document.activeElement?.getAttribute("aria-label")), "Keyboard shortcuts", "focus restored to the opener");

    // The add-database form on the Databases page: starts on its first field, Tab wraps inside it.
    await tab_to('a[href="/sources"]', { back: true });
    await press("Enter");
    await kb.getByRole("heading", { name: "Databases" }).waitFor();
    await tab_to('button.btn-primary');
    await press("Enter");
    const form = kb.getByRole("dialog", { name: "Add a Postgres database" });
    await form.waitFor();
    expect_equal(await kb.evaluate(() => document.activeElement?.id), "connection-string", "first field focused");
    const seen = new Set();
    for (let count = 0; count < 16; count += 1) {
        const now = await press("Tab");
        seen.add(now.name);
        if (!(await kb.evaluate(() => document.activeElement?.closest("dialog[open]") !== null))) {
            throw new Error(`Tab left the open dialog for ${now.name}`);
        }
    }
    if (!(await kb.evaluate(() => document.activeElement?.closest("dialog[open]") !== null))) {
        throw new Error("Shift+Tab left the dialog");
    }
    await shot("keyboard-source-dialog");
    await press("Escape");
    await form.waitFor({ state: "hidden" });
    const back = await focus_state();
    if (!back.name.includes("Add database")) {
        throw new Error(`focus after Escape: ${back.name}`);
    }
    await tab_to('a[href="/sql"]:not(.brand)', { back: true });
    await press("Enter");
    await kb.locator(".cm-editor").waitFor();
});

await kbd("switch-tabs-and-views", async () => {
    await tab_to('button[aria-label="New tab"]');
    await press("Enter");
    await kb.waitForFunction(() => document.querySelectorAll('.tab [role="tab"]').length === 2);
    await tab_to('[role="tab"][aria-selected="true"][data-tab-id]', { back: true });
    await press("ArrowLeft");
    await kb.waitForFunction(() => document.querySelector(".cm-content")?.innerText.includes("film_actor"));
    const focused_tab = await focus_state();
    if (!focused_tab.name.includes("Query 1")) {
        throw new Error(`← focused ${focused_tab.name}`);
    }
    await press("ArrowRight");
    await kb.waitForFunction(() => !document.querySelector(".cm-content")?.innerText.includes("film_actor"));
    await press("Delete");
    await kb.waitForFunction(() => document.querySelectorAll('.tab [role="tab"]').length === 1);
    const after_close = await focus_state();
    if (!after_close.name.includes("Query 1")) {
        throw new Error(`focus after closing a tab: ${after_close.name}`);
    }
    // Output views: one Tab stop, arrows switch between Results, Chart, Plan and Messages.
    await tab_to('[role="tablist"][aria-label="Output view"] [aria-selected="true"]');
    await press("ArrowRight");
    await kb.locator('[data-testid="chart"]').waitFor();
    await tab_to('select[aria-label="Chart type"]');
    await press("ArrowDown");
    await kb.waitForFunction(() => document.querySelector('[data-testid="chart"]')?.getAttribute("data-chart-kind") === "line");
    await tab_to('[role="tablist"][aria-label="Output view"] [aria-selected="true"]', { back: true });
    await press("ArrowLeft");
    await kb.locator('[data-testid="result-grid"]').waitFor();
});

await kbd("every-control-reachable", async () => {
    await kb.evaluate(() => {
        document.querySelectorAll("[data-kbd-reached]").forEach((element) => element.removeAttribute("data-kbd-reached"));
        document.activeElement?.blur();
    });
    // One full round: Tab until focus comes back to where it started (passing the page's end if need be).
    await press("Tab");
    await kb.evaluate(() => document.activeElement?.setAttribute("data-kbd-first", "1"));
    let round_trip = false;
    for (let count = 0; count < 200 && !round_trip; count += 1) {
        await press("Tab");
        round_trip = await kb.evaluate(() => document.activeElement?.hasAttribute("data-kbd-first") ?? false);
    }
    if (!round_trip) {
        throw new Error("200 Tabs did not come back to the first control: focus is trapped somewhere");
    }
    const missed = await kb.evaluate(() => {
        const candidates = document.querySelectorAll('a[href], button, input, select, textarea, [tabindex], [contenteditable="true"]');
        return [...candidates]
            .filter((element) => {
                if (element.disabled || element.tabIndex < 0 || element.closest("[inert], dialog:not([open])")) {
                    return false;
                }
                const rect = element.getBoundingClientRect();
                const style = getComputedStyle(element);
                return rect.width > 0 && rect.height > 0 && style.visibility !== "hidden" && !element.hasAttribute("data-kbd-reached");
            })
            .map((element) => `${element.tagName.toLowerCase()} "${element.getAttribute("aria-label") || element.textContent.trim().slice(0, 30)}"`);
    });
    if (missed.length > 0) {
        throw new Error(`never reached with Tab: ${missed.join(", ")}`);
    }
    console.log(`     ${reached.size} distinct controls reached from the keyboard`);
});

await kbd("sign-out", async () => {
    await tab_to(".topbar-right .btn", { back: true, max: 80 });
    await press("Enter");
    await kb.getByRole("heading", { name: "Sign in" }).waitFor();
    // The second source served its purpose.
    await main_page.evaluate(async () => {
        const me = await (await fetch("/api/auth/me")).json();
        const list = await (await fetch("/api/projects/@current/external_data_sources/")).json();
        for (const source of list.results.filter((candidate) => candidate.prefix === "kbd_second")) {
            await fetch(`/api/projects/@current/external_data_sources/${source.id}/`, { method: "DELETE", headers: { "X-CSRF-Token": me.csrf_token } });
        }
    });
});
await kb_context.close();

await step("delete-source", async () => {
    await page.getByRole("link", { name: "Databases" }).click();
    await page.getByRole("button", { name: `Delete ${state.source_name}` }).click();
    await shot("delete-confirm");
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await page.getByRole("button", { name: `Delete ${state.source_name}` }).waitFor({ state: "detached" });
});

await step("signed-out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
});

step_number += 1;
if (console_errors.length > 0) {
    failed += 1;
    console.log(`FAIL ${step_number} no-console-errors:\n     ${console_errors.join("\n     ")}`);
} else {
    passed += 1;
    console.log(`ok   ${step_number} no-console-errors`);
}

await browser.close();
console.log(`screenshots in ${shots}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
