package ui

import (
	"context"
	"sync"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// releaseIndex caches the display versions of releases for the overview,
// which the engine's Overview does not carry. Releases are immutable, so
// an entry stays right as long as the application is the same one: an
// application deleted and created again (a new CreatedAt) is read anew.
// Safe for concurrent use.
type releaseIndex struct {
	mu   sync.Mutex
	apps map[string]*appReleases
}

// appReleases is what the index knows about one application.
type appReleases struct {
	created time.Time
	display map[int64]string
}

func newReleaseIndex() *releaseIndex {
	return &releaseIndex{apps: map[string]*appReleases{}}
}

// releaseLoadWorkers bounds the concurrent reads of a cold cache.
const releaseLoadWorkers = 8

// displayVersions returns, for every application of ov, the display
// versions of the versions it runs or queues.
func (x *releaseIndex) displayVersions(ctx context.Context, eng *railyard.Engine, apps []*railyard.Application, ov *railyard.Overview) (map[string]map[int64]string, error) {
	needs := make(map[string][]int64, len(ov.Applications))
	for _, row := range ov.Applications {
		vs := []int64{}
		for _, c := range row.Environments {
			if c.Version != nil {
				vs = append(vs, *c.Version)
			}
			if c.QueuedVersion != nil {
				vs = append(vs, *c.QueuedVersion)
			}
		}
		needs[row.Name] = vs
	}
	return x.lookup(ctx, eng, apps, needs)
}

// lookup returns the display versions of the applications in needs, which
// lists the versions each must know. Applications the index does not know
// well enough are read from the engine, concurrently. apps is every
// application, to tell one created anew from the one the index knows.
func (x *releaseIndex) lookup(ctx context.Context, eng *railyard.Engine, apps []*railyard.Application, needs map[string][]int64) (map[string]map[int64]string, error) {
	created := make(map[string]time.Time, len(apps))
	for _, a := range apps {
		created[a.Name] = a.CreatedAt
	}
	out := make(map[string]map[int64]string, len(needs))
	var missing []string
	x.mu.Lock()
	if len(x.apps) > len(created) {
		for name := range x.apps {
			if _, ok := created[name]; !ok {
				delete(x.apps, name) // deleted applications
			}
		}
	}
	for name, versions := range needs {
		known := x.apps[name]
		if known == nil || !known.created.Equal(created[name]) || !knowsAll(known, versions) {
			missing = append(missing, name)
			continue
		}
		out[name] = known.display
	}
	x.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	loaded, err := x.load(ctx, eng, missing)
	for name, r := range loaded {
		out[name] = r.display
	}
	return out, err
}

// knowsAll reports whether the index knows every one of the versions.
func knowsAll(known *appReleases, versions []int64) bool {
	for _, v := range versions {
		if _, ok := known.display[v]; !ok {
			return false
		}
	}
	return true
}

// load reads the releases of the named applications and stores them. An
// application deleted meanwhile is left out.
func (x *releaseIndex) load(ctx context.Context, eng *railyard.Engine, names []string) (map[string]*appReleases, error) {
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		loaded   = make(map[string]*appReleases, len(names))
		work     = make(chan string)
	)
	for range min(releaseLoadWorkers, len(names)) {
		wg.Go(func() {
			for name := range work {
				d, err := eng.FindApplication(ctx, name)
				mu.Lock()
				switch {
				case err == nil:
					loaded[name] = releasesOf(d)
				case railyard.ErrorCode(err) != railyard.ENOTFOUND && firstErr == nil:
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	for _, n := range names {
		work <- n
	}
	close(work)
	wg.Wait()
	x.mu.Lock()
	for name, r := range loaded {
		x.apps[name] = r
	}
	x.mu.Unlock()
	return loaded, firstErr
}

// releasesOf indexes the display versions of an application's releases.
func releasesOf(d *railyard.ApplicationDetail) *appReleases {
	r := &appReleases{created: d.CreatedAt, display: make(map[int64]string, len(d.Releases))}
	for _, rel := range d.Releases {
		r.display[rel.Version] = rel.DisplayVersion
	}
	return r
}
