package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// The chaos scenario's report, and its judge: the remote's history read
// back, git fsck, and the targets (chaos.go runs the scenario).

// ChaosReport is what the chaos scenario did and found.
type ChaosReport struct {
	// Kills counts the SIGKILLs sent to railyard serve, Restarts the
	// starts after the first.
	Kills    int `json:"kills"`
	Restarts int `json:"restarts"`
	// Events is the server's newest event id at the end; Commits the
	// commits of the branch's first-parent history, of which
	// CommitsWithoutEvent carry no Railyard-Event trailer.
	Events              int64 `json:"events"`
	Commits             int   `json:"commits"`
	CommitsWithoutEvent int   `json:"commitsWithoutEvent"`
	// DuplicateEvents are events with more than one commit, MissingEvents
	// events without one, OutOfOrder commits whose event does not follow
	// the previous commit's; DuplicateReleases are releases whose files
	// more than one commit added. Examples lists a few of each.
	DuplicateEvents   int      `json:"duplicateEvents"`
	MissingEvents     int      `json:"missingEvents"`
	OutOfOrder        int      `json:"outOfOrder"`
	DuplicateReleases int      `json:"duplicateReleases"`
	Examples          []string `json:"examples"`
	// Fsck is what `git fsck --strict` said about the remote and about
	// Railyard's work repository; empty when they are clean.
	Fsck string `json:"fsck"`
	// Hang is the hung-remote phase; null with --hang 0.
	Hang *HangReport `json:"hang"`
	// Failures are the steps of the scenario that did not happen as
	// planned (a restart that failed, a condition never met).
	Failures []string `json:"failures"`
}

// HangReport is the phase in which the remote accepted connections and
// never answered.
type HangReport struct {
	// Error says why the phase could not run (serve did not start with
	// the remote); the other fields are then empty.
	Error string `json:"error,omitempty"`
	// Seconds is how long the remote hung.
	Seconds float64 `json:"seconds"`
	// StallReported is set when export status showed lastError while
	// the remote hung: LastError is what it said, after
	// StallReportedAfterSeconds.
	StallReported             bool    `json:"stallReported"`
	StallReportedAfterSeconds float64 `json:"stallReportedAfterSeconds"`
	LastError                 string  `json:"lastError"`
	// PendingWhenBack is the number of events waiting for export when
	// the remote answered again.
	PendingWhenBack int64 `json:"pendingWhenBack"`
	// Recovered is set when, without a restart, export status showed
	// export moving on again with lastError cleared (while the load went
	// on), after RecoveredAfterSeconds.
	Recovered             bool    `json:"recovered"`
	RecoveredAfterSeconds float64 `json:"recoveredAfterSeconds"`
}

// checkHistory reads the first-parent history of branch in repo and
// counts, into r, the events it holds twice, out of order or not at all
// (of 1..events), and the releases whose files two commits added.
func checkHistory(ctx context.Context, repo, branch string, events int64, r *ChaosReport) error {
	out, err := runGit(ctx, repo, "log", "--first-parent", "--reverse",
		"--format=%H %(trailers:key="+eventTrailer+",valueonly,separator=%x2C)", "refs/heads/"+branch, "--")
	if err != nil {
		return err
	}
	seen := map[int64]bool{}
	var prev int64
	for line := range strings.Lines(out) {
		sha, trailer, _ := strings.Cut(strings.TrimSpace(line), " ")
		r.Commits++
		id, err := strconv.ParseInt(trailer, 10, 64)
		switch {
		case err != nil:
			r.CommitsWithoutEvent++
			r.example("commit %.12s carries no single %s trailer (%q)", sha, eventTrailer, trailer)
			continue
		case seen[id]:
			r.DuplicateEvents++
			r.example("event %d exported again in commit %.12s", id, sha)
		case id != prev+1:
			r.OutOfOrder++
			r.example("event %d follows event %d (commit %.12s)", id, prev, sha)
		}
		seen[id] = true
		prev = id
	}
	for id := int64(1); id <= events; id++ {
		if !seen[id] {
			r.MissingEvents++
			r.example("event %d has no commit", id)
		}
	}
	return countDuplicateReleases(ctx, repo, branch, r)
}

// countDuplicateReleases counts the releases whose files more than one
// commit of the first-parent history added.
func countDuplicateReleases(ctx context.Context, repo, branch string, r *ChaosReport) error {
	out, err := runGit(ctx, repo, "-c", "core.quotePath=off", "log", "--first-parent", "--no-renames",
		"--diff-filter=A", "--name-only", "--format=%x00", "refs/heads/"+branch, "--", "applications/")
	if err != nil {
		return err
	}
	added := map[releaseKey]int{}
	for commit := range strings.SplitSeq(out, "\x00") {
		for _, k := range parseReleasePaths(commit) {
			added[k]++
			if added[k] == 2 {
				r.DuplicateReleases++
				r.example("release %s added by more than one commit", k)
			}
		}
	}
	return nil
}

// example keeps up to 20 examples of what went wrong.
func (r *ChaosReport) example(format string, args ...any) {
	if len(r.Examples) < 20 {
		r.Examples = append(r.Examples, fmt.Sprintf(format, args...))
	}
}

// gitFsck runs git fsck --strict on repo and returns what it said, ""
// when it found nothing; a repository that does not exist is skipped.
func gitFsck(ctx context.Context, repo string) string {
	if _, err := os.Stat(repo); errors.Is(err, os.ErrNotExist) {
		return ""
	}
	cmd := exec.CommandContext(ctx, "git", "--git-dir", repo, "fsck", "--strict", "--no-dangling", "--no-progress")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	msg := strings.TrimSpace(out.String())
	if err != nil && msg == "" {
		msg = err.Error()
	}
	return msg
}

// chaosTargets judges a chaos report: nothing lost, duplicated or out of
// order, a clean repository, the stall reported and export recovered,
// and every step as planned.
func chaosTargets(rep *Report) []TargetResult {
	c := rep.Chaos
	if c == nil {
		return nil
	}
	lost := 0
	if e := rep.EndToEnd; e != nil {
		lost = e.Acknowledged - e.InGit
	}
	fsck := 0
	if c.Fsck != "" {
		fsck = len(strings.Split(c.Fsck, "\n"))
	}
	t := []TargetResult{
		exactly("acknowledged releases lost", float64(lost), 0, ""),
		exactly("events exported twice", float64(c.DuplicateEvents), 0, ""),
		exactly("releases exported twice", float64(c.DuplicateReleases), 0, ""),
		exactly("events exported out of order", float64(c.OutOfOrder), 0, ""),
		exactly("events missing from git", float64(c.MissingEvents), 0, ""),
		exactly("commits without an event", float64(c.CommitsWithoutEvent), 0, ""),
		exactly("git fsck --strict complaints", float64(fsck), 0, "lines"),
		exactly("steps not as planned", float64(len(c.Failures)), 0, ""),
	}
	if h := c.Hang; h != nil {
		t = append(t, exactly("stall shown in export status", float64(boolInt(h.StallReported)), 1, ""),
			exactly("export recovered without a restart", float64(boolInt(h.Recovered)), 1, ""))
	}
	return t
}

// exactly is the target got = want.
func exactly(name string, got, want float64, unit string) TargetResult {
	return TargetResult{Name: name, Want: fmt.Sprintf("= %g", want), Got: got, Unit: unit, Met: boolPtr(got == want)}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// targetsMet reports whether every measured target was met.
func targetsMet(targets []TargetResult) bool {
	for _, t := range targets {
		if t.Met != nil && !*t.Met {
			return false
		}
	}
	return true
}

// writeChaos writes the chaos part of the table.
func (rep *Report) writeChaos(b *strings.Builder) {
	c := rep.Chaos
	if c == nil {
		return
	}
	fmt.Fprintf(b, "chaos:     %d SIGKILLs, %d restarts; %d events, %d commits on the first-parent history\n", c.Kills, c.Restarts, c.Events, c.Commits)
	fmt.Fprintf(b, "           events twice %d, missing %d, out of order %d; releases twice %d; commits without an event %d\n",
		c.DuplicateEvents, c.MissingEvents, c.OutOfOrder, c.DuplicateReleases, c.CommitsWithoutEvent)
	if h := c.Hang; h != nil {
		switch {
		case h.Error != "":
			fmt.Fprintf(b, "hung git:  not run: %s\n", h.Error)
		default:
			fmt.Fprintf(b, "hung git:  %.1f s; stall shown in export status: %t (after %.1f s: %q); %d events pending when the remote came back; recovered: %t (after %.1f s)\n",
				h.Seconds, h.StallReported, h.StallReportedAfterSeconds, h.LastError, h.PendingWhenBack, h.Recovered, h.RecoveredAfterSeconds)
		}
	}
	if c.Fsck != "" {
		fmt.Fprintf(b, "git fsck:  %s\n", c.Fsck)
	}
	for _, e := range c.Examples {
		fmt.Fprintf(b, "           %s\n", e)
	}
	for _, f := range c.Failures {
		fmt.Fprintf(b, "failed:    %s\n", f)
	}
}
