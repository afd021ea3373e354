// Lint, and the layer and room boundaries of docs/ARCHITECTURE.md:
//   src/shared   — no Node, no DOM, no electron/vue (imported by every layer)
//   src/core     — Node only: no electron, no vue, no DOM, no transports; no room imports lab.ts (the wiring place)
//     compute/   — the bottom floor: nothing above it (models, training, runs, …)
//     models/, training/ — never runs/ (orchestration sits on top of them)
//     datasets/  — never perturbations/ (derived datasets open through an injected opener)
//   src/renderer — no src/core, no Node built-ins, no electron
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const domGlobals = ['window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'HTMLElement', 'HTMLCanvasElement', 'ImageData', 'location'].map(
  (name) => ({ name, message: 'src/core and src/shared never touch the DOM' }),
);

const coreBanned = [
  { name: 'electron', message: 'src/core never imports electron' },
  { name: 'vue', message: 'src/core never imports vue' },
];
const corePatterns = [
  { group: ['**/renderer/**', '**/main/**', '**/preload/**', '**/server/**', '**/cli/**'], message: 'src/core does not depend on transports or the UI' },
  { group: ['**/lab.js', '**/lab'], message: 'rooms never import lab.ts: it is the wiring place that builds them (take narrow dependencies instead)' },
];
const above = (...rooms) => rooms.flatMap((r) => [`../${r}/**`, `../../${r}/**`, `../../../${r}/**`]);
function coreRooms() {
  const rooms = [
    { files: ['src/core/compute/**/*.ts'], patterns: [{ group: above('models', 'training', 'runs', 'metrics', 'datasets', 'perturbations', 'studies', 'export', 'store', 'app', 'analysis'), message: 'compute/ is the bottom floor: it imports only shared/ and util/' }] },
    { files: ['src/core/models/**/*.ts', 'src/core/training/**/*.ts'], patterns: [{ group: above('runs', 'studies', 'app'), message: 'models/ and training/ sit below run orchestration' }] },
    { files: ['src/core/datasets/**/*.ts'], patterns: [{ group: above('perturbations', 'runs', 'studies'), message: 'datasets/ never imports perturbations/ (derived datasets open through an injected opener)' }] },
  ];
  const roomFiles = rooms.flatMap((r) => r.files);
  return [{ files: ['src/core/**/*.ts'], ignores: roomFiles, patterns: [] }, ...rooms];
}

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'release/**', 'node_modules/**', 'test-results/**', 'coverage/**', '**/*.tmp.*'] },
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/html-indent': 'off',
      'vue/require-default-prop': 'off',
    },
  },
  // src/core, and each room's own rule on top of it (flat config keeps only the last rule per file, so each repeats the base)
  ...coreRooms().map(({ files, ignores, patterns }) => ({
    files,
    ...(ignores ? { ignores } : {}),
    rules: {
      'no-restricted-imports': ['error', { paths: coreBanned, patterns: [...corePatterns, ...patterns] }],
      'no-restricted-globals': ['error', ...domGlobals],
    },
  })),
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'src/shared never imports electron' },
            { name: 'vue', message: 'src/shared never imports vue' },
            ...nodeBuiltins.map((name) => ({ name, message: 'src/shared runs in the renderer too: no Node built-ins' })),
          ],
          patterns: [{ group: ['**/core/**', '**/renderer/**', '**/main/**', '**/server/**'], message: 'src/shared depends on nothing but itself' }],
        },
      ],
      'no-restricted-globals': ['error', ...domGlobals],
    },
  },
  {
    files: ['src/renderer/**/*.ts', 'src/renderer/**/*.vue'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'the renderer talks to the Lab only through the contract' },
            { name: 'better-sqlite3', message: 'the renderer never touches the store' },
            ...nodeBuiltins.map((name) => ({ name, message: 'the renderer has no Node built-ins' })),
          ],
          patterns: [
            { group: ['**/core/**', '**/main/**', '**/server/**', '**/cli/**', '**/preload/**'], message: 'the renderer never imports src/core or the transports' },
            { group: ['@tensorflow/*'], message: 'training runs in the main process, not the renderer' },
          ],
        },
      ],
    },
  },
);
