// Microsoft Graph: endpoints per cloud, sign-in, and a client with retries, timeouts and $batch.
export * from "./batch";
export * from "./client";
export * from "./credential";
export * from "./endpoints";
export * from "./errors";
export * from "./transport";
