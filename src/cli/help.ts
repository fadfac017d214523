import { SECRET_FILES } from '../model/secret-files.js';

export const CREATE_HELP = `create-infra-stack: a new repository with its whole infrastructure.

Usage
  npm create infra-stack [dir] -- [flags]
  npx create-infra-stack [dir] [flags]

Asks for what the flags do not give (services, gateway, queue, search, target, domain),
then writes: Dockerfiles, compose.yaml (+ development and production overrides), the gateway
config, .env.example and a .env with fresh secrets, a README, and infra-stack.yaml, the answers
every later run starts from.

Answers
  --services <list>      name[:kind[:port]],...   kind: api | web | worker
                         default: api:api,web:web,worker:worker (ports from 3000 up)
  --gateway <name>       nginx | kong                         default: nginx
  --queue <name>         rabbitmq | sqs (ElasticMQ locally)   default: rabbitmq
  --search <name>        meilisearch | opensearch             default: meilisearch
  --target <name>        compose | k8s                        default: compose
  --domain <host>        public hostname                      default: <name>.localhost
  --database <name>      postgres | none                      default: postgres
  --cache <name>         redis | none                         default: redis
  --node <major>         20 | 22 | 24 | 26 (Node.js image)    default: 24
  --nginx-version <v>    render nginx for this version (an nginx on a host, e.g. 1.22.1;
                         1.13.0 or later)
                         default: the pinned image's
  --registry <host/path> where CI pushes the service images   default: ghcr.io/<name>
  --process-manager <pm> node | pm2 (pm2-runtime in images)   default: node
                         ecosystem.config.cjs runs every service under PM2 on a host either way
  --hooks <kind>         pre-commit | husky (+ lint-staged)   default: pre-commit
  --monitoring <kind>    prometheus | none: Prometheus + Grafana (127.0.0.1:3030) in the
                         compose profile monitoring, alerts, a dashboard; k8s: a
                         Prometheus Operator component           default: none
  --storage <kind>       s3 | none: S3 object storage (SeaweedFS locally, S3 in
                         production; every service uses it unless its uses: leaves it
                         out)                                    default: none
  --no-sample            no runnable sample service code (Dockerfiles are still written)

Team templates
  --preset <file.yaml>   a team preset's answers (any infra-stack.yaml field, including
                         services and templates); flags win over it
  --preset <package>     the same from an npm package (e.g. @acme/infra-preset; found in
                         node_modules here, else fetched for the run): preset.yaml at its root.
                         Recorded in infra-stack.yaml and pinned in package.json; its
                         templates are used on every run, so bumping it and running
                         npx infra-stack update merges the team's new templates in
  --templates <dir>      a folder laid out like the built-in templates/: a file there
                         (e.g. docker/compose.yaml.hbs) replaces the built-in one of the same
                         path, a new file is added. Recorded in infra-stack.yaml, so later
                         runs use it too

Behaviour
  -y, --yes              take the defaults for every answer not given (no questions)
  --dry-run              print the plan (CREATE, UPDATE, CONFLICT...) and write nothing
  --json                 print the plan or the result as JSON
  --verbose              list every file written (a terminal otherwise shows a summary)
  --no-git               skip git init and the first commit (made only if git ignores
                         every secret, key and dump:
                         ${SECRET_FILES.filter((pattern) => !pattern.startsWith('!')).join(', ')})
  --no-install           skip npm install in each service
  --force                write into a non-empty directory (files that differ are not
                         overwritten: their new version goes beside them as *.infra-stack-new;
                         the first commit takes only the files create wrote)
  -h, --help             this help
  -v, --version          the version

Without a terminal (CI, pipes) nothing is asked: pass every answer or --yes, else it exits 2.

Examples
  npm create infra-stack my-app
  npx create-infra-stack my-app --yes
  npx create-infra-stack shop --services api:api:3000,web:web:3001,mailer:worker \\
      --gateway kong --queue sqs --search opensearch --domain shop.example.com --yes
  npx create-infra-stack my-app --yes --dry-run --json
  npx create-infra-stack billing-svc --preset ../platform/infra-preset.yaml --yes
  npx create-infra-stack billing-svc --preset @acme/infra-preset --yes

Exit codes: 0 done, 1 conflicts (everything else applied), a secret git would commit (no
first commit made) or a problem of the machine (permissions, a full disk, a file in the way),
2 bad input (nothing written), 130 interrupted (Ctrl-C; 143 for SIGTERM: each waits for the
writes under way).
A failure is one line; INFRA_STACK_DEBUG=1 adds its stack trace, for a bug report.
`;

export const INFRA_STACK_HELP = `infra-stack: keep a generated repository's infrastructure up to date.

Usage
  infra-stack add service <name> [--kind api|web|worker] [--port N] [--path /p] [--uses list]
                         [--secrets A,B] [--env K=V ...]
  infra-stack remove service <name>
  infra-stack update
  infra-stack check [--json]
  infra-stack diff
  infra-stack status [--json]
  (run anywhere inside the repository: infra-stack.yaml is found in the folder or above it)

Commands
  add service <name>     adds the service to infra-stack.yaml and re-renders every file it
                         touches: compose, gateway routes, its Dockerfile and sample, CI
                         matrices, PM2, health checks, README, and k8s/ for target k8s
  remove service <name>  takes it out of infra-stack.yaml and every generated file; its
                         files you never edited are deleted (empty folders too), the ones
                         you edited are kept and listed
  update                 re-renders everything from infra-stack.yaml as it is (after you
                         edited it, or after upgrading create-infra-stack or the preset)
  check                  exit 0 when update would write nothing and no conflict is left,
                         else 1, listing each file: edited by you, generator has changes,
                         both, missing, conflict pending. The generated CI runs it
  diff                   the unified diff update would write (coloured on a terminal)
  status                 services (kind, port, route, what each uses), gateway, queue,
                         search, target, and the generator version that wrote the repository

Flags
  --kind <kind>        api | web | worker (add service; default guessed from the name)
  --port <n>           1024-65535 (add service; default: the first free port from 3000)
  --path </p>          route behind the gateway (add service; default /<name>, / for a
                       first web service; workers are not routed)
  --uses <list>        what it connects to: database,cache,queue,search,storage or fewer, or
                       none (add service; default: everything the stack has). Only
                       those get its credentials, compose dependencies and k8s flows
  --secrets <A,B>      its own secrets, e.g. JWT_ACCESS_SECRET,JWT_REFRESH_SECRET (add
                       service): fresh random values (32 bytes) in .env and each k8s
                       secrets.env, given to this service only; default: none
  --env <K=V>          a plain setting of its own, e.g. LOG_LEVEL=info (add service;
                       repeat the flag for more); default: none
  --templates <dir>    the team template folder, when infra-stack.yaml's templates: is
                       outside the repository (a committed file may only point inside it)
  --dir <path>         the repository, or a folder inside it (default: the current one)
  --dry-run            print the plan and write nothing; exits as the real run would
  --json               print the plan or the result as JSON
  -h, --help           this help
  -v, --version        the version

A file you edited is never overwritten: the generator's changes are merged into it (YAML and
JSON key by key, other files line by line). Where your edit and a change touch the same place,
the file gets git-style conflict markers (<<<<<<< yours ... >>>>>>> create-infra-stack), the
command exits 1 after applying everything else, and check fails until you remove them.
A second run with the same inputs changes nothing.

The generator is pinned in the repository's package.json: run \`npm install\` once, and
npx infra-stack runs that version. Upgrade: npm install -D create-infra-stack@<version>,
then npx infra-stack update. A repository written by a newer version is refused (exit 2).

Examples
  npx infra-stack add service billing --kind api --port 3100
  npx infra-stack add service mailer --kind worker --uses queue --dry-run
  npx infra-stack add service auth --secrets JWT_ACCESS_SECRET,JWT_REFRESH_SECRET --env LOG_LEVEL=info
  npx infra-stack remove service billing
  npx infra-stack update --json
  npx infra-stack check
  npx infra-stack diff

Exit codes: 0 done, 1 conflicts (check: drift) or a problem of the machine (permissions, a
full disk, another run holding the lock), 2 bad input (nothing written). A failure is one
line; INFRA_STACK_DEBUG=1 adds its stack trace.
`;
