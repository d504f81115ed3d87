// `kontext-relay secret [NAME…]`: fresh values for the secrets, as `NAME=value` lines for an env file
// (every secret, or the ones named), or `--value` for one bare value.
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { GENERATED_SECRETS, type GeneratedSecretName, generateSecret } from '../../tokens/generate-secret.js';

export function registerSecret(program: Command): void {
  program
    .command('secret')
    .description(`print fresh secrets in the right formats (${GENERATED_SECRETS.join(', ')})`)
    .argument('[names...]', 'only these variables')
    .option('--value', 'print the bare value of the one variable named')
    .action((names: string[], o: { value?: boolean }) => {
      const unknown = names.filter((n) => !(GENERATED_SECRETS as readonly string[]).includes(n));
      if (unknown.length)
        throw new ConfigError(`unknown secret ${unknown.join(', ')}: one of ${GENERATED_SECRETS.join(', ')}`);
      const chosen = (names.length ? names : GENERATED_SECRETS) as readonly GeneratedSecretName[];
      if (o.value) {
        if (chosen.length !== 1) throw new ConfigError('--value needs exactly one variable name');
        console.log(generateSecret(chosen[0]!));
        return;
      }
      for (const n of chosen) console.log(`${n}=${generateSecret(n)}`);
    });
}
