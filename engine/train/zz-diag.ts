import { initBackend } from '/work/main/engine/backend.js';
import { loadModel } from '/work/main/engine/model/weights.js';
import { generateProblem } from '/work/main/tasks/index.js';
import { teacherForced } from '/work/main/engine/train/teacher-forced.js';
await initBackend();
const m = loadModel(process.argv[2] ?? 'models/reasoner-base');
for (const fam of ['chain', 'vars'] as const) for (const d of (process.argv[3] ?? '1,2,3').split(',').map(Number)) {
  const ps = Array.from({ length: 32 }, (_, i) => generateProblem(fam, 2_000_000 + i, d));
  const r = teacherForced(m.params, ps);
  console.log(fam, d, Object.entries(r.overall).map(([k, v]) => `${k.replace('acc_', '')}=${v.toFixed(3)}`).join(' '));
}
