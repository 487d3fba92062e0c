/** The `yardmaster` command: start, worker, checkconfig, reconfig, demo. */
import { parseStartOptions, START_HELP, UsageError } from './cli-options.js';
import { runMaster } from './run-master.js';
import { YardmasterError } from './errors.js';
import { createLogger } from './logger.js';

export const VERSION = '0.1.0';

const HELP = `Usage: yardmaster <command> [options]

Commands:
  start         run a master (yardmaster start --help for its options)
  worker        run a worker (yardmaster worker --help)
  checkconfig   validate a master.config.ts: yardmaster checkconfig FILE
  sendchange    announce a change to a running master (yardmaster sendchange --help)
  reconfig      reload the config of a running master: yardmaster reconfig --basedir DIR
  demo          a master on the embedded defaults with a local worker (what npm start runs)

  yardmaster --version    print the version
`;

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(HELP);
        return command === undefined ? 2 : 0;
      case '--version':
      case '-v':
        process.stdout.write(`yardmaster ${VERSION}\n`);
        return 0;
      case 'start': {
        const options = parseStartOptions(rest, env);
        if (options.help) {
          process.stdout.write(START_HELP);
          return 0;
        }
        return await runMaster(options, createLogger());
      }
      case 'reconfig': {
        // Each command's own modules load when it runs: a master does not carry them.
        const { reconfigCommand } = await import('./reconfig-command.js');
        return await reconfigCommand(rest, env);
      }
      case 'demo': {
        const options = parseStartOptions(rest, env);
        if (options.help) {
          process.stdout.write(START_HELP.replace('yardmaster start', 'yardmaster demo'));
          return 0;
        }
        const { runDemo } = await import('./demo.js');
        return await runDemo(options);
      }
      case 'worker': {
        const { workerMain } = await import('@yardmaster/worker');
        return await workerMain(rest, env);
      }
      case 'sendchange': {
        const { sendchangeCommand } = await import('./changes/sendchange-command.js');
        return await sendchangeCommand(rest, env);
      }
      case 'checkconfig': {
        if (rest.includes('--help') || rest.includes('-h')) {
          process.stdout.write(
            'Usage: yardmaster checkconfig [FILE|DIR]\n\nValidates a master config; exit status 0 when valid, 2 with every problem listed otherwise.\n',
          );
          return 0;
        }
        const { checkConfigCommand } = await import('./config/checkconfig.js');
        return await checkConfigCommand(rest[0] ?? env.YARDMASTER_CONFIG ?? process.cwd());
      }
      default:
        process.stderr.write(`yardmaster: unknown command "${command}"\n\n${HELP}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`yardmaster: ${error.message}\n`);
      return 2;
    }
    if (error instanceof YardmasterError) {
      process.stderr.write(`yardmaster: ${error.message}\n`);
      return error.code.startsWith('config') ? 2 : 1;
    }
    throw error;
  }
}
