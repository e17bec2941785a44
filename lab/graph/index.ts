// Graph emulator for the lab and the tests: start/stop, seed, inspect, inject faults.
export * from "./directory";
export * from "./faults";
export * from "./server";
export * from "./store";
export * from "./users";
