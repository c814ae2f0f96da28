// The model catalog under /v1/models in OpenAI's list format ({object: "list", data: [model]}), each
// model with OpenAI's fields (id, object, created, owned_by) and the catalog's own beside them.
import { Hono } from 'hono';
import type { CatalogModel, ModelCatalog } from '../../protocol/index.js';
import type { OpenAiModel, OpenAiModelList } from '../../protocol/openai-objects.js';
import type { ClientEnv } from '../auth.js';
import { openAiError } from './openai-common.js';

/** A catalog model as OpenAI's Model object; `created` is when this gateway loaded the catalog. */
export function modelView(model: CatalogModel, created: number): OpenAiModel {
  const { name, ...ours } = model;
  return { id: name, object: 'model', created, owned_by: 'dms-batch', ...ours };
}

export function modelRoutes(models: ModelCatalog, clock: () => number) {
  const created = Math.floor(clock() / 1000);
  return new Hono<ClientEnv>()
    .get('/', (c) => {
      const list: OpenAiModelList = {
        object: 'list',
        data: models.models.map((m) => modelView(m, created)),
        default_model: models.defaultModel || null,
      };
      return c.json(list);
    })
    .get('/:id', (c) => {
      const id = c.req.param('id');
      const model = models.models.find((m) => m.name === id);
      if (!model) return openAiError(c, 404, 'not_found', 'model_not_found', `no model "${id}"; GET /v1/models lists them`, 'model');
      return c.json(modelView(model, created));
    });
}
