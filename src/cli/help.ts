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
  --nginx-version <v>    render nginx for this version (an nginx on a host, e.g. 1.22.1)
                         default: the pinned image's
  --registry <host/path> where CI pushes the service images   default: ghcr.io/<name>
  --process-manager <pm> node | pm2 (pm2-runtime in images)   default: node
                         ecosystem.config.cjs runs every service under PM2 on a host either way
  --hooks <kind>         pre-commit | husky (+ lint-staged)   default: pre-commit
  --no-sample            no runnable sample service code (Dockerfiles are still written)

Team templates
  --preset <file.yaml>   answers a team presets (any infra-stack.yaml field, including
                         services and templates); flags win over it
  --templates <dir>      a folder laid out like the built-in templates/: a file there
                         (e.g. docker/compose.yaml.hbs) replaces the built-in one of the same
                         path, a new file is added. Recorded in infra-stack.yaml, so later
                         runs use it too

Behaviour
  -y, --yes              take the defaults for every answer not given (no questions)
  --dry-run              print the plan (CREATE, UPDATE, CONFLICT...) and write nothing
  --json                 print the plan or the result as JSON
  --no-git               skip git init and the first commit
  --no-install           skip npm install in each service
  --force                write into a non-empty directory (files that differ are not
                         overwritten: their new version goes beside them as *.infra-stack-new)
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

Exit codes: 0 done, 1 conflicts (everything else applied), 2 bad input (nothing written),
130 interrupted (nothing written).
`;

export const INFRA_STACK_HELP = `infra-stack: keep a generated repository's infrastructure up to date.

Usage
  infra-stack add service <name> [--kind api|web|worker] [--port N] [--path /p] [--uses list]
  infra-stack update
  (run inside the repository, next to infra-stack.yaml, or pass --dir)

Commands
  add service <name>   adds the service to infra-stack.yaml and re-renders every file it
                       touches: compose, gateway routes, its Dockerfile and sample, CI
                       matrices, PM2, health checks, README, and k8s/ for target k8s
  update               re-renders everything from infra-stack.yaml as it is (after you
                       edited it, or after upgrading create-infra-stack)

Flags
  --kind <kind>        api | web | worker (add service; default guessed from the name)
  --port <n>           1024-65535 (add service; default: the first free port from 3000)
  --path </p>          route behind the gateway (add service; default /<name>, / for a
                       first web service; workers are not routed)
  --uses <list>        what it connects to: database,cache,queue,search or fewer, or
                       none (add service; default: everything the stack has). Only
                       those get its credentials, compose dependencies and k8s flows
  --dir <path>         the repository (default: the current directory)
  --dry-run            print the plan and write nothing
  --json               print the plan or the result as JSON
  -h, --help           this help
  -v, --version        the version

A file you edited is never overwritten: if the generator has a new version of it, that
version is written beside yours as <file>.infra-stack-new and the command exits 1 after
applying everything else. A second run with the same inputs changes nothing.

Examples
  npx infra-stack add service billing --kind api --port 3100
  npx infra-stack add service mailer --kind worker --uses queue --dry-run
  npx infra-stack update --json

Exit codes: 0 done, 1 conflicts, 2 bad input (nothing written).
`;
