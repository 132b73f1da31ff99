// The README's commands work as written: every call it shows to a protected route carries the
// Authorization header that route asks for (routes and their security from api/openapi.ts), every
// `npm run` it names exists, no command assumes a `temporal` on PATH, and its `npm run temporal`
// command runs against a dev server with Linkflow's search attributes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { operations } from '../../api/openapi';
import { devServerEnv } from '../helpers/temporal';

const ROOT = join(__dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Fenced blocks of the given languages, and inline code spans, as command texts. */
function snippets(): { sh: string[]; ts: string[]; inline: string[] } {
  const blocks = [...README.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)].map(([, lang, body]) => ({ lang, body: body as string }));
  const outside = README.replace(/^```\w*\n[\s\S]*?^```/gm, '');
  return {
    // A line ending in a backslash goes on on the next one, as in the shell.
    sh: blocks.filter((b) => b.lang === 'sh').flatMap((b) => b.body.replace(/\\\n\s*/g, ' ').split('\n')).filter((l) => !/^\s*#/.test(l)),
    ts: blocks.filter((b) => b.lang === 'ts').map((b) => b.body),
    inline: [...outside.matchAll(/`([^`\n]+)`/g)].map(([, code]) => code as string),
  };
}

/** The documented operation a call to `method path` reaches, path parameters written any way (`<id>`, `${id}`). */
function operationFor(method: string, path: string) {
  const bare = path.replace(/[?#].*$/, '');
  return operations.find((op) => {
    if (op.method !== method.toLowerCase()) return false;
    const pattern = new RegExp(`^${op.path.replace(/\{\w+\}/g, '[^/]+')}$`);
    return pattern.test(bare);
  });
}

/** `curl` commands to the API: method, path and whether an Authorization header is sent. */
function curlCalls(commands: string[]): { command: string; method: string; path: string; authorized: boolean }[] {
  return commands
    .flatMap((line) => line.split(/\s*(?:&&|\|\||;)\s*/))
    .filter((c) => /(^|\s)curl\s/.test(c) && /\/v1\//.test(c))
    .map((command) => {
      const method = /\s-X\s+(\w+)/.exec(command)?.[1] ?? (/\s(-d|--data)\s/.test(command) ? 'POST' : 'GET');
      const path = /(\/v1\/[^\s'"]*)/.exec(command)?.[1] ?? '';
      return { command, method, path, authorized: /-H\s+["']authorization:\s*Bearer\s+\S+["']/i.test(command) };
    });
}

/** `fetch(…)` calls to the API in TypeScript snippets: the whole call, up to its closing parenthesis. */
function fetchCalls(code: string): { call: string; method: string; path: string }[] {
  const calls: { call: string; method: string; path: string }[] = [];
  for (const match of code.matchAll(/fetch\(/g)) {
    let depth = 0;
    let end = match.index;
    for (; end < code.length; end++) {
      if (code[end] === '(') depth++;
      if (code[end] === ')' && --depth === 0) break;
    }
    const call = code.slice(match.index, end + 1);
    const path = /(\/v1\/[^`'"\s]*)/.exec(call)?.[1];
    if (!path) continue;
    calls.push({ call, method: /method:\s*'(\w+)'/.exec(call)?.[1] ?? 'GET', path });
  }
  return calls;
}

describe('README', () => {
  const { sh, ts, inline } = snippets();

  it('sends an Authorization header with every curl call to a protected route', () => {
    const calls = curlCalls([...sh, ...inline.filter((c) => c.startsWith('curl '))]);
    assert.ok(calls.length >= 5, `found only ${calls.length} curl calls to /v1`);
    for (const call of calls) {
      const op = operationFor(call.method, call.path);
      assert.ok(op, `${call.method} ${call.path} is not a documented operation: ${call.command}`);
      if (op.security !== 'none') assert.ok(call.authorized, `no "authorization: Bearer …" header (401 as written): ${call.command}`);
    }
  });

  it('sends an Authorization header with every fetch to a protected route', () => {
    const calls = ts.flatMap(fetchCalls);
    assert.ok(calls.length >= 2, `found only ${calls.length} fetch calls to /v1`);
    for (const call of calls) {
      const op = operationFor(call.method, call.path);
      assert.ok(op, `${call.method} ${call.path} is not a documented operation: ${call.call}`);
      if (op.security !== 'none') assert.match(call.call, /authorization['"]?\s*:\s*`Bearer \$\{\w+\}`/i, `no Authorization header (401 as written): ${call.call}`);
    }
  });

  it('names only npm scripts that exist, and no bare `temporal` command', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const commands = [...sh, ...inline];
    for (const [, name] of commands.join('\n').matchAll(/npm run (?:-s )?([\w:-]+)/g)) {
      assert.ok(scripts[name as string], `npm run ${name}: no such script`);
    }
    const bare = commands.filter((c) => /^temporal\s/.test(c.trim()));
    assert.deepEqual(bare, [], 'needs a temporal CLI on PATH, which npm start does not provide');
  });

  describe('its `npm run temporal` command', () => {
    let env: TestWorkflowEnvironment;
    before(async () => {
      env = await devServerEnv();
    });
    after(async () => {
      await env?.teardown();
    });

    it('runs as written against the dev server', { timeout: 120_000 }, async () => {
      // Those with a placeholder (`<args>`) are usage, not commands.
      const written = inline.filter((c) => c.startsWith('npm run temporal -- ') && !/<\w+>/.test(c));
      assert.ok(written.length > 0, 'the README shows no npm run temporal command');
      for (const command of written) {
        const { stdout } = await promisify(execFile)('bash', ['-c', command.replace('npm run temporal', 'npm run -s temporal')], {
          cwd: ROOT,
          env: { ...process.env, TEMPORAL_ADDRESS: env.address },
        });
        // Nothing is running: the list is empty, but the query (and its search attribute) was accepted.
        assert.equal(stdout.trim(), '', command);
      }
    });
  });
});
