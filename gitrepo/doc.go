// Package gitrepo is the only code that writes Git: it exports Railyard's
// event log into a manifest repository (one commit per event, batched
// pushes, exactly once across crashes), and serves that repository
// read-only over Git's smart HTTP protocol.
//
// The package holds the exporter's policy, a file per concern:
//
//	exporter.go  Config, the Exporter: Sync and Run, a batch built, published and pushed
//	build.go     one event as one commit: which files each change writes, Argo CD documents
//	layout.go    where every file lives in the manifest repository
//	resume.go    where to continue after a restart or after someone moved the branch
//	remote.go    how git reaches the remote (environment, credentials), redaction of addresses
//	status.go    the export status: healthy, retrying, stalled or stopped
//	maintain.go  the background repack
//	cleanup.go   what a killed export left in the repository
//	server.go    the read-only Git server
//
// and two packages of machinery behind it, which nothing outside gitrepo
// may import:
//
//   - internal/pack writes the commits: without a worktree, touching only
//     the trees an event changes, straight into a packfile (its oracle,
//     internal/pack/packtest, drives `git fast-import` and is for tests
//     only);
//   - internal/gitcli runs git: commands with deadlines that kill a whole
//     process group, and `git cat-file --batch`, which answers the few
//     lookups an event needs. Fetch and push drive the git command line,
//     so any remote it supports works.
package gitrepo
