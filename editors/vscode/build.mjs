// Bundles the extension with esbuild (one CommonJS file, `vscode` external) and copies
// Bifrost's flow JSON Schema next to it for `yamlValidation` and the schema fallback.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";

mkdirSync("dist", { recursive: true });
copyFileSync("../../schemas/flow.schema.json", "dist/flow.schema.json");
await build({
  entryPoints: ["src/extension.ts"],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  outfile: "dist/extension.js",
  external: ["vscode", "bufferutil", "utf-8-validate"],
  sourcemap: false,
  minify: true,
  logLevel: "warning",
});
