// The error of a study config or of the flags that stand for one: the CLI prints its message, exits 2.

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
