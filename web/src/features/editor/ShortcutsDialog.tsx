// "Keyboard shortcuts": everything the workbench does from the keyboard, in one dialog opened from the toolbar.
import { Dialog } from "../../components/Dialog";

const is_mac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);
const mod = is_mac ? "⌘" : "Ctrl";

const groups: ReadonlyArray<{ title: string; keys: ReadonlyArray<[string, string]> }> = [
    {
        title: "Editor",
        keys: [
            [`${mod} Enter`, "Run the selection, or the statement under the cursor (from anywhere on the page)"],
            [`${mod} Space`, "Suggest tables, columns and keywords"],
            ["Tab  Shift Tab", "Leave the editor (Tab does not indent, so the keyboard is never trapped)"],
            ["Esc", "Close the suggestion list"],
            [`${mod} F`, "Find and replace"],
        ],
    },
    {
        title: "Tabs and views",
        keys: [
            ["← →  Home End", "Move between query tabs (or output views) and show them"],
            ["F2", "Rename the focused query tab"],
            ["Delete", "Close the focused query tab"],
        ],
    },
    {
        title: "Results grid",
        keys: [
            ["Arrows  PgUp PgDn", "Move between cells"],
            [`Home End  ${mod} Home  ${mod} End`, "First or last column; first or last cell"],
            [`${mod} C`, "Copy the cell"],
            [`${mod} Shift C`, "Copy the row (tab-separated)"],
            ["Enter", "Show the whole value; Esc closes it"],
            ["S", "Sort by the column (again for descending, again to clear)"],
        ],
    },
    {
        title: "Schema browser",
        keys: [
            ["↓ in the filter", "Move into the list of tables"],
            ["↑ ↓  → ←", "Move; show or hide a table's columns"],
            ["Enter", "Insert the table or column name into the editor"],
            ["Q", "Query the table in a new tab"],
        ],
    },
];

export function ShortcutsDialog({ open, on_close }: { open: boolean; on_close(): void }) {
    return (
        <Dialog open={open} title="Keyboard shortcuts" on_close={on_close} width={620}>
            {groups.map((group) => (
                <section key={group.title} className="shortcuts">
                    <h3>{group.title}</h3>
                    <dl>
                        {group.keys.map(([keys, what]) => (
                            <div key={keys} className="shortcut">
                                <dt>
                                    <kbd>{keys}</kbd>
                                </dt>
                                <dd>{what}</dd>
                            </div>
                        ))}
                    </dl>
                </section>
            ))}
        </Dialog>
    );
}
