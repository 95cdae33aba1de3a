/**
 * Build status transitions. A build moves forward only: queued → pending → succeeded | failed, and the
 * first final status wins. Moving forward only makes the result independent of redelivery: replaying
 * any messages again (or a late line after `Finished: ...`) never changes a status already reached.
 */
import type { BuildStatus } from '../log/parse';

const RANK: Record<BuildStatus, number> = { queued: 0, pending: 1, succeeded: 2, failed: 2 };

export const isFinal = (s: BuildStatus): boolean => RANK[s] === 2;

/** The status after `incoming` is seen on a build that had `current` (null: not known yet). */
export function nextStatus(current: BuildStatus | null, incoming: BuildStatus): BuildStatus {
  if (current === null) return incoming;
  return RANK[incoming] > RANK[current] ? incoming : current;
}

/**
 * What one build message says about its build: its explicit or `Finished:` status, else `pending`
 * when it carries text (lines are arriving), else nothing new (`queued`, the lowest rank).
 */
export function statusOfMessage(status: BuildStatus | null, hasText: boolean): BuildStatus {
  if (status !== null) return status;
  return hasText ? 'pending' : 'queued';
}

/** PostgreSQL expression applying nextStatus to column `status` and parameter `incoming` (kept in step with RANK). */
export const SQL_NEXT_STATUS = (current: string, incoming: string): string =>
  `CASE WHEN ${rankSql(incoming)} > ${rankSql(current)} THEN ${incoming} ELSE ${current} END`;

function rankSql(expr: string): string {
  return `(CASE ${expr} WHEN 'queued' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END)`;
}
