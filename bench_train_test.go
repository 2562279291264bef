package railyard_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/railyard-cd/railyard"
)

// benchApps is the size of the release train benchmarks (BENCHMARKS.md:
// a train over 2,000 applications under 1 s with the commit, its
// prognosis under 300 ms).
const benchApps = 2000

// trainBench sets up blue (running version 1 of every application) and
// green (running version 2), and production, which the benchmarks point
// at one or the other so that every train deploys every application.
func trainBench(b *testing.B) *harness {
	h := newHarness(b)
	for _, env := range []string{"blue", "green", "production"} {
		h.put(env, railyard.EnvironmentConfig{})
	}
	ctx := context.Background()
	apply := func(cmds []railyard.Command) {
		for len(cmds) > 0 {
			n := min(len(cmds), railyard.MaxBatchCommands)
			if _, err := h.eng.Apply(ctx, alice, cmds[:n]...); err != nil {
				b.Fatal(err)
			}
			cmds = cmds[n:]
		}
	}
	var cmds []railyard.Command
	for i := range benchApps {
		for v := int64(1); v <= 2; v++ {
			cmds = append(cmds, releaseCmd(fmt.Sprintf("app-%04d", i), v, fmt.Sprintf("team-%d", i%20), "blue", "green", "production"))
		}
	}
	apply(cmds)
	cmds = cmds[:0]
	for i := range benchApps {
		app := fmt.Sprintf("app-%04d", i)
		cmds = append(cmds, &railyard.Deploy{Application: app, Environment: "blue", Version: 1},
			&railyard.Deploy{Application: app, Environment: "green", Version: 2})
	}
	apply(cmds)
	return h
}

func BenchmarkReleaseTrain2000(b *testing.B) {
	h := trainBench(b)
	ctx := context.Background()
	upstreams := []string{"green", "blue"}
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		h.put("production", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: upstreams[i%2]}})
		b.StartTimer()
		res, err := h.eng.ApplyOne(ctx, alice, &railyard.ReleaseTrain{Environment: "production"})
		if err != nil {
			b.Fatal(err)
		}
		if res.Train.Deployed != benchApps {
			b.Fatalf("deployed %d, want %d", res.Train.Deployed, benchApps)
		}
	}
}

func BenchmarkPrognosis2000(b *testing.B) {
	h := trainBench(b)
	h.put("production", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "green"}})
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		res, err := h.eng.Prognosis(ctx, &railyard.ReleaseTrain{Environment: "production"})
		if err != nil {
			b.Fatal(err)
		}
		if res.Deployed != benchApps {
			b.Fatalf("would deploy %d, want %d", res.Deployed, benchApps)
		}
	}
}
