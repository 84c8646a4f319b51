// The benches' one command line: their own flags before a lone `--`, the node's arguments after it.
export function benchArgs(defaultNodeArgs = []) {
  const argv = process.argv.slice(2);
  const dashes = argv.indexOf('--');
  const own = dashes === -1 ? argv : argv.slice(0, dashes);
  const nodeArgs = dashes === -1 ? defaultNodeArgs : argv.slice(dashes + 1);
  /** The value after `--name`, or fallback. */
  const flag = (name, fallback) => {
    const at = own.indexOf(`--${name}`);
    return at === -1 ? fallback : own[at + 1];
  };
  return { own, nodeArgs, flag, has: (name) => own.includes(`--${name}`) };
}
