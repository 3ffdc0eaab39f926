// Learning-rate schedules as pure functions of the global step, so a resumed run gets exactly the
// rate the uninterrupted run would have had.

export interface ScheduleSpec {
  kind: 'cosine' | 'one-cycle';
  peakLr: number;
  totalSteps: number;
  warmupSteps: number;
}

/** Linear warm-up to the peak, then cosine decay to 1% of it (cosine), or one-cycle (warm-up 30%). */
export function learningRateAt(step: number, s: ScheduleSpec): number {
  const warmup = s.kind === 'one-cycle' ? Math.max(1, Math.round(0.3 * s.totalSteps)) : s.warmupSteps;
  const floor = s.kind === 'one-cycle' ? s.peakLr / 1e4 : s.peakLr / 100;
  const start = s.kind === 'one-cycle' ? s.peakLr / 25 : floor;
  if (step < warmup) return start + (s.peakLr - start) * ((step + 1) / warmup);
  const progress = Math.min(1, (step - warmup) / Math.max(1, s.totalSteps - warmup));
  return floor + (s.peakLr - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
