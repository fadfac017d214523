/**
 * Files left with git-style conflict markers by a run, until the person resolves them: later
 * runs leave them alone and `infra-stack check` fails while any is listed.
 */
export const CONFLICTS_PATH = '.infra-stack/conflicts.json';

export function parsePending(text: string | undefined): string[] {
  if (text === undefined) return [];
  try {
    const files = (JSON.parse(text) as { files?: unknown }).files;
    return Array.isArray(files) ? files.filter((f): f is string => typeof f === 'string') : [];
  } catch {
    return []; // the markers in the files themselves still mark them
  }
}

export function pendingText(files: string[]): string {
  const note = 'Files with conflict markers from create-infra-stack: resolve the <<<<<<< markers, then run `npx infra-stack check`.';
  return JSON.stringify({ note, files: [...files].sort() }, null, 2) + '\n';
}
