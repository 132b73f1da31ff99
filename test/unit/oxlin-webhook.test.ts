// Oxlin's webhook events as the parser reads them: a signed event with a creation date no Date can
// hold is a malformed event (ZodError, so POST /webhooks/oxlin answers 400 invalid_event), never an
// exception that makes a 500 (schemathesis found `creation_date: -4503599627370496`).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ZodError } from 'zod';
import { parseOxlinWebhook } from '../../providers/oxlin/webhook';

const event = (creationDate: number) => ({
  id: '7731',
  event_type: 'SYNC_ALL_SUCCESS',
  resource_type: 'CONNECTION',
  channel_definition_id: '8701',
  creation_date: creationDate,
  resource: {
    id: '8812',
    provider_id: '87',
    status: 'SUCCESS',
    channels: [{ channel_definition_id: '8701', mode: 'REDIRECT', status: 'SUCCESS', account_types: ['CHECKINGS', 'CREDIT_CARD'] }],
  },
});

describe('parseOxlinWebhook', () => {
  it('reads creation_date (Unix seconds) as occurredAt', () => {
    const parsed = parseOxlinWebhook(event(1_741_079_832));
    assert.equal(parsed.event?.occurredAt, '2025-03-04T09:17:12.000Z');
  });

  it('refuses a creation_date outside what a date can hold as a malformed event', () => {
    for (const creationDate of [-4_503_599_627_370_496, 8_640_000_000_001, Number.MAX_SAFE_INTEGER]) {
      assert.throws(() => parseOxlinWebhook(event(creationDate)), ZodError, String(creationDate));
    }
  });
});
