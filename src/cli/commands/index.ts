/** Every CLI command; a new command is one module plus one line here. */
import type { Command } from '../command.js';
import { benchDataCommand } from './bench-data.js';
import { benchMetricsCommand } from './bench-metrics.js';
import { benchTrainCommand } from './bench-train.js';
import { benchUiCommand } from './bench-ui.js';
import { evalCommand } from './eval.js';
import { exportCommands } from './export.js';
import { reproduceCommand } from './reproduce.js';
import { studyCommands } from './study.js';
import { clusterCommands } from './cluster.js';
import { datasetSampleCommand, datasetShowCommand, datasetsCommand } from './datasets.js';
import { datasetImportCommand } from './dataset-import.js';
import { evaluateCommand } from './evaluate.js';
import { infoCommand } from './info.js';
import { serveCommand } from './serve.js';
import { perturbCommand } from './perturb.js';
import { analyzeCommand } from './analyze.js';
import { runsCurvesCommand } from './curves.js';
import { modelsCommand, runCancelCommand, runPauseCommand, runResumeCommand, runShowCommand, runsCommand, trainCommand } from './runs.js';

export const commands: Command[] = [infoCommand, datasetsCommand, datasetShowCommand, datasetSampleCommand, datasetImportCommand, serveCommand, benchDataCommand, modelsCommand, trainCommand, runsCommand, runsCurvesCommand, runShowCommand, runCancelCommand, runPauseCommand, runResumeCommand, evaluateCommand, perturbCommand, analyzeCommand, evalCommand, benchTrainCommand, benchMetricsCommand, benchUiCommand, ...studyCommands, ...clusterCommands, ...exportCommands, reproduceCommand];
