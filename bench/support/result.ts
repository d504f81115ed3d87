// What every benchmark hands back to the runner: its figures, its targets checked against them, the raw
// per-repetition samples (for latest.json) and the notes that explain a figure.

export interface Figure {
  label: string;
  value: number;
  unit: string;
}

export interface TargetCheck {
  label: string;
  /** e.g. "≥ 50% of the storage ceiling" */
  goal: string;
  /** The measured value in the goal's unit, e.g. "41%". */
  actual: string;
  met: boolean;
  /** When missed: by how much, in words ("9 points short", "2.1× over"). */
  shortfall?: string;
}

export interface BenchResult {
  id: string;
  title: string;
  /** ISO date of the run. */
  at: string;
  params: Record<string, string | number>;
  figures: Figure[];
  targets: TargetCheck[];
  samples: Record<string, number[]>;
  notes: string[];
  /** The host's 1-minute load average before and after the benchmark (filled in by the runner). */
  load?: { before: number; after: number };
  /** Set by the runner when the benchmark threw. */
  error?: string;
}

export interface BenchModule {
  id: string;
  title: string;
  run(): Promise<BenchResult>;
}

/** "at least `goal`" check on a ratio shown as a percentage. */
export function atLeastPercent(label: string, ratio: number, goal: number, goalText: string): TargetCheck {
  const met = ratio >= goal;
  return {
    label,
    goal: goalText,
    actual: `${(ratio * 100).toFixed(1)}%`,
    met,
    ...(met ? {} : { shortfall: `${((goal - ratio) * 100).toFixed(1)} points short` }),
  };
}
