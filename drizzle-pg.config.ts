// drizzle-kit configuration for PostgreSQL: `npm run db:generate:pg` writes SQL migrations from
// db/pg/schema.ts into db/migrations-pg, which the gateway applies at start when DMS_DATABASE_URL is set.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './db/pg/schema.ts',
  out: './db/migrations-pg',
});
