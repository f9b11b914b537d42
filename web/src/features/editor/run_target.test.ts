// Protects what Run sends: the selection when there is one, else the statement under the cursor, and the offset
// that error positions are mapped through.
import { describe, expect, it } from "vitest";
import { EditorSelection, EditorState } from "@codemirror/state";
import { sql } from "@codemirror/lang-sql";
import { ensureSyntaxTree } from "@codemirror/language";
import { run_target } from "./run_target";
import { postgres_dialect } from "./dialect";

function state_with(doc: string, anchor: number, head = anchor): EditorState {
    const state = EditorState.create({ doc, selection: EditorSelection.single(anchor, head), extensions: [sql({ dialect: postgres_dialect.codemirror })] });
    ensureSyntaxTree(state, doc.length, 1000);
    return state;
}

describe("run target", () => {
    it("runs the whole text when it is one statement, without the trailing semicolon", () => {
        const doc = "  SELECT 1;\n";
        expect(run_target(state_with(doc, 0))).toEqual({ sql: "SELECT 1", offset: 2, kind: "all" });
    });

    it("runs only the selection, with its offset in the document", () => {
        const doc = "SELECT a FROM t; SELECT b FROM u;";
        const from = doc.indexOf("SELECT b");
        expect(run_target(state_with(doc, from, doc.length))).toEqual({ sql: "SELECT b FROM u", offset: from, kind: "selection" });
    });

    it("runs the statement under the cursor when there are several", () => {
        const doc = "SELECT 1;\n\nSELECT 'a;b' AS x\nFROM t;\n\nSELECT 3;";
        const inside = doc.indexOf("AS x");
        const target = run_target(state_with(doc, inside));
        expect(target.sql).toBe("SELECT 'a;b' AS x\nFROM t");
        expect(target.offset).toBe(doc.indexOf("SELECT 'a"));
        expect(run_target(state_with(doc, doc.length)).sql).toBe("SELECT 3");
    });

    it("runs the statement just finished when the cursor sits after its semicolon", () => {
        const doc = "SELECT 1;\nSELECT 2;";
        expect(run_target(state_with(doc, doc.indexOf(";") + 1)).sql).toBe("SELECT 1");
    });
});
