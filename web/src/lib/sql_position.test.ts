// Protects error marking: the database's character position must land on the same character in the editor.
import { describe, expect, it } from "vitest";
import { character_position_to_offset, line_column } from "./sql_position";

describe("error positions", () => {
    it("maps a 1-based character position to a 0-based offset", () => {
        expect(character_position_to_offset("SELECT * FORM film", 10)).toBe(9);
        expect(character_position_to_offset("x", 0)).toBe(0);
        expect(character_position_to_offset("abc", 99)).toBe(3);
    });

    it("counts a character outside the BMP once, as Postgres does", () => {
        const sql = "SELECT '😀', oops";
        expect(sql.slice(character_position_to_offset(sql, 13))).toBe("oops");
    });

    it("gives line and column for messages", () => {
        expect(line_column("SELECT 1\nFROM x", 11)).toEqual({ line: 2, column: 3 });
    });
});
