// A submitted job as the scheduler takes it: checked and bounded before anything is stored.

export interface JobSpec {
  id: string;
  tasks: Array<{ id: string; durationMs: number }>;
}

/** Upper bounds on one submit, so one request cannot take a scheduler's memory. */
export const MAX_TASKS_PER_JOB = 1_000;
export const MAX_ID_CHARS = 200;
export const MAX_DURATION_MS = 3_600_000;

/** The job a submit describes, or why it is malformed (answered with error 12). */
export function parseJob(job: unknown, tasks: unknown): JobSpec | string {
  if (typeof job !== 'string' || job.length === 0 || job.length > MAX_ID_CHARS) return `job must be a string of 1 to ${MAX_ID_CHARS} characters`;
  if (!Array.isArray(tasks) || tasks.length === 0 || tasks.length > MAX_TASKS_PER_JOB) return `tasks must be a list of 1 to ${MAX_TASKS_PER_JOB} tasks`;
  const specs: JobSpec['tasks'] = [];
  const seen = new Set<string>();
  for (const task of tasks as unknown[]) {
    if (typeof task !== 'object' || task === null || Array.isArray(task)) return 'each task must be an object {id, duration_ms}';
    const { id, duration_ms: durationMs } = task as { id?: unknown; duration_ms?: unknown };
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_CHARS) return `task id must be a string of 1 to ${MAX_ID_CHARS} characters`;
    if (seen.has(id)) return `task id ${id} appears twice in the job`;
    if (typeof durationMs !== 'number' || !Number.isInteger(durationMs) || durationMs < 0 || durationMs > MAX_DURATION_MS) {
      return `duration_ms of ${id} must be an integer from 0 to ${MAX_DURATION_MS}`;
    }
    seen.add(id);
    specs.push({ id, durationMs });
  }
  return { id: job, tasks: specs };
}
