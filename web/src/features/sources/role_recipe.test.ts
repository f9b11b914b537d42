import { describe, expect, it } from "vitest";
import { quote_identifier, role_recipe_sql } from "./role_recipe";

describe("quote_identifier", () => {
    it("leaves plain lower-case names bare", () => {
        expect(quote_identifier("metahog_reader")).toBe("metahog_reader");
        expect(quote_identifier("shop2")).toBe("shop2");
    });
    it("quotes mixed case, spaces, reserved words and embedded quotes", () => {
        expect(quote_identifier("Sales")).toBe('"Sales"');
        expect(quote_identifier("my db")).toBe('"my db"');
        expect(quote_identifier("user")).toBe('"user"');
        expect(quote_identifier('a"b')).toBe('"a""b"');
        expect(quote_identifier("1st")).toBe('"1st"');
    });
});

describe("role_recipe_sql", () => {
    it("names the database and schema being connected to", () => {
        const sql = role_recipe_sql({ role: "reporting", database: "Shop", schema: "sales" });
        expect(sql).toContain("CREATE ROLE reporting LOGIN");
        expect(sql).toContain("NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS");
        expect(sql).toContain('GRANT CONNECT ON DATABASE "Shop" TO reporting;');
        expect(sql).toContain("GRANT SELECT ON ALL TABLES IN SCHEMA sales TO reporting;");
        expect(sql).toContain("ALTER DEFAULT PRIVILEGES IN SCHEMA sales GRANT SELECT ON TABLES TO reporting;");
    });
    it("falls back to placeholders when nothing is filled in yet", () => {
        const sql = role_recipe_sql({ database: " ", schema: "" });
        expect(sql).toContain("GRANT CONNECT ON DATABASE mydb TO metahog_reader;");
        expect(sql).toContain("GRANT USAGE ON SCHEMA public TO metahog_reader;");
    });
});
