// Protects the chart builder's data shaping: defaults analysts expect, the pivot into one series per value of a
// series column, exact numbers converted only for plotting, and settings that survive a changed query.
import { describe, expect, it } from "vitest";
import { parse_query_result } from "../../api/direct_query";
import { ExactNumber } from "../../lib/exact_json";
import { postgres_dialect } from "../editor/dialect";
import { chart_data, default_settings, max_series, plot_number, resolve_settings, type ChartSettings } from "./chart_model";

const rentals = parse_query_result(
    '{"columns":["month","store","rentals"],"types":["date","text","bigint"],"rows":[' +
        '["2022-05-01","Store 1",575],["2022-05-01","Store 2",581],["2022-06-01","Store 1",1121],' +
        '["2022-06-01","Store 2",1190],["2022-07-01","Store 2",3367],["2022-07-01","Store 1",3342],["2022-08-01","Store 1",2801]]}',
);

describe("chart defaults", () => {
    it("puts the month on X and revenue on Y, as a line", () => {
        const result = parse_query_result(
            '{"columns":["month","revenue"],"types":["timestamp with time zone","numeric"],"rows":[["2022-01-01T00:00:00+00:00",3094.78],["2022-02-01T00:00:00+00:00",10164.970]]}',
        );
        const settings = default_settings(result, postgres_dialect);
        expect(settings).toEqual({ kind: "line", x: "month", ys: ["revenue"], group: null, stacked: false });
        const data = chart_data(result, settings!);
        // Midnight timestamps read as dates; 10164.970 arrives exact and is plotted as a double.
        expect(data.labels).toEqual(["2022-01-01", "2022-02-01"]);
        expect(data.series).toEqual([{ label: "revenue", data: [3094.78, 10164.97] }]);
        expect(data.x_title).toBe("month");
        expect(data.y_title).toBe("revenue");
    });

    it("prefers a varying label and measures over identifiers", () => {
        const result = parse_query_result(
            '{"columns":["film_id","title","rental_rate","length","last_update"],"types":["integer","text","numeric","smallint","timestamp with time zone"],' +
                '"rows":[[1,"A",0.99,86,"2022-09-10T16:46:03+00:00"],[2,"B",4.99,48,"2022-09-10T16:46:03+00:00"]]}',
        );
        expect(default_settings(result, postgres_dialect)).toEqual({ kind: "bar", x: "title", ys: ["rental_rate", "length"], group: null, stacked: false });
    });

    it("splits rows into series when X repeats beside a second label column", () => {
        expect(default_settings(rentals, postgres_dialect)).toEqual({ kind: "line", x: "month", ys: ["rentals"], group: "store", stacked: false });
    });

    it("has nothing to plot without a numeric column", () => {
        const result = parse_query_result('{"columns":["title","rating"],"types":["text","mpaa_rating"],"rows":[["A","PG"]]}');
        expect(default_settings(result, postgres_dialect)).toBeNull();
        expect(resolve_settings(result, postgres_dialect, { kind: "bar", x: "title", ys: ["rating"], group: null, stacked: false })).toBeNull();
    });
});

describe("pivot into series", () => {
    it("makes one series per store, labels in the query's order, gaps as null", () => {
        const data = chart_data(rentals, { kind: "bar", x: "month", ys: ["rentals"], group: "store", stacked: true });
        expect(data.labels).toEqual(["2022-05-01", "2022-06-01", "2022-07-01", "2022-08-01"]);
        expect(data.series).toEqual([
            { label: "Store 1", data: [575, 1121, 3342, 2801] },
            { label: "Store 2", data: [581, 1190, 3367, null] },
        ]);
        expect(data.problem).toBeNull();
    });

    it("sums rows that share an X and a series value, and names series by value and measure for several Y", () => {
        const result = parse_query_result(
            '{"columns":["day","kind","n","amount"],"types":["text","text","integer","numeric"],"rows":[' +
                '["mon","a",1,"1.5"],["mon","a",2,2.25],["mon","b",3,1],["tue","b",4,null]]}',
        );
        const data = chart_data(result, { kind: "line", x: "day", ys: ["n", "amount"], group: "kind", stacked: false });
        expect(data.labels).toEqual(["mon", "tue"]);
        expect(data.series).toEqual([
            { label: "a · n", data: [3, null] },
            { label: "a · amount", data: [3.75, null] },
            { label: "b · n", data: [3, 4] },
            { label: "b · amount", data: [1, null] },
        ]);
        expect(data.y_title).toBe("n, amount");
    });

    it("keeps the largest series when there are too many", () => {
        const rows = Array.from({ length: max_series + 5 }, (_, index) => `["x","s${index}",${index}]`).join(",");
        const result = parse_query_result(`{"columns":["x","s","v"],"types":["text","text","integer"],"rows":[${rows}]}`);
        const data = chart_data(result, { kind: "bar", x: "x", ys: ["v"], group: "s", stacked: false });
        expect(data.series).toHaveLength(max_series);
        expect(data.hidden_series).toBe(5);
        expect(data.series.some((entry) => entry.label === "s0")).toBe(false);
        expect(data.series.some((entry) => entry.label === `s${max_series + 4}`)).toBe(true);
    });

    it("plots several Y columns as separate series without a series column", () => {
        const data = chart_data(rentals, { kind: "bar", x: "store", ys: ["rentals"], group: null, stacked: false });
        expect(data.series).toHaveLength(1);
        expect(data.labels).toHaveLength(7);
    });
});

describe("numbers for plotting", () => {
    it("converts exact numbers and numeric text, never words", () => {
        expect(plot_number(new ExactNumber("9007199254740993"))).toBe(9007199254740992);
        expect(plot_number(new ExactNumber("12345678901234567890.120"))).toBeCloseTo(1.2345678901234567e19);
        expect(plot_number("42.50")).toBe(42.5);
        expect(plot_number(" -3 ")).toBe(-3);
        expect(plot_number("1e3")).toBe(1000);
        expect(plot_number("NaN")).toBeNull();
        expect(plot_number("Infinity")).toBeNull();
        expect(plot_number("12 apples")).toBeNull();
        expect(plot_number(null)).toBeNull();
        expect(plot_number(true)).toBeNull();
    });

    it("treats bigint columns as numeric and keeps the grid's exact value untouched", () => {
        const result = parse_query_result('{"columns":["k","big"],"types":["text","bigint"],"rows":[["a",9007199254740993],["b",1]]}');
        const settings = default_settings(result, postgres_dialect)!;
        const data = chart_data(result, settings);
        expect(data.series[0].data).toEqual([9007199254740992, 1]);
        expect((result.rows[0][1] as ExactNumber).text).toBe("9007199254740993");
    });
});

describe("other chart types", () => {
    it("scatter needs numbers on X and groups points by the series column", () => {
        const result = parse_query_result('{"columns":["length","rate","rating"],"types":["smallint","numeric","text"],"rows":[[86,0.99,"PG"],[48,4.99,"G"],[50,2.99,"PG"]]}');
        const data = chart_data(result, { kind: "scatter", x: "length", ys: ["rate"], group: "rating", stacked: false });
        expect(data.series).toEqual([
            { label: "PG", data: [{ x: 86, y: 0.99 }, { x: 50, y: 2.99 }] },
            { label: "G", data: [{ x: 48, y: 4.99 }] },
        ]);
        const text_x = chart_data(result, { kind: "scatter", x: "rating", ys: ["rate"], group: null, stacked: false });
        expect(text_x.problem).toMatch(/numeric X column/);
    });

    it("pie uses the first Y column and refuses negative values", () => {
        const data = chart_data(rentals, { kind: "pie", x: "store", ys: ["rentals"], group: "month", stacked: false });
        expect(data.series).toHaveLength(1);
        const negative = parse_query_result('{"columns":["k","v"],"types":["text","integer"],"rows":[["a",1],["b",-2]]}');
        expect(chart_data(negative, { kind: "pie", x: "k", ys: ["v"], group: null, stacked: false }).problem).toMatch(/negative/);
    });
});

describe("settings remembered per tab", () => {
    it("keeps saved choices that still fit and replaces the ones that do not", () => {
        const saved: ChartSettings = { kind: "bar", x: "month", ys: ["rentals", "gone"], group: "store", stacked: true };
        expect(resolve_settings(rentals, postgres_dialect, saved)).toEqual({ kind: "bar", x: "month", ys: ["rentals"], group: "store", stacked: true });
        const other = parse_query_result('{"columns":["title","rate"],"types":["text","numeric"],"rows":[["A",1]]}');
        expect(resolve_settings(other, postgres_dialect, saved)).toEqual({ kind: "bar", x: "title", ys: ["rate"], group: null, stacked: true });
    });
});
