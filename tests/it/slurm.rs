//! The sweep on a real Slurm: a private single-node cluster (munged, slurmctld and slurmd
//! on localhost, configured in a temporary folder) runs `scripts/slurm/submit.sh`, a
//! 4-task array sweep and the merge job chained after it, and the merged results must be
//! the bytes of a single run. Resubmitting after a lost shard re-runs that shard alone.
//!
//! Skipped, saying so, where Slurm is not installed (`.ci/run` installs Debian's
//! `slurmctld`, `slurmd`, `slurm-client` and `munge` when it runs as root); under
//! `FDBENCH_REQUIRE_ALL=1` an installed Slurm that cannot be started is a failure.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The grid of the test: several shard cells (256 knob values each) on one trace.
const GRID: [&str; 4] = ["-d", "fixed:timeout=10ms..2s:1ms", "-d", "phi:threshold=0.5..16:0.1"];

/// Polls of the cluster before giving up, 100 ms apart.
const POLLS: usize = 1200;

fn require_all() -> bool {
    std::env::var("FDBENCH_REQUIRE_ALL").is_ok_and(|v| v == "1")
}

fn found(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// The daemons this test started, stopped by their process ids when it ends.
struct Daemons(Vec<(&'static str, Child)>);

impl Drop for Daemons {
    fn drop(&mut self) {
        for (_, child) in self.0.iter_mut().rev() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }
}

/// A private Slurm cluster of one node, this machine.
struct Cluster {
    dir: PathBuf,
    conf: PathBuf,
    daemons: Daemons,
}

impl Cluster {
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("SLURM_CONF", &self.conf);
        c
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        self.command(program).args(args).output().unwrap()
    }

    /// Whether every daemon still runs; the logs of those that stopped otherwise.
    fn check_alive(&mut self) -> Result<(), String> {
        for (name, child) in &mut self.daemons.0 {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(self.dir.join(format!("{name}.out"))).unwrap_or_default();
                return Err(format!("{name} stopped ({status}):\n{log}"));
            }
        }
        Ok(())
    }

    /// Polls `done` until it holds, at most [`POLLS`] times.
    fn wait(&mut self, what: &str, done: &mut dyn FnMut(&Cluster) -> bool) -> Result<(), String> {
        for _ in 0..POLLS {
            self.check_alive()?;
            if done(self) {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Err(format!("{what}: not after {POLLS} polls"))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts munged, slurmctld and slurmd with a configuration in `dir`.
fn start(dir: &Path) -> Result<Cluster, String> {
    let host = String::from_utf8(Command::new("hostname").arg("-s").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let munge = dir.join("munge");
    std::fs::create_dir(&munge).unwrap();
    std::fs::set_permissions(&munge, std::fs::Permissions::from_mode(0o711)).unwrap();
    let key = munge.join("munge.key");
    let mut bytes = vec![0u8; 128];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut bytes)
        .unwrap();
    std::fs::write(&key, &bytes).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o400)).unwrap();
    for d in ["state", "spool"] {
        std::fs::create_dir(dir.join(d)).unwrap();
    }
    let socket = munge.join("munge.socket");
    let d = dir.display();
    let conf = dir.join("slurm.conf");
    std::fs::write(
        &conf,
        format!(
            "ClusterName=fdbench-test
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={socket}
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
",
            socket = socket.display(),
            ctld_port = free_port(),
            d_port = free_port(),
        ),
    )
    .unwrap();
    let mut cluster = Cluster {
        dir: dir.to_path_buf(),
        conf: conf.clone(),
        daemons: Daemons(Vec::new()),
    };
    let spawn = |cluster: &mut Cluster, name: &'static str, args: Vec<String>| -> Result<(), String> {
        let log = std::fs::File::create(dir.join(format!("{name}.out"))).unwrap();
        let child = cluster
            .command(name)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{name} cannot start: {e}"))?;
        cluster.daemons.0.push((name, child));
        Ok(())
    };
    let m = munge.display();
    spawn(
        &mut cluster,
        "munged",
        vec![
            "--foreground".into(),
            "--force".into(),
            format!("--key-file={m}/munge.key"),
            format!("--socket={}", socket.display()),
            format!("--pid-file={m}/munged.pid"),
            format!("--log-file={m}/munged.log"),
            format!("--seed-file={m}/munged.seed"),
        ],
    )?;
    cluster.wait("munged's socket", &mut |_| socket.exists())?;
    let c = conf.display().to_string();
    spawn(&mut cluster, "slurmctld", vec!["-D".into(), "-f".into(), c.clone()])?;
    spawn(&mut cluster, "slurmd", vec!["-D".into(), "-f".into(), c])?;
    cluster.wait("the node idle in sinfo", &mut |c| {
        let out = c.run("sinfo", &["-h", "-o", "%T"]);
        String::from_utf8_lossy(&out.stdout).trim() == "idle"
    })?;
    Ok(cluster)
}

fn fdbench_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("fdbench")
}

/// Runs `scripts/slurm/submit.sh 4%2 OUT TRACE GRID` and waits for both jobs to leave
/// the queue; the array job's id.
fn submit(cluster: &mut Cluster, out: &Path, trace: &Path) -> Result<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/slurm/submit.sh");
    let submitted = cluster
        .command("bash")
        .arg(&script)
        .args(["4%2".as_ref(), out.as_os_str(), trace.as_os_str()])
        .args(GRID)
        .env("FDBENCH", fdbench_bin())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&submitted.stdout).to_string();
    if !submitted.status.success() || !said.contains("merge job") {
        return Err(format!(
            "submit.sh failed: {said}{}",
            String::from_utf8_lossy(&submitted.stderr)
        ));
    }
    cluster.wait("both jobs out of the queue", &mut |c| {
        let q = c.run("squeue", &["-h", "-o", "%i"]);
        q.status.success() && q.stdout.is_empty()
    })?;
    let id = said.strip_prefix("array job ").and_then(|s| s.split(' ').next());
    Ok(id.unwrap_or_default().to_string())
}

/// The log of task `task` of array job `job`.
fn log_of(out: &Path, job: &str, task: usize) -> String {
    let log = out.join(format!("slurm-fdbench-sweep-{job}_{task}.out"));
    std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()))
}

#[test]
fn an_array_sweep_and_its_merge_job_on_slurm_give_the_bytes_of_a_single_run() {
    let missing: Vec<&str> = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo"]
        .into_iter()
        .filter(|p| found(p).is_none())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "skipped: Slurm is not installed here (no {}; as root, apt-get install slurmctld slurmd slurm-client munge; .ci/run does)",
            missing.join(", ")
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let slurm = dir.path().join("slurm");
    std::fs::create_dir(&slurm).unwrap();
    let mut cluster = match start(&slurm) {
        Ok(c) => c,
        Err(e) if !require_all() => {
            eprintln!("skipped: Slurm is installed but cannot start here: {e}");
            return;
        }
        Err(e) => panic!("Slurm is installed but cannot start: {e}"),
    };
    let trace = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/netns-10ms.csv.gz");
    let single = Command::new(fdbench_bin())
        .arg("sweep")
        .arg(&trace)
        .args(GRID)
        .args(["-q"])
        .output()
        .unwrap();
    assert!(single.status.success());
    let out = dir.path().join("out");
    submit(&mut cluster, &out, &trace).unwrap();
    let results = out.join("results.csv");
    let merge_log = || {
        std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("slurm-fdbench-merge-"))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect::<String>()
    };
    assert!(results.exists(), "no merged results; merge job said: {}", merge_log());
    assert_eq!(
        std::fs::read(&results).unwrap(),
        single.stdout,
        "merged bytes = a single run"
    );
    // Four shards, each told its place by Slurm's environment, with rows from all over
    // the grid (2147 rows in blocks of 256).
    let mut held = 0;
    for task in 0..4 {
        let part = std::fs::read_to_string(out.join(format!("part-{task}.csv"))).unwrap();
        assert!(
            part.starts_with(&format!("# fdbench-shard index={} count=4 ", task + 1)),
            "{part:.200}"
        );
        held += part.lines().filter(|l| !l.starts_with('#')).count() - 1;
    }
    assert_eq!(held, 2147);
    // A lost shard: resubmitting the same sweep runs that shard again, and only it.
    std::fs::remove_file(out.join("part-2.csv")).unwrap();
    std::fs::remove_file(&results).unwrap();
    let job = submit(&mut cluster, &out, &trace).unwrap();
    assert_eq!(
        std::fs::read(&results).unwrap(),
        single.stdout,
        "resumed merge: {}",
        merge_log()
    );
    for task in [0, 1, 3] {
        let log = log_of(&out, &job, task);
        assert!(log.contains(&format!("shard {}/4 is complete", task + 1)), "{log}");
    }
    let log = log_of(&out, &job, 2);
    assert!(
        log.contains("no output yet; running the shard") && log.contains("wrote "),
        "{log}"
    );
    drop(cluster);
}
