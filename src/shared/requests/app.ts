/**
 * Requests about the application itself: preferences, the compute diagnosis
 * (why the best backend is or is not in use) and the desktop menu.
 *
 * - `app/prefs/get` / `app/prefs/set`: preferences stored in the lab dir
 *   (`prefs.json`). `set` takes a partial patch and answers the whole,
 *   validated result. A new lab location is recorded outside the lab (it
 *   takes effect when the app next starts).
 * - `app/compute`: the compute diagnosis; `recheck: true` loads the GPU
 *   package in a child process to read TensorFlow's own log (a few seconds).
 * - `app/menu`: the renderer tells the desktop app which screens exist, for
 *   the View menu and its Ctrl/Cmd+1…9 shortcuts; elsewhere `installed: false`.
 */
import { z } from 'zod';
import { ComputeBackend } from '../domain.js';

export const BackendPreference = z.enum(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']);
export type BackendPreference = z.infer<typeof BackendPreference>;
export const Theme = z.enum(['dark', 'light']);
export type Theme = z.infer<typeof Theme>;
export const FigureFormat = z.enum(['svg', 'png', 'pdf']);
export type FigureFormat = z.infer<typeof FigureFormat>;

/** Steps of the first-run guide, in order. */
export const GUIDE_STEPS = ['datasets', 'perturb', 'launch', 'watch', 'compare'] as const;
export const GuideStep = z.enum(GUIDE_STEPS);
export type GuideStep = z.infer<typeof GuideStep>;

export const FigurePrefs = z
  .object({
    format: FigureFormat.default('svg'),
    /** Raster resolution for PNG export (dots per inch). */
    dpi: z.number().int().min(72).max(1200).default(300),
  })
  .strict();

const Auto = z.literal('auto');
export const TrainingPrefs = z
  .object({
    /** Compute threads of each training run ('auto': the cores less one, at most 8). */
    threadsPerRun: z.union([Auto, z.number().int().min(1).max(64)]).default('auto'),
    /** Runs that train at once ('auto': as many as the cores hold at that many threads each). */
    maxConcurrentRuns: z.union([Auto, z.number().int().min(1).max(64)]).default('auto'),
  })
  .strict();
export type TrainingPrefs = z.infer<typeof TrainingPrefs>;

export const GuidePrefs = z
  .object({
    /** Closed by the user: not shown again until reopened from Help. */
    dismissed: z.boolean().default(false),
    done: z.array(GuideStep).max(GUIDE_STEPS.length).default([]),
  })
  .strict();

/** The stored preferences (prefs.json in the lab dir). Missing fields take their defaults. */
export const Prefs = z
  .object({
    version: z.literal(1).default(1),
    /** Where the backend search starts when the app starts ('auto': the best available). */
    defaultBackend: BackendPreference.default('auto'),
    theme: Theme.default('dark'),
    figures: FigurePrefs.prefault({}),
    guide: GuidePrefs.prefault({}),
    training: TrainingPrefs.prefault({}),
  })
  .strict();
export type Prefs = z.infer<typeof Prefs>;

export const PrefsPatch = z
  .object({
    defaultBackend: BackendPreference.optional(),
    theme: Theme.optional(),
    figures: z.object({ format: FigureFormat.optional(), dpi: z.number().int().min(72).max(1200).optional() }).strict().optional(),
    guide: z.object({ dismissed: z.boolean().optional(), done: z.array(GuideStep).max(GUIDE_STEPS.length).optional() }).strict().optional(),
    training: z
      .object({ threadsPerRun: z.union([Auto, z.number().int().min(1).max(64)]).optional(), maxConcurrentRuns: z.union([Auto, z.number().int().min(1).max(64)]).optional() })
      .strict()
      .optional(),
    /** Open this folder as the lab from the next start (absolute path); null: back to the default. */
    nextLabDir: z
      .string()
      .min(1)
      .max(4096)
      .refine((p) => /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(p), 'must be an absolute path')
      .refine((p) => !p.includes('\0'), 'must not contain NUL')
      .nullable()
      .optional(),
  })
  .strict();
export type PrefsPatch = z.infer<typeof PrefsPatch>;

export const PrefsState = z.object({
  prefs: Prefs,
  /** The lab dir in use now. */
  labDir: z.string(),
  /** The lab dir the app will open at its next start, when it differs from the one in use. */
  nextLabDir: z.string().nullable(),
  /** The backend in use now, and whether a restart is needed for `defaultBackend` to apply. */
  backend: ComputeBackend,
  restartNeeded: z.array(z.enum(['defaultBackend', 'labDir'])),
  /** Set when DLAB_BACKEND in the environment overrides the preference. */
  backendEnv: z.string().nullable(),
  /** The training plan the preferences give on this machine ('auto' resolved). */
  training: z.object({ cores: z.number().int(), threadsPerRun: z.number().int(), maxConcurrentRuns: z.number().int() }),
});
export type PrefsState = z.infer<typeof PrefsState>;

export const DiagnosisCause = z.enum([
  'preference',
  'platform_unsupported',
  'no_nvidia_gpu',
  'nvidia_driver_missing',
  'driver_too_old',
  'not_installed',
  'native_missing',
  'cuda_missing',
  'cudnn_missing',
  'tensorflow_on_cpu',
  'tensorflow_failed',
  'webgpu_not_installed',
  'webgpu_no_vulkan',
  'webgpu_no_adapter',
  'webgpu_device_failed',
  'webgpu_failed',
  'webgpu_software',
  'webgpu_device_lost',
  'webgpu_runs',
  'wasm_no_simd',
  'wasm_failed',
]);
export type DiagnosisCause = z.infer<typeof DiagnosisCause>;

export const DiagnosisFinding = z.object({
  cause: DiagnosisCause,
  /** The backend this finding is about. */
  backend: ComputeBackend,
  /** 'info': nothing is wrong (e.g. no NVIDIA GPU here); 'warn': something can be fixed. */
  severity: z.enum(['info', 'warn']),
  /** One line: what is the matter. */
  summary: z.string(),
  /** The evidence (error text, paths), when there is any. */
  detail: z.string().optional(),
  /** What to do, in order. */
  actions: z.array(z.string()),
  /** Shared libraries that could not be found (e.g. libcudart.so.11.0). */
  missing: z.array(z.string()).optional(),
});
export type DiagnosisFinding = z.infer<typeof DiagnosisFinding>;

export const ComputeDiagnosis = z.object({
  /** Backend in use. */
  backend: ComputeBackend,
  /** The best backend this machine could run, given what is installed and present. */
  best: z.boolean(),
  /** One line for a status bar. */
  headline: z.string(),
  findings: z.array(DiagnosisFinding),
  /** What the GPU backend needs (from @tensorflow/tfjs-node-gpu's documentation). */
  requirements: z.object({
    package: z.string(),
    version: z.string(),
    libtensorflow: z.string(),
    cuda: z.string(),
    cudnn: z.string(),
    driver: z.string(),
    platforms: z.array(z.string()),
  }),
  /** What was found on this machine. */
  machine: z.object({
    platform: z.string(),
    gpus: z.array(z.string()),
    nvidiaDriver: z.string().nullable(),
    tfjsNodeGpu: z.string().nullable(),
    usingGpu: z.boolean().nullable(),
    wasmSimd: z.boolean().nullable(),
    /** The WebGPU adapter (Dawn), when one was found. */
    webgpu: z
      .object({
        vendor: z.string(),
        architecture: z.string(),
        device: z.string(),
        description: z.string(),
        via: z.enum(['default', 'software']),
        software: z.boolean(),
        limits: z.record(z.string(), z.number()),
      })
      .nullable()
      .optional(),
  }),
  /** Whether TensorFlow's own log was read in a child process (`recheck`). */
  rechecked: z.boolean(),
});
export type ComputeDiagnosis = z.infer<typeof ComputeDiagnosis>;

const ScreenRef = z.object({
  id: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
  label: z.string().min(1).max(40),
});

export const appRequests = {
  'app/prefs/get': { summary: 'Preferences, the lab dir in use and the one for the next start.', input: z.object({}).strict(), output: PrefsState },
  'app/prefs/set': { summary: 'Change preferences (a partial patch); answers the whole, validated result.', input: PrefsPatch, output: PrefsState },
  'app/compute': {
    summary: 'Why the compute backend in use is (or is not) the best one, with what to do.',
    input: z.object({ recheck: z.boolean().optional() }).strict(),
    output: ComputeDiagnosis,
  },
  'app/menu': {
    summary: 'The screens for the desktop menu and its shortcuts (desktop app only; elsewhere installed: false).',
    input: z.object({ screens: z.array(ScreenRef).min(1).max(20) }).strict(),
    output: z.object({ installed: z.boolean() }),
  },
} as const;
