// The registry of named wire schemas: every schema registered here becomes a component of the
// OpenAPI document, so the document is generated from the very schemas that validate requests.
import { z } from 'zod';

/** Metadata each registered schema carries: its component name. */
export type SchemaMeta = { id: string };

/** Named wire schemas (requests, responses, runner protocol); read by gateway/openapi.ts. */
export const apiSchemas = z.registry<SchemaMeta>();

/** Registers a schema under a component name (the description goes where `.describe()` puts it). */
export function named<T extends z.ZodType>(schema: T, id: string, description?: string): T {
  const described = description ? (schema.describe(description) as T) : schema;
  apiSchemas.add(described as z.ZodType, { id });
  return described;
}
