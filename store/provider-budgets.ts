import type { ProviderName } from '../contract/messages';
import type { BudgetResets, BudgetWindow } from '../providers/types';
import type { Queryable } from './db';

/**
 * BudgetResets in the store (table provider_budget_resets, migration 018): every worker on the
 * same PostgreSQL sees the budgets another one saw spent. One statement per call: a read, an
 * upsert that sets the windows given, or (when a call only forgets) an update or delete.
 */
export function createProviderBudgets(db: Queryable): BudgetResets {
  return {
    async get(provider: ProviderName, key: string) {
      const [row] = await db.query<{ minute: string | null; day: string | null }>(
        'SELECT minute_reset_ms::text AS minute, day_reset_ms::text AS day FROM provider_budget_resets WHERE provider = $1 AND budget_key = $2',
        [provider, key],
      );
      const resets: Partial<Record<BudgetWindow, number>> = {};
      if (row?.minute != null) resets.minute = Number(row.minute);
      if (row?.day != null) resets.day = Number(row.day);
      return resets;
    },

    async update(provider: ProviderName, key: string, change: Partial<Record<BudgetWindow, number | null>>) {
      const has = { minute: 'minute' in change, day: 'day' in change };
      if (!has.minute && !has.day) return;
      const value = (window: BudgetWindow) => (change[window] == null ? null : Math.round(change[window]));
      if (value('minute') !== null || value('day') !== null) {
        await db.query(
          `INSERT INTO provider_budget_resets AS r (provider, budget_key, minute_reset_ms, day_reset_ms) VALUES ($1, $2, $3, $4)
           ON CONFLICT (provider, budget_key) DO UPDATE SET
             minute_reset_ms = CASE WHEN $5::boolean THEN EXCLUDED.minute_reset_ms ELSE r.minute_reset_ms END,
             day_reset_ms = CASE WHEN $6::boolean THEN EXCLUDED.day_reset_ms ELSE r.day_reset_ms END,
             updated_at = now()`,
          [provider, key, value('minute'), value('day'), has.minute, has.day],
        );
      } else if (has.minute && has.day) {
        await db.query('DELETE FROM provider_budget_resets WHERE provider = $1 AND budget_key = $2', [provider, key]);
      } else {
        const column = has.minute ? 'minute_reset_ms' : 'day_reset_ms';
        await db.query(`UPDATE provider_budget_resets SET ${column} = NULL, updated_at = now() WHERE provider = $1 AND budget_key = $2 AND ${column} IS NOT NULL`, [
          provider,
          key,
        ]);
      }
    },
  };
}
