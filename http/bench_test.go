package http

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	nethttp "net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	railyard "github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/storetest"
)

// benchManifest is a 10 KB manifest: a ConfigMap padded with data lines.
func benchManifest(env string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: checkout\n  namespace: %s\ndata:\n", env)
	for i := 0; b.Len() < 10<<10; i++ {
		fmt.Fprintf(&b, "  key%04d: \"value %04d for the %s environment, padded to a realistic length\"\n", i, i, env)
	}
	return b.String()
}

// newBenchServer starts a server over SQLite with development (latest),
// staging and production, and a client whose transport keeps enough idle
// connections for clients concurrent clients.
func newBenchServer(b *testing.B, clients int) *testServer {
	b.Helper()
	ts := newTestServer(b, Options{})
	ts.seedEnvironments()
	ts.client.HTTPClient = &nethttp.Client{Transport: &nethttp.Transport{MaxIdleConnsPerHost: clients, MaxIdleConns: clients}}
	b.Cleanup(ts.client.HTTPClient.CloseIdleConnections)
	return ts
}

// benchRelease is release version of checkout with three 10 KB manifests.
func benchRelease(version int64, manifests map[string]string) *railyard.CreateRelease {
	return &railyard.CreateRelease{Application: "checkout", Version: version, Team: "payments", SourceCommitID: commitA,
		SourceAuthor: "Bob <bob@example.com>", SourceMessage: "Benchmark release", Manifests: manifests}
}

var benchManifests = map[string]string{
	"development": benchManifest("development"),
	"staging":     benchManifest("staging"),
	"production":  benchManifest("production"),
}

// reportLatencies reports throughput and the 50th and 99th percentile
// latency of the measured requests.
func reportLatencies(b *testing.B, latencies []time.Duration, elapsed time.Duration) {
	b.Helper()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		i := int(float64(len(latencies)-1) * p)
		return float64(latencies[i].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "releases/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op") // throughput and percentiles say more than the mean
}

func BenchmarkCreateReleaseSequential(b *testing.B) {
	ts := newBenchServer(b, 1)
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		t := time.Now()
		res, err := ts.client.CreateRelease(ctx, benchRelease(int64(i+1), benchManifests))
		if err != nil || res.Outcome != railyard.OutcomeCreated {
			b.Fatalf("release %d: %v", i+1, err)
		}
		latencies = append(latencies, time.Since(t))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	reportLatencies(b, latencies, elapsed)
}

func BenchmarkCreateReleaseParallel32(b *testing.B) {
	benchCreateReleaseParallel(b, newBenchServer(b, 32))
}

func benchCreateReleaseParallel(b *testing.B, ts *testServer) {
	const clients = 32
	var next atomic.Int64
	var mu sync.Mutex
	latencies := make([]time.Duration, 0, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			for {
				v := next.Add(1)
				if v > int64(b.N) {
					break
				}
				t := time.Now()
				res, err := ts.client.CreateRelease(ctx, benchRelease(v, benchManifests))
				if err != nil || res.Outcome != railyard.OutcomeCreated {
					b.Errorf("release %d: %v", v, err)
					return
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	reportLatencies(b, latencies, elapsed)
}

// seedOverview creates apps applications each deployed in every one of
// envs environments, directly through the engine, in batches.
func seedOverview(b *testing.B, ts *testServer, apps, envs int) {
	b.Helper()
	var cmds []railyard.Command
	manifests := map[string]string{}
	for e := range envs {
		name := fmt.Sprintf("env-%02d", e)
		cfg := railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}
		if e > 0 {
			cfg.Upstream = &railyard.Upstream{Environment: fmt.Sprintf("env-%02d", e-1)}
		}
		cmds = append(cmds, &railyard.PutEnvironment{Name: name, Config: cfg})
		manifests[name] = "apiVersion: v1\nkind: ConfigMap\n"
	}
	for a := range apps {
		app := fmt.Sprintf("app-%04d", a)
		cmds = append(cmds, &railyard.CreateRelease{Application: app, Version: 1, Team: fmt.Sprintf("team-%02d", a%20), Manifests: manifests})
		for e := 1; e < envs; e++ {
			cmds = append(cmds, &railyard.Deploy{Application: app, Environment: fmt.Sprintf("env-%02d", e), Version: 1})
		}
	}
	for len(cmds) > 0 {
		n := min(len(cmds), railyard.MaxBatchCommands)
		if _, err := ts.engine.Apply(ctx, railyard.DefaultActor, cmds[:n]...); err != nil {
			b.Fatalf("seed: %v", err)
		}
		cmds = cmds[n:]
	}
}

// BenchmarkOverview1000x10 measures GET /api/v1/overview over 1,000
// applications in 10 environments: the server's work and the transfer of
// the whole body (about 1.5 MB), as a browser sees it.
func BenchmarkOverview1000x10(b *testing.B) {
	ts := newOverviewBenchServer(b)
	client := ts.http.Client()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		resp, err := client.Get(ts.http.URL + "/api/v1/overview")
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("got status %d, %v", resp.StatusCode, err)
		}
		b.SetBytes(n)
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
}

// BenchmarkOverview1000x10Client is the same through the Go client, which
// adds decoding the JSON into railyard.Overview (what the CLI pays).
func BenchmarkOverview1000x10Client(b *testing.B) {
	ts := newOverviewBenchServer(b)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := ts.client.Overview(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
}

// newOverviewBenchServer starts a server seeded with 1,000 applications
// deployed in 10 environments and checks the seed.
func newOverviewBenchServer(b *testing.B) *testServer {
	b.Helper()
	ts := newTestServer(b, Options{})
	seedOverview(b, ts, 1000, 10)
	ov, err := ts.client.Overview(ctx)
	if err != nil || len(ov.Applications) != 1000 || len(ov.Environments) != 10 || *ov.Applications[999].Environments["env-09"].Version != 1 {
		b.Fatalf("seeded overview is wrong: %v", err)
	}
	return ts
}

// BenchmarkOverviewScale measures GET /api/v1/overview over the
// installations of issue 12 (storetest.SeedOverview: 5,000 applications in
// 20 environments, 6,000 in 50), each seeded once for its sub-benchmarks,
// through a real HTTP client, with gzip as browsers ask for it:
// "unchanged" serves the kept body, "deploy" follows a deployment before
// each request (the engine patches its snapshot, one row is encoded
// again, the body is compressed again). It reports the p95 and the body's
// size on the wire.
func BenchmarkOverviewScale(b *testing.B) {
	for _, size := range [][2]int{{5000, 20}, {6000, 50}} {
		apps, envs := size[0], size[1]
		ts := newTestServer(b, Options{})
		if err := storetest.SeedOverview(ctx, ts.db, apps, envs, t0); err != nil {
			b.Fatal(err)
		}
		client := &nethttp.Client{Transport: &nethttp.Transport{DisableCompression: true}}
		get := func(b *testing.B) int {
			req, _ := nethttp.NewRequest("GET", ts.http.URL+"/api/v1/overview", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("got status %d, %v", resp.StatusCode, err)
			}
			return int(n)
		}
		get(b) // the first read after start reads everything
		for _, deploy := range []bool{false, true} {
			name := map[bool]string{false: "unchanged", true: "deploy"}[deploy]
			b.Run(fmt.Sprintf("%dx%d/%s", apps, envs, name), func(b *testing.B) {
				var latencies []time.Duration
				var n, i int
				for b.Loop() {
					if deploy {
						b.StopTimer()
						i++
						d := &railyard.Deploy{Application: fmt.Sprintf("service-%04d", i%apps), Environment: "env-00", Version: int64(1 + i%2)}
						if _, err := ts.engine.ApplyOne(ctx, railyard.DefaultActor, d); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					start := time.Now()
					n = get(b)
					latencies = append(latencies, time.Since(start))
				}
				slices.Sort(latencies)
				b.ReportMetric(float64(latencies[len(latencies)*95/100].Microseconds())/1000, "p95-ms")
				b.ReportMetric(float64(n)/1024, "gzip-KiB")
			})
		}
	}
}

// BenchmarkParseRelease parses a Kuberpult release upload with three
// 10 KB manifests, as scenario (a) of railyard-loadtest sends it.
func BenchmarkParseRelease(b *testing.B) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range [][2]string{{"application", "checkout"}, {"version", "7"}, {"team", "payments"}, {"source_commit_id", commitA}} {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			b.Fatal(err)
		}
	}
	for env, m := range benchManifests {
		w, err := mw.CreateFormFile("manifests["+env+"]", "manifest.yaml")
		if err != nil {
			b.Fatal(err)
		}
		io.WriteString(w, m)
	}
	if err := mw.Close(); err != nil {
		b.Fatal(err)
	}
	contentType := mw.FormDataContentType()
	b.ReportAllocs()
	for b.Loop() {
		form, err := parseRelease(contentType, bytes.NewReader(body.Bytes()), 1<<20, 64<<20)
		if err != nil || len(form.Release.Manifests) != 3 {
			b.Fatalf("got %v, %v", form, err)
		}
	}
}
