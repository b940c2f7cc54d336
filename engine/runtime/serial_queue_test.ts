import { assertEquals } from "../../tests/_assert.ts";
import { Semaphore } from "./semaphore.ts";
import { SerialQueue } from "./serial_queue.ts";

Deno.test("SerialQueue processes items one at a time in arrival order", async () => {
  const seen: number[] = [];
  let active = 0;
  let maxActive = 0;
  const q = new SerialQueue<number>(async (n) => {
    active++;
    maxActive = Math.max(maxActive, active);
    await new Promise((r) => setTimeout(r, 1));
    seen.push(n);
    active--;
  }, 100);
  for (let i = 0; i < 10; i++) q.push(i);
  await q.idle();
  assertEquals(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals(maxActive, 1);
  assertEquals(q.stats(), { processed: 10, dropped: 0, depth: 0 });
});

Deno.test("SerialQueue drops and reports the oldest waiting item when full", async () => {
  const seen: number[] = [];
  const dropped: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const q = new SerialQueue<number>(
    async (n) => {
      if (n === 0) await gate;
      seen.push(n);
    },
    2,
    (item) => dropped.push(item),
  );
  for (let i = 0; i < 5; i++) q.push(i); // 0 is running; 1..4 wait in a queue of 2
  release();
  await q.idle();
  assertEquals(dropped, [1, 2]);
  assertEquals(seen, [0, 3, 4]);
  assertEquals(q.stats().dropped, 2);
});

Deno.test("SerialQueue goes on after a failing item", async () => {
  const seen: number[] = [];
  const q = new SerialQueue<number>((n) => {
    if (n === 1) return Promise.reject(new Error("boom"));
    seen.push(n);
    return Promise.resolve();
  }, 10);
  q.push(0);
  q.push(1);
  q.push(2);
  await q.idle();
  assertEquals(seen, [0, 2]);
});

Deno.test("Semaphore never lets more than its limit run", async () => {
  const sem = new Semaphore(2);
  let active = 0;
  let maxActive = 0;
  await Promise.all(Array.from({ length: 8 }, () =>
    sem.run(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 2));
      active--;
    })));
  assertEquals(maxActive, 2);
  assertEquals(sem.available, 2);
});
