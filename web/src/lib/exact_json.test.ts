// Protects exact numbers: bigint and numeric values from the server must show every digit the database sent.
import { describe, expect, it } from "vitest";
import { ExactNumber, parse_exact_json, stringify_exact_json } from "./exact_json";
import { format_cell } from "./format";
import { parse_query_result } from "../api/direct_query";

const body =
    '{"columns":["id","amount","ratio","small","neg"],"types":["bigint","numeric","double precision","integer","numeric"],' +
    '"rows":[[9007199254740993,12345678901234567890.123456789,0.1,42,-0.50]],"row_count":1,"truncated":false,"execution_time_ms":8.51}';

describe("exact JSON numbers", () => {
    it("keeps a bigint beyond 2^53 digit for digit", () => {
        const value = parse_exact_json("[9007199254740993]") as unknown[];
        expect(value[0]).toBeInstanceOf(ExactNumber);
        expect(format_cell(value[0] as ExactNumber)).toBe("9007199254740993");
    });

    it("keeps numeric scale and long fractions", () => {
        const value = parse_exact_json("[1.10, 12345678901234567890.123456789, -0.50]") as unknown[];
        expect(value.map((item) => format_cell(item as never))).toEqual(["1.10", "12345678901234567890.123456789", "-0.50"]);
    });

    it("leaves ordinary numbers as plain numbers so sorting and charts stay fast", () => {
        const value = parse_exact_json('{"a": 42, "b": 0.1, "c": -7}') as Record<string, unknown>;
        expect(value).toEqual({ a: 42, b: 0.1, c: -7 });
    });

    it("keeps exact digits inside nested JSON values and writes them back unchanged", () => {
        const value = parse_exact_json('{"ids":[18446744073709551615,1],"n":{"x":1.000}}');
        expect(stringify_exact_json(value)).toBe('{"ids":[18446744073709551615,1],"n":{"x":1.000}}');
    });
});

describe("exact JSON parsing edge cases", () => {
    it("never touches digits inside strings, even around escaped quotes", () => {
        const value = parse_exact_json('["12345678901234567890", "a\\"1.10\\"b", 1.10, "x\\\\", 2.50]');
        expect((value as unknown[]).map((item) => (item instanceof ExactNumber ? `#${item.text}` : item))).toEqual([
            "12345678901234567890",
            'a"1.10"b',
            "#1.10",
            "x\\",
            "#2.50",
        ]);
    });

    it("keeps a string that looks like the internal marker as a string", () => {
        expect(parse_exact_json('["\\u0000#abc#1.10", 1.10]')).toEqual(["\u0000#abc#1.10", new ExactNumber("1.10")]);
    });

    it("handles exponents, negative zero and keys that look like numbers", () => {
        const value = parse_exact_json('{"1.10": 1e+100, "n": -0, "m": 1E5}') as Record<string, unknown>;
        expect(Object.keys(value)).toEqual(["1.10", "n", "m"]);
        expect(value["1.10"]).toBe(1e100);
        expect(value.n).toEqual(new ExactNumber("-0"));
        expect(value.m).toEqual(new ExactNumber("1E5"));
    });

    it("parses 100,000 result rows", () => {
        const rows = Array.from({ length: 100_000 }, (_, index) => `[${index},"${index.toString(16)}",${index}.50,9007199254740993]`);
        const text = `{"rows":[${rows.join(",")}]}`;
        const value = parse_exact_json(text) as { rows: unknown[][] };
        expect(value.rows).toHaveLength(100_000);
        expect(value.rows[99_999][2]).toEqual(new ExactNumber("99999.50"));
    });
});

describe("execute response", () => {
    it("parses rows in column order with exact numbers and the declared types", () => {
        const result = parse_query_result(body);
        expect(result.columns).toEqual(["id", "amount", "ratio", "small", "neg"]);
        expect(result.types[0]).toBe("bigint");
        expect(result.rows[0].map((cell) => format_cell(cell))).toEqual([
            "9007199254740993",
            "12345678901234567890.123456789",
            "0.1",
            "42",
            "-0.50",
        ]);
        expect(result.execution_time_ms).toBeCloseTo(8.51);
    });

    it("accepts object rows and keeps duplicate-free column order", () => {
        const result = parse_query_result('{"columns":["b","a"],"types":["int8","text"],"rows":[{"a":"x","b":18446744073709551615}]}');
        expect(result.rows[0].map((cell) => format_cell(cell))).toEqual(["18446744073709551615", "x"]);
        expect(result.row_count).toBe(1);
    });
});
