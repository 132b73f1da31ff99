/**
 * The workflow's notion of "now". Inside Temporal's workflow sandbox `Date` is replaced by
 * the deterministic time of the current workflow task, so this is replay-safe; every other
 * file in workflows/ must use this helper (ESLint enforces it) so that rule stays visible.
 */
export function workflowNow(): number {
  return Date.now();
}

export const isoAt = (ms: number): string => new Date(ms).toISOString();
