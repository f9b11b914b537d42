// Vite build and dev-server configuration for the MetaHog workbench; tests run through Vitest with jsdom.
import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The dev server forwards API calls to a running `metahog serve` so cookies and CSRF behave as in production.
const api_target = process.env.METAHOG_API ?? "http://127.0.0.1:8000";

export default defineConfig({
    plugins: [react()],
    server: {
        port: 5173,
        proxy: {
            "/api": { target: api_target, changeOrigin: false },
            "/healthz": { target: api_target },
        },
    },
    build: {
        outDir: "dist",
        target: "es2022",
        sourcemap: false,
        chunkSizeWarningLimit: 900,
        rollupOptions: {
            output: {
                // Vendor code changes far less often than ours: separate chunks stay cached across deploys.
                manualChunks(id: string) {
                    if (id.includes("node_modules/@codemirror") || id.includes("node_modules/@lezer")) {
                        return "codemirror";
                    }
                    if (id.includes("node_modules/react") || id.includes("node_modules/scheduler")) {
                        return "react";
                    }
                    return undefined;
                },
            },
        },
    },
    test: {
        environment: "jsdom",
        include: ["src/**/*.test.{ts,tsx}"],
        setupFiles: ["src/test_setup.ts"],
    },
});
