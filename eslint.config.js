// Lint rules for the whole project. The layer rule below is the design in executable form:
// adapters only translate (no storage, no jobs), and the core knows no platform and no job runner.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/** Where each layer may not reach; shared by the lint run and by test/lint/layers.test.ts. */
export const layerZones = [
  {
    target: './adapters',
    from: ['./src/db', './src/jobs'],
    message:
      'Adapters translate platform events; they reach storage and jobs only through the core (src/core/ports.ts).',
  },
  {
    target: './adapters',
    from: './src/core',
    except: ['./ports.ts'],
    message: 'Adapters reach the core through its one ports module (src/core/ports.ts), its public surface.',
  },
  {
    target: './src/core',
    from: ['./adapters', './src/jobs'],
    message: 'The core knows no platform and no job runner; adapters and jobs depend on the core, never the reverse.',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.cache/**', 'drizzle/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Resolves the `.js` specifiers of NodeNext ESM to their `.ts` sources, so the layer and cycle rules see every edge.
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'max-lines-per-function': ['error', { max: 120, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Plain JavaScript here runs under Node (bench/bare-bolt.mjs, this file); no `globals` package is installed,
    // so Node's globals are named by hand.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'process',
          'console',
          'Buffer',
          'URL',
          'URLSearchParams',
          'fetch',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'setImmediate',
          'clearImmediate',
          'queueMicrotask',
          'structuredClone',
          'AbortController',
          'AbortSignal',
          'TextEncoder',
          'TextDecoder',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    // Tests describe many cases inside one describe() callback; the size limit is for production code.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'max-lines-per-function': 'off' },
  },
);
