// What the database role can do beyond reading, as the server found it on "Test connection" or save: a calm
// notice (MetaHog still runs only read-only queries) listing each finding, and the recipe for a role that can
// only read, written out for this database.
import type { RoleWarning } from "../../api/types";
import { role_recipe_sql, type RecipeTarget } from "./role_recipe";

interface RoleWarningsProps {
    warnings: RoleWarning[];
    target: RecipeTarget;
}

export function RoleWarnings({ warnings, target }: RoleWarningsProps) {
    if (warnings.length === 0) {
        return null;
    }
    return (
        <div className="notice notice-info" role="status" data-testid="role-warnings" style={{ flexDirection: "column" }}>
            <div>
                <strong>This role can do more than read.</strong> MetaHog only runs read-only queries, so this works, but a role
                that can only read is safer:
            </div>
            <ul style={{ margin: 0, paddingLeft: 20 }}>
                {warnings.map((warning) => (
                    <li key={warning.code} data-code={warning.code}>
                        {warning.message}
                        {warning.examples.length > 0 && (
                            <>
                                {" — "}
                                <span className="mono">{warning.examples.join(", ")}</span>
                            </>
                        )}
                    </li>
                ))}
            </ul>
            <RoleRecipe target={target} />
        </div>
    );
}

/** The "Read-only role recipe" of the README, for the database being connected to. */
export function RoleRecipe({ target }: { target: RecipeTarget }) {
    return (
        <details>
            <summary>How to create a read-only role</summary>
            <pre className="mono" style={{ whiteSpace: "pre-wrap", margin: "6px 0 0" }}>
                {role_recipe_sql(target)}
            </pre>
            <small>The same recipe, with why each step matters, is in MetaHog's README under “Read-only role recipe”.</small>
        </details>
    );
}
