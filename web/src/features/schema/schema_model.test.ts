// Protects the schema browser's filter: it must find tables and columns and stay fast at 5,000 tables.
import { describe, expect, it } from "vitest";
import { build_schema_model, visible_rows } from "./schema_model";

function big_schema(count: number) {
    const tables: Record<string, Array<[string, string]>> = {};
    for (let index = 0; index < count; index += 1) {
        tables[`table_${String(index).padStart(4, "0")}`] = [
            ["id", "bigint"],
            [`value_${index}`, "text"],
            ["created_at", "timestamp with time zone"],
        ];
    }
    tables["audit.events"] = [["event_id", "bigint"]];
    return { tables };
}

describe("schema browser model", () => {
    it("groups tables by schema with the default schema first", () => {
        const model = build_schema_model(big_schema(3), "public");
        expect(model.groups.map((group) => group.name)).toEqual(["public", "audit"]);
        expect(model.table_count).toBe(4);
    });

    it("shows tables whose name matches and, for a column match, only the matching columns", () => {
        const model = build_schema_model(big_schema(20), "public");
        const by_table = visible_rows(model, "table_0012", new Set(), new Set());
        expect(by_table.filter((row) => row.kind === "table")).toHaveLength(1);
        const by_column = visible_rows(model, "value_7", new Set(), new Set());
        const columns = by_column.filter((row) => row.kind === "column");
        expect(columns.map((row) => (row.kind === "column" ? row.column.name : ""))).toEqual(["value_7"]);
    });

    // Speed is the e2e suite's and the benchmarks' business (timings in unit tests only measure the machine's
    // load); here: the answers at 5,000 tables.
    it("filters 5,000 tables by table and column names", () => {
        const model = build_schema_model(big_schema(5000), "public");
        const tables = (needle: string) => visible_rows(model, needle, new Set(), new Set()).filter((row) => row.kind === "table");
        expect(tables("table_499")).toHaveLength(10);
        expect(tables("zzz")).toHaveLength(0);
        expect(tables("t").length).toBeGreaterThanOrEqual(5000);
    });

    it("hides a collapsed schema's tables but keeps its header", () => {
        const model = build_schema_model(big_schema(2), "public");
        const rows = visible_rows(model, "", new Set(), new Set(["public"]));
        expect(rows.map((row) => row.kind)).toEqual(["schema", "schema", "table"]);
    });
});

describe("schema browser model, rich form", () => {
    const response = {
        tables: {},
        default_schema: "public",
        relations: [
            {
                schema: "public",
                name: "film",
                kind: "table",
                columns: [
                    { name: "film_id", type: "integer", nullable: false },
                    { name: "language_id", type: "smallint", nullable: false },
                ],
                primary_key: ["film_id"],
                foreign_keys: [{ name: "fk", columns: ["language_id"], referenced_schema: "public", referenced_table: "language", referenced_columns: ["language_id"] }],
                estimated_rows: 1000,
            },
            { schema: "public", name: "actor_info", kind: "view", columns: [{ name: "actor_id", type: "integer" }] },
            { schema: "public", name: "payment", kind: "partitioned_table", columns: [{ name: "amount", type: "numeric" }] },
            { schema: "public", name: "payment_p2022_01", kind: "table", is_partition: true, columns: [{ name: "amount", type: "numeric" }] },
        ],
    };

    it("marks keys and views and hides partitions behind their parent", () => {
        const model = build_schema_model(response, "ignored");
        const tables = model.groups[0].tables;
        expect(tables.map((table) => table.name)).toEqual(["actor_info", "film", "payment"]);
        const film = tables.find((table) => table.name === "film")!;
        expect(film.columns[0].primary_key).toBe(true);
        expect(film.columns[1].references).toBe("language(language_id)");
        expect(film.estimated_rows).toBe(1000);
        expect(tables[0].kind).toBe("view");
        expect(model.default_schema).toBe("public");
    });
});
