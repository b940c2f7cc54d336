import assert from "node:assert/strict";
import { testSources } from "../engine/flow/_test_sources.ts";
import {
  generate,
  OUTPUTS,
  renderReferenceRaw,
  renderSchema,
  ROOT,
  staleFiles,
  typeText,
} from "../scripts/gen_schema.ts";

Deno.test("the committed schema and reference match the module specs", async () => {
  const stale = await staleFiles(ROOT);
  assert.deepEqual(stale, [], `stale: ${stale.join(", ")} (run \`deno task schema\`)`);
});

Deno.test("staleFiles() names a missing or edited generated file", async () => {
  const root = await Deno.makeTempDir({ prefix: "bifrost_gen_" });
  try {
    assert.deepEqual(await staleFiles(root, testSources), [OUTPUTS.schema, OUTPUTS.reference]);
    await Deno.mkdir(`${root}/schemas`);
    await Deno.mkdir(`${root}/docs`);
    const files = await generate(testSources);
    for (const [path, text] of files) await Deno.writeTextFile(`${root}/${path}`, text);
    assert.deepEqual(await staleFiles(root, testSources), []);
    await Deno.writeTextFile(
      `${root}/${OUTPUTS.reference}`,
      files.get(OUTPUTS.reference) + "\nedited\n",
    );
    assert.deepEqual(await staleFiles(root, testSources), [OUTPUTS.reference]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("renderSchema() is stable and covers every module", () => {
  const a = renderSchema(testSources);
  assert.equal(a, renderSchema(testSources));
  const schema = JSON.parse(a);
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  const device = Object.values(schema.properties.devices.patternProperties)[0] as {
    oneOf: { title: string }[];
  };
  assert.deepEqual(device.oneOf.map((s) => s.title), ["fake-tcp device"]);
});

Deno.test("renderReferenceRaw() lists fields with types, defaults, examples and status", () => {
  const md = renderReferenceRaw(testSources);
  assert.match(md, /### `fake-tcp`\n\nStatus: \*\*experimental\*\*\./);
  assert.match(md, /- \*\*`port`\*\* \(integer\): Port\. Default: `502`\./);
  assert.match(md, /- \*\*`host`\*\* \(string, required\): Host\. Examples: `"10\.0\.0\.5"`\./);
  assert.match(md, /- \*\*`timeout`\*\* \(duration\): Timeout\. Default: `"1s"`\./);
  assert.match(md, /### `function`\n\nStatus: \*\*beta\*\*\./);
  assert.match(md, /- \*\*`format`\*\* \("text" \\\| "json"\): Default: `"text"`\./);
});

Deno.test("typeText() describes JSON Schema types briefly", () => {
  assert.equal(typeText({ type: "array", items: { type: "string" } }), "list of string");
  assert.equal(typeText({ anyOf: [{ const: "*" }, { type: "integer" }] }), '"*" \\| integer');
  assert.equal(
    typeText({ type: "object", additionalProperties: { type: "number" } }),
    "map of number",
  );
  assert.equal(typeText({}), "any");
});

Deno.test("the generated flow schema is a valid draft 2020-12 schema", async () => {
  const { Ajv2020 } = await import("ajv/dist/2020.js");
  const { flowSchema } = await import("../app/registries.ts");
  const ajv = new Ajv2020({ strict: false, discriminator: true });
  const ok = ajv.validateSchema(flowSchema());
  if (!ok) throw new Error(`Invalid schema: ${ajv.errorsText(ajv.errors)}`);
});
