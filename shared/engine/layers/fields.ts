import { z } from 'zod';
import { ACTIVATIONS } from '../activations';

/**
 * The building blocks of the layer descriptors' config schemas. Each field validates with the
 * message the spec resolver reports (`<key> must be …, got …`; the key is added from the issue's
 * path, so no field restates its name) and carries what the network editor shows for it.
 */
export type FieldKind = 'int' | 'rate' | 'bool' | 'padding' | 'activation';

export type FieldMeta = {
  kind: FieldKind;
  /** The editor's placeholder when the key is absent: the default, as text. */
  fallback?: string;
  /** Set in a spec file only; the editor does not show it. */
  hidden?: boolean;
};

/** `<key> must be <what>, got <input>`; a missing key `is required (<what>)` unless `sayRequired` is false. */
const message =
  (what: string, sayRequired = true) =>
  (issue: { input?: unknown }) =>
    sayRequired && issue.input === undefined
      ? `is required (${what})`
      : `must be ${what}, got ${JSON.stringify(issue.input)}`;

const quoted = (options: readonly string[]) => `one of ${options.map((o) => `'${o}'`).join(', ')}`;

/** The editor's placeholder for a default (a boolean or number as its JSON text). */
const fallbackText = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));

/**
 * An integer ≥ `min`; a one-element array counts as its element (Keras writes 1-D sizes so) and
 * null as absent. `fallback` names a default the schema's own transform fills (pool strides).
 */
export function intField(options?: { default?: number; min?: number }): z.ZodType<number>;
export function intField(options: { fallback: string }): z.ZodType<number | undefined>;
export function intField(options: { default?: number; min?: number; fallback?: string } = {}): z.ZodType {
  const min = options.min ?? 1;
  const error = message(`an integer ≥ ${min}`);
  const base = z.int({ error }).min(min, { error });
  const unwrap = (v: unknown) => (Array.isArray(v) && v.length === 1 ? v[0] : (v ?? undefined));
  const meta: FieldMeta = { kind: 'int', fallback: options.fallback ?? fallbackText(options.default) };
  if (options.default !== undefined) return z.preprocess(unwrap, base.default(options.default)).meta(meta);
  if (options.fallback !== undefined) return z.preprocess(unwrap, base.optional()).meta(meta);
  return z.preprocess(unwrap, base).meta(meta);
}

export function boolField(fallback: boolean) {
  return z
    .boolean({ error: message('true or false') })
    .default(fallback)
    .meta({ kind: 'bool', fallback: String(fallback) } satisfies FieldMeta);
}

/** A number in [lo, hi) (`open`: in (lo, hi)); required when there is no default. */
export function numberField(options: {
  lo: number;
  hi: number;
  open?: boolean;
  default?: number;
  hidden?: boolean;
}): z.ZodType<number> {
  const { lo, hi, open = false } = options;
  const error = message(`a number in ${open ? '(' : '['}${lo}, ${hi === Infinity ? '∞' : hi})`, false);
  const lower = open ? z.number({ error }).gt(lo, { error }) : z.number({ error }).gte(lo, { error });
  const field = lower.lt(hi, { error });
  const meta: FieldMeta = {
    kind: 'rate',
    fallback: fallbackText(options.default),
    ...(options.hidden ? { hidden: true } : {}),
  };
  return options.default === undefined ? field.meta(meta) : field.default(options.default).meta(meta);
}

function choiceField<const T extends readonly [string, ...string[]]>(
  kind: FieldKind,
  options: T,
  fallback?: T[number],
): z.ZodType<T[number]> {
  const field = z.enum(options, { error: message(quoted(options)) });
  const meta: FieldMeta = { kind, fallback };
  return fallback === undefined ? field.meta(meta) : field.default(fallback as never).meta(meta);
}

export const PADDINGS = ['valid', 'same'] as const;
export type Padding = (typeof PADDINGS)[number];

export const paddingField = () => choiceField('padding', PADDINGS, 'valid');
export const activationField = (fallback?: (typeof ACTIVATIONS)[number]) =>
  choiceField('activation', ACTIVATIONS, fallback);

/** A descriptor's option fields: its schema's object, under any transform that completes it. */
export function schemaFields(schema: z.ZodType): Record<string, z.ZodType> {
  const object = schema instanceof z.ZodPipe ? schema.in : schema;
  if (!(object instanceof z.ZodObject))
    throw new Error('a layer schema is an object (or an object piped into a transform)');
  return object.shape as Record<string, z.ZodType>;
}

/** What the editor shows for one field. */
export function fieldMeta(field: z.ZodType): FieldMeta {
  return field.meta() as unknown as FieldMeta;
}
