//! The `kessai` binary as a process: run to completion, or started and
//! held by a guard until its ready line.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Output, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::PROCESS_TIMEOUT;

/// The `kessai` binary under test.
#[derive(Debug, Clone)]
pub struct Kessai {
    bin: PathBuf,
}

impl Kessai {
    /// The binary at `bin`; the caller knows where its build put it.
    pub fn new(bin: impl Into<PathBuf>) -> Self {
        Self { bin: bin.into() }
    }

    /// `kessai`, ready for arguments: no stdin, killed if dropped.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        // The tests pass everything on the command line; a developer's
        // environment must not point them at another database, key or
        // widget, nor change what the logs contain.
        cmd.env_remove("KESSAI_DATABASE_URL")
            .env_remove("KESSAI_LISTEN")
            .env_remove("KESSAI_KEY_FILE")
            .env_remove("KESSAI_WIDGET_DIR")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    /// Runs `kessai ARGS` to completion, bounded by [`PROCESS_TIMEOUT`].
    pub async fn try_run(&self, args: &[&str]) -> anyhow::Result<Output> {
        let child = self
            .command()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output();
        tokio::time::timeout(PROCESS_TIMEOUT, child)
            .await
            .map_err(|_| anyhow!("kessai {args:?} did not finish within {PROCESS_TIMEOUT:?}"))?
            .with_context(|| format!("spawning {}", self.bin.display()))
    }

    /// [`Kessai::try_run`], panicking if the command could not run.
    pub async fn run(&self, args: &[&str]) -> Output {
        must(self.try_run(args).await)
    }

    /// Starts `kessai ARGS` with stderr in `log`, and waits at most `within`
    /// for the one JSON line it prints once ready (`kessai serve`,
    /// `kessai demo`; PROTOCOL sections 9 and 10).
    pub async fn try_start(&self, args: &[&str], log: &Path, within: Duration) -> anyhow::Result<Running> {
        let log_file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut child = self
            .command()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .with_context(|| format!("spawning {}", self.bin.display()))?;
        let stdout = child.stdout.take().context("kessai's stdout is not piped")?;
        let mut lines = BufReader::new(stdout).lines();
        // On every error below the child is dropped, which kills it.
        let line = match tokio::time::timeout(within, lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Err(_) => bail!(
                "no ready line from kessai {args:?} within {within:?}; log:\n{}",
                log_tail(log)
            ),
            Ok(Ok(None)) => bail!("kessai {args:?} exited before it was ready; log:\n{}", log_tail(log)),
            Ok(Err(e)) => bail!("reading kessai {args:?}'s stdout: {e}; log:\n{}", log_tail(log)),
        };
        let ready: Value =
            serde_json::from_str(&line).with_context(|| format!("kessai {args:?} printed {line:?}, not JSON"))?;
        Ok(Running {
            child,
            _stdout: lines,
            ready,
            log: log.to_path_buf(),
        })
    }
}

/// A started process. Dropping the guard kills it, so a failing test never
/// leaves one behind; a panicking test also prints the end of its log.
pub struct Running {
    child: Child,
    // Held open: were the pipe closed, the process's next print would fail.
    _stdout: Lines<BufReader<ChildStdout>>,
    ready: Value,
    log: PathBuf,
}

impl Running {
    /// The JSON line the process printed once ready.
    pub fn ready(&self) -> &Value {
        &self.ready
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL (on unix `Child::kill` sends SIGKILL): no graceful shutdown,
    /// as in a crash or power cut of the process.
    pub async fn kill(mut self) {
        tokio::time::timeout(PROCESS_TIMEOUT, self.child.kill())
            .await
            .expect("the killed process did not exit")
            .expect("killing the process");
    }

    /// Sends SIGTERM (through `kill(1)`: the workspace forbids unsafe code)
    /// and waits at most `within` for the process to exit; None if it did not.
    #[cfg(unix)]
    pub async fn terminate(mut self, within: Duration) -> Option<ExitStatus> {
        let pid = self.child.id().expect("the process is running").to_string();
        let sent = tokio::time::timeout(PROCESS_TIMEOUT, Command::new("kill").args(["-TERM", &pid]).status())
            .await
            .expect("kill -TERM did not finish")
            .expect("running kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(status) => Some(status.expect("waiting for the process")),
            Err(_) => None,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if std::thread::panicking() {
            eprintln!(
                "--- end of the log of kessai ({}) ---\n{}",
                self.log.display(),
                log_tail(&self.log)
            );
        }
    }
}

/// The last few kilobytes of a log: enough to see why, short enough to read.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(8_000);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text[start..].to_string()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exactly one JSON object on one line of stdout, as PROTOCOL section 9
/// requires of the admin commands.
pub(crate) fn one_json_line(out: &Output) -> anyhow::Result<Value> {
    let text = stdout(out);
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() != 1 {
        bail!("expected one line on stdout, got {text:?} (stderr: {})", stderr(out));
    }
    let value: Value = serde_json::from_str(lines[0]).with_context(|| format!("stdout is not JSON: {text:?}"))?;
    if !value.is_object() {
        bail!("stdout is not a JSON object: {value}");
    }
    Ok(value)
}

/// The panicking form of a `try_` call: the error, with its causes, is the
/// test's failure message.
pub(crate) fn must<T>(result: anyhow::Result<T>) -> T {
    result.unwrap_or_else(|e| panic!("{e:#}"))
}
