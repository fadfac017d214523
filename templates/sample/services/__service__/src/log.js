// Structured logs: one JSON object per line on stdout (stderr for errors), so Docker, PM2 and any
// log shipper can parse them. Every line has time, level and service; request lines add the
// request id the gateway set (X-Request-ID), method, path, status and duration.
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(service, level = 'info') {
  const threshold = LEVELS[level] ?? LEVELS.info;
  const write = (lvl, msg, fields = {}) => {
    if (LEVELS[lvl] < threshold) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level: lvl, service, msg, ...fields });
    (LEVELS[lvl] >= LEVELS.error ? process.stderr : process.stdout).write(line + '\n');
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
  };
}

// A request id from the gateway is kept when it looks like one (no log injection); else a new one.
const REQUEST_ID = /^[A-Za-z0-9._:#-]{1,128}$/;
export function requestId(header, fallback) {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : fallback();
}
