/** Model descriptions for the UI and CLI (see registry.ts). */
import type { ModelInfo } from '../../shared/runs.js';
import { listModels } from './registry.js';

export function modelInfos(): ModelInfo[] {
  return listModels();
}
