import { Context } from '@temporalio/activity';

/**
 * The running activity's context, or null when an adapter is used outside an activity (a script,
 * a unit test calling it directly). Adapters read what a previous attempt heartbeated through it.
 */
export function currentActivity(): Context | null {
  try {
    return Context.current();
  } catch {
    return null;
  }
}
