// Protects exact numbers: bigint and numeric values from the server must show every digit the database sent.
import { describe, expect, it } from "vitest";
import { ExactNumber, parse_exact_json, stringify_exact_json } from "./exact_json";
import { format_cell } from "./format";
import { parse_query_result } from "../api/direct_query";

const body =
    '{"columns":["id","amount","ratio","small","neg"],"types":["bigint","numeric","double precision","integer","numeric"],' +
    '"rows":[[9007199254740993,12345678901234567890.123456789,0.1,42,-0.50]],"row_count":1,"truncated":false,"execution_time_ms":8.51}';

describe.each([
    ["native parser where the browser has one", false],
    ["portable parser", true],
])("exact JSON numbers (%s)", (_name, portable) => {
    it("keeps a bigint beyond 2^53 digit for digit", () => {
        const value = parse_exact_json("[9007199254740993]", portable) as unknown[];
        expect(value[0]).toBeInstanceOf(ExactNumber);
        expect(format_cell(value[0] as ExactNumber)).toBe("9007199254740993");
    });

    it("keeps numeric scale and long fractions", () => {
        const value = parse_exact_json("[1.10, 12345678901234567890.123456789, -0.50]", portable) as unknown[];
        expect(value.map((item) => format_cell(item as never))).toEqual(["1.10", "12345678901234567890.123456789", "-0.50"]);
    });

    it("leaves ordinary numbers as plain numbers so sorting and charts stay fast", () => {
        const value = parse_exact_json('{"a": 42, "b": 0.1, "c": -7}', portable) as Record<string, unknown>;
        expect(value).toEqual({ a: 42, b: 0.1, c: -7 });
    });

    it("keeps exact digits inside nested JSON values and writes them back unchanged", () => {
        const value = parse_exact_json('{"ids":[18446744073709551615,1],"n":{"x":1.000}}', portable);
        expect(stringify_exact_json(value)).toBe('{"ids":[18446744073709551615,1],"n":{"x":1.000}}');
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
