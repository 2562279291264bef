package railyard

import (
	"time"
)

// DefaultKeepReleases is how many releases of an application are kept
// besides those deployed or queued somewhere.
const DefaultKeepReleases = 20

// Engine applies commands to a Store: the rules of Railyard. It is safe
// for concurrent use; the Store serializes its Update transactions.
type Engine struct {
	store Store

	// Now is the clock; defaults to time.Now.
	Now Clock
	// KeepReleases is how many releases of an application are kept
	// besides deployed and queued ones; 0 means DefaultKeepReleases.
	KeepReleases int
	// MaxManifestBytes limits one manifest; 0 means DefaultMaxManifestBytes.
	MaxManifestBytes int

	notifier notifier
}

// NewEngine returns an engine over store.
func NewEngine(store Store) *Engine {
	return &Engine{store: store, Now: time.Now}
}
