// Decides what Run sends: the selection, else the statement under the cursor when the editor holds several.
import { syntaxTree } from "@codemirror/language";
import type { EditorState } from "@codemirror/state";

export interface RunTarget {
    sql: string;
    /** Offset of `sql` within the document. */
    offset: number;
    kind: "selection" | "statement" | "all";
}

function trimmed(doc: string, from: number, to: number): { from: number; to: number } {
    let start = from;
    let end = to;
    while (start < end && /\s/.test(doc[start])) {
        start += 1;
    }
    while (end > start && /[\s;]/.test(doc[end - 1])) {
        end -= 1;
    }
    return { from: start, to: end };
}

export function run_target(state: EditorState): RunTarget {
    const doc = state.doc.toString();
    const selection = state.selection.main;
    if (!selection.empty) {
        const range = trimmed(doc, selection.from, selection.to);
        return { sql: doc.slice(range.from, range.to), offset: range.from, kind: "selection" };
    }
    const statements: Array<{ from: number; to: number }> = [];
    const tree = syntaxTree(state);
    for (let node = tree.topNode.firstChild; node; node = node.nextSibling) {
        if (node.name === "Statement") {
            const range = trimmed(doc, node.from, node.to);
            if (range.to > range.from && !is_only_comments(doc.slice(range.from, range.to))) {
                statements.push(range);
            }
        }
    }
    if (statements.length > 1) {
        const cursor = selection.head;
        // The statement the cursor is in, or the last one that ends before it (cursor just after a ";").
        let chosen = statements[0];
        for (const statement of statements) {
            if (statement.from <= cursor) {
                chosen = statement;
            }
        }
        return { sql: doc.slice(chosen.from, chosen.to), offset: chosen.from, kind: "statement" };
    }
    const range = trimmed(doc, 0, doc.length);
    return { sql: doc.slice(range.from, range.to), offset: range.from, kind: "all" };
}

function is_only_comments(text: string): boolean {
    return text.replace(/--[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, "").trim() === "";
}
