// Short-lived confirmations ("Link copied") and background failures, announced to screen readers.
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";

interface Toast {
    id: number;
    text: string;
    kind: "info" | "error";
}

interface ToastApi {
    show(text: string, kind?: "info" | "error"): void;
}

const ToastContext = createContext<ToastApi>({ show: () => undefined });

export function ToastProvider({ children }: { children: ReactNode }) {
    const [toasts, set_toasts] = useState<Toast[]>([]);
    const next_id = useRef(1);

    const show = useCallback((text: string, kind: "info" | "error" = "info") => {
        const id = next_id.current++;
        set_toasts((current) => [...current.slice(-2), { id, text, kind }]);
        window.setTimeout(() => set_toasts((current) => current.filter((toast) => toast.id !== id)), kind === "error" ? 6000 : 2500);
    }, []);

    const api = useMemo(() => ({ show }), [show]);
    return (
        <ToastContext.Provider value={api}>
            {children}
            <div className="toasts" role="status" aria-live="polite">
                {toasts.map((toast) => (
                    <div key={toast.id} className={`toast ${toast.kind}`}>
                        {toast.text}
                    </div>
                ))}
            </div>
        </ToastContext.Provider>
    );
}

export function use_toast(): ToastApi {
    return useContext(ToastContext);
}
