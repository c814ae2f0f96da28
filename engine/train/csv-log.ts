// Append-only CSV log of training steps: fixed columns from the first row, one line per call.
// Written synchronously so a killed run keeps every completed step.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class CsvLog {
  private columns: string[] | null = null;

  constructor(
    private readonly path: string,
    append = false,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    if (append && existsSync(path)) {
      const header = readFileSync(path, 'utf8').split('\n')[0];
      if (header) this.columns = header.split(',');
    } else {
      writeFileSync(path, '');
    }
  }

  write(row: Readonly<Record<string, number | string>>): void {
    if (!this.columns) {
      this.columns = Object.keys(row);
      appendFileSync(this.path, `${this.columns.join(',')}\n`);
    }
    const cells = this.columns.map((c) => {
      const v = row[c];
      if (v === undefined) return '';
      if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Number.isFinite(v) ? v.toPrecision(5) : 'nan';
      return v.includes(',') ? `"${v}"` : v;
    });
    appendFileSync(this.path, `${cells.join(',')}\n`);
  }
}
