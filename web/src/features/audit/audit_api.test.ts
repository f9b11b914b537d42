import { describe, expect, it } from "vitest";
import { audit_query_string, empty_filters, local_time_to_iso } from "./audit_api";

describe("audit_query_string", () => {
    it("sends only the limit when no filter is set", () => {
        expect(audit_query_string(empty_filters)).toBe("limit=100");
    });

    it("sends every filter that is set, trimmed and encoded", () => {
        const query = new URLSearchParams(
            audit_query_string({ ...empty_filters, user_id: " 7 ", source_id: "abc-1", action: "export.finished", outcome: "refused", sql_contains: "from a&b" }),
        );
        expect(query.get("user_id")).toBe("7");
        expect(query.get("source_id")).toBe("abc-1");
        expect(query.get("action")).toBe("export.finished");
        expect(query.get("outcome")).toBe("refused");
        expect(query.get("sql_contains")).toBe("from a&b");
        expect(query.has("from")).toBe(false);
        expect(query.has("before_id")).toBe(false);
    });

    it("leaves out blank filters and keeps the SQL search as typed", () => {
        const query = new URLSearchParams(audit_query_string({ ...empty_filters, action: "  ", sql_contains: " select  1 " }));
        expect(query.has("action")).toBe(false);
        expect(query.get("sql_contains")).toBe(" select  1 ");
        expect(new URLSearchParams(audit_query_string({ ...empty_filters, sql_contains: "   " })).has("sql_contains")).toBe(false);
    });

    it("turns the time range into ISO-8601 UTC", () => {
        const from = "2026-11-22T04:05";
        const query = new URLSearchParams(audit_query_string({ ...empty_filters, from, to: "2026-11-23T00:00" }));
        expect(query.get("from")).toBe(new Date(from).toISOString());
        expect(query.get("from")).toMatch(/^2026-11-2\dT\d\d:\d\d:00\.000Z$/);
        expect(query.get("to")).toBe(new Date("2026-11-23T00:00").toISOString());
    });

    it("drops a time it cannot read instead of sending it", () => {
        expect(local_time_to_iso("not a time")).toBeNull();
        expect(new URLSearchParams(audit_query_string({ ...empty_filters, to: "yesterday" })).has("to")).toBe(false);
    });

    it("pages with before_id and a limit", () => {
        const query = new URLSearchParams(audit_query_string({ ...empty_filters, outcome: "ok" }, 42, 50));
        expect(query.get("before_id")).toBe("42");
        expect(query.get("limit")).toBe("50");
        expect(query.get("outcome")).toBe("ok");
    });
});
