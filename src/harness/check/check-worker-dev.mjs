// The checking stage's worker when the harness runs from TypeScript sources (tests, tsx): Node's
// workers do not take the tsx loader from execArgv, so this plain module loads it and the worker.
import { tsImport } from 'tsx/esm/api';

const worker = await tsImport('./check-worker.ts', import.meta.url);
await worker.runCheckWorker();
