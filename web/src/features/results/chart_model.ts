// What a chart of a result plots: the default axes (a label column and up to four numeric ones) and the series.
import type { QueryResult } from "../../api/types";
import { ExactNumber } from "../../lib/exact_json";
import { format_cell } from "../../lib/format";
import type { Dialect } from "../editor/dialect";

export interface ChartAxes {
    x: number;
    ys: number[];
}

export const max_chart_points = 5000;

export function numeric_columns(result: QueryResult, dialect: Dialect): number[] {
    return result.columns
        .map((_, index) => index)
        .filter((index) => {
            const type = result.types[index] ?? "";
            if (type) {
                return dialect.is_numeric_type(type);
            }
            const sample = result.rows.find((row) => row[index] !== null)?.[index];
            return typeof sample === "number" || sample instanceof ExactNumber;
        });
}

function varies(result: QueryResult, column: number): boolean {
    const first = result.rows[0]?.[column];
    const text = first === null || first === undefined ? "" : format_cell(first);
    return result.rows.slice(1, 500).some((row) => (row[column] === null ? "" : format_cell(row[column])) !== text);
}

/**
 * A label column on X (a time column whose values vary, else the first text column) and one measure on Y
 * (the first numeric column that is not an identifier); null when nothing can be plotted.
 */
export function default_axes(result: QueryResult, dialect: Dialect): ChartAxes | null {
    const numeric = numeric_columns(result, dialect);
    if (numeric.length === 0) {
        return null;
    }
    const labels = result.columns.map((_, index) => index).filter((index) => !numeric.includes(index));
    const time = labels.find((index) => /date|time/i.test(result.types[index] ?? "") && varies(result, index));
    const text = labels.find((index) => !/date|time/i.test(result.types[index] ?? ""));
    const x = time ?? text ?? labels[0] ?? numeric[0];
    const measures = numeric.filter((index) => index !== x);
    const y = measures.find((index) => !/(^|_)id$/i.test(result.columns[index])) ?? measures[0];
    return y === undefined ? null : { x, ys: [y] };
}

export interface ChartSeries {
    labels: string[];
    datasets: Array<{ label: string; data: Array<number | null> }>;
    clipped: boolean;
}

/** Plotting goes through doubles: fine for a picture, which is why the grid, not the chart, shows exact values. */
export function chart_series(result: QueryResult, axes: ChartAxes): ChartSeries {
    const rows = result.rows.slice(0, max_chart_points);
    return {
        labels: rows.map((row) => (row[axes.x] === null ? "NULL" : format_cell(row[axes.x]))),
        datasets: axes.ys.map((column) => ({
            label: result.columns[column],
            data: rows.map((row) => {
                const value = row[column];
                if (value === null || value === undefined) {
                    return null;
                }
                const number = Number(format_cell(value));
                return Number.isFinite(number) ? number : null;
            }),
        })),
        clipped: result.rows.length > rows.length,
    };
}
