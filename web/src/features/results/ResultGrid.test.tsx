// Protects what a person reads in the grid: exact big numbers, NULL apart from empty text, types in headers,
// numbers right-aligned, and client-side sort by clicking a header.
import { beforeAll, describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/react";
import { parse_query_result } from "../../api/direct_query";
import { ToastProvider } from "../../components/toast";
import { postgres_dialect } from "../editor/dialect";
import { ResultGrid } from "./ResultGrid";

beforeAll(() => {
    // jsdom does no layout; give elements a viewport-sized box so the virtualiser renders rows.
    Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => 1200 });
    Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => 600 });
});

const raw =
    '{"columns":["id","title","amount","note"],"types":["bigint","text","numeric","text"],' +
    '"rows":[[9007199254740993,"ACADEMY DINOSAUR",0.99,null],[2,"ACE GOLDFINGER",12345678901234567890.10,""]],' +
    '"row_count":2,"truncated":false,"execution_time_ms":3.2}';

function cells_of_row(row_number: number): HTMLElement[] {
    const gutter = screen.getAllByText(String(row_number)).find((element) => element.classList.contains("grid-gutter"));
    return [...gutter!.parentElement!.querySelectorAll<HTMLElement>(".grid-cell")];
}

describe("ResultGrid", () => {
    it("shows exact digits, NULL distinctly from an empty string, and types in headers", () => {
        render(
            <ToastProvider>
                <ResultGrid result={parse_query_result(raw)} dialect={postgres_dialect} filter="" />
            </ToastProvider>,
        );
        const first = cells_of_row(1);
        expect(first.map((cell) => cell.textContent)).toEqual(["9007199254740993", "ACADEMY DINOSAUR", "0.99", "NULL"]);
        expect(first[0].classList.contains("num")).toBe(true);
        expect(first[3].classList.contains("null")).toBe(true);
        const second = cells_of_row(2);
        expect(second[2].textContent).toBe("12345678901234567890.10");
        expect(second[3].textContent).toBe("");
        expect(second[3].classList.contains("null")).toBe(false);
        expect(screen.getByText("bigint")).toBeTruthy();
        expect(screen.getAllByText("numeric").length).toBeGreaterThan(0);
    });

    it("sorts on the client when a header is clicked, exactly for big numbers", () => {
        render(
            <ToastProvider>
                <ResultGrid result={parse_query_result(raw)} dialect={postgres_dialect} filter="" />
            </ToastProvider>,
        );
        fireEvent.click(screen.getByText("id"));
        expect(cells_of_row(1)[0].textContent).toBe("2");
        fireEvent.click(screen.getByText("id"));
        expect(cells_of_row(1)[0].textContent).toBe("9007199254740993");
    });

    it("filters rows on any cell's text", () => {
        render(
            <ToastProvider>
                <ResultGrid result={parse_query_result(raw)} dialect={postgres_dialect} filter="goldfinger" />
            </ToastProvider>,
        );
        expect(cells_of_row(1)[1].textContent).toBe("ACE GOLDFINGER");
        expect(screen.getByText(/1 of 2 rows match/)).toBeTruthy();
    });

    it("is one Tab stop whose active cell moves with the arrow keys (aria-activedescendant)", () => {
        render(
            <ToastProvider>
                <ResultGrid result={parse_query_result(raw)} dialect={postgres_dialect} filter="" />
            </ToastProvider>,
        );
        const grid = screen.getByRole("grid");
        expect(grid.tabIndex).toBe(0);
        expect(screen.getAllByRole("gridcell").every((cell) => cell.tabIndex < 0)).toBe(true);
        fireEvent.focus(grid);
        const active = () => document.getElementById(grid.getAttribute("aria-activedescendant") ?? "");
        expect(active()?.textContent).toBe("9007199254740993");
        fireEvent.keyDown(grid, { key: "ArrowRight" });
        fireEvent.keyDown(grid, { key: "ArrowDown" });
        expect(active()?.textContent).toBe("ACE GOLDFINGER");
        expect(active()?.getAttribute("aria-selected")).toBe("true");
        fireEvent.keyDown(grid, { key: "End" });
        expect(active()?.textContent).toBe("");
        // Tab is left to the browser, so focus leaves the grid instead of walking every column.
        const tab = fireEvent.keyDown(grid, { key: "Tab" });
        expect(tab).toBe(true);
    });
});
