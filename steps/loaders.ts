/**
 * @module
 * Every built-in step module by its `use:` name, imported on demand: a gateway imports the
 * steps its flows name (`app/sources.ts`), the CLI and the flow loader all of them
 * (`registry.ts`).
 */

import type { StepModule } from "../engine/plugin.ts";

/** Imports each step module by its `use:` name. */
export const stepLoaders: Readonly<Record<string, () => Promise<StepModule>>> = {
  scale: async () => (await import("./scale/mod.ts")).scaleStep as StepModule,
  deadband: async () => (await import("./deadband/mod.ts")).deadbandStep as StepModule,
  filter: async () => (await import("./filter/mod.ts")).filterStep as StepModule,
  rename: async () => (await import("./rename/mod.ts")).renameStep as StepModule,
  function: async () => (await import("./function/mod.ts")).functionStep as StepModule,
  window: async () => (await import("./window/mod.ts")).windowStep as StepModule,
  expression: async () => (await import("./expression/mod.ts")).expressionStep as StepModule,
  alarm: async () => (await import("./alarm/mod.ts")).alarmStep as StepModule,
  anomaly: async () => (await import("./anomaly/mod.ts")).anomalyStep as StepModule,
  "swinging-door": async () =>
    (await import("./swinging_door/mod.ts")).swingingDoorStep as StepModule,
  trend: async () => (await import("./trend/mod.ts")).trendStep as StepModule,
};
