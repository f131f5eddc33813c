/** How long and how often each measurement runs; the same for the floors and for Laminar. */
export interface Settings {
  /** Length of one measured run. */
  durationSeconds: number;
  /** Unmeasured load before the runs (JIT, connections, environments). */
  warmupSeconds: number;
  /** Measured runs per figure; the figure is their median. */
  reps: number;
  /** Overrides the connection counts of the load scenarios (floors follow). */
  connections?: number;
  /** Where reports are written. */
  outDir: string;
  /** Progress lines. */
  log: (line: string) => void;
}

export const DEFAULT_SETTINGS = {
  durationSeconds: 3,
  warmupSeconds: 1,
  reps: 3,
} as const;
