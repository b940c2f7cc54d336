/**
 * @module
 * Every built-in step, by its `use:` name. User edge functions run through `function`.
 */

import type { StepModule } from "../engine/plugin.ts";
import { alarmStep } from "./alarm/mod.ts";
import { anomalyStep } from "./anomaly/mod.ts";
import { deadbandStep } from "./deadband/mod.ts";
import { expressionStep } from "./expression/mod.ts";
import { filterStep } from "./filter/mod.ts";
import { functionStep } from "./function/mod.ts";
import { renameStep } from "./rename/mod.ts";
import { scaleStep } from "./scale/mod.ts";
import { swingingDoorStep } from "./swinging_door/mod.ts";
import { trendStep } from "./trend/mod.ts";
import { windowStep } from "./window/mod.ts";

/** The registered steps. */
export const steps: readonly StepModule[] = [
  scaleStep,
  deadbandStep,
  filterStep,
  renameStep,
  functionStep,
  windowStep,
  expressionStep,
  alarmStep,
  anomalyStep,
  swingingDoorStep,
  trendStep,
] as readonly StepModule[];
