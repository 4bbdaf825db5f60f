// The registry of subcommands: each module adds itself to the commander program.
import type { Command } from 'commander';
import type { CommandState } from '../program.js';
import { registerCheck } from './check.js';
import { registerCompletion } from './completion.js';
import { registerDecrypt } from './decrypt.js';
import { registerList } from './list.js';
import { registerRun } from './run.js';
import { registerDoctor } from './doctor.js';
import { registerIdentity } from './identity.js';
import { registerKeyring } from './keyring.js';
import { registerShellInit } from './shell-init.js';
import { registerInit } from './init.js';
import { registerSecret } from './secret.js';
import { registerRecipients } from './recipients.js';
import { registerRotate } from './rotate.js';

/** Adds one subcommand (or a group) to the program. */
export type RegisterCommand = (program: Command, state: CommandState) => void;

/** Every subcommand, in the order `--help` lists them. */
export const COMMANDS: RegisterCommand[] = [registerRun, registerList, registerDecrypt, registerInit, registerSecret, registerRecipients, registerRotate, registerIdentity, registerKeyring, registerDoctor, registerCheck, registerShellInit, registerCompletion];
