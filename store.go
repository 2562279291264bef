package railyard

import "context"

// Store keeps Railyard's state. Every change happens inside Update, in one
// transaction; the engine relies on Update transactions being serialized
// (no two run their read-modify-write concurrently). View transactions see
// a consistent snapshot and may run concurrently with each other and with
// an Update.
//
// Implementations: sqlite (embedded default). The contract every
// implementation must meet is the suite in package storetest.
type Store interface {
	// Update runs fn in a read-write transaction and commits it if fn
	// returns nil; otherwise it rolls back and returns fn's error.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Close releases the store's resources.
	Close() error
}

// Tx is a store transaction. Find methods return ENOTFOUND for a single
// missing object; list methods return an empty slice when nothing matches.
// Returned objects are owned by the caller. Write methods in a View
// transaction return an error.
type Tx interface {
	// FindEnvironment returns ENOTFOUND if there is no such environment.
	FindEnvironment(ctx context.Context, name string) (*Environment, error)
	// FindEnvironments returns every environment, ordered by name.
	FindEnvironments(ctx context.Context) ([]*Environment, error)
	// PutEnvironment creates or replaces an environment.
	PutEnvironment(ctx context.Context, env *Environment) error
	// DeleteEnvironment returns ENOTFOUND if there is no such environment.
	// The caller deletes its locks and deployments first.
	DeleteEnvironment(ctx context.Context, name string) error

	// FindApplication returns ENOTFOUND if there is no such application.
	FindApplication(ctx context.Context, name string) (*Application, error)
	// FindApplications returns every application, ordered by name.
	FindApplications(ctx context.Context) ([]*Application, error)
	// PutApplication creates or replaces an application.
	PutApplication(ctx context.Context, app *Application) error
	// DeleteApplication deletes the application; ENOTFOUND if there is no
	// such application, ECONFLICT if it still has releases. The caller
	// retires its releases (RetireRelease) and deletes its locks and
	// deployments first. Its retired versions stay retired.
	DeleteApplication(ctx context.Context, name string) error

	// FindRelease returns ENOTFOUND if the application has no such version.
	// Manifests are loaded only if withManifests; Environments always are.
	FindRelease(ctx context.Context, app string, version int64, withManifests bool) (*Release, error)
	// FindReleases returns the releases of an application, newest first.
	FindReleases(ctx context.Context, filter ReleaseFilter) ([]*Release, error)
	// MaxReleaseVersion returns the highest version the application has
	// ever had, retired versions included (also those of a deleted
	// application of the same name), or 0 if it has none: one more is a
	// version never used.
	MaxReleaseVersion(ctx context.Context, app string) (int64, error)
	// CreateRelease stores a new release with its manifests and its
	// Digest; ECONFLICT if that version exists or is retired, ENOTFOUND if
	// the application does not exist. The release's environments are the
	// keys of its manifests. Identical manifest content, within a release
	// or across releases and events, may be stored once.
	CreateRelease(ctx context.Context, r *Release) error
	// RetireRelease deletes the release r names (Application, Version) and
	// records r, in one step, so that the version is never used again;
	// ENOTFOUND if there is no such release. The caller sets Reason and
	// RetiredAt; the store sets Digest and PublishedAt from the release.
	// It is the only way to delete a single release. The manifests of
	// events that created the release stay readable.
	RetireRelease(ctx context.Context, r *RetiredRelease) error
	// FindRetiredRelease returns the record of a retired version;
	// ENOTFOUND if the version was never retired.
	FindRetiredRelease(ctx context.Context, app string, version int64) (*RetiredRelease, error)

	// FindDeployment returns ENOTFOUND if the application has never been
	// deployed or queued in the environment.
	FindDeployment(ctx context.Context, app, env string) (*Deployment, error)
	// FindDeployments returns matching deployments ordered by application,
	// then environment.
	FindDeployments(ctx context.Context, filter DeploymentFilter) ([]*Deployment, error)
	// PutDeployment creates or replaces a deployment.
	PutDeployment(ctx context.Context, d *Deployment) error
	// DeleteDeployment returns ENOTFOUND if there is no such deployment.
	DeleteDeployment(ctx context.Context, app, env string) error

	// FindLocks returns matching locks ordered by environment, kind,
	// application, team, then id.
	FindLocks(ctx context.Context, filter LockFilter) ([]*Lock, error)
	// PutLock creates or replaces the lock with the same key.
	PutLock(ctx context.Context, l *Lock) error
	// DeleteLock returns ENOTFOUND if there is no such lock.
	DeleteLock(ctx context.Context, key LockKey) error

	// CreateEvent appends an event with its refs and sets its ID, which
	// is greater than every ID before it. Events are never deleted.
	CreateEvent(ctx context.Context, e *Event) error
	// FindEvents returns matching events (see EventFilter for the order).
	// A release.create change carries its release with every manifest,
	// whatever happened to the release or its application since: events
	// are the audit log and the Git exporter's input, which may be behind.
	FindEvents(ctx context.Context, filter EventFilter) ([]*Event, error)
	// LastEventID returns the highest event ID, or 0 if there are none.
	LastEventID(ctx context.Context) (int64, error)
	// ChangedApplications returns, ordered by name and each once, the
	// applications named by the changes of the events after afterID:
	// what changed for a reader that saw the state at afterID (a release
	// train planned on a View checks its plan with it).
	ChangedApplications(ctx context.Context, afterID int64) ([]string, error)
}
