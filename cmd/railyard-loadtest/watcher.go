package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The watcher tells when a release has reached the watched branch. It
// relies only on the classic manifest layout every Kuberpult-compatible
// server writes — the release's directory applications/<app>/releases/<N>/
// — not on Railyard's commit trailers, so it works against any such
// server. (Railyard's 201 answer carries the release but not its event
// id, so the trailer could not be matched to an acknowledgement anyway.)
//
// Each poll asks for the branch's head (rev-parse on a local repository,
// ls-remote on a URL); only when it moved does it fetch (URLs only) and
// walk the new commits, listing the files they added under applications/.

// releaseKey names a release.
type releaseKey struct {
	app     string
	version int64
}

func (k releaseKey) String() string { return k.app + "/" + strconv.FormatInt(k.version, 10) }

// watcher polls one branch of a Git repository. It is not safe for
// concurrent use.
type watcher struct {
	branch string
	// gitDir is the repository read: the watched one itself when it is
	// local, else a private bare mirror that url is fetched into.
	gitDir string
	url    string
	// head is the last commit walked; "" before the branch exists.
	head string
}

// openWatcher starts watching branch of remote (a local repository's
// path, or a URL git can fetch) from its current head. A mirror for a
// URL is created in tmpDir.
func openWatcher(ctx context.Context, remote, branch, tmpDir string) (*watcher, error) {
	w := &watcher{branch: branch}
	if fi, err := os.Stat(remote); err == nil && fi.IsDir() {
		w.gitDir = remote
		if fi, err := os.Stat(filepath.Join(remote, ".git")); err == nil && fi.IsDir() {
			w.gitDir = filepath.Join(remote, ".git")
		}
	} else {
		w.url = remote
		w.gitDir = filepath.Join(tmpDir, "watch.git")
		if _, err := runGit(ctx, "", "init", "--quiet", "--bare", w.gitDir); err != nil {
			return nil, err
		}
	}
	head, err := w.remoteHead(ctx)
	if err != nil {
		return nil, err
	}
	if head != "" && w.url != "" {
		if err := w.fetch(ctx); err != nil {
			return nil, err
		}
	}
	w.head = head
	return w, nil
}

// poll returns the releases whose directories the commits since the last
// poll added, and the time the new head was seen.
func (w *watcher) poll(ctx context.Context) ([]releaseKey, time.Time, error) {
	head, err := w.remoteHead(ctx)
	seen := time.Now()
	if err != nil || head == "" || head == w.head {
		return nil, seen, err
	}
	if w.url != "" {
		if err := w.fetch(ctx); err != nil {
			return nil, seen, err
		}
	}
	keys, err := w.addedReleases(ctx, w.head, head)
	if err != nil && w.head != "" {
		// The old head may be gone (a rewritten branch): walk it all.
		keys, err = w.addedReleases(ctx, "", head)
	}
	if err != nil {
		return nil, seen, err
	}
	w.head = head
	return keys, seen, nil
}

// remoteHead returns the commit the branch points to, "" if it does not
// exist.
func (w *watcher) remoteHead(ctx context.Context) (string, error) {
	ref := "refs/heads/" + w.branch
	if w.url == "" {
		out, err := runGit(ctx, w.gitDir, "rev-parse", "--quiet", "--verify", ref+"^{commit}")
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 1 {
			return "", nil
		}
		return strings.TrimSpace(out), err
	}
	out, err := runGit(ctx, "", "ls-remote", w.url, ref)
	if err != nil {
		return "", err
	}
	sha, _, _ := strings.Cut(strings.TrimSpace(out), "\t")
	return sha, nil
}

// fetch copies the branch of the URL into the mirror.
func (w *watcher) fetch(ctx context.Context) error {
	ref := "refs/heads/" + w.branch
	_, err := runGit(ctx, w.gitDir, "fetch", "--quiet", "--no-tags", "--force", w.url, "+"+ref+":"+ref)
	return err
}

// addedReleases lists the releases whose directories the commits in
// (from, to] added, following first parents; from "" means all of to's
// history.
func (w *watcher) addedReleases(ctx context.Context, from, to string) ([]releaseKey, error) {
	rev := to
	if from != "" {
		rev = from + ".." + to
	}
	out, err := runGit(ctx, w.gitDir, "-c", "core.quotePath=off", "log", "--first-parent", "--no-renames",
		"--diff-filter=A", "--name-only", "--format=", rev, "--", "applications/")
	if err != nil {
		return nil, err
	}
	return parseReleasePaths(out), nil
}

// parseReleasePaths picks the releases out of file paths, one per line:
// applications/<app>/releases/<N>/… . Each release is listed once.
func parseReleasePaths(out string) []releaseKey {
	var keys []releaseKey
	seen := map[releaseKey]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "/", 5)
		if len(parts) < 5 || parts[0] != "applications" || parts[2] != "releases" {
			continue
		}
		v, err := strconv.ParseInt(parts[3], 10, 64)
		if err != nil {
			continue
		}
		k := releaseKey{app: parts[1], version: v}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// runGit runs git (in gitDir when given) and returns its output.
func runGit(ctx context.Context, gitDir string, args ...string) (string, error) {
	if gitDir != "" {
		args = append([]string{"--git-dir", gitDir}, args...)
	}
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
