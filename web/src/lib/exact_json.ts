// JSON parsing that keeps every number's exact digits: bigint and numeric values must never pass through a double.
import { parse as lossless_parse } from "lossless-json";

/** A JSON number whose text a double cannot reproduce exactly (beyond 2^53, more digits, trailing zeros). */
export class ExactNumber {
    constructor(readonly text: string) {}
    toString(): string {
        return this.text;
    }
    /** Serialises back as the raw number so re-encoded JSON keeps the digits. */
    toJSON(): string {
        return this.text;
    }
}

export type JsonValue = null | boolean | number | string | ExactNumber | JsonValue[] | { [key: string]: JsonValue };

/** A number stays a plain JS number only when printing it again gives back the same text. */
export function number_from_text(text: string): number | ExactNumber {
    const value = Number(text);
    return String(value) === text ? value : new ExactNumber(text);
}

type Reviver = (key: string, value: unknown, context?: { source?: string }) => unknown;

// Chrome 114+ and Node 21+ hand the reviver the number's source text, which is much faster than a JS parser.
const native_source_text: boolean = (() => {
    try {
        let seen: string | undefined;
        const reviver: Reviver = (_key, value, context) => {
            if (typeof value === "number") {
                seen = context?.source;
            }
            return value;
        };
        JSON.parse("12345678901234567890", reviver as never);
        return seen === "12345678901234567890";
    } catch {
        return false;
    }
})();

const keep_digits: Reviver = (_key, value, context) => {
    if (typeof value === "number" && context?.source !== undefined) {
        return number_from_text(context.source);
    }
    return value;
};

/** Parses JSON text, turning each number that a double would alter into an ExactNumber. */
export function parse_exact_json(text: string, force_portable = false): JsonValue {
    if (native_source_text && !force_portable) {
        return JSON.parse(text, keep_digits as never) as JsonValue;
    }
    return lossless_parse(text, null, number_from_text) as JsonValue;
}

export const exact_json_uses_native_parser = native_source_text;

/** Compact JSON text of a value, with exact numbers written back as their digits. */
export function stringify_exact_json(value: JsonValue, indent?: number): string {
    return stringify_value(value, indent ?? 0, 0);
}

function stringify_value(value: JsonValue, indent: number, depth: number): string {
    if (value === null) {
        return "null";
    }
    if (value instanceof ExactNumber) {
        return value.text;
    }
    if (Array.isArray(value)) {
        if (value.length === 0) {
            return "[]";
        }
        const parts = value.map((item) => stringify_value(item, indent, depth + 1));
        return wrap("[", "]", parts, indent, depth);
    }
    if (typeof value === "object") {
        const entries = Object.entries(value);
        if (entries.length === 0) {
            return "{}";
        }
        const separator = indent > 0 ? ": " : ":";
        const parts = entries.map(([key, item]) => JSON.stringify(key) + separator + stringify_value(item, indent, depth + 1));
        return wrap("{", "}", parts, indent, depth);
    }
    return JSON.stringify(value);
}

function wrap(open: string, close: string, parts: string[], indent: number, depth: number): string {
    if (indent <= 0) {
        return open + parts.join(",") + close;
    }
    const inner = " ".repeat(indent * (depth + 1));
    const outer = " ".repeat(indent * depth);
    return open + "\n" + parts.map((part) => inner + part).join(",\n") + "\n" + outer + close;
}
