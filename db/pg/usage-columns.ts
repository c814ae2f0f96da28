// The PostgreSQL twin of db/usage-columns.ts: the requests table's usage and label columns derived from
// the same usage-field table (protocol/usage-fields.ts), so that adding a metric stays one edit there
// (then `npm run db:generate` and `npm run db:generate:pg`). Integers stay integer, reals are double precision.
import {
  doublePrecision,
  integer,
  type PgDoublePrecisionBuilderInitial,
  type PgIntegerBuilderInitial,
  type PgTextBuilderInitial,
  text,
} from 'drizzle-orm/pg-core';
import { COMPRESSION_LABELS, type CompressionLabelSpec, USAGE_FIELDS, type UsageFieldSpec } from '../../protocol/usage-fields.js';

type FieldColumn<F extends UsageFieldSpec> = F['integer'] extends true ? PgIntegerBuilderInitial<F['wire']> : PgDoublePrecisionBuilderInitial<F['wire']>;
type LabelColumn<L extends CompressionLabelSpec> = L['kind'] extends 'text'
  ? PgTextBuilderInitial<L['wire'], [string, ...string[]]>
  : L['kind'] extends 'integer'
    ? PgIntegerBuilderInitial<L['wire']>
    : PgDoublePrecisionBuilderInitial<L['wire']>;

export type PgUsageColumns = { [F in UsageFieldSpec as F['engine']]: FieldColumn<F> };
export type PgLabelColumns = { [L in CompressionLabelSpec as L['engine']]: LabelColumn<L> };

/** Column builders keyed by engine name (the Drizzle property), named by wire name (the SQL column). */
export function pgUsageColumns(): PgUsageColumns {
  return Object.fromEntries(USAGE_FIELDS.map((f) => [f.engine, f.integer ? integer(f.wire) : doublePrecision(f.wire)])) as unknown as PgUsageColumns;
}

export function pgLabelColumns(): PgLabelColumns {
  const build = (l: CompressionLabelSpec) => (l.kind === 'text' ? text(l.wire) : l.kind === 'integer' ? integer(l.wire) : doublePrecision(l.wire));
  return Object.fromEntries(COMPRESSION_LABELS.map((l) => [l.engine, build(l)])) as unknown as PgLabelColumns;
}
