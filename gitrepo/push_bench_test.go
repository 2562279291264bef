package gitrepo

import (
	"fmt"
	"testing"

	"github.com/railyard-cd/railyard"
)

// BenchmarkPushBacklog exports a backlog of 1,500 release events (3
// environments, 10 KB manifests) into an environment of 300 applications,
// to a bare repository reached over file:// and over the real git
// http-backend, in the default batches of 500. cpu-ms/event counts
// Railyard and every git process, both sides of the push (the HTTP
// remote runs in this process), git-cpu-ms/event the git processes
// alone. window=10 is git's default delta search, which the exporter's
// push no longer does (pushConfig).
// Run: go test ./gitrepo -run XXX -bench PushBacklog -benchtime 1x
func BenchmarkPushBacklog(b *testing.B) {
	for _, kind := range []string{"file", "http"} {
		for _, window := range []string{"0", "10"} {
			b.Run("remote="+kind+"/window="+window, func(b *testing.B) {
				saved := pushConfig
				pushConfig = []string{"-c", "pack.window=" + window}
				defer func() { pushConfig = saved }()
				benchmarkPushBacklog(b, kind)
			})
		}
	}
}

func benchmarkPushBacklog(b *testing.B, kind string) {
	e, _ := newPushEnv(b, kind)
	e.x.cfg.BatchSize = 500
	envs := []string{"development", "staging", "production"}
	seed(b, e, envs, 300)
	const n = 1500
	for i := 0; i < n; i += 100 {
		var cmds []railyard.Command
		for j := i; j < i+100; j++ {
			cmds = append(cmds, releaseWith10KB(fmt.Sprintf("app-%05d", j%300), int64(2+j/300), envs))
		}
		e.must(cmds...)
	}
	b.ResetTimer()
	measureSync(b, e, n)
}
