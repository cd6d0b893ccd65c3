/** `cloister` as a child process straight from the sources (no build): used to kill a node for real. */
import { main } from "../../src/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
