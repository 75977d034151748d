//! A private PostgreSQL cluster run from the machine's own binaries, for when no
//! `DATABASE_URL` is given: a newcomer (and `cargo test`) needs no database set-up.
use std::{
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
        std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let data_dir = data_dir.canonicalize().with_context(|| format!("resolving {}", data_dir.display()))?;
        let cluster_dir = data_dir.join("postgres");
        let socket = cluster_dir.join(format!(".s.PGSQL.{SOCKET_PORT}"));
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            bail!(
                "the data folder path {} is too long for a Unix socket; set PERFEVAL_DATA_DIR to a shorter path",
                data_dir.display()
            );
        }
        let run_as = unprivileged_user()?;
        let this = Self { bin_dir, cluster_dir, run_as, started_here: false };
        this.init_if_needed()?;
        if this.is_running() {
            tracing::info!(cluster = %this.cluster_dir.display(), "reusing the running private PostgreSQL");
            return Ok(this);
        }
        this.pg_ctl_start(durability)?;
        Ok(Self { started_here: true, ..this })
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
        let status = self
            .command("pg_ctl")
            .args(["stop", "-m", "fast", "-w", "-D"])
            .arg(&self.cluster_dir)
            .stdout(Stdio::null())
            .status();
        match status {
            Ok(s) if s.success() => tracing::info!("stopped the private PostgreSQL"),
            other => tracing::warn!(?other, "stopping the private PostgreSQL failed"),
        }
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
            bail!("initdb failed: {}", String::from_utf8_lossy(&output.stderr));
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
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(10).collect();
            bail!(
                "starting PostgreSQL failed: {}\n{}",
                String::from_utf8_lossy(&output.stderr).trim(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
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
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        let mut ancestor = dir.parent();
        while let Some(parent) = ancestor {
            let mode = std::fs::metadata(parent)?.permissions().mode();
            if mode & 0o001 == 0 {
                bail!(
                    "{} is not reachable by the postgres user (PostgreSQL refuses to run as root); \
                     set PERFEVAL_DATA_DIR to a folder under one it can traverse, such as /var/tmp/perfeval",
                    parent.display()
                );
            }
            ancestor = parent.parent();
        }
        Ok(())
    }
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
        "no DATABASE_URL is set and no PostgreSQL server binaries (initdb, pg_ctl) were found.\n\
         Install them (Debian/Ubuntu: `apt-get install postgresql`; macOS: `brew install postgresql`) \
         or set DATABASE_URL to an existing database."
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
        bail!("running as root, PostgreSQL needs an unprivileged `postgres` user, and there is none (`apt-get install postgresql` creates it)");
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
}
