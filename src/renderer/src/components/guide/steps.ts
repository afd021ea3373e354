/**
 * The first-run guide: Datasets → Perturb → Launch a quick run → watch it →
 * Compare. A step is offered only when one of its screens exists (the
 * screen list comes from views/index.ts), and counts as done once the user
 * has been on one of them.
 */
import type { GuideStep } from '../../../../shared/requests/app';

export interface GuideStepDef {
  id: GuideStep;
  /** Screens that fulfil the step; the first one that exists is where "Go" leads. */
  screens: string[];
  title: string;
  text: string;
}

export const GUIDE: GuideStepDef[] = [
  {
    id: 'datasets',
    screens: ['datasets'],
    title: 'Meet dSprites',
    text: '737,280 binary 64×64 sprites made from five factors: shape, scale, orientation, x and y. Click an image and traverse a factor to see one factor change at a time.',
  },
  {
    id: 'perturb',
    screens: ['perturb'],
    title: 'Perturb the data',
    text: 'Add noise or a pattern and preview it. Saving makes a derived dataset to train on — the paper asks whether disentanglement survives such changes.',
  },
  {
    id: 'launch',
    screens: ['launch'],
    title: 'Launch a quick run',
    text: 'β-VAE on dSprites is preselected. Set Steps to 2,000 for a run of a few minutes, then press Launch.',
  },
  {
    id: 'watch',
    screens: ['runs', 'run'],
    title: 'Watch it train',
    text: 'Runs lists it live. Open it for the loss curves, the KL per latent dimension, reconstructions and traversals.',
  },
  {
    id: 'compare',
    screens: ['compare'],
    title: 'Compare',
    text: 'Put runs side by side and set their disentanglement scores against the published numbers.',
  },
];

/** The steps whose screens exist, each with the screen "Go" opens. */
export function availableSteps(screenIds: string[]): (GuideStepDef & { target: string })[] {
  return GUIDE.flatMap((s) => {
    const target = s.screens.find((id) => screenIds.includes(id));
    return target ? [{ ...s, target }] : [];
  });
}

/** The step a visit to `screen` completes, if any. */
export function stepForScreen(screen: string): GuideStep | null {
  return GUIDE.find((s) => s.screens.includes(screen))?.id ?? null;
}
