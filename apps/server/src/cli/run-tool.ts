/**
 * Run a command-line tool: exit with the code it resolves to; an error of one of the `plain` kinds
 * (a refusal it explains, like a damaged backup) prints just its message, anything else in full.
 */
export function runTool(run: () => Promise<number>, plain: (new (...args: never[]) => Error)[] = []): void {
  run().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(plain.some((kind) => err instanceof kind) ? (err as Error).message : err);
      process.exit(1);
    },
  );
}
