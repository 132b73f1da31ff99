// The Connect page's challenge step renders every Oxlin item type as the reference names them
// (INFO_MSG, ERROR_MSG, TIMEOUT_MSG, OK_CANCEL, NUMERIC, TEXT, PWD, NUMERIC_PWD, DATE), with a label
// on every control, and escapes every provider text. The browser tests drive the types the sandbox
// asks (NUMERIC, OK_CANCEL and the messages); this covers the others.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { challengeStep, credentialsStep } from '../../api/routes/connect/render';
import { messagesFor } from '../../api/routes/connect/i18n';
import type { InputField } from '../../contract/messages';

const ctx = { locale: 'en' as const, m: messagesFor('en'), base: '/connect/s/cs_x', csrf: 'token', error: null, errorFields: [] };
const field = (id: string, type: string, extra: Partial<InputField> = {}): InputField => ({ id, label: `${type} <b>label</b>`, type, regexp: null, encrypt: false, ...extra });

describe('Connect page rendering', () => {
  it('renders every challenge item type, each input labelled', () => {
    const html = challengeStep(ctx, {
      type: 'challenge',
      fields: [field('1', 'NUMERIC', { regexp: '^[0-9]{6}$' }), field('2', 'TEXT'), field('3', 'PWD'), field('4', 'NUMERIC_PWD'), field('5', 'DATE'), field('6', 'OK_CANCEL')],
      messages: [
        { id: '7', type: 'INFO_MSG', text: 'A code was sent to 06<script>' },
        { id: '8', type: 'ERROR_MSG', text: 'Wrong code' },
        { id: '9', type: 'TIMEOUT_MSG', text: '120 seconds left' },
      ],
      expires_at: '2030-01-01T00:00:00.000Z',
    });
    assert.match(html, /<input type="text" id="f-1" name="answer:1" required pattern="\^\[0-9\]\{6\}\$" inputmode="numeric" autocomplete="one-time-code">/);
    assert.match(html, /<input type="text" id="f-2" name="answer:2" required autocomplete="off">/);
    assert.match(html, /<input type="password" id="f-3" name="answer:3" required autocomplete="current-password">/);
    assert.match(html, /<input type="password" id="f-4" name="answer:4" required pattern="\[0-9\]\+" inputmode="numeric"/);
    assert.match(html, /<input type="date" id="f-5" name="answer:5" required>/);
    // OK_CANCEL is the pair of buttons, not an input; Cancel skips the browser's checks.
    assert.doesNotMatch(html, /name="answer:6"/);
    assert.match(html, /<button type="submit" name="decision" value="false" class="secondary" formnovalidate>Cancel<\/button>/);
    for (const id of ['1', '2', '3', '4', '5']) assert.match(html, new RegExp(`<label for="f-${id}">`));
    assert.match(html, /<div class="error" role="alert">Wrong code<\/div>[\s\S]*A code was sent/, 'the error comes above the rest');
    assert.match(html, /data-countdown-until="2030-01-01T00:00:00.000Z"/);
    assert.match(html, /120 seconds left/);
    assert.doesNotMatch(html, /<script>|<b>/, 'provider texts are escaped');
  });

  it('credential inputs carry no name: only their encrypted copies are submitted', () => {
    const html = credentialsStep(ctx, [field('login', 'TEXT'), field('password', 'PWD', { encrypt: true, regexp: '"><script>' }), field('bank', 'list', { values: [{ value: 'a', label: 'A' }] })], false, 'KEY');
    assert.doesNotMatch(html, /<input[^>]*data-encrypt-into[^>]*\sname=/);
    assert.doesNotMatch(html, /<select[^>]*\sname=/);
    assert.match(html, /<input type="hidden" name="credential:password" id="enc-password">/);
    assert.match(html, /pattern="&quot;&gt;&lt;script&gt;"/, 'a regexp cannot break out of its attribute');
  });
});
