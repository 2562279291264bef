package gitrepo

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
)

// Resuming finds the last event the branch holds, so that export
// continues exactly after it, whatever moment the process stopped at and
// whatever people did to the branch meanwhile. Only Railyard's own
// commits count: on the branch's first-parent line, committed by
// Railyard, with one Railyard-Event trailer, and committed at their
// author time (the event's time). A person's cherry-pick or revert of
// Railyard's commit keeps the trailer and the author date but is
// committed by that person, at another time, so it does not count.
//
// Railyard writes events in increasing order, one commit each, on top of
// what the branch holds, so its newest own commit on that line names the
// highest event exported. That is checked, not assumed: the own commit
// below it must hold an older event, no own commit with a newer event may
// hang off the line (a merge that made someone else's commit the first
// parent), and the database must have that event at that time. Every
// change to the branch that Railyard did not make is followed by a resume
// before Railyard writes on top of it (a rejected push, a failed
// compare-and-swap, or a start), so checking the commits since the newest
// own one and the own one below it is enough: resume reads a handful of
// commits however long the history is. Anything else stops the export
// (stopError) rather than guess.

// branchCommit is a commit of the branch as resume reads it.
type branchCommit struct {
	sha   string
	event int64 // the event it exports, if it is Railyard's own commit; else 0
	at    int64 // author time, Unix seconds
}

// branchFormat prints what resume needs of a commit, fields separated by
// 0x1f: id, committer name and email, committer and author time, and the
// values of the Railyard-Event trailers, comma-separated.
const branchFormat = "--format=%H%x1f%cn%x1f%ce%x1f%ct%x1f%at%x1f%(trailers:key=" + EventTrailer + ",valueonly,separator=%x2C)"

// parseBranchCommit reads one record of branchFormat.
func parseBranchCommit(rec string) (branchCommit, error) {
	f := strings.Split(rec, "\x1f")
	if len(f) != 6 {
		return branchCommit{}, fmt.Errorf("git log: unexpected record %q", rec)
	}
	c := branchCommit{sha: f[0]}
	ct, err1 := strconv.ParseInt(f[3], 10, 64)
	at, err2 := strconv.ParseInt(f[4], 10, 64)
	if err1 != nil || err2 != nil {
		return branchCommit{}, fmt.Errorf("git log: unexpected times in %q", rec)
	}
	c.at = at
	if f[1] != committer.Name || f[2] != committer.Email || ct != at {
		return c, nil
	}
	id, err := strconv.ParseInt(strings.TrimSpace(f[5]), 10, 64) // fails on none and on several
	if err == nil && id > 0 {
		c.event = id
	}
	return c, nil
}

// byRailyard limits git log to the commits Railyard committed (or that
// claim to be): git skips the others without formatting them, so that
// reading past many commits of people costs little.
var byRailyard = "--committer=^" + committer.Name + " <" + committer.Email + ">"

// logCommits runs git log with branchFormat and args, and returns the
// commits it lists.
func (x *Exporter) logCommits(ctx context.Context, args ...string) ([]branchCommit, error) {
	out, err := x.git.Run(ctx, append([]string{"log", "-z", branchFormat}, args...)...)
	if err != nil {
		return nil, err
	}
	var commits []branchCommit
	for _, rec := range strings.Split(out, "\x00") {
		if rec = strings.TrimPrefix(rec, "\n"); rec == "" {
			continue
		}
		c, err := parseBranchCommit(rec)
		if err != nil {
			return nil, err
		}
		commits = append(commits, c)
	}
	return commits, nil
}

// ownOnLine returns Railyard's n newest own commits on head's first-parent
// line, newest first (fewer if the line has fewer). It reads the line in
// growing chunks, so that it reads only as far as it needs to.
func (x *Exporter) ownOnLine(ctx context.Context, head string, n int) ([]branchCommit, error) {
	var own []branchCommit
	for skip, chunk := 0, 16; ; skip, chunk = skip+chunk, chunk*8 {
		commits, err := x.logCommits(ctx, "--first-parent", byRailyard, "--skip="+strconv.Itoa(skip), "--max-count="+strconv.Itoa(chunk), head)
		if err != nil {
			return nil, err
		}
		for _, c := range commits {
			if c.event != 0 {
				if own = append(own, c); len(own) == n {
					return own, nil
				}
			}
		}
		if len(commits) < chunk {
			return own, nil
		}
	}
}

// resume reads the branch and finds the last event it holds.
func (x *Exporter) resume(ctx context.Context) error {
	x.idx = newIndex()
	var head string
	if x.local() {
		head = x.resolve(ctx, "refs/heads/"+x.cfg.Branch)
	} else {
		var err error
		if head, err = x.fetch(ctx); err != nil {
			return err
		}
	}
	if err := x.checkHistory(ctx, head); err != nil {
		return err
	}
	newest, err := x.lastExported(ctx, head)
	if err != nil {
		return err
	}
	if err := x.checkSameDatabase(ctx, newest); err != nil {
		return err
	}
	last := newest.event
	x.base, x.exported, x.ready = head, last, true
	x.mu.Lock()
	x.status.LastExportedEventID, x.status.Head = last, head
	x.mu.Unlock()
	return nil
}

// lastExported returns the commit of the highest event the branch holds
// (zero if none), once it has checked that the branch is consistent.
func (x *Exporter) lastExported(ctx context.Context, head string) (branchCommit, error) {
	if head == "" {
		return branchCommit{}, nil
	}
	own, err := x.ownOnLine(ctx, head, 2)
	if err != nil {
		return branchCommit{}, err
	}
	var newest branchCommit
	if len(own) > 0 {
		newest = own[0]
	}
	if len(own) == 2 && own[1].event >= newest.event {
		return branchCommit{}, stop(fmt.Errorf("branch %q of %s is inconsistent: commit %.12s, committed as Railyard, says it exports event %d, "+
			"but it comes after commit %.12s of event %d on the branch's first-parent line, and Railyard exports events once each, in increasing order. "+
			"Railyard will not guess which events the branch holds: remove commit %.12s from the branch (for example reset the branch to %.12s and push again what else came after it); "+
			"export then continues by itself", x.cfg.Branch, x.repository(), newest.sha, newest.event, own[1].sha, own[1].event, newest.sha, own[1].sha))
	}
	if err := x.checkNothingNewerOffLine(ctx, head, newest); err != nil {
		return branchCommit{}, err
	}
	return newest, nil
}

// checkNothingNewerOffLine refuses a branch where an own commit with an
// event newer than newest (the newest own commit on the first-parent
// line, sha "" if none) is reachable only through a merge: someone merged
// Railyard's line into theirs, and resuming after newest would write
// those events again. It reads the commits reachable from head but not
// from newest: usually none.
func (x *Exporter) checkNothingNewerOffLine(ctx context.Context, head string, newest branchCommit) error {
	if head == newest.sha {
		return nil
	}
	args := []string{byRailyard, head}
	if newest.sha != "" {
		args = append(args, "^"+newest.sha)
	}
	commits, err := x.logCommits(ctx, args...)
	if err != nil {
		return err
	}
	var off branchCommit // the newest event off the line
	for _, c := range commits {
		if c.event > max(newest.event, off.event) {
			off = c
		}
	}
	if off.event == 0 {
		return nil
	}
	line := "has no commit of Railyard"
	if newest.sha != "" {
		line = fmt.Sprintf("holds Railyard's commits up to event %d only", newest.event)
	}
	return stop(fmt.Errorf("branch %q of %s is inconsistent: Railyard's commit %.12s of event %d is not on the branch's first-parent line, which %s "+
		"(a merge made someone else's commit its first parent). Railyard will not guess which events the branch holds: "+
		"make Railyard's commits the first-parent line again (merge other work into the branch, or rebase it onto the branch, rather than merging the branch into it) and push; "+
		"export then continues by itself", x.cfg.Branch, x.repository(), off.sha, off.event, line))
}

// repository names the manifest repository in messages.
func (x *Exporter) repository() string {
	if x.local() {
		return x.cfg.Dir
	}
	return RedactURL(x.cfg.RemoteURL)
}

// fetch fetches the remote branch and returns its head ("" if the remote
// is empty).
func (x *Exporter) fetch(ctx context.Context) (string, error) {
	url := x.cfg.RemoteURL
	out, err := x.git.Run(ctx, "ls-remote", "--heads", remoteName)
	if gitcli.IsTimeout(err) {
		return "", remoteTimeout(err, "git ls-remote of", url)
	}
	if err != nil {
		return "", fmt.Errorf("cannot reach the manifest repository %s: %w", RedactURL(url), err)
	}
	var head string
	var branches []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		sha, ref, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		name := strings.TrimPrefix(ref, "refs/heads/")
		branches = append(branches, name)
		if name == x.cfg.Branch {
			head = sha
		}
	}
	if head == "" {
		if len(branches) > 0 {
			return "", stop(fmt.Errorf("branch %q does not exist in %s (it has %s): create it, or configure one of those branches",
				x.cfg.Branch, RedactURL(url), strings.Join(branches, ", ")))
		}
		return "", nil // an empty repository: the first export creates the branch
	}
	remoteRef := "refs/remotes/origin/" + x.cfg.Branch
	if _, err := x.git.Run(ctx, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remoteName, "+refs/heads/"+x.cfg.Branch+":"+remoteRef); err != nil {
		if gitcli.IsTimeout(err) {
			return "", remoteTimeout(err, "git fetch from", url)
		}
		return "", fmt.Errorf("fetch %s: %w", RedactURL(url), err)
	}
	got, err := x.git.Run(ctx, "rev-parse", "--verify", remoteRef)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(got), nil
}

// checkHistory refuses a remote branch that no longer contains what
// Railyard pushed last: someone replaced or rewound it, and exporting on
// top would mix two histories.
func (x *Exporter) checkHistory(ctx context.Context, head string) error {
	if x.local() {
		return nil // the branch is the published one
	}
	local := x.resolve(ctx, "refs/heads/"+x.cfg.Branch)
	if local == "" {
		return nil // never pushed from here
	}
	if head != "" {
		if _, err := x.git.Run(ctx, "merge-base", "--is-ancestor", local, head); err == nil {
			return nil
		}
	}
	return stop(fmt.Errorf("the history of branch %q in %s does not contain Railyard's last pushed commit %.12s: "+
		"the branch was replaced or rewound. Restore it, or to export everything again on top of it as it is now, "+
		"stop Railyard and delete %s", x.cfg.Branch, RedactURL(x.cfg.RemoteURL), local, x.cfg.Dir))
}

// checkSameDatabase refuses to resume after commit c, of event c.event
// at Unix time c.at, unless the database has that very event: a database
// restored from an older backup has fewer events than the repository,
// or, once new changes have caught up, different events under the same
// ids, which export would skip; and a commit made to look like Railyard's
// names an event the database has at another time.
func (x *Exporter) checkSameDatabase(ctx context.Context, c branchCommit) error {
	if c.event == 0 {
		return nil
	}
	const advice = "the database is not the one that wrote the repository (restored from an older backup?), or someone made that commit look like Railyard's. " +
		"Point Railyard at the database that wrote the repository, remove a commit that is not Railyard's, or point Railyard at a branch whose history has no " + EventTrailer +
		" trailers (for example a new branch started from an empty commit)"
	newest, err := x.src.LastEventID(ctx)
	if err != nil {
		return err
	}
	if c.event > newest {
		return stop(fmt.Errorf("the manifest repository holds event %d (commit %.12s) but the database's newest event is %d: %s", c.event, c.sha, newest, advice))
	}
	events, err := x.src.FindEvents(ctx, railyard.EventFilter{AfterID: c.event - 1, Ascending: true, Limit: 1})
	if err != nil {
		return err
	}
	if len(events) == 0 || events[0].ID != c.event {
		return stop(fmt.Errorf("the manifest repository holds event %d (commit %.12s), which the database does not have: %s", c.event, c.sha, advice))
	}
	if got := events[0].Time.Unix(); got != c.at {
		return stop(fmt.Errorf("the manifest repository's event %d (commit %.12s) happened at %s, the database's event %d at %s: %s",
			c.event, c.sha, time.Unix(c.at, 0).UTC().Format(time.RFC3339), c.event, events[0].Time.UTC().Format(time.RFC3339), advice))
	}
	return nil
}
