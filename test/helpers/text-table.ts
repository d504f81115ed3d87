// Plain-text tables for test reports (vitest prints console output with the test it belongs to).
// Cells are stringified and cut to a width so one long reason cannot wreck the layout.

const MAX_CELL = 110;

export function formatTable(title: string, rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return `${title}\n(no rows)`;
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => {
    const s = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    const flat = s.replace(/\s+/g, ' ');
    return flat.length > MAX_CELL ? `${flat.slice(0, MAX_CELL - 1)}…` : flat;
  };
  const body = rows.map((r) => cols.map((c) => cell(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((s, i) => s.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [title, line(cols), rule, ...body.map(line)].join('\n');
}

export function printTable(title: string, rows: readonly Record<string, unknown>[]): void {
  console.log(`\n${formatTable(title, rows)}\n`);
}
