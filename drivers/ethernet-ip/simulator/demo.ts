/**
 * @module
 * The default content of `bifrost sim ethernet-ip` and of the tools' simulator: a few tags
 * of every kind the driver reads (atomic types, arrays, a BOOL array, a STRING, a UDT with
 * a nested STRING and an array member, a large array for fragmented reads, a program scope).
 */

import type { EipSimulatorMap } from "./server.ts";

/** The demo controller. */
export const DEMO_MAP: EipSimulatorMap = {
  structures: {
    Motor: {
      Speed: "REAL",
      Running: "BOOL",
      Faulted: "BOOL",
      Starts: "DINT",
      Currents: { type: "REAL", dims: 3 },
      Label: "STRING",
    },
  },
  tags: {
    TestDINT: { type: "DINT", dims: [10], value: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90] },
    TestREAL: { type: "REAL", value: 21.5 },
    TestBOOL: { type: "BOOL", value: true },
    TestSINT: { type: "SINT", value: -5 },
    TestINT: { type: "INT", value: 1234 },
    TestLINT: { type: "LINT", value: 9007199254740993n },
    TestLREAL: { type: "LREAL", value: 3.141592653589793 },
    TestSTRING: { type: "STRING", value: "Line 2 running" },
    Flags: { type: "BOOL", dims: [64], value: [true, false, true] },
    Matrix: { type: "INT", dims: [3, 4] },
    BigArray: { type: "DINT", dims: [2000] },
    Line: { type: "Motor", value: { Speed: 1450.5, Running: true, Starts: 12, Label: "Pump 1" } },
  },
  programs: {
    MainProgram: {
      Counter: { type: "DINT", value: 7 },
      Setpoint: { type: "REAL", value: 55.5 },
    },
  },
};
