// Types of what Vite adds to the console's sources: CSS imports and import.meta.env.
// Only the type checker reads this file; the build does not emit it.
/// <reference types="vite/client" />
