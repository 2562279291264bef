package http

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// TestOverviewBodyIsTheEncodingOfAFreshRead changes the state step by step
// (new applications, deploys, locks that come and go and expire) and after
// each step checks that GET /api/v1/overview — whose body is assembled
// from the encodings of the rows that did not change — is byte for byte
// what writeJSON writes for the overview of a fresh engine that reads
// everything, both plain and gzip-compressed.
func TestOverviewBodyIsTheEncodingOfAFreshRead(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Options{})
	apply := func(cmds ...railyard.Command) {
		t.Helper()
		if _, err := ts.engine.Apply(ctx, railyard.DefaultActor, cmds...); err != nil {
			t.Fatal(err)
		}
	}
	check := func(step string) {
		t.Helper()
		fresh := railyard.NewEngine(ts.db)
		fresh.Now = ts.clock.Now
		ov, err := fresh.Overview(ctx)
		noErr(t, err)
		ov.Environments = nonNil(ov.Environments)
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		noErr(t, enc.Encode(ov))
		plain := ts.do("GET", "/api/v1/overview", map[string]string{"Accept-Encoding": "identity"}, nil).wantStatus(t, 200)
		if !bytes.Equal(plain.body, want.Bytes()) {
			t.Fatalf("%s: body\n%s\nwant\n%s", step, plain.body, want.Bytes())
		}
		if h := plain.header.Get("Content-Encoding"); h != "" {
			t.Errorf("%s: Content-Encoding %q without gzip accepted", step, h)
		}
		zipped := ts.do("GET", "/api/v1/overview", map[string]string{"Accept-Encoding": "gzip, deflate"}, nil).wantStatus(t, 200)
		if h := zipped.header.Get("Content-Encoding"); h != "gzip" {
			t.Fatalf("%s: Content-Encoding %q, want gzip", step, h)
		}
		if got := gunzip(t, zipped.body); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%s: gzip body\n%s\nwant\n%s", step, got, want.Bytes())
		}
		if h := zipped.header.Get("Vary"); h != "Accept-Encoding" {
			t.Errorf("%s: Vary %q", step, h)
		}
	}
	check("empty")
	apply(&railyard.PutEnvironment{Name: "dev", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}},
		&railyard.PutEnvironment{Name: "prod", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "dev"}}})
	check("environments")
	manifests := map[string]string{"dev": "a: 1\n", "prod": "a: 1\n"}
	for i := range 6 {
		apply(&railyard.CreateRelease{Application: fmt.Sprintf("app-%d", i), Version: 1, Team: "payments", Manifests: manifests})
	}
	check("releases")
	apply(&railyard.Deploy{Application: "app-3", Environment: "prod", Version: 1})
	check("deploy")
	expires := t0.Add(time.Hour)
	apply(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "prod", Team: "payments", ID: "audit"},
		Message: "<b>audit</b>", ExpiresAt: &expires})
	check("team lock")
	apply(&railyard.CreateRelease{Application: "app-0", Version: 2, Manifests: manifests})
	check("queued behind the lock")
	ts.clock.Add(2 * time.Hour)
	check("lock expired")
	apply(&railyard.CreateRelease{Application: "app-25", Version: 1, Manifests: manifests})
	check("application added between two")
	// More rows than one piece of the gzip form holds (gzipPieceRows),
	// then a change in the second piece only.
	for b := range 2 {
		var batch []railyard.Command
		for i := range railyard.MaxBatchCommands {
			batch = append(batch, &railyard.CreateRelease{Application: fmt.Sprintf("bulk-%03d", b*100+i), Version: 1, Manifests: manifests})
		}
		apply(batch...)
	}
	check("200 applications more")
	apply(&railyard.Deploy{Application: "bulk-100", Environment: "prod", Version: 1})
	check("a deploy in the second piece")
	if os.Getenv("RAILYARD_DUMP_OVERVIEW_GZIP") != "" {
		zipped := ts.do("GET", "/api/v1/overview", map[string]string{"Accept-Encoding": "gzip"}, nil)
		noErr(t, os.WriteFile(os.Getenv("RAILYARD_DUMP_OVERVIEW_GZIP"), zipped.body, 0o600))
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	noErr(t, err)
	out, err := io.ReadAll(zr)
	noErr(t, err)
	return out
}
