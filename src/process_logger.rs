//! The process' logger: engine logs to stderr when `BAILEYS_SHARD_LOG` asks for them (in
//! `RUST_LOG` syntax: `info`, `whatsapp_rust=debug`, ...; nothing is written to files), and
//! every engine warning and error to the shard it concerns (shard-core's `engine_scope`), which
//! reports what the engine only logs and hands the rest to the shard's `logger`.

use log::{LevelFilter, Log, Metadata, Record};

struct ProcessLogger {
    stderr: env_logger::Logger,
}

impl Log for ProcessLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::Level::Warn || self.stderr.enabled(metadata)
    }

    fn log(&self, record: &Record) {
        if self.stderr.matches(record) {
            self.stderr.log(record);
        }
        shard_core::engine_scope::observe(record);
    }

    fn flush(&self) {
        self.stderr.flush();
    }
}

pub fn install() {
    let stderr = env_logger::Builder::from_env(env_logger::Env::new().filter("BAILEYS_SHARD_LOG")).build();
    let level = stderr.filter().max(LevelFilter::Warn);
    if log::set_boxed_logger(Box::new(ProcessLogger { stderr })).is_ok() {
        log::set_max_level(level);
    }
}
