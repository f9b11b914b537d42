// The sign-in form: e-mail and password, the server's message on failure.
import { useState, type FormEvent } from "react";
import { ApiError } from "../../api/http";
import { use_session } from "./session";

export function LoginPage({ notice, error }: { notice?: string; error?: string }) {
    const { sign_in } = use_session();
    const [email, set_email] = useState("");
    const [password, set_password] = useState("");
    const [busy, set_busy] = useState(false);
    const [failure, set_failure] = useState<string | null>(error ?? null);

    const submit = async (event: FormEvent) => {
        event.preventDefault();
        set_busy(true);
        set_failure(null);
        try {
            await sign_in(email.trim(), password);
        } catch (caught) {
            if (caught instanceof ApiError && caught.status === 401) {
                set_failure("That e-mail and password do not match an account.");
            } else {
                set_failure(caught instanceof Error ? caught.message : String(caught));
            }
            set_busy(false);
        }
    };

    return (
        <main className="login-page">
            <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
                <div className="brand">
                    <img src="/favicon.svg" alt="" />
                    MetaHog
                </div>
                <h1 id="login-title">Sign in</h1>
                {notice && !failure && <div className="notice notice-info">{notice}</div>}
                {failure && (
                    <div className="notice notice-error" role="alert">
                        {failure}
                    </div>
                )}
                <label className="field">
                    <span>E-mail</span>
                    <input
                        className="input"
                        type="email"
                        name="email"
                        autoComplete="username"
                        value={email}
                        onChange={(event) => set_email(event.target.value)}
                        required
                        autoFocus
                    />
                </label>
                <label className="field">
                    <span>Password</span>
                    <input
                        className="input"
                        type="password"
                        name="password"
                        autoComplete="current-password"
                        value={password}
                        onChange={(event) => set_password(event.target.value)}
                        required
                    />
                </label>
                <button className="btn btn-primary" type="submit" disabled={busy} style={{ justifyContent: "center", height: 36 }}>
                    {busy && <span className="spinner" />}
                    {busy ? "Signing in…" : "Sign in"}
                </button>
            </form>
        </main>
    );
}
