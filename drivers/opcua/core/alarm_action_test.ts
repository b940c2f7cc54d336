/**
 * @module
 * The text of alarm actions written to an event tag.
 */

import { assertEquals, assertMatch } from "../../../tests/_assert.ts";
import { parseAlarmAction } from "./alarm_action.ts";

Deno.test("parseAlarmAction() reads every action, comments and shelving times", () => {
  assertEquals(parseAlarmAction("0A1b"), { action: "Acknowledge", eventId: "0a1b" });
  assertEquals(parseAlarmAction("0a1b: seen"), {
    action: "Acknowledge",
    eventId: "0a1b",
    comment: "seen",
  });
  assertEquals(parseAlarmAction("ack 0a1b: seen by: me"), {
    action: "Acknowledge",
    eventId: "0a1b",
    comment: "seen by: me",
  });
  assertEquals(parseAlarmAction("Confirm ff"), { action: "Confirm", eventId: "ff" });
  assertEquals(parseAlarmAction("comment ff: valve checked"), {
    action: "AddComment",
    eventId: "ff",
    comment: "valve checked",
  });
  assertEquals(parseAlarmAction("shelve ff"), { action: "Shelve", eventId: "ff" });
  assertEquals(parseAlarmAction("shelve ff for 10m"), {
    action: "Shelve",
    eventId: "ff",
    shelveMs: 600_000,
  });
  assertEquals(parseAlarmAction(" unshelve ff "), { action: "Unshelve", eventId: "ff" });
});

Deno.test("parseAlarmAction() names what is wrong with a bad action", () => {
  const why = (v: unknown) => parseAlarmAction(v) as string;
  assertMatch(why(12), /write one of .*got 12/);
  assertMatch(why("silence ff"), /write one of .*got "silence ff"/);
  assertMatch(why("comment ff"), /with a text/);
  assertMatch(why("confirm ff now"), /put a colon before the comment/);
  assertMatch(why("shelve ff 10m"), /"shelve <eventId> for <duration>"/);
  assertMatch(why("shelve ff for ever"), /positive duration .* got "ever"/);
  assertMatch(why("shelve ff for 0s"), /positive duration/);
  assertMatch(why("unshelve ff: x"), /unshelve <eventId>" with nothing after it/);
});
