// Protects how values read in the grid: NULL apart from empty text, JSON readable, durations human.
import { describe, expect, it } from "vitest";
import { ExactNumber } from "./exact_json";
import { cell_kind, format_cell, format_duration, preview_cell, pretty_cell, row_to_tsv } from "./format";
import { compare_cells, compare_decimal_text } from "./compare";

describe("cell formatting", () => {
    it("tells NULL from an empty string", () => {
        expect(cell_kind(null)).toBe("null");
        expect(cell_kind("")).toBe("empty");
        expect(format_cell("")).toBe("");
    });

    it("shows arrays and JSON compactly in the grid and indented in the detail view", () => {
        const value = { tags: ["a", "b"], n: new ExactNumber("123456789012345678901") };
        expect(preview_cell(value)).toBe('{"tags":["a","b"],"n":123456789012345678901}');
        expect(pretty_cell(value)).toContain('\n  "tags": [');
        expect(format_cell([1, null, "x"])).toBe('[1,null,"x"]');
    });

    it("keeps a grid preview on one line", () => {
        expect(preview_cell("line one\nline two")).toBe("line one ⏎ line two");
    });

    it("copies a row as tab-separated text with NULL as nothing", () => {
        expect(row_to_tsv([1, null, "a\tb", new ExactNumber("9007199254740993")])).toBe('1\t\t"a\tb"\t9007199254740993');
    });

    it("reads durations as people do", () => {
        expect(format_duration(8.51)).toBe("8.5 ms");
        expect(format_duration(1234)).toBe("1.23 s");
        expect(format_duration(125_000)).toBe("2 min 5 s");
    });
});

describe("exact ordering", () => {
    it("orders big integers and decimals by value, not by double", () => {
        expect(compare_decimal_text("9007199254740993", "9007199254740992")).toBe(1);
        expect(compare_decimal_text("-10.5", "-10.25")).toBe(-1);
        expect(compare_decimal_text("1.10", "1.1")).toBe(0);
        expect(compare_decimal_text("-0", "0")).toBe(0);
    });

    it("sorts numbers before text and NULLs last", () => {
        const values = [null, "b", new ExactNumber("18446744073709551615"), 3, "a", new ExactNumber("18446744073709551614")];
        const sorted = [...values].sort(compare_cells).map((value) => (value === null ? "NULL" : format_cell(value)));
        expect(sorted).toEqual(["3", "18446744073709551614", "18446744073709551615", "a", "b", "NULL"]);
    });
});
