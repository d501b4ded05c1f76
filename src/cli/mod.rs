//! The command-line face: parse arguments, call the library, print text or JSON. No
//! logic lives here that the TUI would need too.

mod approve;
mod audit;
mod diff;
mod history;
mod init;
mod list;
mod output;
mod reconcile;
mod rollback;
mod show;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::Config;
pub use output::Output;

/// Review, approve, merge and roll back promotions to GitOps environment repositories.
#[derive(Debug, Parser)]
#[command(
    name = "tollgate",
    version,
    about,
    propagate_version = true,
    after_long_help = ENVIRONMENT_HELP
)]
pub struct Cli {
    /// Config file (default: config.yaml in the XDG config dir).
    #[arg(long, global = true, value_name = "PATH", env = "TOLLGATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print JSON instead of text (the same as --output json).
    #[arg(long, global = true)]
    pub json: bool,
    /// What to print: text for people, or the data as JSON or YAML.
    #[arg(long, short = 'o', global = true, value_enum, conflicts_with = "json")]
    pub output: Option<output::Format>,
    /// No colour (also off when output is not a terminal, or NO_COLOR is set).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Use the demo workspace (created in the data dir on first use).
    #[arg(long, global = true)]
    pub demo: bool,
    /// How much to log: to the log file in the XDG state dir (never to the screen), or,
    /// for `reconcile`, to stderr (where RUST_LOG, when set, says instead).
    #[arg(long, global = true, value_enum, default_value = "info")]
    pub log_level: crate::logging::LogLevel,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Pending promotions across the configured repos (`--closed`: the ones abandoned,
    /// with who closed them, when and why).
    List(ListArgs),
    /// Rendered diff of a promotion (REPO:BRANCH) or of two revisions (REV..REV).
    Diff(DiffArgs),
    /// Commits that changed an environment, newest first.
    History(HistoryArgs),
    /// A commit with its rendered diff against its first parent, or the verdict on a
    /// promotion (REPO:BRANCH): its approvals, what is missing, who may approve and merge.
    Show(ShowArgs),
    /// Approve the current head of a promotion (REPO:BRANCH), pinning what it renders; or
    /// record the review, after the fact, of a break-glass commit (COMMIT --repo R).
    Approve(ApproveArgs),
    /// Withdraw your approval of a promotion's head.
    Unapprove(PromotionArg),
    /// Merge an approved promotion into the protected branch, with the audit trailers.
    Merge(MergeArgs),
    /// Close a promotion: delete its branch. One the protected branch already has (`list`
    /// flags it `[already merged]`) closes as it is; any other is abandoned, which needs
    /// `--reason`, recorded with who and when under refs/notes/tollgate-closed.
    Close(CloseArgs),
    /// Undo one commit's change: a three-way revert onto the protected branch, opened as a
    /// promotion (`promote/revert-SHORT`).
    Revert(RevertArgs),
    /// Set an environment's inputs back to their state at an earlier commit, opened as a
    /// promotion (`promote/rollback-ENV-SHORT`).
    Rollback(RollbackArgs),
    /// Deploy the approved state of an environment to Kubernetes: verify, render, plan,
    /// server-side apply, prune, wait for rollouts, record the inventory.
    Reconcile(ReconcileArgs),
    /// Compliance of the protected branch with the policy.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Print a completion script for SHELL (bash, zsh, fish, elvish, powershell):
    /// `source <(tollgate completions bash)`.
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff): `tollgate man > tollgate.1; man -l tollgate.1`.
    Man,
    /// The demo workspace.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Look at a repository and add it to the config with the environments it seems to
    /// have (kustomize overlays, plain folders, a chart with values per environment),
    /// each guess explained; `--dry-run` only prints the entry.
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The repository (a path; bare or not).
    pub repo: PathBuf,
    /// Its name in the config (default: the folder's, without `.git` and `-env`).
    #[arg(long)]
    pub name: Option<String>,
    /// Print the `repos:` entry; change no file.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub repo: RepoArg,
    /// The promotions closed without merging, from refs/notes/tollgate-closed.
    #[arg(long)]
    pub closed: bool,
}

#[derive(Debug, Args)]
pub struct RepoArg {
    /// Only this repo.
    #[arg(long)]
    pub repo: Option<String>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// A promotion id (REPO:BRANCH) or a revision range (REV..REV).
    pub target: String,
    /// The repo a revision range is in (needed when several are configured).
    #[arg(long)]
    pub repo: Option<String>,
    /// Only this environment.
    #[arg(long)]
    pub env: Option<String>,
    /// The file diff of the environment's inputs instead of the rendered diff.
    #[arg(long)]
    pub raw: bool,
    /// For a promotion: only what changed since this commit (a head approved earlier,
    /// as `show` lists it), up to the promotion's head: the re-review after a push.
    #[arg(long, value_name = "SHA")]
    pub since: Option<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[arg(long)]
    pub repo: Option<String>,
    /// Only commits that changed this environment.
    #[arg(long)]
    pub env: Option<String>,
    /// At most this many entries.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Only commits that changed the rendered objects (renders each candidate).
    #[arg(long, conflicts_with = "path_only")]
    pub rendered: bool,
    /// Only commits that changed the environment's folder itself.
    #[arg(long)]
    pub path_only: bool,
    /// Only the protected branch's own line: each merge, not the commits it brought in.
    #[arg(long)]
    pub first_parent: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A commit (sha, prefix, branch, `main~2`), or a promotion (REPO:BRANCH).
    pub commit: String,
    #[arg(long)]
    pub repo: Option<String>,
    /// Only this environment.
    #[arg(long)]
    pub env: Option<String>,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The promotion (REPO:BRANCH), or a break-glass commit on the protected branch to
    /// record its review after the fact.
    pub id: String,
    /// The repo a commit is in (needed when several are configured).
    #[arg(long)]
    pub repo: Option<String>,
    /// A note kept with the approval.
    #[arg(long)]
    pub comment: Option<String>,
    /// Approve although an environment's change is not (wholly) rendered, saying you
    /// reviewed it another way; the approval records which environments.
    #[arg(long)]
    pub acknowledge_unrendered: bool,
    /// Approve only if the promotion's head is still this commit (the one you reviewed,
    /// as `tollgate show` names it); refused, writing nothing, if it moved.
    #[arg(long, value_name = "SHA")]
    pub head: Option<String>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The promotion (REPO:BRANCH).
    pub id: String,
    /// Merge through a freeze window (only for identities in the policy's break_glass).
    #[arg(long, requires = "reason")]
    pub break_glass: bool,
    /// Why the break-glass merge is needed; recorded in the merge commit.
    #[arg(long, requires = "break_glass")]
    pub reason: Option<String>,
    /// Merge only if the promotion's head is still this commit (the one you reviewed,
    /// as `tollgate show` names it); refused, writing nothing, if it moved.
    #[arg(long, value_name = "SHA")]
    pub head: Option<String>,
}

#[derive(Debug, Args)]
pub struct CloseArgs {
    /// The promotion (REPO:BRANCH).
    pub id: String,
    /// Why it is abandoned (required unless it is already merged); recorded.
    #[arg(long)]
    pub reason: Option<String>,
    /// Close only if the promotion's head is still this commit; refused, writing
    /// nothing, if it moved.
    #[arg(long, value_name = "SHA")]
    pub head: Option<String>,
}

#[derive(Debug, Args)]
pub struct RevertArgs {
    /// The commit to undo (sha, prefix, `main~2`); a merge is undone against its first
    /// parent.
    pub commit: String,
    #[arg(long)]
    pub repo: Option<String>,
    #[command(flatten)]
    pub undo: UndoArgs,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[arg(long)]
    pub repo: Option<String>,
    /// The environment to roll back.
    #[arg(long)]
    pub env: String,
    /// The commit whose state the environment's inputs return to.
    #[arg(long, value_name = "COMMIT")]
    pub to: String,
    /// Also set back files outside the environment's folder that it reads (a kustomize
    /// base) and that changed since; this changes the environments sharing them too.
    #[arg(long, conflicts_with = "own_only")]
    pub include_shared: bool,
    /// Set back the environment's own folder alone; shared files it reads keep their
    /// later changes (the preview's rendered diff shows what they still change). Not a
    /// state the environment had, so it is approved as an ordinary change.
    #[arg(long)]
    pub own_only: bool,
    /// Set back only the images its containers run, wherever they are declared (for a
    /// kustomization, in its own `images:` list); nothing else changes. Approved as an
    /// ordinary change.
    #[arg(long, conflicts_with_all = ["own_only", "include_shared"])]
    pub images: bool,
    #[command(flatten)]
    pub undo: UndoArgs,
}

/// What `revert` and `rollback` share.
#[derive(Debug, Args)]
pub struct UndoArgs {
    /// Why; recorded in the commit as `Reason:`.
    #[arg(long)]
    pub reason: Option<String>,
    /// Write onto the protected branch without approval (break-glass identities only;
    /// needs --reason; audit lists it until someone reviews it).
    #[arg(long, requires = "reason")]
    pub direct: bool,
    /// Show what it would change; write nothing.
    #[arg(long, conflicts_with = "direct")]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    #[arg(long)]
    pub repo: Option<String>,
    /// The environment to deploy; repeat it for several (of --repo), each with its own
    /// loop and lease.
    #[arg(long, required_unless_present = "all")]
    pub env: Vec<String>,
    /// Every environment of every configured repository.
    #[arg(long, conflicts_with_all = ["env", "repo"])]
    pub all: bool,
    /// Passes that may run at once across environments.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: u32,
    /// One pass, then exit: 0 when everything applied and rolled out, 3 when the policy
    /// refused the revision (not approved, render not what was approved), 1 otherwise.
    #[arg(long, conflicts_with = "interval")]
    pub once: bool,
    /// Time between passes of the loop (the default mode).
    #[arg(long, default_value = "30s", value_parser = reconcile::parse_duration)]
    pub interval: std::time::Duration,
    /// Print the plan and, for updates, the diff against the live objects (Secret values
    /// masked); write nothing. Implies --once.
    #[arg(long)]
    pub dry_run: bool,
    /// Delete objects the last apply wrote that are gone from git.
    #[arg(long)]
    pub prune: bool,
    /// Never prune more than this share of the inventory in one pass.
    #[arg(long, default_value = "30%", value_parser = reconcile::parse_percent)]
    pub max_prune: u32,
    /// Prune even beyond --max-prune.
    #[arg(long, requires = "prune")]
    pub force_prune: bool,
    /// Kubeconfig file (default: the environment's `cluster:` in the config, else
    /// $KUBECONFIG, ~/.kube/config, or in-cluster).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the environment's `cluster:` in the config, else the
    /// current one).
    #[arg(long)]
    pub context: Option<String>,
    /// How long to wait for rollouts to finish.
    #[arg(long, default_value = "5m", value_parser = reconcile::parse_duration)]
    pub timeout: std::time::Duration,
    /// Namespace of the inventory ConfigMaps (default: the environment's `cluster:` in
    /// the config, else tollgate-system).
    #[arg(long)]
    pub inventory_namespace: Option<String>,
    /// Give up on one API request after this long (then it is retried with backoff).
    #[arg(long, default_value = "30s", value_parser = reconcile::parse_duration)]
    pub request_timeout: std::time::Duration,
    /// Reconcile only while holding a Lease (tollgate-REPO-ENV in the inventory
    /// namespace), for running more than one replica; the others stand by.
    #[arg(long)]
    pub leader_elect: bool,
    /// This replica's name in the Lease (default: $POD_NAME, else the host name and pid).
    #[arg(long, requires = "leader_elect")]
    pub lease_identity: Option<String>,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: crate::logging::LogFormat,
    /// Serve Prometheus metrics on ADDR (`/metrics`), with `/healthz` and `/readyz`.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// How long the Lease holds without renewal; it is renewed every third of that in the
    /// background, and a replica that cannot renew stops writing before it runs out.
    #[arg(long, default_value = "15s", value_parser = reconcile::parse_duration, requires = "leader_elect")]
    pub lease_duration: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct PromotionArg {
    /// The promotion (REPO:BRANCH).
    pub id: String,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check that every change to an environment was approved and merged as the policy in
    /// force required; exits 1 on any violation.
    Verify(AuditArgs),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum AuditFormat {
    Table,
    Json,
    Csv,
    Md,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[arg(long)]
    pub repo: Option<String>,
    #[arg(long)]
    pub env: Option<String>,
    /// Only changes since this date (2026-10-01) or time (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: AuditFormat,
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Write the demo workspace (config.yaml and two environment repos) into DIR.
    Init {
        /// An empty or new folder.
        dir: PathBuf,
    },
}

/// The exit status when the policy said no (an approval or merge the verdict refuses, an
/// `audit verify` that finds a violation, a `reconcile --once` whose revision was not
/// approved), apart from 1 (something went wrong) and 2 (the command line is wrong): a
/// script can tell "not approved" from "broken".
pub const POLICY_REFUSED: u8 = 3;

/// Whether `err` is the policy saying no, rather than something going wrong.
fn is_policy_refusal(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.downcast_ref::<PolicyRefused>().is_some()
            || matches!(
                cause.downcast_ref::<crate::review::ReviewError>(),
                Some(crate::review::ReviewError::Refused { .. })
            )
    })
}

/// The policy said no: exits with [`POLICY_REFUSED`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PolicyRefused(pub String);

/// The environment variables tollgate reads, for `--help` (the flags with one say so
/// themselves).
const ENVIRONMENT_HELP: &str = "\
Environment:
  TOLLGATE_CONFIG          the config file, as --config
  TOLLGATE_IDENTITY        who you are (\"Name <email>\"), over the config's identity
  GH_TOKEN, GITHUB_TOKEN   the GitHub token (GH_ENTERPRISE_TOKEN for GitHub Enterprise)
  TOLLGATE_HELM            the helm to render charts with (else helm on PATH)
  TOLLGATE_RENDER_TIMEOUT  how long kubectl kustomize or helm may run (default 2m)
  TOLLGATE_RENDER_JOBS     render threads for the rendered history (default: 2 per core)
  TOLLGATE_RENDER_CACHE    off: keep no renders in the cache dir
  NO_COLOR                 no colour, as --no-color
  RUST_LOG                 reconcile's log filter on stderr (tollgate=debug,kube=info)
  POD_NAME                 reconcile's name in a Lease (else the host name and pid)

Exit status: 0 ok, 1 something went wrong, 2 the command line is wrong, 3 refused (the
verdict or the policy said no).";

/// Run a parsed command line; errors are printed with their whole chain.
pub fn run(cli: Cli) -> ExitCode {
    match &cli.command {
        // A controller in a pod: its log is its stderr.
        Some(Command::Reconcile(args)) => {
            crate::logging::init_stderr(cli.log_level, args.log_format)
        }
        _ => {
            crate::logging::init(cli.log_level);
        }
    }
    tracing::info!(command = ?cli.command, "start");
    let format = match (cli.output, cli.json) {
        (Some(format), _) => format,
        (None, true) => output::Format::Json,
        (None, false) => output::Format::Text,
    };
    let out = Output::new(format, cli.no_color);
    match dispatch(&cli, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            tracing::warn!("{err:#}");
            out.error(&err);
            match is_policy_refusal(&err) {
                true => ExitCode::from(POLICY_REFUSED),
                false => ExitCode::from(1),
            }
        }
    }
}

/// Whether the reader of stdout went away (`| head`): not an error worth a word. JSON
/// written as a stream reports it as serde_json's error, which keeps the io error's kind.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let kind = match (
            cause.downcast_ref::<std::io::Error>(),
            cause.downcast_ref::<serde_json::Error>(),
        ) {
            (Some(io), _) => Some(io.kind()),
            (None, Some(json)) => json.io_error_kind(),
            (None, None) => None,
        };
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    if cli.demo {
        let path = crate::demo::ensure_default()?;
        return Ok(Config::load(&path)?);
    }
    Ok(Config::locate_and_load(cli.config.as_deref())?)
}

fn dispatch(cli: &Cli, out: &Output) -> anyhow::Result<()> {
    match &cli.command {
        Some(Command::Demo(DemoCommand::Init { dir })) => {
            let config = crate::demo::init(dir)?;
            out.demo_created(&config)
        }
        Some(Command::Completions { shell }) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut command, "tollgate", &mut script);
            out.print(&String::from_utf8_lossy(&script))
        }
        Some(Command::Man) => {
            let mut page = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut page)?;
            out.print(&String::from_utf8_lossy(&page))
        }
        Some(Command::Init(args)) => init::run(cli.config.as_deref(), args, out),
        Some(Command::List(args)) if args.closed => {
            list::closed(&load_config(cli)?, &args.repo, out)
        }
        Some(Command::List(args)) => list::run(&load_config(cli)?, &args.repo, out),
        Some(Command::Diff(args)) => diff::run(&load_config(cli)?, args, out),
        Some(Command::History(args)) => history::run(&load_config(cli)?, args, out),
        Some(Command::Show(args)) => {
            let config = load_config(cli)?;
            if approve::names_promotion(&config, &args.commit, args.repo.as_deref()) {
                approve::show(&config, &args.commit, out)
            } else {
                show::run(&config, args, out)
            }
        }
        Some(Command::Approve(args)) => approve::approve(&load_config(cli)?, args, out),
        Some(Command::Revert(args)) => rollback::revert(&load_config(cli)?, args, out),
        Some(Command::Reconcile(args)) => reconcile::run(&load_config(cli)?, args, out),
        Some(Command::Rollback(args)) => rollback::rollback(&load_config(cli)?, args, out),
        Some(Command::Unapprove(args)) => approve::unapprove(&load_config(cli)?, &args.id, out),
        Some(Command::Close(args)) => approve::close(&load_config(cli)?, args, out),
        Some(Command::Audit(AuditCommand::Verify(args))) => {
            audit::verify(&load_config(cli)?, args, out)
        }
        Some(Command::Merge(args)) => approve::merge(&load_config(cli)?, args, out),
        // The TUI needs a terminal; piped, tollgate lists the pending promotions instead.
        None if std::io::stdout().is_terminal()
            && std::io::stdin().is_terminal()
            && !cli.json
            && cli.output.is_none() =>
        {
            crate::tui::run(load_config(cli)?, cli.no_color)
        }
        None => list::run(&load_config(cli)?, &RepoArg { repo: None }, out),
    }
}
