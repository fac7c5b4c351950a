// Parses each .tf file named on the command line with HashiCorp's HCL parser (@cdktf/hcl2json,
// hcl2json built to WebAssembly) and prints {"path": parsed-json} or {"path": {"__error__": msg}}.
// Used offline by tests/system/test_terraform.py; no terraform binary, no cloud.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const { parse } = createRequire(import.meta.url)("@cdktf/hcl2json");
const out = {};
for (const f of process.argv.slice(2)) {
  try {
    out[f] = await parse(f, readFileSync(f, "utf8"));
  } catch (e) {
    out[f] = { __error__: String(e.message || e) };
  }
}
process.stdout.write(JSON.stringify(out));
