// A minimal client-side router over the History API: the workbench has three pages and needs nothing more.
import { useEffect, useState } from "react";

const listeners = new Set<() => void>();

export function navigate(to: string, replace = false): void {
    if (to === window.location.pathname + window.location.search) {
        return;
    }
    if (replace) {
        window.history.replaceState(null, "", to);
    } else {
        window.history.pushState(null, "", to);
    }
    listeners.forEach((listener) => listener());
}

export interface LocationState {
    pathname: string;
    search: string;
}

function current(): LocationState {
    return { pathname: window.location.pathname, search: window.location.search };
}

export function use_location(): LocationState {
    const [location, set_location] = useState(current);
    useEffect(() => {
        const update = () => set_location(current());
        listeners.add(update);
        window.addEventListener("popstate", update);
        return () => {
            listeners.delete(update);
            window.removeEventListener("popstate", update);
        };
    }, []);
    return location;
}

/** Follows a same-origin link without reloading, unless the user asked for a new tab or window. */
export function on_link_click(event: React.MouseEvent<HTMLAnchorElement>, to: string): void {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
        return;
    }
    event.preventDefault();
    navigate(to);
}
