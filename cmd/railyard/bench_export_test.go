package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	rhttp "github.com/railyard-cd/railyard/http"
)

// BenchmarkExportEndToEnd runs `railyard serve` as a process with its
// embedded defaults, seeds 1,000 applications deployed in development,
// then has 32 concurrent clients publish releases (3 environments, 10 KB
// manifests each) through the API. It reports the API's release rate, the
// exporter's rate, the time from the last acknowledgement until the
// remote branch contains that event, and the server's peak memory.
// Run: go test ./cmd/railyard -run XXX -bench ExportEndToEnd -benchtime 1x
func BenchmarkExportEndToEnd(b *testing.B) {
	total := 10000
	if v := os.Getenv("RAILYARD_BENCH_RELEASES"); v != "" {
		total, _ = strconv.Atoi(v)
	}
	bin := buildBinary(b)
	dataDir := filepath.Join(b.TempDir(), "data")
	srv := startServer(b, bin, b.TempDir(), "--data-dir", dataDir)
	ctx := context.Background()
	c := rhttp.NewClient(srv.url)
	c.Actor = railyard.Actor{Name: "CI", Email: "ci@example.com"}
	envs := []string{"development", "staging", "production"}
	seedApps(b, c, envs, 1000)
	remote := filepath.Join(dataDir, "git", "manifests.git")
	seeded := lastEventID(b, c)
	waitExported(b, remote, seeded, 10*time.Minute)

	b.ResetTimer()
	var next atomic.Int64
	var lastEvent atomic.Int64
	latencies := make([]time.Duration, total)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				app := fmt.Sprintf("app-%04d", i%1000)
				t0 := time.Now()
				res, err := c.CreateRelease(ctx, benchRelease(app, int64(2+i/1000), envs))
				latencies[i] = time.Since(t0)
				if err != nil {
					b.Error(err)
					return
				}
				for {
					old := lastEvent.Load()
					if res.Event.ID <= old || lastEvent.CompareAndSwap(old, res.Event.ID) {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	lastAck := time.Now()
	apiSeconds := lastAck.Sub(start).Seconds()
	waitExported(b, remote, lastEvent.Load(), 10*time.Minute)
	exported := time.Now()
	b.StopTimer()

	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	b.ReportMetric(float64(total)/apiSeconds, "releases/s")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(total)/exported.Sub(start).Seconds(), "exported-events/s")
	b.ReportMetric(exported.Sub(lastAck).Seconds(), "ack-to-git-s")
	b.ReportMetric(peakRSSMiB(b, srv.cmd.Process.Pid), "peak-rss-MiB")
	b.ReportMetric(0, "ns/op")
}

// benchRelease is a release of app with a 10 KB manifest per environment.
func benchRelease(app string, version int64, envs []string) *railyard.CreateRelease {
	m := make(map[string]string, len(envs))
	for _, env := range envs {
		var s strings.Builder
		fmt.Fprintf(&s, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  version: \"%d\"\n", app, version)
		for i := 0; s.Len() < 10<<10; i++ {
			fmt.Fprintf(&s, "  key%04d: value-%s-%d-%04d\n", i, app, version, i)
		}
		m[env] = s.String()
	}
	return &railyard.CreateRelease{Application: app, Version: version, Manifests: m, Team: "team",
		SourceCommitID: "0123456789abcdef0123456789abcdef01234567", SourceAuthor: "CI <ci@example.com>", SourceMessage: "build"}
}

// seedApps creates the environments and n applications deployed in
// development, in batches of 100 commands.
func seedApps(b *testing.B, c *rhttp.Client, envs []string, n int) {
	b.Helper()
	ctx := context.Background()
	var entries []railyard.BatchEntry
	add := func(kind string, cmd any) {
		params, err := json.Marshal(cmd)
		if err != nil {
			b.Fatal(err)
		}
		entries = append(entries, railyard.BatchEntry{Kind: kind, Params: params})
		if len(entries) == railyard.MaxBatchCommands {
			if _, err := c.Batch(ctx, entries); err != nil {
				b.Fatal(err)
			}
			entries = entries[:0]
		}
	}
	add(railyard.KindEnvironmentPut, railyard.PutEnvironment{Name: envs[0], Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}})
	for i := 1; i < len(envs); i++ {
		add(railyard.KindEnvironmentPut, railyard.PutEnvironment{Name: envs[i], Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: envs[i-1]}}})
	}
	for i := 0; i < n; i++ {
		add(railyard.KindReleaseCreate, benchRelease(fmt.Sprintf("app-%04d", i), 1, envs))
	}
	if len(entries) > 0 {
		if _, err := c.Batch(ctx, entries); err != nil {
			b.Fatal(err)
		}
	}
}

func lastEventID(b *testing.B, c *rhttp.Client) int64 {
	b.Helper()
	events, _, err := c.FindEvents(context.Background(), railyard.EventFilter{Limit: 1})
	if err != nil || len(events) == 0 {
		b.Fatalf("last event: %v", err)
	}
	return events[0].ID
}

// waitExported polls the remote branch until its newest commit exports
// event id or a later one.
func waitExported(b *testing.B, remote string, id int64, timeout time.Duration) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		out, err := exec.Command("git", "-C", remote, "log", "-1", "--format=%(trailers:key=Railyard-Event,valueonly)", "main").Output()
		if err == nil {
			if got, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); got >= id {
				return
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("event %d did not reach %s within %s", id, remote, timeout)
		}
	}
}

// peakRSSMiB reads the process's peak resident memory (VmHWM).
func peakRSSMiB(b *testing.B, pid int) float64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc status")
	return 0
}
