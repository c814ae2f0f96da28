// The model catalog: plain data naming what the gateway can serve (model, context length,
// methods, DMS ratios). The gateway validates jobs against it; runners map names to checkpoints.
import { z } from 'zod';
import { named } from './registry.js';

export const CatalogModelSchema = named(
  z.object({
    name: z.string(),
    contextLength: z.number().int().describe('max prompt + generated tokens'),
    methods: z.array(z.string()).describe('compression methods this model serves'),
    dmsRatios: z.array(z.number()).describe('ratios with a DMS-retrofitted checkpoint'),
    architecture: z.string().nullable().optional().describe('model_type of the checkpoint (llama, qwen2, qwen3)'),
    parameters: z.number().int().nullable().optional().describe('parameter count implied by config.json'),
    dtype: z.string().nullable().optional().describe('stored weight dtype (torch_dtype), as the checkpoint declares it'),
    dmsWindow: z.number().int().nullable().optional().describe('DMS sliding window w of its DMS checkpoints (smallest), null without DMS'),
  }),
  'CatalogModel',
);
export type CatalogModel = z.infer<typeof CatalogModelSchema>;

export const ModelCatalogSchema = named(z.object({ defaultModel: z.string(), models: z.array(CatalogModelSchema) }), 'ModelCatalog');
export type ModelCatalog = z.infer<typeof ModelCatalogSchema>;

/** Rough prompt length in tokens: the shipped tokenizer is byte-level, plus one BOS token. */
export function estimatePromptTokens(prompt: string): number {
  return new TextEncoder().encode(prompt).length + 1;
}
