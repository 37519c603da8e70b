//! Trainer faults: bad input files give a message naming the file; a training run stopped
//! mid-epoch (SIGTERM, SIGINT or SIGKILL) leaves the previous bundle or none, never a partial
//! one, and resuming it from its checkpoint ends where an uninterrupted run ends. SIGTERM and
//! SIGINT exit with 143 and 130 after a note on stderr; a SIGINT inherited as ignored stays
//! ignored. Every wait on a trainer has a deadline: past it the trainer is killed and the test
//! fails, naming what it waited for.

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use trainer::{data, interrupt};
use wait_timeout::ChildExt;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("trainer-faults-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const GOOD: &str = r#"{"a": ["one thing", "another thing"], "b": ["this", "that"]}"#;

fn load_err(data: &[u8], noise: Option<&[u8]>) -> String {
    let dir = temp("load");
    let d = dir.join("data.json");
    std::fs::write(&d, data).unwrap();
    let n = noise.map(|bytes| {
        let p = dir.join("noise.json");
        std::fs::write(&p, bytes).unwrap();
        p
    });
    let e = data::load(&d, n.as_deref(), 0.2, 1).expect_err("loaded a bad file");
    format!("{e:#}")
}

#[test]
fn bad_input_files_are_named() {
    let e = load_err(b"{\"a\": [\"caf\xe9 au lait\", \"x\"]}", None);
    assert!(e.contains("data.json") && e.contains("UTF-8"), "{e}");
    let e = load_err(b"", None);
    assert!(e.contains("data.json") && e.contains("empty"), "{e}");
    let e = load_err(GOOD.as_bytes(), Some(b""));
    assert!(e.contains("noise.json") && e.contains("empty"), "{e}");
    let e = load_err(GOOD.as_bytes(), Some(b"[\"ok\", \"\xff\xfe\"]"));
    assert!(e.contains("noise.json") && e.contains("UTF-8"), "{e}");
    let e = load_err(br#"{"a": ["x", "y"], "a": ["z", "w"]}"#, None);
    assert!(e.contains("data.json") && e.contains("`a`"), "{e}");
    let e = load_err(br#"{"a": ["x", "y"], "b": ["only one"]}"#, None);
    assert!(
        e.contains("data.json") && e.contains("`b`") && e.contains("1 sentence"),
        "{e}"
    );
}

/// 50 MB of negatives is accepted: the reader holds the text and the parsed strings
/// (about twice the file), nothing per sentence beyond the string itself.
#[test]
fn a_50_mb_noise_file_loads() {
    let dir = temp("big");
    let d = dir.join("data.json");
    std::fs::write(&d, GOOD).unwrap();
    let n = dir.join("noise.json");
    let sentence = "\"an off topic sentence about nothing in particular, number 0000\"";
    let count = 50_000_000 / (sentence.len() + 1) + 1;
    let mut text = String::with_capacity(50_000_100);
    text.push('[');
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&sentence.replace("0000", &format!("{:04}", i % 10_000)));
    }
    text.push(']');
    assert!(text.len() >= 50_000_000);
    std::fs::write(&n, &text).unwrap();
    drop(text);
    let ds = data::load(&d, Some(&n), 0.2, 1).unwrap();
    // Every sentence is a training or validation negative (test reuses validation's).
    assert_eq!(ds.negatives_train.len() + ds.negatives_val.len(), count);
    let _ = std::fs::remove_dir_all(&dir);
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// A trainer child process whose stderr is collected; killed if the test ends first.
struct Training {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

/// What the child's SIGINT disposition is at exec; `Inherited` keeps the test's own, which
/// is "ignored" when the tests were started from a background shell.
#[derive(Clone, Copy)]
enum Sigint {
    Inherited,
    Default,
    Ignored,
}

impl Training {
    fn start(mut cmd: Command, sigint: Sigint) -> Self {
        let handler = match sigint {
            Sigint::Inherited => None,
            Sigint::Default => Some(libc::SIG_DFL),
            Sigint::Ignored => Some(libc::SIG_IGN),
        };
        if let Some(handler) = handler {
            // SAFETY: signal(2) is async-signal-safe, as pre_exec requires.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::signal(libc::SIGINT, handler) == libc::SIG_ERR {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Self {
            child,
            stderr,
            reader: Some(reader),
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until `ready()` holds, at most `limit`; fails (killing the trainer) if it exits
    /// first or the time runs out.
    fn wait_until(&mut self, what: &str, limit: Duration, ready: impl Fn(&Self) -> bool) {
        let start = Instant::now();
        while !ready(self) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "waiting for {what}: the trainer exited ({status}):\n{}",
                    self.stderr()
                );
            }
            if start.elapsed() > limit {
                self.kill();
                panic!(
                    "waiting for {what}: not there after {limit:?}; killed the trainer:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the trainer is in its training loop (the data summary comes right before
    /// it), then a little longer.
    fn wait_until_training(&mut self) {
        self.wait_until("the trainer's data summary", STARTUP, |t| {
            t.stderr().contains("negatives")
        });
        std::thread::sleep(Duration::from_millis(500));
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "training ended early:\n{}",
            self.stderr()
        );
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own, not yet reaped, child.
        let sent = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        assert_eq!(
            sent,
            0,
            "kill({signal}): {}",
            std::io::Error::last_os_error()
        );
    }

    /// Waits for the exit, at most `limit` (killing the trainer past it); returns the status
    /// and everything the trainer wrote on stderr.
    fn finish(mut self, what: &str, limit: Duration) -> (ExitStatus, String) {
        match self.child.wait_timeout(limit).unwrap() {
            Some(status) => {
                // The pipe closed with the trainer: the reader has taken the rest.
                let _ = self.reader.take().unwrap().join();
                (status, self.stderr())
            }
            None => {
                self.kill();
                panic!(
                    "waiting for the trainer to exit ({what}): still running after {limit:?}; killed it:\n{}",
                    self.stderr()
                );
            }
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Training {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}

/// Loading the data and the table, before the first step.
const STARTUP: Duration = Duration::from_secs(120);
/// From a signal to the exit: one step and the clean-up.
const STOPPING: Duration = Duration::from_secs(30);
/// A whole short training run (debug build of the tests, two shared cores).
const TRAINING: Duration = Duration::from_secs(600);

/// Entries of `dir` that are temporary output (`.NAME.partial-PID`).
fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name.contains(".partial-"))
        .collect()
}

/// Starts a long training run into `out`, waits until it is training, sends `signal` and
/// checks the trainer's answer: 128 + signal after a note on stderr for SIGTERM and SIGINT,
/// death by the signal for SIGKILL.
fn stop_mid_training(out: &Path, signal: i32) {
    let name = interrupt::signal_name(signal);
    let mut run = Training::start(train_command(out, 100_000), Sigint::Default);
    run.wait_until_training();
    run.signal(signal);
    let (status, stderr) = run.finish(&format!("after {name}"), STOPPING);
    if signal == libc::SIGKILL {
        assert_eq!(status.signal(), Some(signal), "{status}");
        return;
    }
    assert_eq!(
        status.code(),
        Some(128 + signal),
        "{name}: {status}\n{stderr}"
    );
    // The epoch depends on how fast the machine trains; the note's form does not.
    let note = format!("{name}: training stopped in epoch ");
    let stopped = stderr
        .lines()
        .find(|line| line.starts_with(&note))
        .unwrap_or_else(|| panic!("{name}: no `{note}...` in:\n{stderr}"));
    assert!(
        stopped.contains(" of 100000, before step "),
        "{name}: {stopped}"
    );
    let fate = if out.exists() {
        "is as it was"
    } else {
        "does not exist"
    };
    assert!(
        stderr.contains(&format!("no bundle written, {} {fate}", out.display())),
        "{name}: {stderr}"
    );
}

#[test]
fn interrupted_training_leaves_the_previous_bundle_or_none() {
    for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGKILL] {
        let name = interrupt::signal_name(signal);
        let parent = temp(&format!("interrupt-{name}"));
        // No previous bundle: none afterwards.
        let out = parent.join("fresh");
        stop_mid_training(&out, signal);
        assert!(!out.exists(), "{name}: a bundle appeared");
        // A previous bundle: byte for byte the same afterwards.
        let out = parent.join("previous");
        std::fs::create_dir_all(&out).unwrap();
        for f in ["model.safetensors", "table.safetensors", "tokenizer.json"] {
            std::fs::copy(
                repo().join("assets/minilm-l6-v2/tokenizer.json"),
                out.join(f),
            )
            .unwrap();
        }
        let before = files(&out);
        stop_mid_training(&out, signal);
        assert_eq!(files(&out), before, "{name}: the previous bundle changed");
        if signal != libc::SIGKILL {
            assert_eq!(temporaries(&parent), Vec::<String>::new(), "{name}");
        }
        let _ = std::fs::remove_dir_all(&parent);
    }
}

/// A SIGINT inherited as ignored (a background shell, nohup) stays ignored; SIGTERM still
/// stops the run.
#[test]
fn an_inherited_ignored_sigint_does_not_stop_training() {
    let dir = temp("ignored-sigint");
    let mut run = Training::start(train_command(&dir.join("out"), 100_000), Sigint::Ignored);
    run.wait_until_training();
    run.signal(libc::SIGINT);
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        run.child.try_wait().unwrap().is_none(),
        "SIGINT stopped the training:\n{}",
        run.stderr()
    );
    run.signal(libc::SIGTERM);
    let (status, stderr) = run.finish("after SIGTERM", STOPPING);
    assert_eq!(status.code(), Some(143), "{status}\n{stderr}");
    assert!(stderr.contains("SIGTERM: training stopped"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The second signal does not wait for the step boundary. Both arrive while the trainer is
/// stopped (SIGSTOP), so neither can be seen by the loop before the other's handler runs.
#[test]
fn a_second_signal_exits_at_once() {
    let dir = temp("second-signal");
    let mut run = Training::start(train_command(&dir.join("out"), 100_000), Sigint::Default);
    run.wait_until_training();
    run.signal(libc::SIGSTOP);
    let pid = run.child.id();
    run.wait_until("every trainer thread stopped by SIGSTOP", STOPPING, |_| {
        all_threads_stopped(pid)
    });
    run.signal(libc::SIGTERM);
    run.signal(libc::SIGINT);
    run.signal(libc::SIGCONT);
    let (status, stderr) = run.finish("after SIGTERM and SIGINT", STOPPING);
    assert!(
        matches!(status.code(), Some(130 | 143)),
        "{status}\n{stderr}"
    );
    assert!(
        !stderr.contains("training stopped"),
        "the second signal waited for the step boundary:\n{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether every thread of `pid` is in the stopped state (`T` in /proc/PID/task/*/stat).
fn all_threads_stopped(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.filter_map(|t| t.ok()).all(|task| {
        std::fs::read_to_string(task.path().join("stat"))
            // The state follows the parenthesized command name.
            .is_ok_and(|stat| {
                stat.rsplit_once(") ")
                    .is_some_and(|(_, rest)| rest.starts_with('T'))
            })
    })
}

fn train_command(out: &Path, epochs: usize) -> Command {
    let everyday = repo().join("examples/everyday");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trainer"));
    cmd.args([
        "train",
        "--quiet",
        "--epochs",
        &epochs.to_string(),
        "--data",
    ])
    .arg(everyday.join("data.json"))
    .arg("--noise")
    .arg(everyday.join("noise.json"))
    .arg("--table")
    .arg(repo().join("assets/minilm-l6-v2"))
    .arg("--out")
    .arg(out)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    cmd
}

fn weights_and_threshold(bundle: &Path) -> (model::ModelWeights, f32) {
    let bytes = std::fs::read(bundle.join("model.safetensors")).unwrap();
    let (weights, meta) = model::ModelWeights::parse(&bytes).unwrap();
    (weights, meta.shared.threshold)
}

/// Runs a training to its end within [`TRAINING`]; returns its stderr.
fn train_to_the_end(cmd: Command, what: &str) -> String {
    let (status, stderr) = Training::start(cmd, Sigint::Inherited).finish(what, TRAINING);
    assert!(status.success(), "{what}: {status}\n{stderr}");
    stderr
}

#[test]
fn a_stopped_run_resumed_from_its_checkpoint_ends_like_an_uninterrupted_one() {
    const EPOCHS: usize = 6;
    let dir = temp("resume");
    let straight = dir.join("straight");
    train_to_the_end(train_command(&straight, EPOCHS), "the uninterrupted run");
    for signal in [libc::SIGKILL, libc::SIGTERM] {
        let name = interrupt::signal_name(signal);
        let ckpt = dir.join(format!("{name}.ckpt"));
        let checkpointed = |out: &Path| {
            let mut cmd = train_command(out, EPOCHS);
            cmd.arg("--checkpoint").arg(&ckpt);
            cmd
        };
        let stopped = dir.join(format!("stopped-{name}"));
        let mut run = Training::start(checkpointed(&stopped), Sigint::Inherited);
        // Stop it some time after the first checkpoint, before the last epoch.
        run.wait_until("the first checkpoint", TRAINING, |_| ckpt.exists());
        std::thread::sleep(Duration::from_millis(500));
        run.signal(signal);
        let (status, stderr) = run.finish(&format!("after {name}"), STOPPING);
        assert!(!stopped.exists(), "{name}: a bundle appeared");
        let mut resume = checkpointed(&dir.join(format!("resumed-{name}")));
        resume.arg("--resume");
        let resumed_stderr = train_to_the_end(resume, &format!("the run resumed after {name}"));
        if signal == libc::SIGTERM {
            assert_eq!(status.code(), Some(143), "{status}\n{stderr}");
            assert_eq!(temporaries(&dir), Vec::<String>::new());
            // The epoch the note names is the one the resumed run starts after.
            let epoch = stderr
                .split_once(&format!("{} holds epoch ", ckpt.display()))
                .and_then(|(_, rest)| rest.split_once(": --resume continues from there"))
                .map(|(epoch, _)| epoch.to_string())
                .unwrap_or_else(|| panic!("no checkpoint note in:\n{stderr}"));
            assert!(
                resumed_stderr.contains(&format!("resuming after epoch {epoch} from")),
                "{resumed_stderr}"
            );
        }
        assert_eq!(
            weights_and_threshold(&dir.join(format!("resumed-{name}"))),
            weights_and_threshold(&straight),
            "{name}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
