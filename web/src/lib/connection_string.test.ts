// Protects the "paste a connection string" box: every common Postgres form fills the right fields.
import { describe, expect, it } from "vitest";
import { parse_connection_string } from "./connection_string";

describe("connection strings", () => {
    it("reads a URI with credentials, port, database and sslmode", () => {
        expect(parse_connection_string("postgresql://u:p%40ss@db.example.com:5433/pagila?sslmode=require")).toEqual({
            ok: true,
            fields: { user: "u", password: "p@ss", host: "db.example.com", port: 5433, database: "pagila", sslmode: "require" },
        });
    });

    it("reads postgres:// without a password or port, and IPv6 hosts", () => {
        expect(parse_connection_string("postgres://analyst@127.0.0.1/app")).toEqual({
            ok: true,
            fields: { user: "analyst", host: "127.0.0.1", database: "app" },
        });
        expect(parse_connection_string("postgresql://[::1]:6543/x")).toEqual({ ok: true, fields: { host: "::1", port: 6543, database: "x" } });
    });

    it("reads libpq's keyword form with quoted values and a search_path", () => {
        expect(parse_connection_string("host=localhost port=5432 dbname=pagila user=me password='it''s' options='-c search_path=film_data'")).toMatchObject({
            ok: true,
            fields: { host: "localhost", port: 5432, database: "pagila", user: "me", schema: "film_data" },
        });
        expect(parse_connection_string("host=h password='a\\'b'")).toEqual({ ok: true, fields: { host: "h", password: "a'b" } });
    });

    it("explains what it expected when the text is not a connection string", () => {
        const parsed = parse_connection_string("mysql://x");
        expect(parsed.ok).toBe(false);
    });
});
