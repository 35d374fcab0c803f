import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { processContext } from './context';
import { localCommand } from './commands/local';
import { logsCommand } from './commands/logs';
import { devCommand, nimbusCommand, supervisorCommand } from './commands/daemons';
import { activationCommand, killCommand, listCommand, monitorCommand, rebalanceCommand, submitCommand } from './commands/cluster';

/** The `squall` command line (Storm's verbs). */
export function buildCli(argv: string[], ctx = processContext()) {
  return yargs(argv)
    .scriptName('squall')
    .usage('$0 <command> [options]')
    .command(localCommand(ctx))
    .command(submitCommand(ctx))
    .command(listCommand(ctx))
    .command(killCommand(ctx))
    .command(activationCommand(ctx, 'activate'))
    .command(activationCommand(ctx, 'deactivate'))
    .command(rebalanceCommand(ctx))
    .command(monitorCommand(ctx))
    .command(logsCommand(ctx))
    .command(nimbusCommand(ctx))
    .command(supervisorCommand(ctx))
    .command(devCommand(ctx))
    .demandCommand(1, 'Name a command (see --help).')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg, err, y) => {
      if (err) throw err;
      void y;
      process.stderr.write(`squall: ${msg}\nRun "squall --help" for usage.\n`);
      process.exit(2);
    });
}

export function main(): void {
  void buildCli(hideBin(process.argv)).parseAsync();
}

if (require.main === module) main();
