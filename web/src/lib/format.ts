// How result values read in the grid, in copies and in the detail view: exact numbers, NULL apart from "".
import { ExactNumber, stringify_exact_json, type JsonValue } from "./exact_json";

export type CellKind = "null" | "number" | "boolean" | "string" | "json" | "empty";

export function cell_kind(value: JsonValue): CellKind {
    if (value === null) {
        return "null";
    }
    if (typeof value === "number" || value instanceof ExactNumber) {
        return "number";
    }
    if (typeof value === "boolean") {
        return "boolean";
    }
    if (typeof value === "string") {
        return value.length === 0 ? "empty" : "string";
    }
    return "json";
}

/** The full text of a value: what copy and the detail view show. NULL is the caller's to render. */
export function format_cell(value: JsonValue): string {
    if (value === null) {
        return "NULL";
    }
    if (value instanceof ExactNumber) {
        return value.text;
    }
    if (typeof value === "number") {
        return number_text(value);
    }
    if (typeof value === "boolean") {
        return value ? "true" : "false";
    }
    if (typeof value === "string") {
        return value;
    }
    return stringify_exact_json(value);
}

/** A one-line preview for a grid cell, cut so that huge values do not slow down layout. */
export function preview_cell(value: JsonValue, max_chars = 500): string {
    const text = format_cell(value);
    const one_line = text.length > max_chars ? text.slice(0, max_chars) + "…" : text;
    return one_line.replace(/\r?\n/g, " ⏎ ").replace(/\t/g, " ");
}

/** Pretty text for the detail view: JSON indented, everything else as is. */
export function pretty_cell(value: JsonValue): string {
    if (value !== null && typeof value === "object" && !(value instanceof ExactNumber)) {
        return stringify_exact_json(value, 2);
    }
    if (typeof value === "string" && /^\s*[[{]/.test(value)) {
        return value;
    }
    return format_cell(value);
}

function number_text(value: number): string {
    if (Number.isNaN(value)) {
        return "NaN";
    }
    return String(value);
}

/** Tab-separated text for one row: pastes cleanly into spreadsheets. */
export function row_to_tsv(row: readonly JsonValue[]): string {
    return row.map((value) => (value === null ? "" : escape_tsv(format_cell(value)))).join("\t");
}

function escape_tsv(text: string): string {
    return /[\t\n\r"]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

/** Milliseconds as people read them: "8.5 ms", "1.24 s", "2 min 5 s". */
export function format_duration(ms: number): string {
    if (ms < 1) {
        return `${ms.toFixed(2)} ms`;
    }
    if (ms < 1000) {
        return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
    }
    if (ms < 60_000) {
        return `${(ms / 1000).toFixed(2)} s`;
    }
    const minutes = Math.floor(ms / 60_000);
    const seconds = Math.round((ms % 60_000) / 1000);
    return `${minutes} min ${seconds} s`;
}

/** Counts with thousands separators for labels ("16,044 rows"); never used for data values. */
export function format_count(count: number, noun: string): string {
    const text = count.toLocaleString("en-US");
    return `${text} ${noun}${count === 1 ? "" : "s"}`;
}
