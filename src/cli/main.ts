// The `tms` command line: one sub-command per file in commands/.

import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { DEFAULT_LOCKSTEP } from "../core/lockstep.js";
import { LR_SCHEDULES, type LrSchedule, OPTIMIZER_NAMES, type OptimizerName } from "../core/optimizer.js";
import { installKernelCache } from "../experiments/kernel-cache.js";
import { installNativeKernel } from "../experiments/native-kernel.js";
import { PACKAGE_ROOT, VERSION } from "../experiments/package-root.js";
import { PRESET_IDS } from "../experiments/presets.js";
import { RUN_DEFAULTS } from "../experiments/run.js";
import { addQueueCommands } from "./commands/queue.js";
import { guard, oneLine } from "./errors.js";
import { choiceFlag, intFlag, numberList, positiveFlag } from "./parse.js";

/** `tms run` is `tms sweep --config examples/seed-study.toml`: the study lives in one documented file. */
const SEED_STUDY_CONFIG = join(PACKAGE_ROOT, "examples", "seed-study.toml");

// Each command's module loads when that command runs: the report's renderers (vega, vega-lite, docx,
// resvg), the server and the sweep machinery would otherwise cost every command their start-up.
const commands = {
  activations: () => import("./commands/activations.js"),
  export: () => import("./commands/export.js"),
  report: () => import("./commands/report.js"),
  serve: () => import("./commands/serve.js"),
  show: () => import("./commands/show.js"),
  sweep: () => import("./commands/sweep.js"),
  train: () => import("./commands/train.js"),
};

/**
 * Runs a sweep command with its local workers started while the sweep machinery loads and plans
 * (experiments/sweep-pool.ts); started workers it did not take are stopped however it ends, so that a bad
 * config run in-process (tests, the explorer) leaves no thread behind.
 */
async function withSweep(
  o: { queue?: string; workers?: number },
  run: (m: Awaited<ReturnType<typeof commands.sweep>>) => Promise<void>,
): Promise<void> {
  const pool = o.queue ? undefined : await import("../experiments/sweep-pool.js");
  // without --workers the sweep sizes its pool by the study's work (experiments/sweep.ts workersFor): one
  // worker is started early, the others only if the plan wants them
  pool?.prestartSweepWorkers(Math.min(o.workers ?? 1, availableParallelism()));
  try {
    await run(await commands.sweep());
  } finally {
    pool?.stopUnusedSweepWorkers();
  }
}

export function buildProgram(): Command {
  const program = new Command("tms")
    .description("tms-lab: Toy Models of Superposition for 27 activation functions — train, sweep, report.")
    .version(VERSION)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`${oneLine(text.trimEnd())}\n`) })
    .showHelpAfterError("(run with --help for usage)");

  program
    .command("activations")
    .description("list the activation functions, or evaluate them (float64) at given points")
    .option("--json", "machine-readable output")
    .option("--eval <xs>", "comma-separated inputs; for the softmax family one vector", numberList("--eval"))
    .option("--activation <ids>", "only these activations (comma-separated; name=formula for a formula)")
    .option("--properties", "properties computed from each definition (bounded, odd, smooth, …)")
    .action((o) => guard(async () => (await commands.activations()).activationsCommand(o)));

  program
    .command("train")
    .description("train one preset with one activation and print per-instance results")
    .addOption(new Option("--preset <id>", `one of ${PRESET_IDS.join(", ")}`).default("demo"))
    .option(
      "--activation <id>",
      "activation id (see `tms activations`), or name=formula, e.g. 'q=x*sigmoid(1.702*x)'",
      "relu",
    )
    .option("--steps <n>", "training steps", intFlag("--steps", 1), RUN_DEFAULTS.steps)
    .option("--batch-size <n>", "samples per step", intFlag("--batch-size", 1), RUN_DEFAULTS.batchSize)
    .option("--lr <x>", "learning rate", positiveFlag("--lr"), RUN_DEFAULTS.lr)
    .option(
      "--lr-schedule <s>",
      LR_SCHEDULES.join("|"),
      choiceFlag<LrSchedule>("--lr-schedule", LR_SCHEDULES),
      RUN_DEFAULTS.lrSchedule,
    )
    .option(
      "--optimizer <name>",
      OPTIMIZER_NAMES.join("|"),
      choiceFlag<OptimizerName>("--optimizer", OPTIMIZER_NAMES),
      "adamw",
    )
    .option("--seed <n>", "random seed", intFlag("--seed"), RUN_DEFAULTS.seed)
    .option("--dtype <d>", "f32|f64", choiceFlag("--dtype", ["f32", "f64"] as const), RUN_DEFAULTS.dtype)
    .option(
      "--softmax-dim <d>",
      "features|batch",
      choiceFlag("--softmax-dim", ["features", "batch"] as const),
      RUN_DEFAULTS.softmaxDim,
    )
    .option(
      "--kernel <k>",
      "auto|reference|sparse",
      choiceFlag("--kernel", ["auto", "reference", "sparse"] as const),
      "auto",
    )
    .option("--json", "print one JSON object")
    .action((o) => guard(async () => (await commands.train()).trainCommand(o)));

  const sweepOptions = (cmd: Command, out: string) =>
    cmd
      .option("--seeds <list>", "seeds: a range 0-4 or a list 0,3,7")
      .option("--steps <n>", "training steps per cell", intFlag("--steps", 1))
      .option("--dtype <list>", "f32, f64 or f32,f64 (f64 cells are stored as variant ~f64)")
      .option("--softmax-dim <list>", "features, batch or features,batch (softmax family only)")
      .option("--snapshots <n>", "also keep W and b at n log-spaced steps", intFlag("--snapshots"))
      .option(
        "--workers <n>",
        "worker threads (default: as many as the study's work pays for, at most one per core)",
        intFlag("--workers", 1),
      )
      .option(
        "--lockstep <n>",
        `train up to n cells of one model and seed side by side on shared batches (default ${DEFAULT_LOCKSTEP}; 1: off)`,
        intFlag("--lockstep", 1),
      )
      .option("--out <dir>", "results store directory", out)
      .option("--force", "recompute cells already in the store");

  sweepOptions(
    program
      .command("sweep")
      .description("train every cell of a study (presets × activations × seeds) into a results store")
      .option("--config <file>", "study config (.toml or .json); flags override it")
      .option(
        "--presets <ids>",
        `comma-separated: ${PRESET_IDS.join(", ")}, seed-study or a config experiment`,
      )
      .option("--activations <ids>", "all, or comma-separated ids and name=formula entries")
      .option("--queue <url>", "run the cells on `tms worker`s through Redis: redis://HOST:PORT")
      .option(
        "--attempts <n>",
        "with --queue: tries per cell before it fails (default 3)",
        intFlag("--attempts", 1),
      ),
    "results",
  ).action((o) => guard(() => withSweep(o, async (m) => void (await m.sweepCommand(o)))));

  sweepOptions(
    program
      .command("run")
      .description(
        "the main job: the seed write-up's study (intro + demo, 27 activations, 3 seeds) into ./results",
      )
      .option("--quick", "1 000 steps instead of 10 000 (a smoke test)"),
    "results",
  ).action((o) =>
    guard(async () => {
      const steps = o.steps ?? (o.quick ? 1000 : undefined);
      await withSweep(
        o,
        async (m) => void (await m.sweepCommand({ ...o, config: SEED_STUDY_CONFIG, steps })),
      );
      // The report of whatever the store holds (also after failed cells), unless the run was interrupted.
      if (process.exitCode !== 130 && process.exitCode !== 143)
        await (await commands.report()).reportCommand(o.out);
    }),
  );

  program
    .command("show <dir>")
    .description("what a results store holds and what is missing")
    .option("--preset <id>", "only this preset")
    .option("--activation <id>", "only this activation")
    .action((dir, o) => guard(async () => (await commands.show()).showCommand(dir, o)));

  program
    .command("serve [dir]")
    .description("the explorer in the browser: train live, and browse the results store DIR (read-only)")
    .option("--port <n>", "port (0: any free one)", intFlag("--port"), 8080)
    .option("--host <host>", "address to listen on (0.0.0.0: the whole network)", "127.0.0.1")
    .action((dir, o) => guard(async () => (await commands.serve()).serveCommand(dir, o)));

  addQueueCommands(program);

  program
    .command("report <dir>")
    .description("findings, tables, figures and documents (html, md, docx) from a results store; no training")
    .option("--out <dir>", "output directory (default: <dir>/report)")
    .option("--format <list>", "comma-separated: html,md,docx,csv,svg,png (default: all)")
    .option("--quiet", "no progress output")
    .action((dir, o) => guard(async () => void (await (await commands.report()).reportCommand(dir, o))));

  program
    .command("export <dir>")
    .description("the store as one tidy table for pandas/R/DuckDB (columns: README, From Python)")
    .option("--out <file>", "output file, - for standard output (default: <dir>/<level>s.<format>)")
    .option("--format <f>", "csv|parquet|jsonl (default: from --out's extension, else csv)")
    .option("--level <l>", "instance|feature: one row per instance, or per feature", "instance")
    .option("--quiet", "no progress output")
    .action((dir, o) => guard(async () => void (await commands.export()).exportCommand(dir, o)));

  return program;
}

/** Runs the command line `argv` (node's: [node, script, ...args]); the outcome is in process.exitCode. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  installKernelCache();
  installNativeKernel();
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has already printed its message; usage errors exit 2, help and version 0.
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    await guard(() => {
      throw e;
    });
  }
}
