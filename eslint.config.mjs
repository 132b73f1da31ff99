import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: no I/O, no Node built-ins.
const sandboxPaths = builtinModules.map((name) => ({ name, message: 'Node built-ins are not allowed in workflows; use an activity.' }));
const sandboxPatterns = [
  { group: ['node:*'], message: 'Node built-ins are not allowed in workflows; use an activity.' },
  // From any depth (workflows/connection/*.ts import '../../store'): a group like '../store/*'
  // matches one level up only.
  { regex: '^(\\.\\./)+(activities|providers|store|domain|app|api|worker)(/|$)', allowTypeImports: true, message: 'Workflows import activity types only.' },
];

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', '.scratch/'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no Node built-ins. The
    // contracts are bundled into it too.
    files: ['workflows/**/*.ts', 'contract/**/*.ts'],
    ignores: ['workflows/clock.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Use workflowNow() from workflows/clock.ts.' }],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Use workflowNow() from workflows/clock.ts.' }],
      'no-restricted-imports': ['error', { paths: sandboxPaths, patterns: sandboxPatterns }],
    },
  },
  {
    // The SDK evaluates the workflow bundle once per cached execution: zod and the schemas would be
    // rebuilt for every connection a worker holds. Workflow code takes values from
    // contract/definitions.ts and contract/checks.ts, and only types from the schemas.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...sandboxPaths, { name: 'zod', message: 'No zod in workflow code: see contract/checks.ts.' }],
        patterns: [
          ...sandboxPatterns,
          { regex: '^(\\.\\./)+contract/(messages|schemas)$', allowTypeImports: true, message: 'Workflow code imports values from contract/definitions.ts (no zod); types may come from contract/messages.ts.' },
        ],
      }],
    },
  },
);
