package gitrepo

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

// BenchmarkSteadyExport exports 200 single-event batches, what a steady
// 10 releases/s gives the exporter, into a repository of apps
// applications × 10 environments, each release deployed to all ten (load
// scenario (b)), with the background repack started on its schedule as
// Run does, so that its cost counts. cpu-ms/event is the CPU of Railyard
// and of every git process per event; it must not grow with apps. The
// writer=pack rows are the writer without a tail: every batch stores the
// directories it changes whole.
// Run: go test ./gitrepo -run XXX -bench SteadyExport -benchtime 1x
func BenchmarkSteadyExport(b *testing.B) {
	for _, apps := range []int{100, 1000, 5000} {
		for _, w := range []string{"tail", "pack"} {
			b.Run(fmt.Sprintf("apps=%d/writer=%s", apps, w), func(b *testing.B) {
				benchmarkSteadyExport(b, apps, w == "tail")
			})
		}
	}
}

func benchmarkSteadyExport(b *testing.B, apps int, tail bool) {
	e := newLocalTestEnv(b)
	if !tail {
		e.x.openWriter = openPackWriter
	}
	envs := make([]string, 10)
	for i := range envs {
		envs[i] = fmt.Sprintf("env-%02d", i)
	}
	seedSmall(b, e, envs, apps)
	e.x.cfg.BatchSize = 1
	events := benchEvents()
	ctx := context.Background()
	for b.Loop() {
		for i := 0; i < events; i++ {
			e.must(releaseCmd(fmt.Sprintf("app-%05d", i*7%apps), int64(2+i), "team", envs...))
		}
		maint := &repacker{x: e.x}
		start, self, children := time.Now(), cpuTime(syscall.RUSAGE_SELF), cpuTime(syscall.RUSAGE_CHILDREN)
		for i := 0; i < events; i++ {
			before := e.x.batches
			if err := e.x.Sync(ctx); err != nil {
				b.Fatal(err)
			}
			maint.batchesDone(ctx, e.x.batches-before)
		}
		maint.wait()
		elapsed := time.Since(start)
		self, children = cpuTime(syscall.RUSAGE_SELF)-self, cpuTime(syscall.RUSAGE_CHILDREN)-children
		b.ReportMetric(float64((self+children).Microseconds())/1000/float64(events), "cpu-ms/event")
		b.ReportMetric(float64(children.Microseconds())/1000/float64(events), "git-cpu-ms/event")
		b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(events), "ms/event")
		b.ReportMetric(float64(len(packs(b, e.remote))), "packs")
		if os.Getenv("BENCH_DEBUG") != "" {
			b.Log(e.git("count-objects", "-v"))
			for _, p := range packs(b, e.remote) {
				idx, _ := os.ReadFile(strings.TrimSuffix(p, ".pack") + ".idx")
				_, keep := os.Stat(strings.TrimSuffix(p, ".pack") + ".keep")
				b.Log(filepath.Base(p), binary.BigEndian.Uint32(idx[8+255*4:]), keep == nil)
			}
		}
	}
}

// seedSmall is seed with small manifests: the steady phase, not the
// seeding, is what is measured.
func seedSmall(b *testing.B, e *testEnv, envs []string, apps int) {
	b.Helper()
	var cmds []railyard.Command
	for _, env := range envs {
		cmds = append(cmds, envCmd(env, railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
	}
	e.must(cmds...)
	for i := 0; i < apps; i += 100 {
		cmds = cmds[:0]
		for j := i; j < min(i+100, apps); j++ {
			cmds = append(cmds, releaseCmd(fmt.Sprintf("app-%05d", j), 1, "team", envs...))
		}
		e.must(cmds...)
	}
	e.sync()
}

func benchEvents() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_EVENTS")); err == nil {
		return n
	}
	return 200
}
