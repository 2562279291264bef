// Package storetest is the contract every railyard.Store implementation
// must meet, as one suite that each implementation runs against itself:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) railyard.Store { … })
//	}
//
// Besides what the railyard.Store and railyard.Tx documentation says, the
// suite pins down these conventions, so that every store returns the same
// values and callers can compare them with ==:
//
//   - Times are read back exactly as written, provided they are UTC with
//     microsecond precision (the engine normalizes them so): == and
//     reflect.DeepEqual hold, not just Time.Equal.
//   - List methods return an empty, non-nil slice when nothing matches.
//   - Release.Environments is never nil: it is the sorted list of the
//     environments the release has manifests for, derived from Manifests
//     on CreateRelease. Release.Manifests is nil unless manifests were
//     asked for, and then a non-nil map.
//   - Deployment.QueuedBecause is nil when empty; nil pointers stay nil.
//   - Event.Changes is never nil (nil is stored as empty); Event.Payload is
//     nil when empty. Values nested in Changes and QueuedBecause
//     round-trip through encoding/json. FindEvents leaves Refs nil.
//   - The Application, Environment and SourceCommitID conditions of an
//     EventFilter must all hold for the same EventRef. A SourceCommitID
//     filter is 7 to 40 hexadecimal characters (EINVALID otherwise) and
//     matches regardless of case. With both AfterID and BeforeID set, the
//     order is oldest first.
//   - Update returns fn's error unchanged, and a panic in fn rolls back.
//   - A version, once retired, is never used again: CreateRelease refuses
//     it, MaxReleaseVersion counts it, and neither retiring nor deleting
//     the application forgets it.
//   - Manifest content is never lost while something references it:
//     retiring a release keeps the manifests other releases share with it,
//     and an event's release.create change reads back with every manifest
//     after its release and application are gone.
package storetest

import (
	"testing"

	"github.com/railyard-cd/railyard"
)

// Run runs the contract suite. open must return a new, empty store each
// time it is called and close it when the test ends (with t.Cleanup).
// The tests run in parallel, each against its own store, so open is
// called from several goroutines at once.
func Run(t *testing.T, open func(t *testing.T) railyard.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Environment", environmentTests},
		{"Application", applicationTests},
		{"Release", releaseTests},
		{"RetiredRelease", retiredReleaseTests},
		{"ManifestContent", manifestContentTests},
		{"Deployment", deploymentTests},
		{"Lock", lockTests},
		{"Event", eventTests},
		{"Transaction", transactionTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tt := range g.tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					tt.fn(t, open(t))
				})
			}
		})
	}
}

// test is one contract test, run against a new, empty store.
type test struct {
	name string
	fn   func(t *testing.T, s railyard.Store)
}
