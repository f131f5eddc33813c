import type { FloorServers } from '../harness/floors.js';
import type { ScenarioResult } from '../harness/result.js';
import type { Settings } from '../harness/settings.js';

export interface ScenarioContext {
  settings: Settings;
  /** The floor servers, measured next to each Laminar measurement (measurePaired). */
  floors: FloorServers;
  /** Scratch folder of this run (CPU profiles, data dirs). */
  workDir: string;
}

export interface Scenario {
  name: string;
  title: string;
  /** One line for --help and the report. */
  description: string;
  /** Fills `result`; throws ScenarioSkipped when the server lacks what it needs. */
  run(ctx: ScenarioContext, result: ScenarioResult): Promise<void>;
}
