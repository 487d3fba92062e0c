/**
 * `yardmaster sendchange` (Buildbot's `buildbot sendchange`): announces one change to a
 * running master by posting it to its `/change_hook/base` (which `www.changeHooks.base`
 * must enable). Files are the arguments after the options.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseArgs } from 'node:util';

export const SENDCHANGE_HELP = `Usage: yardmaster sendchange --master URL --who NAME [options] [FILE...]

Sends a change to a master's change hook (POST /change_hook/base; the master enables it
with www: { changeHooks: { base: {} } }). The FILEs are the files the change touched.

Options:
  --master URL         the master's web port: http://host:8010 (or host:8010)   YARDMASTER_MASTER_URL
  --auth USER:PASS     HTTP Basic user and password of changeHooks.base.auth     YARDMASTER_SENDCHANGE_AUTH
  -W, --who NAME       author of the change (required)
  -r, --revision REV   revision
  -b, --branch NAME    branch
  -R, --repository URL repository
  -P, --project NAME   project
  -C, --category NAME  category
  --codebase NAME      codebase
  --revlink URL        link to the revision
  -c, --comments TEXT  comments (the commit message)
  -w, --when SECONDS   when the change happened (epoch seconds; default: now)
  -p, --property NAME:VALUE  a change property (repeatable)
  -h, --help           show this help
`;

interface Output {
  out(text: string): void;
  err(text: string): void;
}

const STDIO: Output = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

function post(
  url: URL,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `yardmaster sendchange ARGS`; returns the exit status (0 sent, 1 refused, 2 usage). */
export async function sendchangeCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  output: Output = STDIO,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        master: { type: 'string' },
        auth: { type: 'string' },
        who: { type: 'string', short: 'W' },
        revision: { type: 'string', short: 'r' },
        branch: { type: 'string', short: 'b' },
        repository: { type: 'string', short: 'R' },
        project: { type: 'string', short: 'P' },
        category: { type: 'string', short: 'C' },
        codebase: { type: 'string' },
        revlink: { type: 'string' },
        comments: { type: 'string', short: 'c' },
        when: { type: 'string', short: 'w' },
        property: { type: 'string', short: 'p', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    output.err(`yardmaster sendchange: ${(error as Error).message}\n\n${SENDCHANGE_HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    output.out(SENDCHANGE_HELP);
    return 0;
  }
  const master = values.master ?? env.YARDMASTER_MASTER_URL;
  const usage = (message: string) => {
    output.err(`yardmaster sendchange: ${message}\n\n${SENDCHANGE_HELP}`);
    return 2;
  };
  if (master === undefined || master === '') return usage('--master is required');
  if (values.who === undefined || values.who === '') return usage('--who is required');
  const properties: Record<string, string> = {};
  for (const property of values.property ?? []) {
    const at = property.indexOf(':');
    if (at <= 0) return usage(`--property expects NAME:VALUE, got "${property}"`);
    properties[property.slice(0, at)] = property.slice(at + 1);
  }
  if (values.when !== undefined && !/^\d+(\.\d+)?$/.test(values.when)) {
    return usage(`--when expects epoch seconds, got "${values.when}"`);
  }
  let url: URL;
  try {
    url = new URL('/change_hook/base', /^https?:\/\//.test(master) ? master : `http://${master}`);
  } catch {
    return usage(`--master: "${master}" is not a URL such as http://host:8010`);
  }
  const change = {
    author: values.who,
    revision: values.revision,
    branch: values.branch,
    repository: values.repository ?? '',
    project: values.project ?? '',
    category: values.category,
    codebase: values.codebase ?? '',
    revlink: values.revlink,
    comments: values.comments ?? '',
    when_timestamp: values.when === undefined ? undefined : Number(values.when),
    files: positionals,
    properties,
  };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const auth = values.auth ?? env.YARDMASTER_SENDCHANGE_AUTH;
  if (auth !== undefined && auth !== '') {
    headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
  }
  let response: { status: number; text: string };
  try {
    response = await post(url, JSON.stringify(change), headers);
  } catch (error) {
    output.err(
      `yardmaster sendchange: could not reach ${url.origin}: ${(error as Error).message}; check --master\n`,
    );
    return 1;
  }
  if (response.status === 202) {
    output.out(`change sent to ${url.origin}: ${response.text}\n`);
    return 0;
  }
  output.err(
    `yardmaster sendchange: the master refused the change (HTTP ${response.status}): ${response.text}\n`,
  );
  return 1;
}
