package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"time"
)

// Kinds of --remote: the scenario's server pushes (serve --git-remote) to
// a bare repository the tool creates, reached over file:// or over Git's
// smart HTTP, served by the real `git http-backend` on 127.0.0.1.
const (
	remoteFile = "file"
	remoteHTTP = "http"
)

// pushRemote is the bare repository a scenario's server pushes to.
type pushRemote struct {
	// dir is the bare repository, which the watcher reads directly;
	// url is what serve is given as --git-remote.
	dir string
	url string
	web *gitHTTPRemote
}

// newPushRemote creates an empty bare repository in tmp and serves it as
// kind asks.
func newPushRemote(ctx context.Context, kind, tmp string) (*pushRemote, error) {
	p := &pushRemote{dir: filepath.Join(tmp, "remote.git")}
	if _, err := runGit(ctx, "", "init", "--quiet", "--bare", "--initial-branch=main", p.dir); err != nil {
		return nil, err
	}
	switch kind {
	case remoteFile:
		p.url = "file://" + p.dir
	case remoteHTTP:
		web, err := newGitHTTPRemote(p.dir)
		if err != nil {
			return nil, err
		}
		p.web, p.url = web, web.URL()
	default:
		return nil, fmt.Errorf("--remote %q is not known: use file or http", kind)
	}
	return p, nil
}

// serveArgs are the flags that make serve push to the remote.
func (p *pushRemote) serveArgs() []string {
	return []string{"--git-remote", p.url, "--argocd-repo-url", "https://git.example.com/manifests.git"}
}

// close stops serving the remote.
func (p *pushRemote) close() {
	if p.web != nil {
		p.web.close()
	}
}

// BacklogReport is the catch-up of --backlog: releases published while
// the server could not reach its remote, then exported while the
// measured load ran.
type BacklogReport struct {
	// Releases were published in Seconds (PerSecond) with the remote
	// unreachable; Events is how many events were pending when the
	// server restarted with its remote.
	Releases  int     `json:"releases"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"perSecond"`
	Events    int64   `json:"events"`
	// DrainSeconds is the time from the restart until the remote held
	// every pending event; EventsPerSecond is Events / DrainSeconds.
	// Zero if the backlog did not drain before the run ended.
	DrainSeconds    float64 `json:"drainSeconds"`
	EventsPerSecond float64 `json:"eventsPerSecond"`
}

// exportStatus is the part of Railyard's GET /api/v1/export-status the
// scenarios read.
type exportStatus struct {
	LastEventID         int64  `json:"lastEventId"`
	LastExportedEventID int64  `json:"lastExportedEventId"`
	PendingEvents       int64  `json:"pendingEvents"`
	LastError           string `json:"lastError"`
}

// getExportStatus reads the export status of the server at base.
func getExportStatus(ctx context.Context, c *http.Client, base string) (exportStatus, error) {
	var st exportStatus
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/export-status", nil)
	if err != nil {
		return st, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /api/v1/export-status: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// publishBacklog publishes c.backlog releases to a server whose remote
// cannot be reached (a path that does not exist), so that they are all
// pending, and stops it. It returns the report so far and the newest
// event id.
func (m *Main) publishBacklog(ctx context.Context, c *cliOptions, bin, dataDir, tmp string, log io.Writer) (*BacklogReport, int64, error) {
	args := append([]string{"--git-remote", "file://" + filepath.Join(tmp, "unreachable.git"),
		"--argocd-repo-url", "https://git.example.com/manifests.git"}, c.serveArgs...)
	srv, err := startRailyard(ctx, bin, dataDir, log, args...)
	if err != nil {
		return nil, 0, err
	}
	defer srv.kill()
	fmt.Fprintf(m.Stderr, "backlog: publishing %d releases while the remote is unreachable\n", c.backlog)
	o := c.Options
	o.Server, o.GitRemote, o.PID, o.Releases, o.Duration, o.Rate, o.Stop = srv.URL, "", 0, c.backlog, 0, 0, nil
	o.Mix = Mix{Releases: 1}
	rep, err := Run(ctx, o, m.Stderr)
	if err != nil {
		return nil, 0, fmt.Errorf("backlog: %w", err)
	}
	if n := sumErrors(rep.Errors); n > 0 {
		return nil, 0, fmt.Errorf("backlog: %d of %d releases failed: %v", n, rep.Requests, rep.Errors)
	}
	st, err := getExportStatus(ctx, &http.Client{Timeout: 10 * time.Second}, srv.URL)
	if err != nil {
		return nil, 0, fmt.Errorf("backlog: %w", err)
	}
	if err := srv.stop(time.Minute); err != nil {
		return nil, 0, fmt.Errorf("backlog: stop railyard serve: %w", err)
	}
	b := &BacklogReport{Releases: rep.Requests, Seconds: rep.DurationSeconds, PerSecond: rep.ReleasesPerSecond}
	return b, st.LastEventID, nil
}

// watchDrain polls the server's export status from now until every event
// up to last is exported, and fills in b; it gives up when ctx ends.
func watchDrain(ctx context.Context, base string, last int64, b *BacklogReport) {
	c := &http.Client{Timeout: 10 * time.Second}
	start := time.Now()
	first := true
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if st, err := getExportStatus(ctx, c, base); err == nil {
			if first {
				b.Events, first = last-st.LastExportedEventID, false
			}
			if st.LastExportedEventID >= last {
				secs := time.Since(start).Seconds()
				b.DrainSeconds = round2(secs)
				b.EventsPerSecond = round2(float64(b.Events) / secs)
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// writeBacklog writes the backlog part of the table.
func (rep *Report) writeBacklog(b io.Writer) {
	bl := rep.Backlog
	if bl == nil {
		return
	}
	fmt.Fprintf(b, "backlog:   %d releases published with the remote unreachable (%.0f/s); %d events pending at the restart",
		bl.Releases, bl.PerSecond, bl.Events)
	if bl.DrainSeconds > 0 {
		fmt.Fprintf(b, ", drained in %.2f s (%.0f events/s) while the measured load ran\n", bl.DrainSeconds, bl.EventsPerSecond)
	} else {
		fmt.Fprintf(b, ", NOT drained when the run ended\n")
	}
}
