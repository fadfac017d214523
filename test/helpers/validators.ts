// Validators for generated files, backed by the real tools installed on this machine
// (REFERENCE.md section 10): the compose-spec JSON schema, docker-compose 1.29, nginx -t under
// nss_wrapper, dockerfile-utils and decK. Each returns its findings (an empty list, or ok: true,
// means valid) so a test can print every problem at once. Shared by the matrix, gateway and k8s suites.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import dockerfileUtils from 'dockerfile-utils';
import { isMap, isPair, isScalar, parse as parseYaml, parseDocument, type Document } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The official compose-spec JSON schema (draft-07, compose-spec/compose-spec, June 2026), kept in
 * the repository so a clone runs the tests on its own. Only tests read it; the package never does.
 */
export const COMPOSE_SCHEMA_PATH = join(ROOT, 'test', 'fixtures', 'compose-spec.json');

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell (feeding `input` on stdin) and collects its output; never throws on a non-zero exit. */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; outputDir?: string; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // Node's stdio pipes are socketpairs: a program that opens /dev/stdout or /dev/stderr by name
    // (nginx's `error_log /dev/stderr`) gets ENXIO. With outputDir, stdout/stderr are real files there.
    const files = options.outputDir ? [join(options.outputDir, 'stdout'), join(options.outputDir, 'stderr')] : undefined;
    const fds = files?.map((f) => openSync(f, 'w+'));
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', fds?.[0] ?? 'pipe', fds?.[1] ?? 'pipe'],
    });
    child.stdin?.end(options.input);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    const done = (): void => {
      clearTimeout(timer);
      fds?.forEach((fd) => closeSync(fd));
    };
    child.on('error', (err) => {
      done();
      reject(err);
    });
    child.on('close', (code) => {
      done();
      if (files) [stdout, stderr] = files.map((f) => readFileSync(f, 'utf8'));
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every file below `dir` (relative POSIX paths, sorted), skipping node_modules and .git. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      if (name === 'node_modules' || name === '.git') continue;
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(relative(dir, full).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

// ---------------------------------------------------------------------------------------------
// YAML / JSON
// ---------------------------------------------------------------------------------------------

/** Parses YAML the way Compose does: merge keys (`<<: *anchor`) resolved. Throws on a syntax error. */
export function parseYamlMerged(text: string): unknown {
  return parseYaml(text, { merge: true });
}

/** Parses a `.yaml`/`.yml`/`.json` file's text by its extension; returns the error message or null. */
export function parseError(path: string, text: string): string | null {
  try {
    if (path.endsWith('.json')) JSON.parse(text);
    else parseDocumentStrict(text);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function parseDocumentStrict(text: string): void {
  // parseAllDocuments-free: the generated files are single documents; errors and warnings both fail.
  const doc = parseDocument(text, { merge: true, prettyErrors: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) throw new Error(problems.map((p) => p.message).join('\n'));
}

// ---------------------------------------------------------------------------------------------
// Compose: schema, merge, env
// ---------------------------------------------------------------------------------------------

let composeValidator: ValidateFunction | undefined;

/**
 * Validates a parsed compose document (one file, or several merged with `mergeCompose`) against
 * the compose-spec JSON schema. Returns readable errors ("/services/api: must NOT have additional
 * properties (bogus)"); empty when valid.
 */
export function validateCompose(doc: unknown): string[] {
  if (!composeValidator) {
    const schema = JSON.parse(readFileSync(COMPOSE_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
    // The spec says "https://json-schema.org/draft-07/schema"; ajv knows draft-07 by its classic id.
    schema.$schema = 'http://json-schema.org/draft-07/schema#';
    const ajv = new Ajv({ strict: false, allowUnionTypes: true, allErrors: true });
    ajvFormats.default(ajv); // CJS: the plugin is both module.exports and .default
    composeValidator = ajv.compile(schema);
  }
  if (composeValidator(doc)) return [];
  return (composeValidator.errors ?? []).map((e) => {
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${String((e.params as { additionalProperty: string }).additionalProperty)})`
        : e.keyword === 'enum'
          ? ` (${JSON.stringify((e.params as { allowedValues: unknown }).allowedValues)})`
          : '';
    return `${e.instancePath || '/'}: ${e.message ?? e.keyword}${extra}`;
  });
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Sequences an override replaces instead of appending to (compose-spec 13-merge.md "shell commands"). */
const REPLACED_SEQUENCES = new Set(['command', 'entrypoint', 'test']);
/** Sequences and mappings that may be written either way and merge as KEY=VALUE maps. */
const KEY_VALUE_FIELDS = new Set(['environment', 'labels', 'annotations', 'sysctls', 'args', 'extra_hosts']);

function asKeyValueMap(v: Json): Json {
  if (!Array.isArray(v)) return v;
  const out: Record<string, Json> = {};
  for (const item of v) {
    const s = String(item);
    const i = s.search(/[=:]/);
    if (i < 0) out[s] = null;
    else out[s.slice(0, i)] = s.slice(i + 1);
  }
  return out;
}

function mergeValue(key: string, base: Json | undefined, over: Json): Json {
  if (base === undefined) return over;
  if (KEY_VALUE_FIELDS.has(key) && (Array.isArray(base) || Array.isArray(over))) {
    return mergeValue(key, asKeyValueMap(base), asKeyValueMap(over));
  }
  if (isObject(base) && isObject(over)) {
    const out: Record<string, Json> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = mergeValue(k, base[k], v);
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over) && !REPLACED_SEQUENCES.has(key)) {
    // Appended, with duplicates (same port, same volume, same network) dropped.
    const seen = new Set(base.map((x) => JSON.stringify(x)));
    return [...base, ...over.filter((x) => !seen.has(JSON.stringify(x)))];
  }
  return over;
}

/**
 * Merges parsed compose documents the way `docker compose -f a -f b` does (compose-spec merge
 * rules: mappings recursively, sequences appended without duplicates, command/entrypoint/
 * healthcheck.test replaced, scalars overridden). Good enough for schema and fact checks.
 */
export function mergeCompose(...docs: unknown[]): Record<string, unknown> {
  let out: Json = {};
  for (const doc of docs) out = mergeValue('', out, (doc ?? {}) as Json);
  return out as Record<string, unknown>;
}

/** Every string scalar in a parsed document (keys excluded). */
function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out);
  else if (isObject(value)) for (const v of Object.values(value)) stringsIn(v, out);
  return out;
}

/**
 * The variables a compose file interpolates (`${VAR}`, `${VAR:-x}`, `${VAR:?msg}`, `$VAR`), from
 * its values, after dropping `$$` escapes (those reach the container's shell, not compose).
 * Comments are ignored because only parsed values are read. Sorted, unique.
 */
export function composeEnvVars(composeText: string): string[] {
  const found = new Set<string>();
  for (const s of stringsIn(parseYaml(composeText, { merge: true }))) {
    const unescaped = s.replaceAll('$$', '');
    for (const m of unescaped.matchAll(/\$\{([A-Za-z0-9_]+)/g)) found.add(m[1]);
    for (const m of unescaped.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)) found.add(m[1]);
  }
  return [...found].sort();
}

/** Parses a dotenv file (`KEY=value`, `#` comments, optional quotes and `export`) into an ordered map. */
export function parseDotenv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2];
    if (/^"(.*)"$/.test(value) || /^'(.*)'$/.test(value)) value = value.slice(1, -1);
    out.set(m[1], value);
  }
  return out;
}

/**
 * Compose variable interpolation of one string: `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?err}`, `${VAR?err}`, `${VAR:+alt}`, `${VAR+alt}`, `$VAR`, `$$` -> `$`. Throws for a
 * required variable that is unset (as compose would).
 */
export function interpolate(text: string, env: Map<string, string> | Record<string, string>): string {
  const get = (k: string): string | undefined => (env instanceof Map ? env.get(k) : env[k]);
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, name?: string, op?: string, arg?: string, bare?: string) => {
      if (whole === '$$') return '$';
      if (bare) return get(bare) ?? '';
      const value = get(name!);
      // With a colon, an empty value counts as unset.
      const unsetOrEmpty = value === undefined || (op !== undefined && op.startsWith(':') && value === '');
      switch (op) {
        case undefined:
          return value ?? '';
        case ':-':
        case '-':
          return unsetOrEmpty ? interpolate(arg ?? '', env) : value!;
        case ':?':
        case '?':
          if (unsetOrEmpty) throw new Error(`required variable ${name} is missing a value: ${arg ?? ''}`);
          return value!;
        default: // ':+' and '+'
          return unsetOrEmpty ? '' : interpolate(arg ?? '', env);
      }
    },
  );
}

/** The tag of an image reference (`registry:5000/a/b:1.2@sha256:..` -> `1.2`), or null when it has none. */
export function imageTag(image: string): string | null {
  const withoutDigest = image.split('@')[0];
  const lastSlash = withoutDigest.lastIndexOf('/');
  const lastColon = withoutDigest.lastIndexOf(':');
  return lastColon > lastSlash ? withoutDigest.slice(lastColon + 1) : null;
}

// ---------------------------------------------------------------------------------------------
// docker-compose 1.29
// ---------------------------------------------------------------------------------------------

/**
 * Compose keys that are valid today (the schema check covers them) but newer than Debian's
 * docker-compose 1.29, which rejects them: `services.*.depends_on.*.restart|required` (Compose
 * 2.17/2.20), `services.*.develop`, top-level `name`. Returns the text without them (comments and
 * anchors kept) and the dotted paths it removed.
 */
export function downlevelComposeFor129(text: string): { text: string; removed: string[] } {
  const doc: Document = parseDocument(text, { merge: true });
  const removed: string[] = [];
  if (doc.has('name')) {
    doc.delete('name');
    removed.push('name');
  }
  const services = doc.get('services', true);
  if (isMap(services)) {
    for (const pair of services.items) {
      if (!isPair(pair) || !isScalar(pair.key) || !isMap(pair.value)) continue;
      const service = String(pair.key.value);
      if (pair.value.has('develop')) {
        pair.value.delete('develop');
        removed.push(`services.${service}.develop`);
      }
      const dependsOn = pair.value.get('depends_on', true);
      if (!isMap(dependsOn)) continue;
      for (const dep of dependsOn.items) {
        if (!isPair(dep) || !isScalar(dep.key) || !isMap(dep.value)) continue;
        for (const key of ['restart', 'required']) {
          if (dep.value.has(key)) {
            dep.value.delete(key);
            removed.push(`services.${service}.depends_on.${String(dep.key.value)}.${key}`);
          }
        }
      }
    }
  }
  return { text: removed.length > 0 ? doc.toString() : text, removed };
}

export interface ComposeConfigResult extends RunResult {
  ok: boolean;
  /** The command line, for messages. */
  command: string;
  /** Keys stripped for docker-compose 1.29 (see downlevelComposeFor129). */
  removed: string[];
}

/**
 * Runs `docker-compose -f <files...> config -q` (Debian's 1.29; needs no engine) for a stack in
 * `stackDir`: it reads the stack's `.env`, and relative paths (build contexts, bind mounts,
 * env_file) resolve against the stack dir. With `downlevel` (the default) the files are first
 * copied to a temp dir without the keys 1.29 predates (see downlevelComposeFor129) and run with
 * `--project-directory stackDir`. ok is exit code 0; warnings are in stderr.
 */
export async function dockerComposeConfig(
  stackDir: string,
  files: string[],
  options: { downlevel?: boolean } = {},
): Promise<ComposeConfigResult> {
  const downlevel = options.downlevel ?? true;
  const tmp = mkdtempSync(join(tmpdir(), 'compose129-'));
  try {
    const removed: string[] = [];
    const paths = files.map((file) => {
      if (!downlevel) return join(stackDir, file);
      const out = downlevelComposeFor129(readFileSync(join(stackDir, file), 'utf8'));
      removed.push(...out.removed.map((r) => `${file}: ${r}`));
      const target = join(tmp, basename(file));
      writeFileSync(target, out.text);
      return target;
    });
    const args = ['--project-directory', stackDir, ...paths.flatMap((p) => ['-f', p]), 'config', '-q'];
    // The stack's .env must decide the values, not whatever COMPOSE_* the test runner has.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COMPOSE_')));
    const r = await run('docker-compose', args, { cwd: stackDir, env });
    return { ...r, ok: r.code === 0, removed, command: `docker-compose ${files.map((f) => `-f ${f}`).join(' ')} config -q` };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// nginx
// ---------------------------------------------------------------------------------------------

let nssWrapperPath: string | undefined;

/** Path of libnss_wrapper.so (package libnss-wrapper), from dpkg, else the Debian amd64 default. */
export function nssWrapperLibrary(): string {
  if (nssWrapperPath) return nssWrapperPath;
  try {
    const listed = execFileSync('dpkg', ['-L', 'libnss-wrapper'], { encoding: 'utf8' });
    nssWrapperPath = listed.split('\n').find((l) => l.endsWith('/libnss_wrapper.so'));
  } catch {
    // not a dpkg system
  }
  nssWrapperPath ??= '/usr/lib/x86_64-linux-gnu/libnss_wrapper.so';
  return nssWrapperPath;
}

/**
 * Host names nginx resolves at startup: `server host[:port]` in upstream blocks and
 * `proxy_pass`/`grpc_pass`/`fastcgi_pass` URLs (names that are upstream blocks are harmless extras).
 */
export function nginxUpstreamHosts(configTexts: string[]): string[] {
  const hosts = new Set<string>();
  for (const text of configTexts) {
    const code = text.replace(/#.*$/gm, '');
    for (const m of code.matchAll(/^\s*server\s+([A-Za-z][A-Za-z0-9_.-]*)(?::\d+)?[\s;]/gm)) hosts.add(m[1]);
    for (const m of code.matchAll(/\b(?:proxy|grpc|uwsgi|scgi|fastcgi)_pass\s+(?:[a-z]+:\/\/)?([A-Za-z][A-Za-z0-9_.-]*)/g))
      hosts.add(m[1]);
  }
  hosts.delete('localhost');
  hosts.delete('unix');
  return [...hosts].sort();
}

export interface NginxTestResult extends RunResult {
  ok: boolean;
  /** The host names given to nss_wrapper. */
  hosts: string[];
  /** Certificate/key paths that did not exist here and got a throwaway self-signed pair. */
  certificates: string[];
}

/** The installed nginx's version ("1.22.1"), or null when there is none. */
export function installedNginxVersion(nginx = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx'): string | null {
  const r = spawnSync(nginx, ['-v'], { encoding: 'utf8' }); // prints "nginx version: nginx/1.22.1" to stderr
  return /nginx\/(\d+(?:\.\d+)*)/.exec(`${r.stderr ?? ''}${r.stdout ?? ''}`)?.[1] ?? null;
}

/** A throwaway self-signed EC certificate and key (openssl) written into `dir`. */
export function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'selfsigned-fullchain.pem');
  const key = join(dir, 'selfsigned-privkey.pem');
  if (!existsSync(cert)) {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=localhost', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
  }
  return { cert, key };
}

/**
 * `nginx -t` for real on a config folder (the one holding nginx.conf, conf.d/, snippets/): copies
 * it to a temp dir, adds /etc/nginx/mime.types beside nginx.conf when missing (the generated
 * config does `include mime.types;`), gives `ssl_certificate*` files that do not exist here a
 * throwaway self-signed pair (relative paths: created in the copy; absolute ones: rewritten), makes every upstream host
 * resolve to 127.0.0.1 through nss_wrapper (no root, no /etc/hosts edit; `resolveHosts: false`
 * turns that off) and runs `nginx -t -q -e stderr -c <copy>/nginx.conf -p <prefix>/`.
 * stdout/stderr are files, not pipes, so `error_log /dev/stderr` can be opened.
 */
export async function nginxTest(
  confDir: string,
  options: { mainFile?: string; extraHosts?: string[]; resolveHosts?: boolean; nginx?: string } = {},
): Promise<NginxTestResult> {
  const tmp = mkdtempSync(join(tmpdir(), 'nginx-t-'));
  try {
    const conf = join(tmp, 'conf');
    const prefix = join(tmp, 'prefix');
    cpSync(confDir, conf, { recursive: true });
    mkdirSync(prefix);
    const main = join(conf, options.mainFile ?? 'nginx.conf');
    // Relative includes resolve against the folder of the -c file.
    const mime = join(dirname(main), 'mime.types');
    if (!existsSync(mime) && existsSync('/etc/nginx/mime.types')) cpSync('/etc/nginx/mime.types', mime);
    const certificates = new Set<string>();
    const texts: string[] = [];
    for (const file of listFiles(conf)) {
      const path = join(conf, file);
      const text = readFileSync(path, 'utf8');
      const patched = text.replace(
        /^(\s*ssl_(?:certificate|certificate_key|trusted_certificate|client_certificate)\s+)([^\s;$]+)(\s*;)/gm,
        (whole, head: string, target: string, tail: string) => {
          const pair = selfSignedCertificate(tmp);
          const source = /key/.test(head) ? pair.key : pair.cert;
          if (!target.startsWith('/')) {
            // Relative to the folder of nginx.conf (nginx's conf prefix): put the pair there in the copy.
            const local = join(dirname(main), target);
            if (!existsSync(local)) {
              certificates.add(target);
              mkdirSync(dirname(local), { recursive: true });
              cpSync(source, local);
            }
            return whole;
          }
          if (existsSync(target)) return whole;
          certificates.add(target);
          return `${head}${source}${tail}`;
        },
      );
      if (patched !== text) writeFileSync(path, patched);
      texts.push(patched);
    }
    const hosts = [...new Set([...nginxUpstreamHosts(texts), ...(options.extraHosts ?? [])])].sort();
    const hostsFile = join(tmp, 'hosts');
    writeFileSync(hostsFile, ['127.0.0.1 localhost', ...hosts.map((h) => `127.0.0.1 ${h}`)].join('\n') + '\n');
    const env = options.resolveHosts === false ? process.env : { ...process.env, LD_PRELOAD: nssWrapperLibrary(), NSS_WRAPPER_HOSTS: hostsFile };
    const bin = options.nginx ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx');
    const r = await run(bin, ['-t', '-q', '-e', 'stderr', '-c', main, '-p', `${prefix}/`], { env, cwd: tmp, outputDir: tmp });
    return { ...r, ok: r.code === 0, hosts, certificates: [...certificates].sort() };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Dockerfile
// ---------------------------------------------------------------------------------------------

export interface DockerfileDiagnostic {
  line: number; // 1-based
  severity: 'error' | 'warning';
  code: number | undefined;
  message: string;
}

/**
 * Lints a Dockerfile with dockerfile-utils' `validate` (the VS Code Docker extension's validator;
 * knows `RUN --mount` and heredocs). Returns the Error and Warning diagnostics only.
 */
export function lintDockerfile(text: string): DockerfileDiagnostic[] {
  return dockerfileUtils
    .validate(text)
    .filter((d) => d.severity === 1 || d.severity === 2)
    .map((d) => ({
      line: d.range.start.line + 1,
      severity: d.severity === 1 ? ('error' as const) : ('warning' as const),
      code: typeof d.code === 'number' ? d.code : undefined,
      message: typeof d.message === 'string' ? d.message : d.message.value,
    }));
}

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Logical Dockerfile instructions (continuations joined, comments dropped). */
export function dockerfileInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i].trim();
    if (first === '' || first.startsWith('#')) continue;
    const start = i;
    let joined = lines[i];
    while (/\\\s*$/.test(joined) && i + 1 < lines.length) {
      i++;
      if (lines[i].trim().startsWith('#')) continue;
      joined = joined.replace(/\\\s*$/, ' ') + lines[i].trim();
    }
    const m = /^\s*(\S+)\s*(.*)$/.exec(joined)!;
    out.push({ keyword: m[1].toUpperCase(), args: m[2].trim(), line: start + 1 });
  }
  return out;
}

/**
 * The production rules the generated Node Dockerfiles follow (REFERENCE.md section 4): a pinned
 * `ARG NODE_VERSION=<number>` and `node:` base (never `latest`), npm cache mount, and in the final
 * stage `ENV NODE_ENV=production`, `USER node` before the final CMD, a HEALTHCHECK, tini (or
 * dumb-init) as JSON-form ENTRYPOINT and JSON-form CMDs, and what the build stage built. Returns the broken rules.
 */
export function dockerfileRuleProblems(text: string): string[] {
  const problems: string[] = [];
  const ins = dockerfileInstructions(text);
  const froms = ins.filter((i) => i.keyword === 'FROM');
  if (froms.length === 0) return ['no FROM'];
  const firstFrom = ins.indexOf(froms[0]);
  const globalArgs = ins.slice(0, firstFrom).filter((i) => i.keyword === 'ARG');
  const nodeVersion = globalArgs.find((a) => /^NODE_VERSION(=|$)/.test(a.args));
  if (!nodeVersion || !/^NODE_VERSION=["']?\d+(\.\d+){0,2}["']?$/.test(nodeVersion.args))
    problems.push(`ARG NODE_VERSION must default to a version number before the first FROM (found: ${nodeVersion ? `ARG ${nodeVersion.args}` : 'none'})`);
  const stages = new Set<string>();
  let nodeBase = false;
  for (const from of froms) {
    const words = from.args.split(/\s+/).filter((w) => !w.startsWith('--'));
    const image = words[0] ?? '';
    if (words[1]?.toUpperCase() === 'AS' && words[2]) stages.add(words[2].toLowerCase());
    if (stages.has(image.toLowerCase()) && !image.includes(':')) continue; // FROM <earlier stage>
    if (image.startsWith('node:')) {
      nodeBase = true;
      if (!/^node:(\$\{NODE_VERSION\}|\d)/.test(image)) problems.push(`line ${from.line}: node image not pinned to NODE_VERSION or a number: ${image}`);
    }
    const tag = imageTag(image);
    if (!tag && !image.includes('@')) problems.push(`line ${from.line}: image without a tag: ${image}`);
    if (/latest/i.test(tag ?? '')) problems.push(`line ${from.line}: image uses latest: ${image}`);
  }
  if (!nodeBase) problems.push('no FROM node:<version> base image');
  if (!/--mount=type=cache,target=\/root\/\.npm\b/.test(text)) problems.push('no RUN --mount=type=cache,target=/root/.npm');
  for (const cmd of ins.filter((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT'))
    if (!cmd.args.startsWith('[')) problems.push(`line ${cmd.line}: ${cmd.keyword} is not JSON form: ${cmd.keyword} ${cmd.args}`);

  const final = ins.slice(ins.indexOf(froms[froms.length - 1]));
  const lastCmd = final.map((i) => i.keyword).lastIndexOf('CMD');
  if (lastCmd < 0) problems.push('final stage has no CMD');
  else {
    const users = final.slice(0, lastCmd).filter((i) => i.keyword === 'USER');
    const user = users[users.length - 1];
    if (!user || user.args !== 'node') problems.push(`final stage: the last USER before the final CMD must be "node" (found: ${user ? user.args : 'none'})`);
    if (final.slice(lastCmd).some((i) => i.keyword === 'USER')) problems.push('final stage: USER after the final CMD');
  }
  if (!final.some((i) => i.keyword === 'HEALTHCHECK' && /\bCMD\b/.test(i.args))) problems.push('final stage has no HEALTHCHECK CMD');
  if (!final.some((i) => i.keyword === 'ENV' && /(^|\s)NODE_ENV=["']?production["']?(\s|$)/.test(i.args)))
    problems.push('final stage has no ENV NODE_ENV=production');
  // A build step's output must ship: the final stage takes the build stage's whole workdir, not a subfolder of it.
  if (/\bnpm run build\b/.test(text) && !final.some((i) => i.keyword === 'COPY' && /--from=build\b.*\s\/usr\/src\/app\/?\s+\.\/?$/.test(i.args)))
    problems.push('final stage: a build stage runs `npm run build` but its output is not copied (COPY --from=build ... /usr/src/app ./)');
  const entrypoint = final.filter((i) => i.keyword === 'ENTRYPOINT').pop();
  if (!entrypoint || !/^\[\s*"[^"]*\b(tini|dumb-init)"/.test(entrypoint.args))
    problems.push(`final stage: ENTRYPOINT must run an init (tini) in JSON form (found: ${entrypoint ? entrypoint.args : 'none'})`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Kong
// ---------------------------------------------------------------------------------------------

/** Plugins bundled with Kong Gateway 3.9 OSS (kong/constants.lua). */
export const KONG_BUNDLED_PLUGINS = new Set([
  'jwt', 'acl', 'correlation-id', 'cors', 'oauth2', 'tcp-log', 'udp-log', 'file-log', 'http-log', 'key-auth',
  'hmac-auth', 'basic-auth', 'ip-restriction', 'request-transformer', 'response-transformer', 'request-size-limiting',
  'rate-limiting', 'response-ratelimiting', 'syslog', 'loggly', 'datadog', 'ldap-auth', 'statsd', 'bot-detection',
  'aws-lambda', 'request-termination', 'prometheus', 'proxy-cache', 'session', 'acme', 'grpc-gateway', 'grpc-web',
  'pre-function', 'post-function', 'azure-functions', 'zipkin', 'opentelemetry', 'ai-proxy', 'ai-prompt-decorator',
  'ai-prompt-template', 'ai-prompt-guard', 'ai-request-transformer', 'ai-response-transformer', 'standard-webhooks',
  'redirect',
]);

/**
 * `config` fields Kong 3.x's plugin schemas accept, for the plugins the generator emits. A plugin
 * in kong.yml without a list here is reported, so a new plugin gets its list when it is added.
 */
export const KONG_PLUGIN_FIELDS: Record<string, readonly string[]> = {
  'rate-limiting': [
    'second', 'minute', 'hour', 'day', 'month', 'year', 'limit_by', 'header_name', 'path', 'policy', 'fault_tolerant',
    'redis', 'hide_client_headers', 'error_code', 'error_message', 'sync_rate', 'namespace', 'strategy',
    'dictionary_name', 'retry_after_jitter_max', 'lock_dictionary_name',
  ],
  cors: ['origins', 'methods', 'headers', 'exposed_headers', 'credentials', 'max_age', 'preflight_continue', 'private_network', 'allow_origin_absent'],
  'request-size-limiting': ['allowed_payload_size', 'size_unit', 'require_content_length'],
  'correlation-id': ['header_name', 'generator', 'echo_downstream'],
  'response-transformer': ['remove', 'rename', 'replace', 'add', 'append'],
  'request-termination': ['status_code', 'message', 'content_type', 'body', 'echo', 'trigger'],
};

/** Fields of `config` sub-records (Kong's `type = "record"` fields), checked the same way. */
export const KONG_PLUGIN_RECORD_FIELDS: Record<string, Record<string, readonly string[]>> = {
  'response-transformer': {
    remove: ['json', 'headers'],
    rename: ['json', 'headers'],
    replace: ['json', 'json_types', 'headers'],
    add: ['json', 'json_types', 'headers'],
    append: ['json', 'json_types', 'headers'],
  },
};

/** Record fields whose entries Kong requires as "name:value" strings (colon_string_array). */
const KONG_COLON_STRINGS: Record<string, readonly string[]> = {
  'response-transformer': ['rename.json', 'rename.headers', 'replace.json', 'replace.headers', 'add.json', 'add.headers', 'append.json', 'append.headers'],
};

/**
 * What decK 1.4 does not check in a Kong declarative config: `_format_version` "3.0", every
 * service has a `url` (or host) and routes with `paths`, plugins are bundled ones and their
 * `config` uses only fields Kong's schema knows (KONG_PLUGIN_FIELDS, KONG_PLUGIN_RECORD_FIELDS).
 * Returns the problems.
 */
export function kongConfigProblems(doc: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(doc)) return ['kong.yml is not a mapping'];
  if (doc._format_version !== '3.0') problems.push(`_format_version must be the string "3.0" (found ${JSON.stringify(doc._format_version)})`);
  const plugins: { where: string; plugin: Json }[] = [];
  const collect = (where: string, list: Json | undefined): void => {
    if (Array.isArray(list)) for (const p of list) plugins.push({ where, plugin: p });
  };
  collect('plugins', doc.plugins);
  const services = Array.isArray(doc.services) ? doc.services : [];
  if (services.length === 0) problems.push('no services');
  for (const s of services) {
    if (!isObject(s)) continue;
    const name = String(s.name ?? '?');
    if (typeof s.url !== 'string' || !/^https?:\/\/[^/]+/.test(s.url)) problems.push(`service ${name}: no http(s) url`);
    const routes = Array.isArray(s.routes) ? s.routes : [];
    if (routes.length === 0) problems.push(`service ${name}: no routes`);
    for (const r of routes) {
      if (!isObject(r)) continue;
      if (!Array.isArray(r.paths) || r.paths.length === 0 || !r.paths.every((p) => typeof p === 'string' && p.startsWith('/')))
        problems.push(`service ${name}, route ${String(r.name ?? '?')}: no paths starting with /`);
      collect(`route ${String(r.name ?? '?')}`, r.plugins);
    }
    collect(`service ${name}`, s.plugins);
  }
  for (const r of Array.isArray(doc.routes) ? doc.routes : []) if (isObject(r)) collect(`route ${String(r.name ?? '?')}`, r.plugins);
  for (const c of Array.isArray(doc.consumers) ? doc.consumers : []) if (isObject(c)) collect(`consumer ${String(c.username ?? '?')}`, c.plugins);
  for (const { where, plugin } of plugins) {
    if (!isObject(plugin)) continue;
    const name = String(plugin.name);
    if (!KONG_BUNDLED_PLUGINS.has(name)) {
      problems.push(`${where}: plugin "${name}" is not bundled with Kong 3.9`);
      continue;
    }
    const allowed = KONG_PLUGIN_FIELDS[name];
    if (!allowed) {
      problems.push(`${where}: plugin "${name}" has no field list in KONG_PLUGIN_FIELDS (test/helpers/validators.ts)`);
      continue;
    }
    const config = plugin.config ?? {};
    if (!isObject(config)) problems.push(`${where}: plugin "${name}" config is not a mapping`);
    else
      for (const [key, value] of Object.entries(config)) {
        if (!allowed.includes(key)) {
          problems.push(`${where}: plugin "${name}" has unknown config field "${key}"`);
          continue;
        }
        const sub = KONG_PLUGIN_RECORD_FIELDS[name]?.[key];
        if (!sub) continue;
        if (!isObject(value)) {
          problems.push(`${where}: plugin "${name}" config.${key} is not a mapping`);
          continue;
        }
        for (const [subKey, entries] of Object.entries(value)) {
          if (!sub.includes(subKey)) problems.push(`${where}: plugin "${name}" has unknown config field "${key}.${subKey}"`);
          else if (KONG_COLON_STRINGS[name]?.includes(`${key}.${subKey}`))
            for (const entry of Array.isArray(entries) ? entries : [entries])
              if (typeof entry !== 'string' || !/^[^:]+:.*$/.test(entry))
                problems.push(`${where}: plugin "${name}" config.${key}.${subKey} entry ${JSON.stringify(entry)} is not "name:value"`);
        }
      }
  }
  return problems;
}

/**
 * `deck validate -s <copy>` (decK 1.4, offline): entity fields and references. decK 1.4 rejects
 * `_transform` (a valid Kong 3 key), so it runs on a temp copy without it.
 */
export async function deckValidate(kongYmlPath: string): Promise<RunResult & { ok: boolean }> {
  const tmp = mkdtempSync(join(tmpdir(), 'deck-'));
  try {
    const doc = parseDocument(readFileSync(kongYmlPath, 'utf8'));
    doc.delete('_transform');
    const copy = join(tmp, 'kong.yml');
    writeFileSync(copy, doc.toString());
    const r = await run('deck', ['validate', '-s', copy], { env: { ...process.env, HOME: tmp } });
    return { ...r, ok: r.code === 0 };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

/**
 * A short line diff for assertion messages: the first `maxHunks` changed hunks, each with
 * `context` lines around it and at most `maxLines` removed/added lines shown.
 */
export function shortDiff(expected: string, actual: string, options: { context?: number; maxLines?: number; maxHunks?: number } = {}): string {
  const { context = 2, maxLines = 12, maxHunks = 3 } = options;
  const a = expected.split('\n');
  const b = actual.split('\n');
  const hunks: string[] = [];
  let i = 0;
  let j = 0;
  let extra = 0;
  for (;;) {
    while (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    }
    if (i >= a.length && j >= b.length) break;
    // Resynchronise: the nearest (ei, ej) past the change where 3 lines (or the ends) agree again.
    let end: [number, number] = [a.length, b.length];
    search: for (let d = 1; d <= 400; d++) {
      for (let ei = i; ei <= i + d; ei++) {
        const ej = j + d - (ei - i);
        if (ei > a.length || ej > b.length) continue;
        let k = 0;
        while (k < 3 && ei + k < a.length && ej + k < b.length && a[ei + k] === b[ej + k]) k++;
        if (k === 3 || (ei + k === a.length && ej + k === b.length)) {
          end = [ei, ej];
          break search;
        }
      }
    }
    if (hunks.length === maxHunks) extra++;
    else {
      const removed = a.slice(i, end[0]);
      const added = b.slice(j, end[1]);
      const lines = [`@@ line ${i + 1} @@`];
      for (let k = Math.max(0, i - context); k < i; k++) lines.push(`  ${a[k]}`);
      for (const l of removed.slice(0, maxLines)) lines.push(`- ${l}`);
      if (removed.length > maxLines) lines.push(`- ... (${removed.length - maxLines} more)`);
      for (const l of added.slice(0, maxLines)) lines.push(`+ ${l}`);
      if (added.length > maxLines) lines.push(`+ ... (${added.length - maxLines} more)`);
      for (let k = end[0]; k < Math.min(a.length, end[0] + context); k++) lines.push(`  ${a[k]}`);
      hunks.push(lines.join('\n'));
    }
    [i, j] = end;
  }
  if (hunks.length === 0) return '(identical)';
  if (extra > 0) hunks.push(`(${extra} more changed hunk(s))`);
  return hunks.join('\n');
}
