// A modal built on <dialog>: the browser makes the page behind it inert and gives Escape; on top of that focus
// starts on the first field (or the element marked data-autofocus), Tab and Shift+Tab wrap inside the dialog instead of
// leaving for the browser's own controls, and closing puts focus back where it was before the dialog opened.
import { useEffect, useId, useRef, type KeyboardEvent, type ReactNode } from "react";
import { CloseIcon } from "./icons";

interface DialogProps {
    open: boolean;
    title: string;
    on_close: () => void;
    children: ReactNode;
    footer?: ReactNode;
    width?: number;
}

const focusable_selector = 'a[href], button:not(:disabled), input:not(:disabled):not([type="hidden"]), select:not(:disabled), textarea:not(:disabled), [tabindex]:not([tabindex="-1"])';

export function focusable_within(root: HTMLElement): HTMLElement[] {
    return [...root.querySelectorAll<HTMLElement>(focusable_selector)].filter((element) => element.tabIndex >= 0 && element.getClientRects().length > 0);
}

export function Dialog({ open, title, on_close, children, footer, width }: DialogProps) {
    const ref = useRef<HTMLDialogElement>(null);
    const opener = useRef<HTMLElement | null>(null);
    const title_id = useId();

    useEffect(() => {
        const dialog = ref.current;
        if (!dialog) {
            return;
        }
        if (open && !dialog.open) {
            opener.current = document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : null;
            dialog.showModal();
            const marked = dialog.querySelector<HTMLElement>("[autofocus], [data-autofocus]");
            const first_field = dialog.querySelector<HTMLElement>(".dialog-body input:not(:disabled), .dialog-body select:not(:disabled), .dialog-body textarea:not(:disabled)");
            (marked ?? first_field ?? focusable_within(dialog)[0])?.focus();
        } else if (!open && dialog.open) {
            dialog.close();
        }
    }, [open]);

    // Unmounting or closing gives focus back to what opened the dialog, when it is still on the page.
    useEffect(() => {
        if (open) {
            return;
        }
        const target = opener.current;
        opener.current = null;
        if (target && target.isConnected && (document.activeElement === document.body || document.activeElement === null || ref.current?.contains(document.activeElement))) {
            target.focus();
        }
    }, [open]);
    useEffect(
        () => () => {
            const target = opener.current;
            if (target && target.isConnected) {
                window.setTimeout(() => target.isConnected && target.focus(), 0);
            }
        },
        [],
    );

    const trap = (event: KeyboardEvent<HTMLDialogElement>) => {
        if (event.key !== "Tab" || !ref.current) {
            return;
        }
        const items = focusable_within(ref.current);
        if (items.length === 0) {
            event.preventDefault();
            return;
        }
        const first = items[0];
        const last = items[items.length - 1];
        const active = document.activeElement;
        if (event.shiftKey && (active === first || !ref.current.contains(active))) {
            event.preventDefault();
            last.focus();
        } else if (!event.shiftKey && (active === last || !ref.current.contains(active))) {
            event.preventDefault();
            first.focus();
        }
    };

    return (
        <dialog
            ref={ref}
            className="dialog"
            aria-labelledby={title_id}
            style={width ? { width: `min(${width}px, calc(100vw - 32px))` } : undefined}
            onKeyDown={trap}
            onCancel={(event) => {
                event.preventDefault();
                on_close();
            }}
        >
            {open && (
                <>
                    <div className="dialog-head">
                        <h2 id={title_id}>{title}</h2>
                        <button type="button" className="icon-btn" onClick={on_close} aria-label="Close" title="Close (Esc)">
                            <CloseIcon />
                        </button>
                    </div>
                    <div className="dialog-body">{children}</div>
                    {footer && <div className="dialog-foot">{footer}</div>}
                </>
            )}
        </dialog>
    );
}
