// The `dreamlake` command from the sources (bin/dreamlake.js runs the built copy): for tests that spawn it.
import { main } from '../../src/cli/main.js';

main(process.argv).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
