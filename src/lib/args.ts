// What every node program's command line comes to, and the one way a program acts on it.

/** The result of parsing a node's arguments. */
export type ArgsResult<O> = { kind: 'options'; options: O } | { kind: 'help' } | { kind: 'error'; message: string };

/**
 * The options, or the end of the program: usage on stdout and exit 0 for --help, the problem
 * and usage on stderr and exit 2 for a bad argument.
 */
export function optionsOrExit<O>(program: string, parsed: ArgsResult<O>, usage: string): O {
  if (parsed.kind === 'help') {
    process.stdout.write(usage);
    process.exit(0);
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`${program}: ${parsed.message}\n\n${usage}`);
    process.exit(2);
  }
  return parsed.options;
}
