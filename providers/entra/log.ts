// Provider messages the operator should see; pulumi.log reaches the engine, or the console without one.
import * as pulumi from "@pulumi/pulumi";

export function tellOperator(message: string): void {
  pulumi.log.warn(message);
}
