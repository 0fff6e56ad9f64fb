// Type-aware lint with the import boundaries of DESIGN §5 enforced.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const boundary = (patterns, message) => ({
  'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message })) }],
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'test-artifacts/**', 'bench/results/**', 'bin/**', '*.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's describe/test return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
              package: 'node:test',
            },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    files: ['src/shared/**'],
    rules: boundary(
      ['**/platform/**', '**/modules/**', '**/apps/**', '**/config/**'],
      'shared/ is pure: it imports nothing of ours',
    ),
  },
  {
    files: ['src/platform/**'],
    rules: boundary(['**/modules/**', '**/apps/**'], 'platform/ must not import modules or apps'),
  },
  {
    files: ['src/platform/db/migrations/**'],
    rules: boundary(['**/modules/**', '**/apps/**', '**/shared/**'], 'migrations are frozen and import no domain code'),
  },
  { files: ['src/modules/**'], rules: boundary(['**/apps/**'], 'modules must not import apps') },
  {
    files: ['src/apps/gateway/**'],
    rules: boundary(
      ['**/apps/admin/**', '**/apps/portal/**', '**/modules/*/*.repository.js', '**/modules/*/*.service.js'],
      'apps import modules through their index.ts, and never each other',
    ),
  },
  {
    files: ['src/apps/admin/**'],
    rules: boundary(
      ['**/apps/gateway/**', '**/apps/portal/**', '**/modules/*/*.repository.js', '**/modules/*/*.service.js'],
      'apps import modules through their index.ts, and never each other',
    ),
  },
  {
    files: ['src/apps/portal/**'],
    rules: boundary(
      ['**/apps/gateway/**', '**/apps/admin/**', '**/modules/*/*.repository.js', '**/modules/*/*.service.js'],
      'apps import modules through their index.ts, and never each other',
    ),
  },
  {
    // Scripts the browser loads as they are (no build step), and plain Node scripts:
    // outside the TypeScript project, so linted without type information.
    files: ['themes/**/assets/**/*.js', 'src/apps/*/views/assets/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'script',
      globals: { ...globals.browser, Chart: 'readonly' },
    },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: { ...globals.node } },
  },
  {
    files: ['test/**', 'bench/**', 'src/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
