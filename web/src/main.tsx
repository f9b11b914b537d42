// Entry point: mounts the workbench.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { track_focus_modality } from "./lib/focus_modality";
import "./styles.css";

track_focus_modality();

const root = document.getElementById("root");
if (!root) {
    throw new Error("index.html lacks the #root element");
}
createRoot(root).render(
    <StrictMode>
        <App />
    </StrictMode>,
);
