package railyard_test

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/railyard-cd/railyard"
)

// world is a random installation: environments along random upstream
// chains, applications with releases that have manifests for random
// environments, and random deployments.
type world struct {
	envs  []*railyard.Environment
	teams map[string]string
	// manifests[app][version] are the environments the release has a
	// manifest for.
	manifests map[string]map[int64]map[string]bool
	latest    map[string]int64
}

func randomWorld(r *rand.Rand, h *harness) *world {
	w := &world{teams: map[string]string{}, manifests: map[string]map[int64]map[string]bool{}, latest: map[string]int64{}}
	for i := range 2 + r.Intn(4) {
		env := &railyard.Environment{Name: fmt.Sprintf("e%d", i)}
		switch {
		case i == 0 && r.Intn(2) == 0:
			env.Config.Upstream = &railyard.Upstream{Latest: true}
		case i > 0 && r.Intn(6) > 0:
			env.Config.Upstream = &railyard.Upstream{Environment: fmt.Sprintf("e%d", r.Intn(i))}
		}
		if i > 0 && r.Intn(2) == 0 {
			env.Config.EnvironmentGroup = fmt.Sprintf("g%d", r.Intn(2))
		}
		h.put(env.Name, env.Config)
		w.envs = append(w.envs, env)
	}
	for a := range 1 + r.Intn(8) {
		app := fmt.Sprintf("app%d", a)
		w.teams[app] = fmt.Sprintf("team%d", r.Intn(2))
		w.manifests[app] = map[int64]map[string]bool{}
		for v := int64(1); v <= int64(1+r.Intn(4)); v++ {
			var envs []string
			set := map[string]bool{}
			for _, e := range w.envs {
				if r.Intn(10) < 7 {
					envs = append(envs, e.Name)
					set[e.Name] = true
				}
			}
			if len(envs) == 0 {
				envs, set = []string{w.envs[0].Name}, map[string]bool{w.envs[0].Name: true}
			}
			h.release(app, v, w.teams[app], envs...)
			w.manifests[app][v], w.latest[app] = set, v
		}
	}
	return w
}

// shuffle deploys random versions by hand.
func (w *world) shuffle(r *rand.Rand, h *harness) {
	for app, versions := range w.manifests {
		for _, e := range w.envs {
			if r.Intn(2) == 0 {
				continue
			}
			v := int64(1 + r.Intn(len(versions)))
			if versions[v][e.Name] {
				h.deploy(app, e.Name, v)
			}
		}
	}
}

// versions returns what runs where: versions[app][env], 0 for nothing.
func versions(t testing.TB, h *harness) map[string]map[string]int64 {
	ov, err := h.eng.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]int64{}
	for _, a := range ov.Applications {
		out[a.Name] = map[string]int64{}
		for env, c := range a.Environments {
			if c.Version != nil {
				out[a.Name][env] = *c.Version
			}
		}
	}
	return out
}

// TestTrainProperty checks on random installations that after a train with
// no blockers every application with a manifest for the target runs the
// upstream's version there, nothing else moved, and the prognosis said so.
func TestTrainProperty(t *testing.T) {
	r := rand.New(rand.NewSource(20261102))
	iterations := 30
	if testing.Short() {
		iterations = 10
	}
	deployed, groups := 0, 0
	for it := range iterations {
		h := newHarness(t)
		w := randomWorld(r, h)
		for round := range 5 {
			w.shuffle(r, h)
			train := w.randomTrain(r)
			if train == nil {
				continue
			}
			before := versions(t, h)
			prognosis, err := h.eng.Prognosis(context.Background(), train)
			if err != nil {
				t.Fatalf("iteration %d round %d: prognosis %+v: %v", it, round, *train, err)
			}
			res := h.train(train)
			prognosis.DryRun, prognosis.Description = false, res.Train.Description
			if a, b := jsonString(t, prognosis), jsonString(t, res.Train); a != b {
				t.Fatalf("iteration %d round %d: prognosis\n%s\ndiffers from the train\n%s", it, round, a, b)
			}
			w.check(t, fmt.Sprintf("iteration %d round %d %+v", it, round, *train), before, versions(t, h), train)
			deployed += res.Train.Deployed
			if train.Group != "" {
				groups++
			}
		}
	}
	// The random worlds must exercise the rule, not skip everything.
	if deployed < iterations || groups < iterations/10 {
		t.Errorf("only %d deployments and %d group trains in %d iterations", deployed, groups, iterations)
	}
	t.Logf("%d deployments, %d group trains", deployed, groups)
}

// randomTrain picks an environment with an upstream or a group, and
// sometimes a team.
func (w *world) randomTrain(r *rand.Rand) *railyard.ReleaseTrain {
	train := &railyard.ReleaseTrain{}
	if r.Intn(3) == 0 {
		train.Group = fmt.Sprintf("g%d", r.Intn(2))
		if len(w.targets(train)) == 0 {
			return nil
		}
	} else {
		var candidates []string
		for _, e := range w.envs {
			if e.Config.Upstream != nil {
				candidates = append(candidates, e.Name)
			}
		}
		if len(candidates) == 0 {
			return nil
		}
		train.Environment = candidates[r.Intn(len(candidates))]
	}
	if r.Intn(3) == 0 {
		train.Team = fmt.Sprintf("team%d", r.Intn(2))
		found := false
		for _, team := range w.teams {
			found = found || team == train.Team
		}
		if !found {
			train.Team = ""
		}
	}
	return train
}

// targets returns the environments a train goes to.
func (w *world) targets(t *railyard.ReleaseTrain) []*railyard.Environment {
	var out []*railyard.Environment
	for _, e := range w.envs {
		if e.Name == t.Environment || t.Group != "" && e.Config.EnvironmentGroup == t.Group {
			out = append(out, e)
		}
	}
	return out
}

// check compares the state after the train with what it must be.
func (w *world) check(t *testing.T, what string, before, after map[string]map[string]int64, train *railyard.ReleaseTrain) {
	t.Helper()
	want := map[string]map[string]int64{}
	for app, envs := range before {
		want[app] = map[string]int64{}
		for env, v := range envs {
			want[app][env] = v
		}
	}
	for _, env := range w.targets(train) {
		for app := range w.manifests {
			if train.Team != "" && w.teams[app] != train.Team {
				continue
			}
			var up int64
			switch {
			case env.Config.Upstream == nil:
				continue
			case env.Config.Upstream.Latest:
				up = w.latest[app]
			default:
				up = before[app][env.Config.Upstream.Environment]
			}
			if up != 0 && w.manifests[app][up][env.Name] {
				want[app][env.Name] = up
			}
		}
	}
	for app := range want {
		for _, env := range w.envs {
			if got, exp := after[app][env.Name], want[app][env.Name]; got != exp {
				t.Fatalf("%s: %s in %s runs %d, want %d", what, app, env.Name, got, exp)
			}
		}
	}
}
