// Protects client-side sort and filter of results: exact numeric order, NULLs last, filter over every column.
import { describe, expect, it } from "vitest";
import { ExactNumber } from "../../lib/exact_json";
import { view_order } from "./grid_model";

const rows = [
    [1, "ACADEMY DINOSAUR", new ExactNumber("9007199254740993")],
    [2, null, new ExactNumber("9007199254740992")],
    [3, "ACE GOLDFINGER", null],
    [4, "", 5],
];

describe("result order", () => {
    it("sorts big numbers exactly in both directions with NULL last", () => {
        expect(view_order(rows, "", { column: 2, direction: "asc" })).toEqual([3, 1, 0, 2]);
        expect(view_order(rows, "", { column: 2, direction: "desc" })).toEqual([0, 1, 3, 2]);
    });

    it("filters on any column's text, including a NULL's label", () => {
        expect(view_order(rows, "gold", null)).toEqual([2]);
        expect(view_order(rows, "9007199254740993", null)).toEqual([0]);
        expect(view_order(rows, "null", null)).toEqual([1, 2]);
    });
});

describe("column widths", () => {
    it("fit the longest number anywhere in the result, not only in the first rows", async () => {
        const { initial_widths } = await import("./grid_model");
        const many = Array.from({ length: 1000 }, (_, index) => [index < 999 ? 1.5 : new ExactNumber("123456789012345678901234.5")]);
        const [width] = initial_widths(["x"], ["numeric"], many);
        expect(width).toBeGreaterThan(26 * 7);
    });
});
