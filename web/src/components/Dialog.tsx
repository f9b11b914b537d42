// A modal built on <dialog>: the browser gives focus trapping, Escape to close and an inert page behind it.
import { useEffect, useRef, type ReactNode } from "react";
import { CloseIcon } from "./icons";

interface DialogProps {
    open: boolean;
    title: string;
    on_close: () => void;
    children: ReactNode;
    footer?: ReactNode;
    width?: number;
}

export function Dialog({ open, title, on_close, children, footer, width }: DialogProps) {
    const ref = useRef<HTMLDialogElement>(null);

    useEffect(() => {
        const dialog = ref.current;
        if (!dialog) {
            return;
        }
        if (open && !dialog.open) {
            dialog.showModal();
        } else if (!open && dialog.open) {
            dialog.close();
        }
    }, [open]);

    return (
        <dialog
            ref={ref}
            className="dialog"
            aria-labelledby="dialog-title"
            style={width ? { width: `min(${width}px, calc(100vw - 32px))` } : undefined}
            onCancel={(event) => {
                event.preventDefault();
                on_close();
            }}
        >
            {open && (
                <>
                    <div className="dialog-head">
                        <h2 id="dialog-title">{title}</h2>
                        <button type="button" className="icon-btn" onClick={on_close} aria-label="Close">
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
