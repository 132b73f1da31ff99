// No tracked file names a package registry's host: packages are fetched by name through each
// client's own configuration (npm's registry, Go's GOPROXY, pip's index, apt's sources), so the
// repository works wherever those point. package-lock.json counts too: .npmrc tells npm not to
// write registry URLs into it (omit-lockfile-registry-resolved), so npm itself keeps it clean.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..', '..');

// Spelled in pieces, so this file does not name them either.
const HOSTS = [
  ['registry', 'npmjs', 'org'],
  ['proxy', 'golang', 'org'],
  ['pypi', 'org'],
  ['files', 'pythonhosted', 'org'],
  ['repo', 'maven', 'apache', 'org'],
  ['repo1', 'maven', 'org'],
  ['crates', 'io'],
  ['deb', 'debian', 'org'],
].map((parts) => parts.join('.'));

/** Every file git tracks (the working-tree copy, so an uncommitted change counts). */
function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .split('\0')
    .filter(Boolean);
}

describe('package registries', () => {
  it('are named by no tracked file', () => {
    const files = trackedFiles();
    assert.ok(files.includes('package.json') && files.includes('.ci/run'), 'git ls-files did not list the repository');
    const hits: string[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(join(ROOT, file), 'latin1').toLowerCase();
      } catch {
        continue; // deleted in the working tree, not yet committed
      }
      for (const host of HOSTS) if (text.includes(host)) hits.push(`${file}: ${host}`);
    }
    assert.deepEqual(hits, []);
  });

  it('are not written into package-lock.json by npm', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string }> };
    const withUrls = Object.entries(lock.packages).filter(([, p]) => p.resolved !== undefined && /^https?:/.test(p.resolved));
    assert.deepEqual(withUrls.map(([name]) => name), []);
    assert.match(readFileSync(join(ROOT, '.npmrc'), 'utf8'), /^omit-lockfile-registry-resolved=true$/m);
  });
});
