// Protects shared links: /sql?open_query=…&direct_query_source=… must open exactly that query on that source.
import { describe, expect, it } from "vitest";
import { build_share_url, parse_open_query, strip_open_query } from "./url_state";

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
