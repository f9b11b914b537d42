// The CodeMirror 6 SQL editor: one view, one saved state per tab (so each tab keeps its own undo history),
// the dialect's highlighting and schema completion, Ctrl/Cmd+Enter to run and the error position marked.
import { forwardRef, useEffect, useImperativeHandle, useRef } from "react";
import { EditorState, Compartment, Prec, type Extension } from "@codemirror/state";
import {
    EditorView,
    keymap,
    lineNumbers,
    highlightActiveLine,
    highlightActiveLineGutter,
    drawSelection,
    placeholder,
    dropCursor,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { bracketMatching, indentOnInput, syntaxHighlighting, HighlightStyle } from "@codemirror/language";
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { setDiagnostics } from "@codemirror/lint";
import { tags } from "@lezer/highlight";
import { sql_language, type CompletionSchema } from "./completion";
import type { Dialect } from "./dialect";
import { run_target, type RunTarget } from "./run_target";

export interface SqlEditorHandle {
    focus(): void;
    insert(text: string): void;
    run_target(): RunTarget;
    mark_error(from: number, message: string): void;
    clear_error(): void;
    reveal(offset: number): void;
}

interface SqlEditorProps {
    tab_id: string;
    value: string;
    dialect: Dialect;
    schema: CompletionSchema | null;
    on_change(text: string): void;
    on_run(): void;
}

// Colours come from CSS variables so one theme object serves light and dark.
const editor_theme = EditorView.theme({
    "&": { height: "100%", fontSize: "13.5px", backgroundColor: "var(--bg)", color: "var(--text)" },
    ".cm-scroller": { fontFamily: 'ui-monospace, "SF Mono", "JetBrains Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace', lineHeight: "1.55" },
    ".cm-content": { caretColor: "var(--text)", padding: "8px 0" },
    ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--text)" },
    "&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection": { backgroundColor: "var(--cm-selection) !important" },
    ".cm-activeLine": { backgroundColor: "var(--cm-active-line)" },
    ".cm-gutters": { backgroundColor: "var(--bg)", color: "var(--text-faint)", border: "none" },
    ".cm-activeLineGutter": { backgroundColor: "var(--cm-active-line)", color: "var(--text-muted)" },
    ".cm-placeholder": { color: "var(--text-faint)" },
    ".cm-tooltip": { backgroundColor: "var(--bg)", border: "1px solid var(--border)", borderRadius: "6px", boxShadow: "var(--shadow)", color: "var(--text)" },
    ".cm-tooltip-autocomplete > ul > li": { padding: "2px 8px !important" },
    ".cm-tooltip-autocomplete > ul > li[aria-selected]": { backgroundColor: "var(--accent)", color: "var(--accent-text)" },
    ".cm-completionDetail": { color: "inherit", opacity: "0.65", fontStyle: "normal", marginLeft: "1em" },
    ".cm-matchingBracket": { backgroundColor: "var(--bg-muted)", outline: "1px solid var(--border-strong)" },
    ".cm-searchMatch": { backgroundColor: "color-mix(in srgb, var(--warning) 30%, transparent)" },
    ".cm-panels": { backgroundColor: "var(--bg-subtle)", color: "var(--text)" },
    ".cm-diagnostic-error": { borderLeftColor: "var(--danger)" },
});

const highlight_style = HighlightStyle.define([
    { tag: tags.keyword, color: "var(--cm-keyword)", fontWeight: "600" },
    { tag: [tags.string, tags.special(tags.string)], color: "var(--cm-string)" },
    { tag: [tags.number, tags.bool, tags.null], color: "var(--cm-number)" },
    { tag: [tags.lineComment, tags.blockComment, tags.comment], color: "var(--cm-comment)", fontStyle: "italic" },
    { tag: [tags.typeName, tags.standard(tags.name)], color: "var(--cm-type)" },
    { tag: [tags.function(tags.variableName), tags.macroName], color: "var(--cm-function)" },
    { tag: [tags.operator, tags.punctuation], color: "var(--text-muted)" },
    { tag: tags.special(tags.name), color: "var(--cm-string)" },
]);

export const SqlEditor = forwardRef<SqlEditorHandle, SqlEditorProps>(function SqlEditor(props, ref) {
    const host = useRef<HTMLDivElement>(null);
    const view_ref = useRef<EditorView | null>(null);
    const states = useRef(new Map<string, EditorState>());
    const current_tab = useRef(props.tab_id);
    const language = useRef(new Compartment());
    const language_extension = useRef<Extension>(sql_language(props.dialect, props.schema));
    // Callbacks change every render; the editor's listeners read them through a ref.
    const callbacks = useRef(props);
    callbacks.current = props;

    const make_state = (doc: string): EditorState =>
        EditorState.create({
            doc,
            extensions: [
                lineNumbers(),
                highlightActiveLineGutter(),
                history(),
                drawSelection(),
                dropCursor(),
                indentOnInput(),
                bracketMatching(),
                closeBrackets(),
                autocompletion({ activateOnTyping: true, icons: false }),
                highlightActiveLine(),
                highlightSelectionMatches(),
                syntaxHighlighting(highlight_style),
                editor_theme,
                placeholder("Write SQL here. Ctrl+Enter (⌘+Enter) runs it; select text to run only that."),
                EditorView.contentAttributes.of({ "aria-label": "SQL editor" }),
                language.current.of(language_extension.current),
                Prec.highest(
                    keymap.of([
                        {
                            key: "Mod-Enter",
                            run: () => {
                                callbacks.current.on_run();
                                return true;
                            },
                        },
                    ]),
                ),
                keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, ...completionKeymap]),
                EditorView.updateListener.of((update) => {
                    if (update.docChanged) {
                        callbacks.current.on_change(update.state.doc.toString());
                    }
                }),
            ],
        });

    useEffect(() => {
        if (!host.current) {
            return;
        }
        const view = new EditorView({ state: make_state(props.value), parent: host.current });
        view_ref.current = view;
        return () => {
            view.destroy();
            view_ref.current = null;
        };
        // The view is created once; tab switches swap its state below.
        // eslint-disable-next-line react-hooks/exhaustive-deps
    }, []);

    // Switching tabs: keep the old tab's state (undo history, selection) and show the new one's.
    useEffect(() => {
        const view = view_ref.current;
        if (!view || current_tab.current === props.tab_id) {
            return;
        }
        states.current.set(current_tab.current, view.state);
        current_tab.current = props.tab_id;
        const saved = states.current.get(props.tab_id);
        view.setState(saved && saved.doc.toString() === props.value ? saved : make_state(props.value));
        view.dispatch({ effects: language.current.reconfigure(language_extension.current) });
        // eslint-disable-next-line react-hooks/exhaustive-deps
    }, [props.tab_id]);

    // Text set from outside (a shared link, the schema's "Query" action) replaces the document.
    useEffect(() => {
        const view = view_ref.current;
        if (!view || current_tab.current !== props.tab_id) {
            return;
        }
        if (view.state.doc.toString() !== props.value) {
            view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: props.value } });
        }
    }, [props.value, props.tab_id]);

    useEffect(() => {
        language_extension.current = sql_language(props.dialect, props.schema);
        view_ref.current?.dispatch({ effects: language.current.reconfigure(language_extension.current) });
    }, [props.dialect, props.schema]);

    useEffect(() => {
        const closed = [...states.current.keys()].filter((id) => id !== props.tab_id);
        // States of closed tabs would otherwise accumulate; the store is the authority on which tabs exist.
        if (closed.length > 20) {
            closed.slice(0, closed.length - 20).forEach((id) => states.current.delete(id));
        }
    }, [props.tab_id]);

    useImperativeHandle(
        ref,
        () => ({
            focus() {
                view_ref.current?.focus();
            },
            insert(text: string) {
                const view = view_ref.current;
                if (!view) {
                    return;
                }
                const { from, to } = view.state.selection.main;
                const before = view.state.sliceDoc(Math.max(0, from - 1), from);
                const padded = before && !/[\s(,.]/.test(before) ? " " + text : text;
                view.dispatch({ changes: { from, to, insert: padded }, selection: { anchor: from + padded.length }, scrollIntoView: true });
                view.focus();
            },
            run_target() {
                const view = view_ref.current;
                return view ? run_target(view.state) : { sql: props.value, offset: 0, kind: "all" };
            },
            mark_error(from: number, message: string) {
                const view = view_ref.current;
                if (!view) {
                    return;
                }
                const doc = view.state.doc;
                const start = Math.min(Math.max(0, from), doc.length);
                const word = /^[\w$"]+/.exec(view.state.sliceDoc(start, Math.min(doc.length, start + 64)));
                const end = Math.min(doc.length, start + (word ? word[0].length : 1));
                const line = doc.lineAt(start);
                const mark_from = start === end && start === line.to && start > line.from ? start - 1 : start;
                view.dispatch(
                    setDiagnostics(view.state, [{ from: mark_from, to: Math.max(end, mark_from + (doc.length > mark_from ? 1 : 0)), severity: "error", message }]),
                );
                view.dispatch({ effects: EditorView.scrollIntoView(mark_from, { y: "nearest" }) });
            },
            clear_error() {
                const view = view_ref.current;
                if (view) {
                    view.dispatch(setDiagnostics(view.state, []));
                }
            },
            reveal(offset: number) {
                const view = view_ref.current;
                if (!view) {
                    return;
                }
                const position = Math.min(Math.max(0, offset), view.state.doc.length);
                view.dispatch({ selection: { anchor: position }, scrollIntoView: true });
                view.focus();
            },
        }),
        [props.value],
    );

    return <div ref={host} className="cm-host" style={{ height: "100%" }} />;
});
