import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import * as protocol from './index.js';
import { noNul } from './text.js';

type Def = { type: string; [k: string]: unknown };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
const isSchema = (v: unknown): v is z.ZodType => typeof v === 'object' && v !== null && '_zod' in v;

/** Every string schema inside `schema` (the input side of pipes), with a path for the report. */
function stringLeaves(schema: z.ZodType, path: string, out: { path: string; schema: z.ZodType }[], seen = new Set()) {
  if (seen.has(schema)) return;
  seen.add(schema);
  const def = defOf(schema);
  const walk = (s: unknown, p: string) => {
    if (isSchema(s)) stringLeaves(s, p, out, seen);
  };
  switch (def.type) {
    case 'string':
      out.push({ path, schema });
      break;
    case 'object':
      for (const [k, v] of Object.entries(def.shape as Record<string, unknown>)) walk(v, `${path}.${k}`);
      walk(def.catchall, `${path}.*`);
      break;
    case 'array':
      walk(def.element, `${path}[]`);
      break;
    case 'union':
      for (const [i, o] of (def.options as unknown[]).entries()) walk(o, `${path}|${i}`);
      break;
    case 'intersection':
      walk(def.left, path);
      walk(def.right, path);
      break;
    case 'record':
      walk(def.keyType, `${path}{key}`);
      walk(def.valueType, `${path}{}`);
      break;
    case 'tuple':
      for (const [i, o] of (def.items as unknown[]).entries()) walk(o, `${path}[${i}]`);
      walk(def.rest, `${path}[...]`);
      break;
    case 'pipe':
      walk(def.in, path);
      break;
    case 'lazy':
      walk((def.getter as () => unknown)(), path);
      break;
    default:
      walk(def.innerType, path);
  }
}

describe('text on the wire', () => {
  it('every string schema the protocol exports refuses NUL characters (PostgreSQL cannot store them)', () => {
    const leaves: { path: string; schema: z.ZodType }[] = [];
    for (const [name, value] of Object.entries(protocol)) {
      if (isSchema(value)) stringLeaves(value, name, leaves);
      // Message maps: { join: JoinMessage, ... }
      else if (typeof value === 'object' && value !== null)
        for (const [k, v] of Object.entries(value)) if (isSchema(v)) stringLeaves(v, `${name}.${k}`, leaves);
    }
    expect(leaves.length).toBeGreaterThan(100);
    const unguarded = leaves
      .filter((l) => !((defOf(l.schema).checks as unknown[] | undefined) ?? []).includes(noNul))
      .map((l) => l.path);
    expect(unguarded).toEqual([]);
  });

  it('answers a NUL with a clear validation message, and keeps everything else as it was', () => {
    const bad = protocol.RegisterRequest.safeParse({
      email: 'a@example.com',
      password: 'correct horse battery',
      displayName: 'Ann\u0000',
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]).toMatchObject({ path: ['displayName'], message: expect.stringContaining('NUL') });
    expect(protocol.DisplayName.parse('  Ann  ')).toBe('Ann');
    expect(protocol.ChatSendMessage.safeParse({ roomId: 'r', text: 'hi\u0000', clientId: 'c1' }).success).toBe(false);
    expect(protocol.ChatSendMessage.safeParse({ roomId: 'r', text: 'hi ✓', clientId: 'c1' }).success).toBe(true);
    expect(protocol.WalletHistoryQuery.safeParse({ from: '2026-01-01T00:00:00Z' }).success).toBe(true);
  });
});
