package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The slow-bodies scenario attacks the server the way issue 10 found it
// weak, while ordinary clients keep using it: connections that announce a
// 64 MiB body and send a byte a second, bodies sent at half a byte a
// second, and keep-alive connections left idle. Every connection the
// server closes is opened again at once, so the pressure stays constant.
// The report says how long the server held each kind of connection, what
// it answered, how much memory it used, and how the ordinary clients
// fared before and during the attack.

// Kinds of attacking connection, the keys of AttackReport.Connections.
const (
	attackAnnounce = "announce-64MiB"
	attackSlow     = "slow-body"
	attackIdle     = "idle-keep-alive"
)

// attackAnnounced is the body size the announcing connections declare.
const attackAnnounced = 64 << 20

// attackOptions are the parameters of the attack.
type attackOptions struct {
	// Announcers announce attackAnnounced bytes and send one a second;
	// SlowBodies send a 1,000-byte body at 0.5 byte/s; Idle send one
	// request and then nothing.
	Announcers int
	SlowBodies int
	Idle       int
	// Baseline is how long the ordinary load runs alone first.
	Baseline time.Duration
}

// defaultAttackOptions are the flags' defaults: issue 10's attack.
func defaultAttackOptions() attackOptions {
	return attackOptions{Announcers: 30, SlowBodies: 10, Idle: 10, Baseline: 10 * time.Second}
}

// AttackReport is the report of the attack; null in other runs.
type AttackReport struct {
	// Baseline is the ordinary load alone, before the attack.
	Baseline *AttackBaseline `json:"baseline"`
	// Connections has an entry per kind of attacking connection:
	// announce-64MiB, slow-body and idle-keep-alive.
	Connections map[string]*AttackConnections `json:"connections"`
}

// AttackBaseline is what the ordinary clients saw without the attack.
type AttackBaseline struct {
	DurationSeconds float64  `json:"durationSeconds"`
	Requests        int      `json:"requests"`
	Errors          int      `json:"errors"`
	ReleaseLatency  *Latency `json:"releaseLatencyMs"`
	PeakRSSMiB      float64  `json:"peakRssMiB"`
}

// AttackConnections describes the connections of one kind.
type AttackConnections struct {
	// Concurrent is how many were kept open at once.
	Concurrent int `json:"concurrent"`
	// Opened counts the connections made, reconnections included.
	Opened int `json:"opened"`
	// ClosedByServer counts those the server closed (or answered, for the
	// body kinds); HeldMs is how long it kept them: from the request's
	// headers (for idle ones, from the answer) until then.
	ClosedByServer int      `json:"closedByServer"`
	HeldMs         *Latency `json:"heldMs"`
	// OpenAtEnd are still open when the attack stopped; LongestOpenMs is
	// the age of the oldest of them.
	OpenAtEnd     int     `json:"openAtEnd"`
	LongestOpenMs float64 `json:"longestOpenMs"`
	// Answers counts the server's answers by status code; "none" for a
	// connection closed without one.
	Answers map[string]int `json:"answers"`
	// DialErrors counts connections that could not be made.
	DialErrors int `json:"dialErrors"`
}

// attacker runs the attacking connections against addr. Its methods are
// safe for concurrent use.
type attacker struct {
	addr string
	host string
	mu   sync.Mutex
	// held are the hold times of closed connections by kind; open the
	// ages of those open at the end.
	conns map[string]*attackStats
	wg    sync.WaitGroup
}

// attackStats collects one kind's connections.
type attackStats struct {
	concurrent int
	opened     int
	dialErrors int
	held       []time.Duration
	open       []time.Duration
	answers    map[string]int
}

// newAttacker returns an attacker of the server at base (http://host:port).
func newAttacker(base string) (*attacker, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	return &attacker{addr: u.Host, host: u.Host, conns: map[string]*attackStats{}}, nil
}

// start opens the connections of o; they run until ctx ends. wait waits
// for them.
func (a *attacker) start(ctx context.Context, o attackOptions) {
	kinds := []struct {
		name string
		n    int
		run  func(ctx context.Context, c net.Conn, br *bufio.Reader, i int) (held time.Duration, status string, closed bool)
	}{
		{attackAnnounce, o.Announcers, a.announce},
		{attackSlow, o.SlowBodies, a.slowBody},
		{attackIdle, o.Idle, a.idle},
	}
	a.mu.Lock()
	for _, k := range kinds {
		a.conns[k.name] = &attackStats{concurrent: k.n, answers: map[string]int{}}
	}
	a.mu.Unlock()
	for _, k := range kinds {
		for i := range k.n {
			a.wg.Go(func() { a.loop(ctx, k.name, i, k.run) })
		}
	}
}

// wait waits for every connection to end.
func (a *attacker) wait() { a.wg.Wait() }

// loop keeps one connection of a kind open until ctx ends, opening a new
// one whenever the server closes it.
func (a *attacker) loop(ctx context.Context, kind string, i int,
	run func(ctx context.Context, c net.Conn, br *bufio.Reader, i int) (time.Duration, string, bool)) {
	var d net.Dialer
	for ctx.Err() == nil {
		c, err := d.DialContext(ctx, "tcp", a.addr)
		if err != nil {
			a.record(kind, func(s *attackStats) { s.dialErrors++ })
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		a.record(kind, func(s *attackStats) { s.opened++ })
		// Closing the connection when ctx ends unblocks run.
		stop := context.AfterFunc(ctx, func() { c.Close() })
		held, status, closed := run(ctx, c, bufio.NewReader(c), i)
		stop()
		c.Close()
		a.record(kind, func(s *attackStats) {
			if closed {
				s.held = append(s.held, held)
				s.answers[status]++
			} else {
				s.open = append(s.open, held)
			}
		})
	}
}

// record updates the stats of a kind.
func (a *attacker) record(kind string, f func(*attackStats)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(a.conns[kind])
}

// announce sends the headers of a 64 MiB body and one byte a second:
// to the JSON API for even i, as a Kuberpult multipart upload for odd i.
func (a *attacker) announce(ctx context.Context, c net.Conn, br *bufio.Reader, i int) (time.Duration, string, bool) {
	path, ct, first := "/api/v1/applications/attack/releases", "application/json", "{"
	if i%2 == 1 {
		path, ct, first = "/api/release", "multipart/form-data; boundary=attack",
			"--attack\r\nContent-Disposition: form-data; name=\"application\"\r\n\r\nattack"
	}
	return a.trickle(ctx, c, br, "POST", path, ct, attackAnnounced, first, time.Second)
}

// slowBody sends a 1,000-byte environment at 0.5 byte/s.
func (a *attacker) slowBody(ctx context.Context, c net.Conn, br *bufio.Reader, i int) (time.Duration, string, bool) {
	return a.trickle(ctx, c, br, "PUT", fmt.Sprintf("/api/v1/environments/attack-%d", i), "application/json", 1000, "{", 2*time.Second)
}

// trickle sends a request's headers and first bytes, then one more byte
// every interval, until the server answers or closes the connection, or
// ctx ends. It returns how long that took, the answer's status ("none"
// without one) and whether it was the server that ended it.
func (a *attacker) trickle(ctx context.Context, c net.Conn, br *bufio.Reader, method, path, contentType string, length int64, first string, interval time.Duration) (time.Duration, string, bool) {
	start := time.Now()
	answered := readAnswer(br)
	if _, err := fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s", method, path, a.host, contentType, length, first); err != nil {
		return time.Since(start), "none", true
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case status := <-answered:
			return time.Since(start), status, ctx.Err() == nil
		case <-tick.C:
			// A failed write means the server closed the connection;
			// the reader says so next.
			_, _ = io.WriteString(c, " ")
		}
	}
}

// idle sends one request on a keep-alive connection, reads the answer and
// then waits for the server to close the connection.
func (a *attacker) idle(ctx context.Context, c net.Conn, br *bufio.Reader, i int) (time.Duration, string, bool) {
	if _, err := fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", a.host); err != nil {
		return 0, "none", true
	}
	if status := <-readAnswer(br); status == "none" {
		return 0, status, ctx.Err() == nil
	}
	start := time.Now()
	_, err := br.ReadByte()
	if err == nil {
		return time.Since(start), "unexpected data", true
	}
	return time.Since(start), "closed", ctx.Err() == nil
}

// readAnswer reads one HTTP answer in the background and sends its status
// ("none" if the connection ended first).
func readAnswer(br *bufio.Reader) <-chan string {
	ch := make(chan string, 1)
	go func() {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			ch <- "none"
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ch <- strconv.Itoa(resp.StatusCode)
	}()
	return ch
}

// report summarizes the connections.
func (a *attacker) report() map[string]*AttackConnections {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]*AttackConnections{}
	for kind, s := range a.conns {
		c := &AttackConnections{Concurrent: s.concurrent, Opened: s.opened, ClosedByServer: len(s.held),
			HeldMs: summarize(slices.Clone(s.held)), OpenAtEnd: len(s.open), Answers: s.answers, DialErrors: s.dialErrors}
		if len(s.open) > 0 {
			c.LongestOpenMs = ms(slices.Max(s.open))
		}
		out[kind] = c
	}
	return out
}

// runSlowBodies runs the slow-bodies scenario against srv: the ordinary
// load alone for the baseline, then the same load for the run's duration
// while the attack goes on.
func (m *Main) runSlowBodies(ctx context.Context, c *cliOptions, o Options) (*Report, error) {
	base := o
	base.Duration, base.Releases = c.attack.Baseline, 0
	fmt.Fprintf(m.Stderr, "slow-bodies: ordinary load alone for %s\n", base.Duration)
	baseRep, err := Run(ctx, base, m.Stderr)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	at, err := newAttacker(o.Server)
	if err != nil {
		return nil, err
	}
	attackCtx, stopAttack := context.WithCancel(ctx)
	defer stopAttack()
	at.start(attackCtx, c.attack)
	fmt.Fprintf(m.Stderr, "slow-bodies: attacking with %d announcing, %d slow and %d idle connections for %s\n",
		c.attack.Announcers, c.attack.SlowBodies, c.attack.Idle, o.Duration)
	// The environments exist; versions go on after the baseline's.
	o.Setup = ""
	o.FirstVersion = base.FirstVersion + int64(baseRep.Operations["release"].Requests/o.Apps) + 1
	rep, err := Run(ctx, o, m.Stderr)
	stopAttack()
	at.wait()
	if err != nil {
		return nil, err
	}
	rep.Attack = &AttackReport{Connections: at.report(), Baseline: &AttackBaseline{
		DurationSeconds: baseRep.DurationSeconds, Requests: baseRep.Requests, Errors: sumErrors(baseRep.Errors),
		ReleaseLatency: baseRep.Operations["release"].LatencyMs}}
	if baseRep.Memory != nil {
		rep.Attack.Baseline.PeakRSSMiB = baseRep.Memory.PeakRSSMiB
	}
	return rep, nil
}

// sumErrors counts the failed requests.
func sumErrors(errs map[string]int) int {
	n := 0
	for _, c := range errs {
		n += c
	}
	return n
}

// slowBodiesTargets judge the attack: memory bounded, ordinary clients
// served, attacking connections let go.
func slowBodiesTargets(rep *Report) []TargetResult {
	var peak TargetResult
	if rep.Memory != nil {
		peak = TargetResult{Name: "server peak RSS during the attack", Want: "< 300", Got: rep.Memory.PeakRSSMiB, Unit: "MiB", Met: boolPtr(rep.Memory.PeakRSSMiB < 300)}
	} else {
		peak = TargetResult{Name: "server peak RSS during the attack", Want: "< 300", Unit: "MiB"}
	}
	errs := float64(sumErrors(rep.Errors))
	targets := []TargetResult{
		peak,
		{Name: "failed requests of ordinary clients", Want: "= 0", Got: errs, Met: boolPtr(errs == 0)},
		latencyBelow("ordinary release latency p99", rep.Operations["release"].LatencyMs, p99, 500),
	}
	if rep.Attack == nil {
		return targets
	}
	conns := rep.Attack.Connections
	targets = append(targets,
		heldBelow("longest a 64 MiB announcement is held", conns[attackAnnounce], 30_000),
		heldBelow("longest a 0.5 byte/s body is held", conns[attackSlow], 30_000),
		heldBelow("longest an idle keep-alive is held", conns[attackIdle], 75_000))
	return targets
}

// heldBelow is the target that the server let go of every connection of
// a kind within want ms: missed when one stayed open longer, not measured
// when none was closed and none was open that long.
func heldBelow(name string, c *AttackConnections, want float64) TargetResult {
	t := TargetResult{Name: name, Want: fmt.Sprintf("< %g", want/1000), Unit: "s"}
	if c == nil || c.Concurrent == 0 {
		return t
	}
	longest := c.LongestOpenMs
	if c.HeldMs != nil {
		longest = max(longest, c.HeldMs.Max)
	}
	t.Got = longest / 1000
	switch {
	case longest >= want:
		t.Met = boolPtr(false)
	case c.ClosedByServer > 0:
		t.Met = boolPtr(true)
	}
	return t
}

// writeAttack writes the attack's part of the table.
func (rep *Report) writeAttack(w io.Writer) {
	a := rep.Attack
	if a == nil {
		return
	}
	if b := a.Baseline; b != nil && b.ReleaseLatency != nil {
		fmt.Fprintf(w, "baseline:  ordinary load alone for %.1f s: %d requests, %d errors, release p50 %.1f ms, p99 %.1f ms, max %.1f ms; peak RSS %.1f MiB\n",
			b.DurationSeconds, b.Requests, b.Errors, b.ReleaseLatency.P50, b.ReleaseLatency.P99, b.ReleaseLatency.Max, b.PeakRSSMiB)
	}
	fmt.Fprintf(w, "attack:    connections kept open by kind; held = from the request until the server answered or closed\n")
	for _, kind := range []string{attackAnnounce, attackSlow, attackIdle} {
		c := a.Connections[kind]
		if c == nil || c.Concurrent == 0 {
			continue
		}
		held := "-"
		if l := c.HeldMs; l != nil {
			held = fmt.Sprintf("p50 %.1f s, max %.1f s", l.P50/1000, l.Max/1000)
		}
		fmt.Fprintf(w, "  %-16s %3d at once, %4d opened, %4d let go (held %s, answers %s), %d still open at the end (oldest %.1f s)\n",
			kind, c.Concurrent, c.Opened, c.ClosedByServer, held, formatErrors(c.Answers), c.OpenAtEnd, c.LongestOpenMs/1000)
	}
}
