/**
 * Files that hold secrets, private keys or every row of the database, as .gitignore patterns:
 * the generated .gitignore ignores them, and create's first commit refuses to take one that the
 * folder's own ignore rules let through. One list, so the two cannot drift apart.
 */
export const SECRET_FILES: readonly string[] = [
  '.env',
  '.env.*',
  '!.env.example',
  'secrets.env',
  'secrets/',
  'certs/',
  '*.pem',
  '*.key',
  // scripts/backup.sh writes its dumps here.
  'backups/',
];
