// Protects shared links: /sql?open_query=…&direct_query_source=… must open exactly that query on that source.
import { describe, expect, it } from "vitest";
import { build_share_url, parse_open_query, plan_open_query, strip_open_query } from "./url_state";

describe("shared query URLs", () => {
    it("reads the spec's example link with raw spaces", () => {
        const parsed = parse_open_query("?open_query=SELECT * FROM postgres.actor&direct_query_source=0b3c-uuid");
        expect(parsed).toEqual({ sql: "SELECT * FROM postgres.actor", source_id: "0b3c-uuid" });
    });

    it("round-trips SQL with plus signs, ampersands, quotes, newlines and non-ASCII text", () => {
        const sql = "SELECT 1 + 2 AS \"sum & total\",\n  'café #1' -- 100%\nFROM film WHERE title = 'A=B?'";
        const url = new URL(build_share_url("http://localhost:8000", sql, "11111111-2222-3333-4444-555555555555"));
        expect(url.pathname).toBe("/sql");
        expect(parse_open_query(url.search)).toEqual({ sql, source_id: "11111111-2222-3333-4444-555555555555" });
    });

    it("treats a link without a source as a query for the current source", () => {
        expect(parse_open_query("?open_query=SELECT%201")).toEqual({ sql: "SELECT 1", source_id: null });
        expect(parse_open_query("")).toBeNull();
        expect(parse_open_query("?tab=3")).toBeNull();
    });

    it("drops the link's parameters once consumed and keeps others", () => {
        expect(strip_open_query("?open_query=x&direct_query_source=y&direct_query_prefix=p")).toBe("");
        expect(strip_open_query("?open_query=x&debug=1")).toBe("?debug=1");
    });
});

describe("opening a shared link", () => {
    const link = { sql: "SELECT 1", source_id: "source-b" };

    it("fills an untouched tab instead of adding one", () => {
        expect(plan_open_query(link, { sql: "  ", source_id: "source-a", has_run: false })).toEqual({ reuse_active_tab: true, sql: "SELECT 1", source_id: "source-b" });
    });

    it("never overwrites a tab with text or a result", () => {
        expect(plan_open_query(link, { sql: "SELECT 2", source_id: null, has_run: false }).reuse_active_tab).toBe(false);
        expect(plan_open_query(link, { sql: "", source_id: null, has_run: true }).reuse_active_tab).toBe(false);
    });

    it("keeps the current database when the link names none", () => {
        expect(plan_open_query({ sql: "SELECT 1", source_id: null }, { sql: "", source_id: "source-a", has_run: false }).source_id).toBe("source-a");
    });
});
