// The registry of named wire schemas: every schema registered here becomes a component of the
// OpenAPI document, so the document is generated from the very schemas that validate requests.
import { z } from 'zod';

/** Metadata each registered schema carries: its component name and a one-line description. */
export type SchemaMeta = { id: string; description?: string };

/** Named wire schemas (requests, responses, runner protocol); read by gateway/openapi.ts. */
export const apiSchemas = z.registry<SchemaMeta>();

/** Registers a schema under a component name and returns it unchanged. */
export function named<T extends z.ZodType>(schema: T, id: string, description?: string): T {
  apiSchemas.add(schema as z.ZodType, description ? { id, description } : { id });
  return schema;
}
