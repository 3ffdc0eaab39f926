// `npm run bench -- <name> [--key value …]`: runs one benchmark and prints, as its last line, one
// JSON object with the figures (the issues' contract, so CI logs and notes can quote them).
import { benchEngine } from './engine.js';

type Bench = (options: Record<string, string | number>) => Promise<unknown> | unknown;

const benches: Record<string, () => Promise<Bench>> = {
  engine: async () => (o) => benchEngine(o),
};

function parseOptions(args: string[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i].replace(/^--/, '');
    const value = args[i + 1];
    if (value === undefined) throw new Error(`option --${key} needs a value`);
    out[key] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return out;
}

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const load = benches[name ?? ''];
  if (!load) {
    console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [--option value …]`);
    process.exit(2);
  }
  const result = await (await load())(parseOptions(rest));
  console.log(JSON.stringify(result));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
