// Ordering of result values for client-side sort: exact for big numbers, NULLs last, stable for mixed types.
import { ExactNumber, type JsonValue } from "./exact_json";
import { format_cell } from "./format";

const plain_decimal = /^(-?)(\d+)(?:\.(\d+))?$/;

/** Compares two decimal texts exactly; falls back to doubles for exponents or odd forms. */
export function compare_decimal_text(a: string, b: string): number {
    const ma = plain_decimal.exec(a);
    const mb = plain_decimal.exec(b);
    if (!ma || !mb) {
        return Math.sign(Number(a) - Number(b)) || 0;
    }
    const negative_a = ma[1] === "-" && !is_zero(ma[2], ma[3]);
    const negative_b = mb[1] === "-" && !is_zero(mb[2], mb[3]);
    if (negative_a !== negative_b) {
        return negative_a ? -1 : 1;
    }
    const magnitude = compare_magnitude(ma[2], ma[3] ?? "", mb[2], mb[3] ?? "");
    return negative_a ? -magnitude : magnitude;
}

function is_zero(integer: string, fraction: string | undefined): boolean {
    return /^0+$/.test(integer) && (fraction === undefined || /^0*$/.test(fraction));
}

function compare_magnitude(int_a: string, frac_a: string, int_b: string, frac_b: string): number {
    const ia = int_a.replace(/^0+(?=\d)/, "");
    const ib = int_b.replace(/^0+(?=\d)/, "");
    if (ia.length !== ib.length) {
        return ia.length < ib.length ? -1 : 1;
    }
    if (ia !== ib) {
        return ia < ib ? -1 : 1;
    }
    const width = Math.max(frac_a.length, frac_b.length);
    const fa = frac_a.padEnd(width, "0");
    const fb = frac_b.padEnd(width, "0");
    return fa === fb ? 0 : fa < fb ? -1 : 1;
}

function rank(value: JsonValue): number {
    if (value === null) {
        return 4;
    }
    if (typeof value === "number" || value instanceof ExactNumber) {
        return 0;
    }
    if (typeof value === "boolean") {
        return 1;
    }
    if (typeof value === "string") {
        return 2;
    }
    return 3;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** Ascending order of two cells; NULLs sort after everything so they stay out of the way. */
export function compare_cells(a: JsonValue, b: JsonValue): number {
    const ra = rank(a);
    const rb = rank(b);
    if (ra !== rb) {
        return ra - rb;
    }
    if (ra === 0) {
        if (typeof a === "number" && typeof b === "number") {
            return a - b;
        }
        return compare_decimal_text(format_cell(a), format_cell(b));
    }
    if (ra === 1) {
        return Number(a) - Number(b);
    }
    if (ra === 2) {
        return collator.compare(a as string, b as string);
    }
    if (ra === 3) {
        return collator.compare(format_cell(a), format_cell(b));
    }
    return 0;
}
