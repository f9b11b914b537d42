// Light and dark themes: the choice is remembered; without one the system preference decides.
import { useCallback, useEffect, useState } from "react";
import { read_text, write_text } from "./storage";

export type Theme = "light" | "dark";

const key = "metahog.theme";

function initial_theme(): Theme {
    const attribute = document.documentElement.dataset.theme;
    if (attribute === "light" || attribute === "dark") {
        return attribute;
    }
    const saved = read_text(key);
    if (saved === "light" || saved === "dark") {
        return saved;
    }
    return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

const listeners = new Set<(theme: Theme) => void>();

export function use_theme(): [Theme, () => void] {
    const [theme, set_theme] = useState<Theme>(initial_theme);
    useEffect(() => {
        listeners.add(set_theme);
        return () => {
            listeners.delete(set_theme);
        };
    }, []);
    useEffect(() => {
        document.documentElement.dataset.theme = theme;
    }, [theme]);
    const toggle = useCallback(() => {
        const next: Theme = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
        write_text(key, next);
        document.documentElement.dataset.theme = next;
        listeners.forEach((listener) => listener(next));
    }, []);
    return [theme, toggle];
}
