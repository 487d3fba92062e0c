import { ConfigError } from './config-error.js';
import { plural } from './describe-value.js';
import { displayPath, loadConfig, resolveConfigFile } from './load-config.js';

/** Where the command writes; the CLI passes nothing (process.stdout/stderr), tests capture. */
export interface CommandOutput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processOutput: CommandOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Exit code of `yardmaster checkconfig` when the config cannot be used. */
export const CHECKCONFIG_INVALID = 2;

/**
 * `yardmaster checkconfig [file|dir]`: load and validate the config without starting
 * anything. Prints "master.config.ts is valid: 2 workers, 1 builder, 1 scheduler" and
 * returns 0, or prints the problems to stderr and returns 2. Errors that are not config
 * errors (bugs) are rethrown.
 */
export async function checkConfigCommand(
  fileOrDirectory = '.',
  output: CommandOutput = processOutput,
): Promise<number> {
  try {
    const config = await loadConfig(fileOrDirectory);
    const file = displayPath(await resolveConfigFile(fileOrDirectory));
    const counts = [
      plural(config.workers.length, 'worker'),
      plural(config.builders.length, 'builder'),
      plural(config.schedulers.length, 'scheduler'),
    ];
    if (config.changeSources.length > 0) {
      counts.push(plural(config.changeSources.length, 'change source'));
    }
    output.stdout(`${file} is valid: ${counts.join(', ')}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    output.stderr(`${error.message}\n`);
    return CHECKCONFIG_INVALID;
  }
}
