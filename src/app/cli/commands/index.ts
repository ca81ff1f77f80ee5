import type { Command } from 'commander';
import * as version from './version.js';
import * as kb from './kb.js';
import * as demo from './demo.js';
import * as fleet from './fleet.js';
import * as plan from './plan.js';
import * as solve from './solve.js';
import * as review from './review.js';
import * as history from './history.js';
import * as deploy from './deploy.js';
import * as edsp from './edsp.js';
import * as learn from './learn.js';

/** One entry per command group; each registers its subcommands on the program. */
export const commandModules: ReadonlyArray<{ register(program: Command): void }> = [version, kb, demo, fleet, plan, review, history, deploy, learn, solve, edsp];
