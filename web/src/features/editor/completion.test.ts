// Protects schema-aware autocomplete: a user typing against pagila must be offered its real tables and columns.
import { describe, expect, it } from "vitest";
import { EditorState } from "@codemirror/state";
import { ensureSyntaxTree } from "@codemirror/language";
import { CompletionContext, type CompletionResult, type CompletionSource } from "@codemirror/autocomplete";
import { build_completion_schema, sql_language } from "./completion";
import { postgres_dialect } from "./dialect";

const pagila = {
    tables: {
        film: [["film_id", "integer"], ["title", "text"], ["rental_rate", "numeric"]] as Array<[string, string]>,
        actor: [["actor_id", "integer"], ["first_name", "text"]] as Array<[string, string]>,
        "sales.orders": [["order_id", "bigint"], ["total", "numeric"]] as Array<[string, string]>,
    },
};

/** Labels offered at the "|" in `text` when completion is explicitly requested (Ctrl+Space). */
async function labels_at(text: string): Promise<string[]> {
    const pos = text.indexOf("|");
    const doc = text.replace("|", "");
    const schema = build_completion_schema(pagila, "public", "pagila");
    const state = EditorState.create({ doc, extensions: [sql_language(postgres_dialect, schema)] });
    // Parse fully first: on a busy machine the incremental parser's time budget could leave the tree partial.
    ensureSyntaxTree(state, doc.length, 5000);
    const sources = state.languageDataAt<CompletionSource>("autocomplete", pos);
    const labels: string[] = [];
    for (const source of sources) {
        const result = (await source(new CompletionContext(state, pos, true))) as CompletionResult | null;
        if (!result) {
            continue;
        }
        const typed = doc.slice(result.from, pos).toLowerCase();
        for (const option of result.options) {
            if (option.label.toLowerCase().startsWith(typed)) {
                labels.push(option.label);
            }
        }
    }
    return labels;
}

describe("schema autocomplete", () => {
    it("offers the source's tables after FROM", async () => {
        const labels = await labels_at("SELECT * FROM fi|");
        expect(labels).toContain("film");
    });

    it("offers a table's columns after its name and a dot", async () => {
        const labels = await labels_at("SELECT film.| FROM film");
        expect(labels).toEqual(expect.arrayContaining(["film_id", "title", "rental_rate"]));
        expect(labels).not.toContain("first_name");
    });

    it("resolves a table alias to that table's columns", async () => {
        const labels = await labels_at("SELECT f.| FROM film f JOIN actor a ON true");
        expect(labels).toEqual(expect.arrayContaining(["film_id", "title"]));
        expect(labels).not.toContain("actor_id");
        const actor_labels = await labels_at("SELECT a.fi| FROM film AS f JOIN actor AS a ON true");
        expect(actor_labels).toContain("first_name");
    });

    it("completes tables after the source prefix, which the server strips", async () => {
        const labels = await labels_at("SELECT * FROM pagila.|");
        expect(labels).toEqual(expect.arrayContaining(["film", "actor"]));
    });

    it("completes tables of a non-default schema after its name", async () => {
        const labels = await labels_at("SELECT * FROM sales.|");
        expect(labels).toEqual(["orders"]);
        const columns = await labels_at("SELECT sales.orders.| FROM sales.orders");
        expect(columns).toEqual(expect.arrayContaining(["order_id", "total"]));
    });

    it("offers keywords and the dialect's functions", async () => {
        expect(await labels_at("SEL|")).toContain("SELECT");
        expect(await labels_at("SELECT date_tr|")).toContain("date_trunc");
    });

    it("offers neither functions nor keywords where a column is expected after a dot", async () => {
        const labels = await labels_at("SELECT film.| FROM film");
        expect(labels).not.toContain("count");
        expect(labels).not.toContain("TIME");
        expect(labels).toContain("title");
    });
});
