#!/usr/bin/env node
// The `dms` executable (package.json "bin"): registers tsx's loader in this process, then runs the
// TypeScript CLI, so signals and exit codes reach it directly (no wrapper process in between).
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
