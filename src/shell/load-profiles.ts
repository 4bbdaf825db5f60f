// Reads the profiles that aliases and completion need from the config, through the config loader.
import { userInfo } from 'node:os';
import { basename } from 'node:path';
import { loadConfig, locateConfig } from '../config/load-config.js';
import type { AliasProfile } from './render-aliases.js';

/** Where the config is and what expanding its paths needs. */
export interface ProfileSource {
  /** `--config FILE`, if given. */
  readonly configFlag?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** The config's profiles as aliases see them (every profile gets an alias: the config has no opt-out). */
export async function loadAliasProfiles(source: ProfileSource): Promise<AliasProfile[]> {
  const homeDir = source.env['HOME'] || userInfo().homedir;
  const path = locateConfig({ flag: source.configFlag, env: source.env, homeDir, cwd: source.cwd });
  const config = await loadConfig(path, { env: source.env, homeDir });
  return [...config.profiles.values()].map((p) => ({ name: p.name, command: p.command }));
}

/** The basename of the program a profile runs when it differs from the profile's name. */
export function programBasename(profile: AliasProfile): string | undefined {
  if (profile.command === undefined) return undefined;
  const b = basename(profile.command);
  return b === profile.name ? undefined : b;
}
