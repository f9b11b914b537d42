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
const page = await context.newPage();
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
    await page.locator('input[name="password"]').fill(real);
});

await step("test-connection-ok", async () => {
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.getByText("Connection works").waitFor({ timeout: 20_000 });
});

await step("source-added-and-selected", async () => {
    await page.getByRole("button", { name: "Add database", exact: true }).last().click();
    await page.waitForURL(/\/sql/);
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
