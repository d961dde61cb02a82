/**
 * The demo page served by the edge at `/`: try the model and watch the SplitEE-S policy learn. Mount with
 * `app.route("/", uiRoutes({ models, jaegerUrl }))`; see docs/ui.md.
 * @module
 */

export { PAGE_CSP, type UiOptions, uiRoutes } from "./routes.tsx";
export type { UiModel } from "./page.tsx";
