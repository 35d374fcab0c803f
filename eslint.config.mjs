// Lint: the import boundaries of ARCHITECTURE.md, plus the traps STYLE.md names
// (console/process.exit below main.ts, empty catch blocks).
import tseslint from 'typescript-eslint';

const up = '^(\\.\\./)+';
/** A rule forbidding relative imports into the given top-level folders. */
function forbid(folders, why) {
  return {
    'no-restricted-imports': [
      'error',
      { patterns: [{ regex: `${up}(${folders.join('|')})(/|$)`, message: why }] },
    ],
  };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      'no-empty': ['error', { allowEmptyCatch: false }],
      'no-debugger': 'error',
      'no-var': 'error',
      'prefer-const': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  // The daemons and libraries: no console, no process.exit (only main.ts files and the CLI).
  {
    files: ['topology-api/**/*.ts', 'common/**/*.ts', 'worker/**/*.ts', 'nimbus/**/*.ts', 'supervisor/**/*.ts', 'local/**/*.ts', 'connectors/**/*.ts'],
    ignores: ['**/main.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Only main.ts and the CLI end the process.' }],
    },
  },
  {
    files: ['topology-api/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^\\.\\./', message: 'topology-api imports nothing internal: user bundles carry it alone.' }] },
      ],
    },
  },
  // Its subfolders (state/, windowing/) may import their parent, nothing above it.
  {
    files: ['topology-api/*/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^\\.\\./\\.\\./', message: 'topology-api imports nothing internal: user bundles carry it alone.' }] },
      ],
    },
  },
  { files: ['common/**/*.ts'], rules: forbid(['worker', 'nimbus', 'supervisor', 'local', 'cli', 'examples', 'bench', 'test'], 'common may import only topology-api.') },
  { files: ['worker/**/*.ts'], rules: forbid(['nimbus', 'supervisor', 'local', 'cli', 'examples', 'bench', 'test'], 'worker imports common and topology-api only.') },
  {
    files: ['nimbus/**/*.ts'],
    rules: forbid(['topology-api', 'worker', 'supervisor', 'local', 'cli', 'examples', 'bench', 'test'], 'nimbus imports common only; daemons meet through cluster state and protocol types.'),
  },
  {
    files: ['supervisor/**/*.ts'],
    rules: forbid(['topology-api', 'worker', 'nimbus', 'local', 'cli', 'examples', 'bench', 'test'], 'supervisor imports common only; it starts workers by file path.'),
  },
  { files: ['local/**/*.ts'], rules: forbid(['cli', 'examples', 'bench', 'test'], 'local may import the daemons, not the CLI.') },
  // Connectors are user code shipped with Squall: the topology API and their client library only
  // (a bundle carries them like any npm dependency), and each system builds on connectors/core alone.
  {
    files: ['connectors/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `${up}(common|worker|nimbus|supervisor|local|cli|examples|bench|test)(/|$)`,
              message: 'connectors import only topology-api and their client library, never the daemons.',
            },
            { regex: '^\\.\\./(?!core(/|$))[^./][^/]*(/|$)', message: 'a connector builds on connectors/core, not on another connector.' },
          ],
        },
      ],
    },
  },
  // The browser UI talks to Nimbus only through REST: it may import the REST types, nothing else.
  {
    files: ['ui/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: `${up}(topology-api|worker|nimbus|supervisor|local|cli|examples|bench|test)(/|$)`, message: 'the UI reads Nimbus through REST only.' },
            { regex: `${up}common/(?!protocol/rest$)`, message: 'the UI may import only common/protocol/rest (types).' },
          ],
        },
      ],
    },
  },
  {
    files: ['examples/**/*.ts'],
    rules: forbid(['topology-api', 'common', 'worker', 'nimbus', 'supervisor', 'local', 'cli'], "examples import 'squall' and 'squall/local', as users do."),
  },
);
