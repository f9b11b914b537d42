// Pure helpers for the result grid: column widths from content, and the filtered, sorted order of rows.
import { ExactNumber, type JsonValue } from "../../lib/exact_json";
import { compare_cells } from "../../lib/compare";
import { format_cell, preview_cell } from "../../lib/format";

export type SortState = { column: number; direction: "asc" | "desc" } | null;

const char_width = 7.6;

/** Widths that fit the header, the type and a sample of values, within sensible bounds. */
export function initial_widths(columns: readonly string[], types: readonly string[], rows: readonly JsonValue[][]): number[] {
    const sample = rows.slice(0, 200);
    return columns.map((name, index) => {
        let chars = Math.max(name.length + 2, (types[index] ?? "").length);
        for (const row of sample) {
            const value = row[index];
            const length = value === null ? 4 : preview_cell(value, 80).length;
            if (length > chars) {
                chars = length;
            }
        }
        // A clipped number reads as a different number: numeric columns are measured over every row.
        if (sample.some((row) => typeof row[index] === "number" || row[index] instanceof ExactNumber)) {
            for (const row of rows) {
                const value = row[index];
                if (typeof value === "number" || value instanceof ExactNumber) {
                    const length = format_cell(value).length;
                    if (length > chars) {
                        chars = Math.min(length, 60);
                    }
                }
            }
        }
        return Math.round(Math.min(420, Math.max(72, chars * char_width + 22)));
    });
}

/** Row indices after the client-side filter (any cell containing the text) and sort; stable. */
export function view_order(rows: readonly JsonValue[][], filter: string, sort: SortState): number[] {
    const needle = filter.trim().toLowerCase();
    let order: number[] = [];
    if (needle === "") {
        order = Array.from({ length: rows.length }, (_, index) => index);
    } else {
        for (let index = 0; index < rows.length; index += 1) {
            const row = rows[index];
            for (let column = 0; column < row.length; column += 1) {
                const value = row[column];
                const text = value === null ? "null" : format_cell(value);
                if (text.toLowerCase().includes(needle)) {
                    order.push(index);
                    break;
                }
            }
        }
    }
    if (sort) {
        const factor = sort.direction === "asc" ? 1 : -1;
        const column = sort.column;
        order.sort((a, b) => {
            const left = rows[a][column];
            const right = rows[b][column];
            // NULLs stay last in both directions: flipping them to the top hides the data people sort for.
            if (left === null || right === null) {
                return left === right ? a - b : left === null ? 1 : -1;
            }
            return compare_cells(left, right) * factor || a - b;
        });
    }
    return order;
}
