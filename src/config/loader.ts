import { existsSync, readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema, DEFAULTS, type Config } from './schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadSources {
  env?: NodeJS.ProcessEnv;
  /** CLI flags as `--kebab-name=value` or `--kebab-name value`. */
  argv?: string[];
  /** Path of the JSON config file; default `gatehouse.config.json` in the cwd. */
  file?: string;
}

const KEYS = Object.keys(ConfigSchema.properties) as (keyof Config)[];

function schemaOf(key: keyof Config): TSchema {
  return ConfigSchema.properties[key];
}

/** Turns the text of an env var or flag into the type the schema wants. */
function coerce(key: keyof Config, raw: string, source: string, problems: string[]): unknown {
  const schema = schemaOf(key) as TSchema & { type?: string };
  const type = schema.type;
  if (type === 'integer' || type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || Number.isNaN(n)) {
      problems.push(`${source}: expected a number, got "${raw}"`);
      return undefined;
    }
    return n;
  }
  if (type === 'boolean') {
    if (['true', '1', 'yes', 'on'].includes(raw.toLowerCase())) return true;
    if (['false', '0', 'no', 'off'].includes(raw.toLowerCase())) return false;
    problems.push(`${source}: expected true or false, got "${raw}"`);
    return undefined;
  }
  if (type === 'array')
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return raw;
}

function fromFile(path: string, problems: string[]): Partial<Record<keyof Config, unknown>> {
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    problems.push(`${path}: not valid JSON (${(error as Error).message})`);
    return {};
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push(`${path}: must hold a JSON object`);
    return {};
  }
  return parsed;
}

function fromEnv(env: NodeJS.ProcessEnv, problems: string[]): Partial<Record<keyof Config, unknown>> {
  const out: Partial<Record<keyof Config, unknown>> = {};
  for (const key of KEYS) {
    const name = `GATEHOUSE_${key.toUpperCase()}`;
    const raw = env[name];
    if (raw !== undefined && raw !== '') out[key] = coerce(key, raw, name, problems);
  }
  return out;
}

function fromArgv(argv: string[], problems: string[]): Partial<Record<keyof Config, unknown>> {
  const out: Partial<Record<keyof Config, unknown>> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) continue;
    const [flag, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const key = flag.replace(/-/g, '_') as keyof Config;
    if (!KEYS.includes(key)) {
      if (flag !== 'config') problems.push(`--${flag}: unknown flag`);
      if (flag === 'config' && inline === undefined) i++;
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = argv[i + 1];
      const isBool = (schemaOf(key) as { type?: string }).type === 'boolean';
      if (isBool && (next === undefined || next.startsWith('--'))) raw = 'true';
      else {
        raw = next ?? '';
        i++;
      }
    }
    out[key] = coerce(key, raw, `--${flag}`, problems);
  }
  return out;
}

function configFlag(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
    if (arg === '--config') return argv[i + 1];
  }
  return undefined;
}

/**
 * defaults < gatehouse.config.json < GATEHOUSE_* env < flags. Every problem is
 * collected before failing, so one boot shows them all (DESIGN §2).
 */
export function loadConfig(sources: LoadSources = {}): Config {
  const env = sources.env ?? process.env;
  const argv = sources.argv ?? [];
  const problems: string[] = [];
  const file = sources.file ?? configFlag(argv) ?? env.GATEHOUSE_CONFIG ?? 'gatehouse.config.json';
  const merged: Record<string, unknown> = {
    ...DEFAULTS,
    ...fromFile(file, problems),
    ...fromEnv(env, problems),
    ...fromArgv(argv, problems),
  };
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  for (const error of Value.Errors(ConfigSchema, merged)) {
    const key = error.path.replace(/^\//, '').split('/')[0] ?? '';
    const where = key ? `${key} (GATEHOUSE_${key.toUpperCase()})` : 'config';
    const shown = key === 'secret' || key === 'admin_password' ? '' : `: ${error.message}`;
    problems.push(`${where}${shown || ': invalid value'}`);
  }
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return merged as Config;
}
