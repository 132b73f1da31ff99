// The bodies of GET /healthz and GET /readyz (GET /metrics answers the Prometheus text format).
import { z } from 'zod';

/** GET /healthz: the process runs. */
export const HealthSchema = z
  .object({ status: z.literal('alive').meta({ description: 'Always `alive`: the process answers.' }) })
  .meta({ id: 'Health', description: 'The API process is alive.' });

/** One check of GET /readyz. */
export const ReadinessCheckSchema = z
  .object({
    status: z.enum(['ok', 'failed']).meta({ description: '`ok`: it answered in time; `failed`: it did not.' }),
    reason: z.string().optional().meta({ description: 'Why it failed, in a word: `timeout`, an error code such as `ECONNREFUSED`, or `error`.' }),
    duration_ms: z.number().int().min(0).meta({ description: 'How long the check took, in milliseconds.' }),
  })
  .meta({ id: 'ReadinessCheck', description: 'The result of one readiness check.' });

/** Each check by name: `temporal`, `store`, `provider:<name>` for each configured provider. */
export const ReadinessChecksSchema = z
  .record(z.string(), ReadinessCheckSchema)
  .meta({ id: 'ReadinessChecks', description: 'Each check by name: `temporal`, `store`, and `provider:<name>` for each configured provider.' });

/** GET /readyz when every check passed. */
export const ReadinessSchema = z
  .object({ status: z.literal('ready'), checks: ReadinessChecksSchema })
  .meta({ id: 'Readiness', description: 'Every dependency answered.' });
