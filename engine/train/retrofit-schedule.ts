// The compression-ratio schedule of the DMS retrofit: CR rises by 1 every stepsPerRatio steps,
// optionally holding holdSteps at each integer ratio; a checkpoint is due when an integer is reached.

export interface RatioSchedule {
  /** Ratio at the end of the run (e.g. 8). */
  finalRatio: number;
  /** Steps to raise the ratio by 1 (100 in the paper). */
  stepsPerRatio: number;
  /** Extra steps at each integer ratio >= 2 before its checkpoint (0 = save as soon as reached). */
  holdSteps: number;
}

/** Total steps of the schedule. */
export function scheduleSteps(s: RatioSchedule): number {
  return Math.ceil(s.finalRatio - 1) * (s.stepsPerRatio + s.holdSteps);
}

/** Target ratio after `step` completed steps (1 at step 0). */
export function ratioAt(step: number, s: RatioSchedule): number {
  const seg = s.stepsPerRatio + s.holdSteps;
  const whole = Math.floor(step / seg);
  const within = step - whole * seg;
  const r = 1 + whole + Math.min(1, within / s.stepsPerRatio);
  return Math.min(s.finalRatio, r);
}

/** The integer ratio whose checkpoint is due after `step` completed steps, or null. */
export function checkpointDue(step: number, s: RatioSchedule): number | null {
  const seg = s.stepsPerRatio + s.holdSteps;
  if (step <= 0 || step % seg !== 0) return null;
  const r = 1 + step / seg;
  return r <= Math.ceil(s.finalRatio) ? Math.min(r, s.finalRatio) : null;
}
