// Marks <html> with data-input="keyboard" after a Tab or arrow key and "pointer" after a click, for the one focus
// ring :focus-visible cannot express: the editor's, whose focused element is CodeMirror's content, not the editor.
export function track_focus_modality(root: HTMLElement = document.documentElement): void {
    root.dataset.input = "pointer";
    window.addEventListener("keydown", (event) => {
        if (event.key === "Tab" || event.key.startsWith("Arrow") || event.key === "Enter" || event.key === "Escape" || event.key === "F6") {
            root.dataset.input = "keyboard";
        }
    }, true);
    window.addEventListener("pointerdown", () => {
        root.dataset.input = "pointer";
    }, true);
}
