//! A private PostgreSQL cluster run from the machine's own binaries, for when no
//! `DATABASE_URL` is given: a newcomer (and `cargo test`) needs no database set-up.
use std::{
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{bail, Context};

/// The port only names the socket file: the cluster listens on no TCP address.
const SOCKET_PORT: u16 = 5432;
/// Unix socket paths are limited to 107 bytes by the kernel.
const MAX_SOCKET_PATH: usize = 100;

/// A running private cluster; `stop` shuts it down if this process started it.
#[derive(Debug)]
pub struct PrivatePostgres {
    bin_dir: PathBuf,
    cluster_dir: PathBuf,
    run_as: Option<(u32, u32)>,
    started_here: bool,
}

/// Options for `PrivatePostgres::start`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Durability {
    /// Turn off fsync and synchronous commit: for throw-away test clusters only.
    pub unsafe_fast: bool,
}

impl PrivatePostgres {
    /// Creates (first time) and starts the cluster in `data_dir/postgres`, or reuses one
    /// that is already running there.
    pub fn start(data_dir: &Path, durability: Durability) -> anyhow::Result<Self> {
        let bin_dir = find_bin_dir()?;
        let run_as = unprivileged_user()?;
        let data_dir = prepare_data_dir(data_dir, run_as)?;
        let cluster_dir = data_dir.join("postgres");
        let socket = cluster_dir.join(format!(".s.PGSQL.{SOCKET_PORT}"));
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            bail!(
                "the data folder path {} is too long for a Unix socket; set PERFEVAL_DATA_DIR to a shorter path",
                data_dir.display()
            );
        }
        let this = Self { bin_dir, cluster_dir, run_as, started_here: false };
        this.init_if_needed()?;
        if this.is_running() {
            tracing::info!(cluster = %this.cluster_dir.display(), "reusing the running private PostgreSQL");
            return Ok(this);
        }
        this.pg_ctl_start(durability)?;
        Ok(Self { started_here: true, ..this })
    }

    /// Stops the cluster in `data_dir/postgres`, whichever process started it (`perfeval pg
    /// stop`); `Ok(false)` when it was not running.
    pub fn stop_in(data_dir: &Path) -> anyhow::Result<bool> {
        let cluster_dir = data_dir.join("postgres");
        if !cluster_dir.join("PG_VERSION").is_file() {
            bail!("there is no private PostgreSQL cluster in {}", data_dir.display());
        }
        let cluster_dir = cluster_dir.canonicalize().with_context(|| format!("resolving {}", cluster_dir.display()))?;
        let this = Self { bin_dir: find_bin_dir()?, cluster_dir, run_as: unprivileged_user()?, started_here: true };
        if !this.is_running() {
            return Ok(false);
        }
        this.pg_ctl_stop()?;
        Ok(true)
    }

    /// The connection URL for `database` on this cluster's socket.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@{}:{SOCKET_PORT}/{database}", percent_encode(&self.cluster_dir.to_string_lossy()))
    }

    /// Stops the cluster if this process started it (fast shutdown: sessions are ended).
    pub fn stop(&self) {
        if !self.started_here {
            return;
        }
        match self.pg_ctl_stop() {
            Ok(()) => tracing::info!("stopped the private PostgreSQL"),
            Err(error) => tracing::warn!(error = %format!("{error:#}"), "stopping the private PostgreSQL failed"),
        }
    }

    fn pg_ctl_stop(&self) -> anyhow::Result<()> {
        let output = self
            .command("pg_ctl")
            .args(["stop", "-m", "fast", "-w", "-D"])
            .arg(&self.cluster_dir)
            .stdin(Stdio::null())
            .output()
            .context("running pg_ctl stop")?;
        if !output.status.success() {
            bail!("pg_ctl stop failed: {}", last_line(&output.stderr));
        }
        Ok(())
    }

    fn init_if_needed(&self) -> anyhow::Result<()> {
        if self.cluster_dir.join("PG_VERSION").exists() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.cluster_dir)?;
        self.hand_over(&self.cluster_dir)?;
        tracing::info!(cluster = %self.cluster_dir.display(), "creating a private PostgreSQL cluster");
        let output = self
            .command("initdb")
            .args(["--username=postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "-D"])
            .arg(&self.cluster_dir)
            .output()
            .context("running initdb")?;
        if !output.status.success() {
            bail!("initdb failed: {}", last_line(&output.stderr));
        }
        Ok(())
    }

    fn is_running(&self) -> bool {
        self.command("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(&self.cluster_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn pg_ctl_start(&self, durability: Durability) -> anyhow::Result<()> {
        let mut options = format!(
            "-c listen_addresses='' -c unix_socket_directories='{}' -c port={SOCKET_PORT} -c max_connections=200",
            self.cluster_dir.display()
        );
        if durability.unsafe_fast {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let log = self.cluster_dir.join("server.log");
        let output = self
            .command("pg_ctl")
            .args(["start", "-w", "-t", "60", "-D"])
            .arg(&self.cluster_dir)
            .arg("-l")
            .arg(&log)
            .arg("-o")
            .arg(options)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .output()
            .context("running pg_ctl start")?;
        if !output.status.success() {
            let logged = std::fs::read(&log).unwrap_or_default();
            let why = if logged.is_empty() { last_line(&output.stderr) } else { last_line(&logged) };
            bail!("PostgreSQL did not start: {why} (its log: {})", log.display());
        }
        tracing::info!(cluster = %self.cluster_dir.display(), "started the private PostgreSQL");
        Ok(())
    }

    /// A command for one of PostgreSQL's programs, run as the unprivileged user when we are root.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin_dir.join(program));
        if let Some((uid, gid)) = self.run_as {
            use std::os::unix::process::CommandExt;
            command.uid(uid).gid(gid);
        }
        // PostgreSQL's programs must not inherit a working folder the unprivileged user cannot read.
        command.current_dir(&self.cluster_dir);
        command
    }

    /// Gives the folder to the unprivileged user, so that initdb (which refuses root) can use it.
    fn hand_over(&self, dir: &Path) -> anyhow::Result<()> {
        let Some((uid, gid)) = self.run_as else { return Ok(()) };
        std::os::unix::fs::chown(dir, Some(uid), Some(gid))
            .with_context(|| format!("handing {} to the postgres user", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        Ok(())
    }
}

/// Creates `data_dir` if needed and returns its canonical path. Run as root, PostgreSQL runs as
/// `run_as`, which must be able to enter every folder above its cluster: the folders made here
/// are opened to it (mode 755), and one it cannot enter is refused before the cluster is made.
fn prepare_data_dir(data_dir: &Path, run_as: Option<(u32, u32)>) -> anyhow::Result<PathBuf> {
    let absolute = std::path::absolute(data_dir).with_context(|| format!("resolving {}", data_dir.display()))?;
    let missing: Vec<PathBuf> = absolute.ancestors().take_while(|dir| !dir.exists()).map(Path::to_owned).collect();
    std::fs::create_dir_all(&absolute).with_context(|| {
        format!(
            "cannot create the data folder {} (set PERFEVAL_DATA_DIR to a folder you can write)",
            absolute.display()
        )
    })?;
    let Some((uid, gid)) = run_as else {
        return absolute.canonicalize().with_context(|| format!("resolving {}", absolute.display()));
    };
    for dir in &missing {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("opening {} to the postgres user", dir.display()))?;
    }
    let data_dir = absolute.canonicalize().with_context(|| format!("resolving {}", absolute.display()))?;
    for dir in data_dir.ancestors() {
        let metadata = std::fs::metadata(dir).with_context(|| format!("reading {}", dir.display()))?;
        let mode = metadata.mode();
        // Permission bits as the kernel applies them to a process of `uid`:`gid` with no
        // supplementary groups (std drops them when it switches a child to another user).
        let enters = if metadata.uid() == uid {
            mode & 0o100 != 0
        } else if metadata.gid() == gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !enters {
            bail!(
                "the data folder {} is under {}, which the `postgres` user cannot enter (run as root, perfeval runs \
                 PostgreSQL as `postgres`); set PERFEVAL_DATA_DIR to a folder it can reach, or leave it unset \
                 to use {ROOT_DATA_HOME}/…",
                data_dir.display(),
                dir.display()
            );
        }
    }
    Ok(data_dir)
}

/// Where root keeps the clusters of its checkouts when `PERFEVAL_DATA_DIR` is not set.
pub const ROOT_DATA_HOME: &str = "/var/lib/perfeval";

/// The data folder when `PERFEVAL_DATA_DIR` is not set, for the checkout in the working folder.
///
/// An unprivileged user keeps it in the checkout, `./.perfeval`: a folder it owns. Root runs
/// PostgreSQL as `postgres`, which often cannot enter the checkout (a clone under `/root` is
/// mode 700), so root keeps one folder per checkout in `/var/lib/perfeval/<name>-<hash of its
/// path>`, unless an earlier run already made a `postgres`-owned cluster in `./.perfeval`.
pub fn default_data_dir() -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("reading the working folder")?;
    let checkout = cwd.canonicalize().unwrap_or(cwd);
    let run_as = unprivileged_user()?;
    let local_cluster = checkout.join(".perfeval").join("postgres");
    let has_local_cluster = run_as.is_some_and(|(uid, _)| {
        local_cluster.join("PG_VERSION").is_file()
            && std::fs::metadata(&local_cluster).is_ok_and(|metadata| metadata.uid() == uid)
    });
    Ok(default_data_dir_for(&checkout, run_as.is_some(), has_local_cluster))
}

fn default_data_dir_for(checkout: &Path, root: bool, has_local_cluster: bool) -> PathBuf {
    if !root || has_local_cluster {
        return checkout.join(".perfeval");
    }
    Path::new(ROOT_DATA_HOME).join(checkout_key(checkout))
}

/// `<folder name>-<8 hex digits>`: readable, unique per checkout path, and short enough that
/// the cluster's socket path stays within the kernel's limit.
fn checkout_key(checkout: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let name: String = checkout
        .file_name()
        .map(|name| {
            name.to_string_lossy()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' })
                .take(40)
                .collect()
        })
        .unwrap_or_else(|| "root".to_owned());
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in checkout.as_os_str().as_bytes() {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x100_0000_01b3);
    }
    format!("{name}-{:08x}", hash & 0xffff_ffff)
}

/// The last non-empty line of a program's output, for a one-line error message.
fn last_line(output: &[u8]) -> String {
    let text = String::from_utf8_lossy(output);
    text.lines().map(str::trim).rfind(|line| !line.is_empty()).unwrap_or("no output").to_owned()
}

/// Finds the folder holding `initdb` and `pg_ctl`: `pg_config --bindir`, else the newest
/// `/usr/lib/postgresql/*/bin`, else the PATH.
pub fn find_bin_dir() -> anyhow::Result<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if output.status.success() && has_tools(&dir) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            let dir = entry.path().join("bin");
            has_tools(&dir).then_some((version, dir))
        })
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Ok(dir);
    }
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|dir| has_tools(dir)) {
            return Ok(dir);
        }
    }
    bail!(
        "no DATABASE_URL is set and no PostgreSQL server binaries (initdb, pg_ctl) were found; \
         install them (Debian/Ubuntu: `apt-get install postgresql`; macOS: `brew install postgresql`) \
         or set DATABASE_URL to an existing database"
    )
}

/// The unprivileged account to run PostgreSQL as when this process is root.
fn unprivileged_user() -> anyhow::Result<Option<(u32, u32)>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = std::ffi::CString::new("postgres").expect("no NUL in a literal");
    // SAFETY: getpwnam reads a static buffer; we copy the two ids out before any other call.
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    if entry.is_null() {
        bail!(
            "running as root, PostgreSQL needs an unprivileged `postgres` user, and there is none \
             (`apt-get install postgresql` creates it)"
        );
    }
    // SAFETY: entry is non-null and points to a valid passwd record.
    let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
    Ok(Some((uid, gid)))
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_folder_is_percent_encoded_into_the_host() {
        let pg = PrivatePostgres {
            bin_dir: PathBuf::new(),
            cluster_dir: PathBuf::from("/work/my data/.perfeval/postgres"),
            run_as: None,
            started_here: false,
        };
        assert_eq!(pg.url("perfeval"), "postgres://postgres@%2Fwork%2Fmy%20data%2F.perfeval%2Fpostgres:5432/perfeval");
    }

    #[test]
    fn an_unprivileged_user_keeps_the_cluster_in_its_checkout() {
        let checkout = Path::new("/home/dev/perfeval");
        assert_eq!(default_data_dir_for(checkout, false, false), Path::new("/home/dev/perfeval/.perfeval"));
    }

    #[test]
    fn root_keeps_one_cluster_per_checkout_under_var_lib() {
        let a = default_data_dir_for(Path::new("/root/perfeval"), true, false);
        let b = default_data_dir_for(Path::new("/root/src/perfeval"), true, false);
        assert!(a.starts_with(ROOT_DATA_HOME), "{}", a.display());
        assert!(a.file_name().unwrap().to_string_lossy().starts_with("perfeval-"), "{}", a.display());
        assert_ne!(a, b, "two checkouts of the same name get two folders");
        assert_eq!(a, default_data_dir_for(Path::new("/root/perfeval"), true, false), "the same one every time");
        // A cluster an earlier version made in the checkout is kept.
        assert_eq!(default_data_dir_for(Path::new("/srv/perfeval"), true, true), Path::new("/srv/perfeval/.perfeval"));
    }

    #[test]
    fn the_socket_of_roots_default_folder_fits_the_kernel_limit() {
        let long = format!("/root/{}", "x".repeat(200));
        let dir = default_data_dir_for(Path::new(&long), true, false);
        let socket = dir.join("postgres").join(format!(".s.PGSQL.{SOCKET_PORT}"));
        assert!(socket.as_os_str().len() <= MAX_SOCKET_PATH, "{}", socket.display());
        assert!(checkout_key(Path::new("/")).starts_with("root-"));
    }
}
