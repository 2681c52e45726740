import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { readTrustProxy } from './trust-proxy.js';

/**
 * One setting of an app's configuration: the environment variable that sets it, how to read the
 * text, its default and one line of documentation (rendered into docs/operations.md).
 */
export interface Setting<T, HasDefault extends boolean = boolean> {
  readonly env: string;
  readonly schema: z.ZodType<T, string>;
  readonly default: T | undefined;
  readonly doc: string;
  /** Secrets are never echoed back in error messages or start-up logs. */
  readonly secret: boolean;
  /** Type-level only: whether the setting always has a value. */
  readonly hasDefault?: HasDefault;
}

export function setting<T>(
  env: string,
  schema: z.ZodType<T, string>,
  doc: string,
  options: { default: T; secret?: boolean },
): Setting<T, true>;
export function setting<T>(
  env: string,
  schema: z.ZodType<T, string>,
  doc: string,
  options?: { secret?: boolean },
): Setting<T, false>;
export function setting<T>(
  env: string,
  schema: z.ZodType<T, string>,
  doc: string,
  options: { default?: T; secret?: boolean } = {},
): Setting<T> {
  return { env, schema, doc, default: options.default, secret: options.secret ?? false };
}

// biome-ignore lint/suspicious/noExplicitAny: a spec holds settings of any value type
type SettingsSpec = Record<string, Setting<any>>;
export type ConfigOf<S extends SettingsSpec> = {
  readonly [K in keyof S]: S[K] extends Setting<infer T, true>
    ? T
    : S[K] extends Setting<infer T, false>
      ? T | undefined
      : never;
};

/** Readers for environment text. Every one rejects what it cannot read instead of guessing. */
export const read = {
  string: (max = 4096) => z.string().max(max),
  int: (min: number, max: number) =>
    z
      .string()
      .regex(/^-?\d+$/, `must be an integer`)
      .transform(Number)
      .pipe(z.number().int().min(min).max(max)),
  number: (min: number, max: number) =>
    z
      .string()
      .regex(/^-?\d+(\.\d+)?$/, 'must be a number')
      .transform(Number)
      .pipe(z.number().min(min).max(max)),
  bool: () =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { message: 'must be true or false' })
      .transform((v) => v === 'true' || v === '1' || v === 'yes' || v === 'on'),
  /** Comma-separated list; empty items dropped. */
  list: (item: z.ZodType<string, string> = z.string()) =>
    z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      )
      .pipe(z.array(item)),
  url: (protocols: string[] = ['http:', 'https:']) =>
    z.string().refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      { message: `must be a URL (${protocols.join(' or ')})` },
    ),
  /** JSON text checked against a schema. */
  json: <T>(schema: z.ZodType<T>) =>
    z.string().transform((text, ctx) => {
      try {
        const parsed = schema.safeParse(JSON.parse(text));
        if (parsed.success) return parsed.data;
        ctx.addIssue({
          code: 'custom',
          message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        });
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
      }
      return z.NEVER;
    }),
  oneOf: <const T extends readonly [string, ...string[]]>(values: T) =>
    z.enum(values, { message: `must be one of ${values.join(', ')}` }),
  /** Which proxies to believe about the client's address: false, a hop count, or addresses/CIDRs (see trust-proxy.ts). */
  trustProxy: readTrustProxy,
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigSource {
  /** Environment variables (defaults to `process.env` at the app's entry point, never read here). */
  env: Record<string, string | undefined>;
  /**
   * Optional JSON file whose keys are setting names (the environment variable names); the
   * environment wins over the file. Unknown keys are rejected.
   */
  file?: string | undefined;
}

/**
 * Load a configuration: defaults → file → environment; validated, unknown file keys rejected,
 * frozen. Throws a ConfigError naming every bad variable.
 */
export function loadConfig<S extends SettingsSpec>(spec: S, source: ConfigSource): ConfigOf<S> {
  const problems: string[] = [];
  const known = new Map(Object.values(spec).map((s) => [s.env, s]));
  let fileValues: Record<string, string> = {};
  if (source.file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(source.file, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new Error('the file must hold a JSON object');
      }
      for (const [key, value] of Object.entries(parsed)) {
        if (!known.has(key)) problems.push(`${key} (in ${source.file}): unknown setting`);
        else fileValues[key] = typeof value === 'string' ? value : JSON.stringify(value);
      }
    } catch (err) {
      problems.push(`config file ${source.file}: ${(err as Error).message}`);
      fileValues = {};
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(spec)) {
    const raw = nonEmpty(source.env[s.env]) ?? nonEmpty(fileValues[s.env]);
    if (raw === undefined) {
      out[key] = s.default;
      continue;
    }
    const result = s.schema.safeParse(raw);
    if (result.success) {
      out[key] = result.data;
    } else {
      const why = result.error.issues.map((i) => i.message).join('; ');
      problems.push(`${s.env}: ${why}${s.secret ? '' : ` (got ${JSON.stringify(raw)})`}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as ConfigOf<S>;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

/** Rows for the operations manual: variable, default, description. */
export function describeConfig(spec: SettingsSpec): { env: string; default: string; doc: string }[] {
  return Object.values(spec).map((s) => ({
    env: s.env,
    default: s.default === undefined ? '(unset)' : Array.isArray(s.default) ? s.default.join(',') : String(s.default),
    doc: s.doc,
  }));
}

/** Markdown table of an app's settings, as docs/operations.md shows it. */
export function settingsTable(spec: SettingsSpec): string {
  const rows = describeConfig(spec).map(
    (r) => `| \`${r.env}\` | ${r.default === '(unset)' ? '—' : `\`${r.default}\``} | ${r.doc.replaceAll('|', '\\|')} |`,
  );
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}
