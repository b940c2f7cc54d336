/**
 * @module
 * `GET /api/v1/deploy`: 404 saying so on a gateway that does not deploy from git, the
 * deployer's status otherwise (the end-to-end tests, `tests/git_deploy*_test.ts`, read it
 * from a real `run --git`).
 */

import { assertEquals, assertMatch } from "../../tests/_assert.ts";
import { call, startTestGateway } from "./_test_gateway.ts";

Deno.test("GET /deploy is 404 without --git and the deployer's status with it", async () => {
  {
    await using t = await startTestGateway();
    const r = await call(`${t.api}/deploy`);
    assertEquals(r.status, 404);
    assertMatch(r.body.error.message, /does not deploy from git \(run --git\)/);
  }
  const status = { repository: "https://***@git.example.com/f.git", ref: "main", commit: "ab12" };
  await using t = await startTestGateway({ deploy: { status: () => status } });
  const r = await call(`${t.api}/deploy`);
  assertEquals(r.status, 200);
  assertEquals(r.body, status);
});
