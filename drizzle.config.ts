// drizzle-kit configuration: `npx drizzle-kit generate` writes SQL migrations from db/schema.ts
// into db/migrations, which Node applies at start and `wrangler d1 migrations apply` applies on D1.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './db/schema.ts',
  out: './db/migrations',
});
