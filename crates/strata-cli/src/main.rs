//! `strata`: the command-line tool.

use anyhow::Result;
use clap::{Parser, Subcommand};
use strata_backend::DeviceKind;

/// Continual learning of large language models: GainLoRA, OSFT, OA-Adapter and baselines.
#[derive(Parser)]
#[command(name = "strata", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the compiled backends and the default device.
    Info,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Info => {
            let compiled: Vec<String> = DeviceKind::compiled().iter().map(|k| k.to_string()).collect();
            println!("strata {}", env!("CARGO_PKG_VERSION"));
            println!("compiled backends: {}", compiled.join(", "));
            println!("default backend:   {}", DeviceKind::best_compiled());
        }
    }
    Ok(())
}
