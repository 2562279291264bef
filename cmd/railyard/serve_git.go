package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/argocd"
	"github.com/railyard-cd/railyard/gitrepo"
	rhttp "github.com/railyard-cd/railyard/http"
	"github.com/spf13/cobra"
)

// gitOptions are the Git export flags of `railyard serve`.
type gitOptions struct {
	disabled       bool
	remote         string
	branch         string
	token          string
	tokenUser      string
	sshKey         string
	knownHosts     string
	caFile         string
	argoCDRepoURL  string
	batchSize      int
	finalSyncLimit time.Duration
	timeout        time.Duration
}

// gitRepoPath is the URL path of the built-in read-only Git server,
// where the API server mounts it.
const gitRepoPath = rhttp.GitPath

func (o *gitOptions) addFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.BoolVar(&o.disabled, "no-git-export", false, "run without writing the manifest repository")
	fs.StringVar(&o.remote, "git-remote", "", "manifest repository to push to: a path, file://, https:// or ssh:// URL (default: a bare repository <data-dir>/git/manifests.git)")
	fs.StringVar(&o.branch, "git-branch", "main", "branch of the manifest repository Railyard writes")
	fs.StringVar(&o.token, "git-token", "", "token for an https remote, sent as HTTP basic auth (env RAILYARD_GIT_TOKEN)")
	fs.StringVar(&o.tokenUser, "git-token-user", "x-access-token", "user name sent with --git-token")
	fs.StringVar(&o.sshKey, "git-ssh-key", "", "private key file for an ssh remote")
	fs.StringVar(&o.knownHosts, "git-known-hosts", "", "known_hosts file for an ssh remote (host keys are always checked)")
	fs.StringVar(&o.caFile, "git-ca-file", "", "PEM file of certificate authorities to trust for an https remote (default: the system's)")
	fs.StringVar(&o.argoCDRepoURL, "argocd-repo-url", "", "repoURL written into Argo CD documents (default: the remote without credentials, or the built-in Git server for a local remote)")
	fs.IntVar(&o.batchSize, "git-batch-size", 500, "most events one push carries")
	fs.DurationVar(&o.finalSyncLimit, "git-final-sync-timeout", 10*time.Second, "how long shutdown waits to push the last events")
	fs.DurationVar(&o.timeout, "git-timeout", gitrepo.DefaultGitTimeout,
		"deadline of every git command of the export (push, fetch, and each local one): a command still running then is killed and retried with backoff (env RAILYARD_GIT_TIMEOUT)")
	_ = cmd.MarkFlagFilename("git-ssh-key")
	_ = cmd.MarkFlagFilename("git-known-hosts")
	_ = cmd.MarkFlagFilename("git-ca-file")
}

// fromEnv reads the settings given by environment variables where the
// flag was not set.
func (o *gitOptions) fromEnv(cmd *cobra.Command, getenv func(string) string) error {
	if v := getenv("RAILYARD_GIT_TIMEOUT"); v != "" && !cmd.Flags().Changed("git-timeout") {
		d, err := time.ParseDuration(v)
		if err != nil {
			return usageErrorf("RAILYARD_GIT_TIMEOUT %q is not a duration: use for example 2m or 30s", v)
		}
		o.timeout = d
	}
	return nil
}

func (o *gitOptions) validate() error {
	if o.batchSize <= 0 {
		return usageErrorf("--git-batch-size must be positive, got %d", o.batchSize)
	}
	if o.timeout <= 0 {
		return usageErrorf("--git-timeout must be positive, got %s", o.timeout)
	}
	if strings.TrimSpace(o.branch) == "" || strings.ContainsAny(o.branch, " ~^:?*[\\") || strings.HasPrefix(o.branch, "-") {
		return usageErrorf("--git-branch %q is not a valid branch name", o.branch)
	}
	return o.validateCredentials()
}

// validateCredentials refuses credentials where they would travel in
// clear (a plain http:// remote) or be published (the repoURL written
// into Argo CD documents, which everyone who reads the repository reads).
func (o *gitOptions) validateCredentials() error {
	if gitrepo.IsPlainHTTP(o.remote) && gitrepo.HasCredentials(o.remote) {
		return usageErrorf("--git-remote %s has credentials in a plain http:// URL, where they travel in clear: use https://, "+
			"and give a token with --git-token (env RAILYARD_GIT_TOKEN) rather than in the URL", gitrepo.RedactURL(o.remote))
	}
	if gitrepo.IsPlainHTTP(o.remote) && o.token != "" {
		return usageErrorf("--git-token would be sent to --git-remote %s over plain http://, in clear: use https://", gitrepo.RedactURL(o.remote))
	}
	if gitrepo.HasCredentials(o.argoCDRepoURL) {
		return usageErrorf("--argocd-repo-url %s has credentials: it is written into every Argo CD document of the manifest repository. "+
			"Give it without them, and configure Argo CD's access to the repository in Argo CD (a repository secret)", gitrepo.RedactURL(o.argoCDRepoURL))
	}
	return nil
}

// newExporter sets up the exporter's repository in the data directory.
// Without --git-remote it is the manifest repository git/manifests.git
// itself, which the exporter commits to in place; with one it is
// git/work.git, a cache from which batches are pushed.
func newExporter(ctx context.Context, engine *railyard.Engine, dataDir string, o *gitOptions, ln net.Listener, logger *slog.Logger) (*gitrepo.Exporter, error) {
	gitDir := filepath.Join(dataDir, "git")
	dir, remote := filepath.Join(gitDir, "work.git"), o.remote
	if remote == "" {
		dir = filepath.Join(gitDir, "manifests.git")
		// Earlier versions pushed to manifests.git from a cache in
		// work.git, which nothing uses any more.
		if err := os.RemoveAll(filepath.Join(gitDir, "work.git")); err != nil {
			return nil, err
		}
	}
	x := gitrepo.NewExporter(engine, gitrepo.Config{
		Dir:            dir,
		RemoteURL:      remote,
		Branch:         o.branch,
		Token:          o.token,
		TokenUser:      o.tokenUser,
		SSHKeyFile:     o.sshKey,
		KnownHostsFile: o.knownHosts,
		CAFile:         o.caFile,
		ArgoCD:         argocd.Options{RepoURL: argoCDRepoURL(o.argoCDRepoURL, o.remote, ln), TargetRevision: o.branch},
		BatchSize:      o.batchSize,
		GitTimeout:     o.timeout,
		Logger:         logger.With("component", "git-export"),
	})
	if err := x.Open(ctx); err != nil {
		return nil, err
	}
	return x, nil
}

// argoCDRepoURL is where Argo CD clones the manifest repository from: the
// flag (which validate made sure has no credentials), else a network
// remote without its credentials, else the built-in Git server.
func argoCDRepoURL(flag, remote string, ln net.Listener) string {
	if flag != "" {
		return flag
	}
	if isNetworkRemote(remote) {
		return gitrepo.PublicURL(remote)
	}
	host, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		return "http://" + ln.Addr().String() + gitRepoPath
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + gitRepoPath
}

// isNetworkRemote reports whether a git remote is reached over a network
// (a URL with a scheme other than file, or scp-like user@host:path).
func isNetworkRemote(remote string) bool {
	if scheme, _, ok := strings.Cut(remote, "://"); ok {
		return scheme != "file"
	}
	at := strings.Index(remote, "@")
	colon := strings.Index(remote, ":")
	return at > 0 && colon > at
}

// runExporter exports until ctx ends, then tries once more, for a while,
// to push what the last requests wrote.
func runExporter(ctx context.Context, x *gitrepo.Exporter, limit time.Duration, logger *slog.Logger) {
	x.Run(ctx)
	final, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := x.Sync(final); err != nil {
		logger.Warn("git export did not finish before shutdown; it resumes at the next start", "error", gitrepo.Redact(err.Error()))
	}
}
