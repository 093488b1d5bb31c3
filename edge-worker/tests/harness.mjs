// Runs the built Worker locally in workerd (through Miniflare, as `wrangler dev --local`
// does) with an in-memory R2 bucket, on loopback:
//   edge: the Worker as deployed (SigV4 → DeltaLayer → R2)
//   raw:  the same Worker with DELTAGLIDER_RAW=true over the same bucket, to inspect and
//         seed the stored layout
// Prints one JSON line {"edge": URL, "raw": URL} when ready; stops on SIGTERM/SIGINT.
//
// Usage: node harness.mjs BUILD_DIR WRANGLER_TOML
// Environment: MINIFLARE_FROM (a directory whose node_modules holds miniflare),
//   DELTAGLIDER_* settings passed to both Workers.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const [buildDir, wranglerToml] = process.argv.slice(2);
if (!buildDir || !wranglerToml) {
  console.error("usage: node harness.mjs BUILD_DIR WRANGLER_TOML");
  process.exit(2);
}
const require = createRequire(path.join(process.env.MINIFLARE_FROM ?? process.cwd(), "x.js"));
const { Miniflare, Log, LogLevel } = require("miniflare");

// One source of truth for the runtime's behaviour: the deployment's own settings.
const toml = readFileSync(wranglerToml, "utf8");
const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
if (!compatibilityDate) throw new Error(`no compatibility_date in ${wranglerToml}`);
const vars = {};
const varsSection = /^\[vars\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(toml)?.[1] ?? "";
for (const m of varsSection.matchAll(/^(\w+)\s*=\s*"([^"]*)"/gm)) vars[m[1]] = m[2];
for (const [k, v] of Object.entries(process.env)) {
  if (k.startsWith("DELTAGLIDER_")) vars[k] = v;
}

const worker = (name, extra) => ({
  name,
  modules: true,
  scriptPath: path.resolve(buildDir, "index.js"),
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
  compatibilityDate,
  r2Buckets: { BUCKET: "deltaglider-test" },
  bindings: { ...vars, ...extra },
});

const mf = new Miniflare({
  host: "127.0.0.1",
  port: 0,
  cf: false,
  log: new Log(LogLevel.WARN),
  workers: [
    worker("edge", {}),
    {
      ...worker("raw", { DELTAGLIDER_RAW: "true" }),
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    },
  ],
});

const edge = await mf.ready;
const raw = await mf.unsafeGetDirectURL("raw");
console.log(JSON.stringify({ edge: edge.href.replace(/\/$/, ""), raw: raw.href.replace(/\/$/, "") }));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await mf.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
