// The requests table's usage columns, derived from the usage-field table (protocol/usage-fields.ts):
// one column per field (integer or real, null until a result with usage is written) and per label.
import { integer, real, type SQLiteIntegerBuilderInitial, type SQLiteRealBuilderInitial, type SQLiteTextBuilderInitial, text } from 'drizzle-orm/sqlite-core';
import { COMPRESSION_LABELS, type CompressionLabelSpec, USAGE_FIELDS, type UsageFieldSpec } from '../protocol/usage-fields.js';

type FieldColumn<F extends UsageFieldSpec> = F['integer'] extends true ? SQLiteIntegerBuilderInitial<F['wire']> : SQLiteRealBuilderInitial<F['wire']>;
type LabelColumn<L extends CompressionLabelSpec> = L['kind'] extends 'text'
  ? SQLiteTextBuilderInitial<L['wire'], [string, ...string[]], undefined>
  : L['kind'] extends 'integer'
    ? SQLiteIntegerBuilderInitial<L['wire']>
    : SQLiteRealBuilderInitial<L['wire']>;

export type UsageColumns = { [F in UsageFieldSpec as F['engine']]: FieldColumn<F> };
export type LabelColumns = { [L in CompressionLabelSpec as L['engine']]: LabelColumn<L> };

/** Column builders keyed by engine name (the Drizzle property), named by wire name (the SQL column). */
export function usageColumns(): UsageColumns {
  return Object.fromEntries(USAGE_FIELDS.map((f) => [f.engine, f.integer ? integer(f.wire) : real(f.wire)])) as unknown as UsageColumns;
}

export function labelColumns(): LabelColumns {
  const build = (l: CompressionLabelSpec) => (l.kind === 'text' ? text(l.wire) : l.kind === 'integer' ? integer(l.wire) : real(l.wire));
  return Object.fromEntries(COMPRESSION_LABELS.map((l) => [l.engine, build(l)])) as unknown as LabelColumns;
}
